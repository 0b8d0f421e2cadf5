import CSystem
import Foundation

/// A child process started with posix_spawn (no shell) and reaped with wait4, which gives its
/// peak memory. Signals to it are guarded so none reaches a pid after it was reaped.
public final class ChildProcess: @unchecked Sendable {
  public struct Exit: Sendable {
    /// The exit status, or nil when a signal ended the process.
    public var status: Int32?
    public var signal: Int32?
    public var peakRSSKiB: Int
  }

  public let pid: pid_t
  /// Whether the child leads its own process group, so a signal reaches whatever it started.
  private let ownGroup: Bool
  private let lock = NSLock()
  private var reaped = false
  /// Its slot in the crash handler's list of helpers to kill (csystem.c), or -1.
  private var crashSlot: Int32 = -1

  private init(pid: pid_t, ownGroup: Bool) {
    self.pid = pid
    self.ownGroup = ownGroup
  }

  /// Children that must not outlive this process: an interruption stops and reaps them
  /// (`stopAll`) before it removes the temporary files they write into, or they would write
  /// them again afterwards.
  nonisolated(unsafe) private static var tracked: [pid_t: ChildProcess] = [:]
  private static let trackedLock = NSLock()

  /// Starts `executable` with `arguments` (without argv[0]) and exactly `environment`; stdin
  /// and stdout are /dev/null, stderr goes to `stderrPath`. The signals a batch handles itself
  /// are reset to their defaults in the child, and blocked until the job's own handler exists;
  /// no descriptor but 0, 1 and 2 is inherited.
  ///
  /// A helper tool (ffmpeg) is started with `standardInput` (a pipe's read end), in its own
  /// process group, with no signal blocked, and `tracked`: `stopAll` ends it on an interruption.
  public static func spawn(executable: String, arguments: [String], environment: [String: String], stderrPath: String,
                           standardInput: Int32? = nil, tracked: Bool = false) throws -> ChildProcess {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let standardInput {
      posix_spawn_file_actions_adddup2(&actions, standardInput, 0)
    } else {
      posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    // Nothing else the batch holds reaches a job: not the journal's lock (a job outliving a
    // killed batch would keep the next one out), not a pipe or socket of whoever started the
    // batch (a crash reporter a job leaves behind would keep that open, and its reader waiting).
    tessera_spawn_close_from(&actions, 3)

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for number in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGXFSZ] { sigaddset(&defaults, number) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    // The job starts with SIGINT, SIGTERM and SIGHUP blocked: one sent while the dynamic loader
    // maps GDAL's libraries waits until the job's handler exists, which unblocks them
    // (csystem.c), instead of killing it before it can remove anything.
    // A helper tool never unblocks them, so it starts with none blocked.
    var mask = sigset_t()
    sigemptyset(&mask)
    if !tracked {
      for number in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&mask, number) }
    }
    posix_spawnattr_setsigmask(&attributes, &mask)
    var flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
    if tracked {
      // Its own group: a terminal's Ctrl-C reaches Tessera, which ends the helper itself, in order.
      posix_spawnattr_setpgroup(&attributes, 0)
      flags |= POSIX_SPAWN_SETPGROUP
    }
    posix_spawnattr_setflags(&attributes, Int16(flags))

    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for pointer in argv { free(pointer) }
      for pointer in envp { free(pointer) }
    }
    var pid: pid_t = 0
    // Held across the spawn, so a `stopAll` that runs meanwhile finds the child once it exists.
    if tracked { trackedLock.lock() }
    defer { if tracked { trackedLock.unlock() } }
    let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    guard result == 0 else {
      throw TesseraError(.internalError, "cannot start \(executable): \(String(cString: strerror(result)))")
    }
    let child = ChildProcess(pid: pid, ownGroup: tracked)
    if tracked {
      ChildProcess.tracked[pid] = child
      child.crashSlot = tessera_crash_child_add(pid)
    }
    return child
  }

  /// Ends every tracked child: SIGTERM to its process group, SIGKILL after `grace` seconds,
  /// and reaps it, so none is left running or writing when this returns. For the interruption
  /// handler, before temporary files are removed.
  public static func stopAll(grace: Double = 0.5) {
    trackedLock.lock()
    let children = Array(tracked.values)
    tracked.removeAll()
    trackedLock.unlock()
    for child in children { child.send(SIGTERM) }
    let deadline = Date().addingTimeInterval(grace)
    var left = children
    while !left.isEmpty {
      left.removeAll { $0.reapIfEnded() }
      if left.isEmpty || Date() >= deadline { break }
      usleep(10_000)
    }
    for child in left {
      child.send(SIGKILL)
      _ = child.wait()
    }
  }

  /// Reaps the child if it has ended (or someone else reaped it); true then.
  private func reapIfEnded() -> Bool {
    lock.lock(); defer { lock.unlock() }
    if reaped { return true }
    var status: Int32 = 0
    let result = waitpid(pid, &status, WNOHANG)
    if result == pid || (result < 0 && errno == ECHILD) {
      reaped = true
      tessera_crash_child_remove(crashSlot)
      return true
    }
    return false
  }

  /// Waits for the child to end.
  public func wait() -> Exit {
    var status: Int32 = 0
    var usage = rusage()
    var waited = true
    while wait4(pid, &status, 0, &usage) < 0 {
      if errno != EINTR { waited = false; break }
    }
    lock.lock(); reaped = true; tessera_crash_child_remove(crashSlot); lock.unlock()
    if ownGroup {
      ChildProcess.trackedLock.lock(); ChildProcess.tracked[pid] = nil; ChildProcess.trackedLock.unlock()
    }
    // Reaped by `stopAll` meanwhile: it was ended by a signal, never a success.
    guard waited else { return Exit(status: nil, signal: SIGKILL, peakRSSKiB: 0) }
    // WIFEXITED / WTERMSIG, which Swift does not import.
    let signal = status & 0x7f
    if signal == 0 {
      return Exit(status: (status >> 8) & 0xff, signal: nil, peakRSSKiB: Int(usage.ru_maxrss))
    }
    return Exit(status: nil, signal: signal, peakRSSKiB: Int(usage.ru_maxrss))
  }

  /// Sends `signal` unless the child was already reaped.
  public func send(_ signal: Int32) {
    lock.lock(); defer { lock.unlock() }
    if !reaped { kill(ownGroup ? -pid : pid, signal) }
  }

  /// This executable's path, for starting children of the same binary.
  public static var currentExecutable: String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    if count > 0 { return String(cString: buffer) }
    return CommandLine.arguments[0]
  }
}
