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
  private let lock = NSLock()
  private var reaped = false

  private init(pid: pid_t) { self.pid = pid }

  /// Starts `executable` with `arguments` (without argv[0]) and exactly `environment`; stdin
  /// and stdout are /dev/null, stderr goes to `stderrPath`. The signals a batch handles itself
  /// are reset to their defaults in the child, and blocked until the job's own handler exists;
  /// no descriptor but 0, 1 and 2 is inherited.
  public static func spawn(executable: String, arguments: [String], environment: [String: String], stderrPath: String) throws -> ChildProcess {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
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
    var mask = sigset_t()
    sigemptyset(&mask)
    for number in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&mask, number) }
    posix_spawnattr_setsigmask(&attributes, &mask)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for pointer in argv { free(pointer) }
      for pointer in envp { free(pointer) }
    }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    guard result == 0 else {
      throw TesseraError(.internalError, "cannot start \(executable): \(String(cString: strerror(result)))")
    }
    return ChildProcess(pid: pid)
  }

  /// Waits for the child to end.
  public func wait() -> Exit {
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 {
      if errno != EINTR { break }
    }
    lock.lock(); reaped = true; lock.unlock()
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
    if !reaped { kill(pid, signal) }
  }

  /// This executable's path, for starting children of the same binary.
  public static var currentExecutable: String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    if count > 0 { return String(cString: buffer) }
    return CommandLine.arguments[0]
  }
}
