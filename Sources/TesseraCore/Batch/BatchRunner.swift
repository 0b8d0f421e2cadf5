import Foundation

/// How a batch runs its jobs.
struct BatchSettings: Sendable {
  /// Jobs at once.
  var jobs = 1
  /// Further attempts after a failure that may be transient (74, a signal, a timeout).
  var retries = 0
  /// The first retry's delay in seconds; each next one doubles, with up to 50% random jitter.
  var retryDelay = 1.0
  /// Seconds an attempt may take before it is stopped (SIGTERM, then SIGKILL after `killGrace`).
  var jobTimeout: Double?
  var killGrace = 3.0
  /// Stop starting jobs after the first failure.
  var failFast = false
  /// `--threads` given to each step that does not set its own.
  var threadsPerJob = 1
  /// Content hashes of inputs in the journal and on `--resume`.
  var verify = false
  /// The binary each job runs (this one).
  var executable = ChildProcess.currentExecutable
  /// Where each job's private folder (its `{tmp}`, ledger and stderr) is made.
  var workDirectory: String
  /// The run's files no job may write (see `BatchProtection`), and each job's index in it.
  var protectedList: String?
  /// The work folder's marker, where each job folder is listed before it is made (nil: none kept).
  var workFolder: BatchWorkFolder?
  var jobIndex: [String: Int] = [:]

  init(workDirectory: String) { self.workDirectory = workDirectory }
}

/// What became of one job.
public struct BatchJobResult: Sendable {
  public enum Status: String, Sendable { case done, failed, skipped, notRun = "not_run" }
  public var id: String
  public var status: Status
  public var exitCode: Int32?
  public var signal: Int32?
  public var timedOut = false
  public var attempts = 0
  public var elapsed = 0.0
  public var peakRSSKiB = 0
  /// The end of the failing (or last) step's stderr.
  public var stderrTail = ""
  /// The failing step's command, 1-based, for multi-step jobs.
  public var failedStep: Int?
  public var outputs: [String] = []
  /// The files the job read (for the journal).
  var inputs: [String] = []
  /// The outputs as the job left them, to undo a job the journal could not record.
  var outputStamps: [(path: String, stamp: FileStamp?)] = []
  /// A done attempt's private folder, kept until the journal holds the job: its ledger is how
  /// `--resume` after a SIGKILL finds the outputs of a job the journal never recorded.
  var folder: String?

  public init(id: String, status: Status, exitCode: Int32? = nil) {
    self.id = id
    self.status = status
    self.exitCode = exitCode
  }

  public var summary: String {
    if let signal { return "killed by signal \(signal)\(timedOut ? " (timed out)" : "")" }
    if timedOut { return "timed out" }
    return "exit \(exitCode ?? -1)"
  }
}

/// Something the batch tells its user as it goes.
public enum BatchEvent: Sendable {
  case started(id: String)
  case retrying(id: String, attempt: Int, delay: Double, reason: String)
  case finished(BatchJobResult)
  case note(String)
}

/// Runs a batch's jobs: each step a child process of this binary (never a shell), `jobs` at a
/// time on threads that live as long as the batch (a child is told to stop when the thread
/// that started it ends, see csystem.c), with retries, timeouts and a journal.
final class BatchRunner: @unchecked Sendable {
  let settings: BatchSettings
  private let journal: BatchJournal?
  private var events: @Sendable (BatchEvent) -> Void = { _ in }
  private let lock = NSCondition()
  private var queue: [BatchJob] = []
  private var next = 0
  private var running: [String: ChildProcess] = [:]
  private var busy = 0
  private var stopping = false
  private var interrupted = false
  private var results: [String: BatchJobResult] = [:]
  private var journalError: TesseraError?

  init(settings: BatchSettings, journal: BatchJournal?) {
    self.settings = settings
    self.journal = journal
  }

  /// Runs `jobs` and returns a result for each, in their order; `events` hears of each job on
  /// the worker threads. Returns early (the rest `not_run`) after `interrupt` or, with
  /// `failFast`, after a failure.
  func run(_ jobs: [BatchJob], events: @escaping @Sendable (BatchEvent) -> Void) -> [BatchJobResult] {
    lock.lock()
    self.events = events
    queue = jobs
    next = 0
    lock.unlock()
    let workers = (0..<max(1, min(settings.jobs, jobs.count))).map { _ in
      let thread = Thread { [self] in work() }
      thread.stackSize = 1 << 20
      return thread
    }
    lock.lock()
    busy = workers.count
    lock.unlock()
    for thread in workers { thread.start() }
    lock.lock()
    while busy > 0 { lock.wait() }
    lock.unlock()
    return jobs.map { results[$0.id] ?? BatchJobResult(id: $0.id, status: .notRun) }
  }

  /// Stops the batch: no job starts any more, `signal` goes to every running child (which
  /// removes its temporary files and exits), and after `grace` seconds those still running
  /// are killed. Returns when every child was reaped and its leftovers removed.
  func interrupt(signal: Int32, grace: Double = 20) {
    lock.lock()
    stopping = true
    interrupted = true
    for child in running.values { child.send(signal) }
    let deadline = Date().addingTimeInterval(grace)
    while busy > 0, lock.wait(until: deadline) {}
    if busy > 0 {
      for child in running.values { child.send(SIGKILL) }
      while busy > 0, lock.wait(until: Date().addingTimeInterval(5)) {}
    }
    lock.unlock()
  }

  /// The first failed write of the journal: no job was started after it.
  var journalFailure: TesseraError? {
    lock.lock(); defer { lock.unlock() }
    return journalError
  }

  /// The results of the jobs that finished so far.
  var finishedResults: [BatchJobResult] {
    lock.lock(); defer { lock.unlock() }
    return Array(results.values)
  }

  // MARK: - Workers

  private func work() {
    while true {
      lock.lock()
      guard !stopping, next < queue.count else {
        busy -= 1
        lock.broadcast()
        lock.unlock()
        return
      }
      let job = queue[next]
      next += 1
      lock.unlock()
      events(.started(id: job.id))
      let result = runWithRetries(job)
      lock.lock()
      results[job.id] = result
      if result.status == .failed, settings.failFast { stopping = true }
      lock.unlock()
      if result.status != .notRun { events(.finished(result)) }
    }
  }

  private var wasInterrupted: Bool {
    lock.lock(); defer { lock.unlock() }
    return interrupted
  }

  private func runWithRetries(_ job: BatchJob) -> BatchJobResult {
    let started = Date()
    var attempt = 0
    while true {
      attempt += 1
      var result = runOnce(job, attempt: attempt)
      result.attempts = attempt
      result.elapsed = Date().timeIntervalSince(started)
      if wasInterrupted, result.status != .done { result.status = .notRun; return result }
      guard result.status == .failed, attempt <= settings.retries, BatchRunner.mayBeTransient(result), journalFailure == nil else {
        let recorded = record(job, result)
        if let folder = result.folder { try? FileManager.default.removeItem(atPath: folder) }
        return recorded
      }
      let delay = settings.retryDelay * pow(2, Double(attempt - 1)) * Double.random(in: 1...1.5)
      events(.retrying(id: job.id, attempt: attempt + 1, delay: delay, reason: result.summary))
      let until = Date().addingTimeInterval(min(delay, 300))
      while Date() < until {
        // Nothing starts after an interrupt or a failed journal write, a retry neither.
        if wasInterrupted || journalFailure != nil { result.status = .notRun; return result }
        Thread.sleep(forTimeInterval: min(0.05, until.timeIntervalSinceNow))
      }
    }
  }

  /// Failures worth another attempt: a write failure (74, a full disk may clear), a signal
  /// (a crash, the OOM killer), a timeout. Usage and data errors fail the same way every time.
  static func mayBeTransient(_ result: BatchJobResult) -> Bool {
    if result.timedOut || result.signal != nil { return true }
    guard let code = result.exitCode else { return false }
    return code == ExitStatus.ioError.rawValue || code == ExitStatus.hangup.rawValue || code == ExitStatus.terminated.rawValue
  }

  /// Records a finished job in the journal. When the journal cannot be written (a full disk),
  /// no job starts any more, and the job is undone (its outputs removed if unchanged) and
  /// counted as not run: a job is done only when its record is on disk, so `--resume` runs it
  /// again and finds nothing of it in the way.
  private func record(_ job: BatchJob, _ result: BatchJobResult) -> BatchJobResult {
    guard let journal, result.status == .done || result.status == .failed else { return result }
    CrashTestHook.trigger("batch-record")
    do {
      try journal.append(BatchJournal.Record(
        id: job.id, argsHash: job.argsHash, status: result.status == .done ? "ok" : "failed",
        exitCode: Int(result.exitCode ?? -1),
        inputs: result.inputs.map { BatchJournal.FileRecord.now($0, verify: settings.verify) },
        outputs: result.outputs.map { BatchJournal.FileRecord.now($0, verify: false) }))
      return result
    } catch {
      lock.lock()
      stopping = true
      if journalError == nil { journalError = TesseraError.from(error) }
      lock.unlock()
      for (path, stamp) in result.outputStamps {
        if let stamp, FileStamp(path: path) == stamp { unlink(path) }
      }
      var undone = BatchJobResult(id: result.id, status: .notRun)
      undone.attempts = result.attempts
      undone.elapsed = result.elapsed
      undone.stderrTail = "not recorded: \(TesseraError.from(error).message)"
      return undone
    }
  }

  /// One attempt: the job's private folder, each step in order, the folder removed (a done
  /// attempt's once the journal holds it).
  private func runOnce(_ job: BatchJob, attempt: Int) -> BatchJobResult {
    var result = BatchJobResult(id: job.id, status: .failed)
    let folder = settings.workDirectory + "/job-" + String(SHA256.hex(of: job.id).prefix(12)) + "-\(attempt)"
    // Removed however the attempt ends, a folder half made on a full disk included.
    defer { if result.folder == nil { try? FileManager.default.removeItem(atPath: folder) } }
    if let refused = makeFolder(folder, for: job) { return refused }
    let deadline = settings.jobTimeout.map { Date().addingTimeInterval($0) }
    let steps = job.expanded(tmp: folder + "/tmp")
    for (index, step) in steps.enumerated() {
      let failedStep = steps.count > 1 ? index + 1 : nil
      if let deadline, deadline <= Date() {
        result.timedOut = true
        result.stderrTail = "stopped after --job-timeout \(settings.jobTimeout ?? 0) s, before step \(index + 1)"
        result.failedStep = failedStep
        return result
      }
      let end: StepEnd
      do {
        guard let ended = try runStep(step, number: index + 1, of: job, folder: folder, deadline: deadline) else {
          result.status = .notRun
          return result
        }
        end = ended
      } catch {
        result.exitCode = ExitStatus.internalError.rawValue
        result.stderrTail = "\(error)"
        return result
      }
      result.peakRSSKiB = max(result.peakRSSKiB, end.exit.peakRSSKiB)
      result.stderrTail = end.stderrTail
      protect(end.ledger.inputs.filter { !$0.hasPrefix(folder + "/") }, of: job)
      if end.exit.status != 0 || end.timedOut {
        recordFailure(end, folder: folder, into: &result)
        result.failedStep = failedStep
        return result
      }
      if index == steps.count - 1 {
        recordSuccess(end.ledger, folder: folder, into: &result)
        result.folder = folder
      }
    }
    return result
  }

  /// Lists and makes an attempt's private folder; the attempt's result when it cannot be.
  private func makeFolder(_ folder: String, for job: BatchJob) -> BatchJobResult? {
    // Listed first: a folder the batch cannot list as its own is not made (a later run would
    // refuse the work folder, or leave it behind).
    let listed = settings.workFolder.map { $0.register(folder) } ?? true
    guard let code = listed ? BatchRunner.makeJobFolder(folder, id: job.id) : (errno == 0 ? EIO : errno) else { return nil }
    var result = BatchJobResult(id: job.id, status: .failed)
    result.stderrTail = "cannot create the job folder \(folder): \(String(cString: strerror(code)))"
    guard [ENOSPC, EDQUOT, EIO, EFBIG, EROFS].contains(code) else {
      result.exitCode = ExitStatus.cannotCreate.rawValue
      return result
    }
    // The batch's own folder cannot be written (a full disk): like a journal that cannot be,
    // no job starts after it, and this one did not run (--resume runs it).
    lock.lock()
    stopping = true
    if journalError == nil { journalError = TesseraError(.ioError, result.stderrTail) }
    lock.unlock()
    result.status = .notRun
    return result
  }

  /// How one step ended: the child's exit, whether its timer stopped it, what its ledger and
  /// stderr say.
  private struct StepEnd {
    var exit: ChildProcess.Exit
    var timedOut: Bool
    var ledger: RunLedger.Contents
    var stderrTail: String
  }

  /// Runs step `number` of an attempt as a child process and waits for it; nil when the batch
  /// was interrupted first. Throws when the child cannot be started.
  private func runStep(_ step: BatchStep, number: Int, of job: BatchJob, folder: String, deadline: Date?) throws -> StepEnd? {
    let stderrPath = folder + "/stderr-\(number)"
    let ledgerPath = folder + "/ledger"
    let arguments = [step.command] + BatchRunner.withThreads(step.args, settings.threadsPerJob)
    let child: ChildProcess
    lock.lock()
    do {
      guard !interrupted else { lock.unlock(); return nil }
      child = try ChildProcess.spawn(executable: settings.executable, arguments: arguments,
                                     environment: environment(for: job, ledger: ledgerPath), stderrPath: stderrPath)
      running[job.id] = child
      lock.unlock()
    } catch {
      lock.unlock()
      throw error
    }
    let (exit, timedOut) = wait(for: child, deadline: deadline)
    lock.lock()
    running[job.id] = nil
    lock.unlock()
    return StepEnd(exit: exit, timedOut: timedOut, ledger: RunLedger.read(ledgerPath), stderrTail: BatchRunner.tail(of: stderrPath))
  }

  /// A step's environment: where it keeps its ledger, its parent, and the run's protected files.
  private func environment(for job: BatchJob, ledger: String) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    environment[RunLedger.environmentKey] = ledger
    environment["TESSERA_BATCH_PARENT"] = String(getpid())
    if let list = settings.protectedList, let index = settings.jobIndex[job.id] {
      environment[BatchProtection.fileKey] = list
      environment[BatchProtection.jobKey] = String(index)
    }
    return environment
  }

  /// Waits for a child, stopping it at `deadline` (SIGTERM, then SIGKILL after `killGrace`).
  private func wait(for child: ChildProcess, deadline: Date?) -> (ChildProcess.Exit, timedOut: Bool) {
    let timeout = TimeoutFlag()
    let timer = deadline.map { deadline -> DispatchWorkItem in
      let item = DispatchWorkItem { [settings] in
        timeout.fire()
        child.send(SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + settings.killGrace) { child.send(SIGKILL) }
      }
      DispatchQueue.global().asyncAfter(deadline: .now() + max(0, deadline.timeIntervalSinceNow), execute: item)
      return item
    }
    let exit = child.wait()
    timer?.cancel()
    return (exit, timeout.fired)
  }

  /// A failed step: what it left removed, its exit in the result.
  private func recordFailure(_ end: StepEnd, folder: String, into result: inout BatchJobResult) {
    // A child stopped by SIGKILL could not remove its temporary files; its ledger names them.
    RunLedger.removeLeftovers(end.ledger)
    // And an output a step had already put in place when the job failed (a signal that came
    // just after the rename, a later step failing) is no done job's: removed if unchanged, so
    // the job can run again without finding it in the way.
    _ = BatchRunner.removeUnrecordedOutputs(end.ledger, folder: folder, recorded: [])
    result.exitCode = end.exit.status
    result.signal = end.exit.signal
    result.timedOut = end.timedOut
    if end.timedOut, result.stderrTail.isEmpty || end.exit.signal != nil {
      result.stderrTail += (result.stderrTail.isEmpty ? "" : "\n") + "stopped after --job-timeout \(settings.jobTimeout ?? 0) s"
    }
  }

  /// A job whose last step succeeded: the files it wrote and read outside its folder.
  private func recordSuccess(_ ledger: RunLedger.Contents, folder: String, into result: inout BatchJobResult) {
    let inside = { (path: String) in path.hasPrefix(folder + "/") }
    result.outputs = ledger.outputs.map(\.path).filter { !inside($0) }
    result.outputStamps = ledger.outputs.filter { !inside($0.path) }
    result.inputs = ledger.inputs.filter { !inside($0) && !result.outputs.contains($0) }
    result.exitCode = 0
    result.status = .done
  }

  /// Tells the jobs started from now on that `files`, which `job` read, are no output of theirs.
  private func protect(_ files: [String], of job: BatchJob) {
    guard let list = settings.protectedList, let index = settings.jobIndex[job.id] else { return }
    let role = "an input of job \(job.id)\(job.origin == job.id ? "" : " (\(job.origin))")"
    BatchProtection.append(files.map { BatchProtection.Entry(path: $0, job: index, role: role) }, to: list)
  }

  /// Makes a job's private folder (`FOLDER/tmp` and `FOLDER/id`); nil, or the errno of the
  /// first call that failed (so a full disk is told from a missing folder).
  static func makeJobFolder(_ folder: String, id: String) -> Int32? {
    if mkdir(folder, 0o700) != 0 && errno != EEXIST { return errno }
    if mkdir(folder + "/tmp", 0o700) != 0 && errno != EEXIST { return errno }
    let fd = open(folder + "/id", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return errno }
    defer { close(fd) }
    let bytes = Array(id.utf8)
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    return written == bytes.count ? nil : (written < 0 ? errno : ENOSPC)
  }

  /// Gives a step `--threads N` unless it sets its own, before a `--` that ends its options.
  static func withThreads(_ args: [String], _ threads: Int) -> [String] {
    let end = args.firstIndex(of: "--") ?? args.endIndex
    if args[..<end].contains(where: { $0 == "--threads" || $0 == "-j" || $0.hasPrefix("--threads=") }) { return args }
    var result = args
    result.insert(contentsOf: ["--threads", String(threads)], at: end)
    return result
  }

  /// The last lines of a file, at most 2 KiB.
  static func tail(of path: String) -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
    defer { try? handle.close() }
    let size = (try? handle.seekToEnd()) ?? 0
    try? handle.seek(toOffset: size > 2048 ? size - 2048 : 0)
    let data = (try? handle.readToEnd()) ?? Data()
    var text = String(decoding: data, as: UTF8.self)
    if size > 2048, let newline = text.firstIndex(of: "\n") { text = String(text[text.index(after: newline)...]) }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  // MARK: - Leftovers of a killed batch

  /// Cleans a work folder a killed batch left (call with the journal's lock held): every
  /// temporary file its children named is removed, and so is an output a child moved into
  /// place that the journal never recorded (the batch died first), if it is unchanged since:
  /// the job runs again and would otherwise find its own output in the way.
  /// Only the job folders the work folder's marker lists: a batch removes only what it made.
  static func cleanLeftovers(in work: BatchWorkFolder, journal: BatchJournal?) -> [String] {
    var notes: [String] = []
    for name in work.leftovers {
      let folder = work.path + "/" + name
      let id = (try? String(contentsOfFile: folder + "/id", encoding: .utf8)) ?? ""
      let ledger = RunLedger.read(folder + "/ledger")
      for path in RunLedger.removeLeftovers(ledger) { notes.append("removed \(path), left by a killed run of job \(id)") }
      let recorded = Set(journal?.records[id].flatMap { $0.status == "ok" ? $0.outputs.map(\.path) : nil } ?? [])
      for path in removeUnrecordedOutputs(ledger, folder: folder, recorded: recorded) {
        notes.append("removed \(path), written by a run of job \(id) that the journal never recorded; the job runs again")
      }
      try? FileManager.default.removeItem(atPath: folder)
    }
    work.forgetLeftovers()
    return notes
  }

  /// Removes the outputs a job's ledger says it put in place, outside its own folder and not
  /// in `recorded`, that are unchanged since (size and modification time); returns them.
  static func removeUnrecordedOutputs(_ ledger: RunLedger.Contents, folder: String, recorded: Set<String>) -> [String] {
    var removed: [String] = []
    for (path, stamp) in ledger.outputs where !path.hasPrefix(folder + "/") && !recorded.contains(path) {
      if let stamp, FileStamp(path: path) == stamp, unlink(path) == 0 { removed.append(path) }
    }
    return removed
  }
}

/// Set by a job's timer when it fires, read by the worker once the child is reaped.
private final class TimeoutFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  func fire() { lock.lock(); value = true; lock.unlock() }
  var fired: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
