import ArgumentParser
import Foundation
import GDAL
import TesseraCore

struct BatchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "batch",
    abstract: "Run many Tessera jobs: in parallel, isolated, retried, resumable, split across machines.",
    discussion: """
      MANIFEST is JSON Lines, one job a line: {"id": "a", "command": "reproject", "args": ["in.tif", \
      "out.tif", "--dst-crs", "EPSG:4326"]}, or {"id": "b", "steps": [{"command": …, "args": […]}, …]} \
      whose steps run in order; {id} is the job's id and {tmp} a private folder removed when the job \
      ends. '-' reads the manifest from stdin. Or a template over files: --each 'reproject {path} \
      out/{stem}.tif --dst-crs EPSG:4326' FILE… (placeholders {path} {name} {stem} {dir} {ext} {index}).

      Each job is a child process of this binary; its threads are the cores divided by --jobs unless \
      its args set --threads. Failures that may pass (exit 74, a signal, a timeout) are retried \
      --retries times with exponential backoff; 64, 65 and 66 never are.

      With --report FILE (or --journal FILE) every finished job is recorded in an fsync'd journal \
      beside it (FILE.journal.jsonl); --resume skips jobs whose record still matches (same args, \
      inputs and outputs unchanged; contents too with --verify). --shard I/N runs the jobs whose id \
      hashes to shard I; --shard auto takes I and N from a Slurm array (SLURM_ARRAY_TASK_ID, \
      SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, TESSERA_SHARD_COUNT); \
      each shard writes its own report.shard-I-of-N.json, merged by 'tessera batch-report'.

      Exit: 0 every job done or skipped, 1 some failed, 130/143/129 interrupted (jobs stopped, their \
      partial outputs removed, the journal kept for --resume).
      """)

  @Argument(help: ArgumentHelp("The manifest ('-': stdin), or with --each the files.", valueName: "MANIFEST | FILE"))
  var items: [String] = []

  @Option(parsing: .unconditional, help: ArgumentHelp("A command template run once per file.", valueName: "TEMPLATE"))
  var each: String?
  @Option(name: .customLong("input-list"), parsing: .unconditional, help: ArgumentHelp("With --each: a file of paths, one a line ('-': stdin).", valueName: "FILE"))
  var inputList: String?

  @Option(parsing: .unconditional, help: "Jobs at once (default: the number of cores).")
  var jobs: Int?
  @Option(parsing: .unconditional, help: "Further attempts for failures that may be transient (74, signals, timeouts).")
  var retries = 0
  @Option(name: .customLong("retry-delay"), parsing: .unconditional, help: ArgumentHelp("Seconds before the first retry; doubling, with jitter.", valueName: "SECONDS"))
  var retryDelay = 1.0
  @Option(name: .customLong("job-timeout"), parsing: .unconditional, help: ArgumentHelp("Stop an attempt after this long (SIGTERM, then SIGKILL).", valueName: "SECONDS"))
  var jobTimeout: Double?
  @Option(parsing: .unconditional, help: ArgumentHelp("Run only shard I of N, or 'auto' from Slurm or Kubernetes.", valueName: "I/N|auto"))
  var shard: String?
  @Flag(help: "Skip jobs the journal records as done, if nothing they touched changed.")
  var resume = false
  @Flag(help: "Record and compare input contents (SHA-256), not only sizes and times.")
  var verify = false
  @Flag(name: .customLong("dry-run"), help: "Print the jobs (JSON Lines with --json) and run nothing.")
  var dryRun = false
  @Flag(name: .customLong("fail-fast"), help: "Start no job after the first failure.")
  var failFast = false
  @Option(parsing: .unconditional, help: ArgumentHelp("Write the report, every job's status, here.", valueName: "FILE"))
  var report: String?
  @Option(parsing: .unconditional, help: ArgumentHelp("The journal (default: beside --report).", valueName: "FILE"))
  var journal: String?
  @Option(name: .customLong("work-dir"), parsing: .unconditional, help: ArgumentHelp("Where jobs' private folders go (default: beside the journal, else $TMPDIR).", valueName: "DIR"))
  var workDir: String?
  @Flag(help: "Start over: replace an existing report and journal.")
  var overwrite = false
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if each == nil {
      if inputList != nil { throw ValidationError("--input-list goes with --each") }
      if items.count != 1 { throw ValidationError("give one manifest (or --each TEMPLATE with files)") }
    } else if items.isEmpty && inputList == nil {
      throw ValidationError("--each needs files or --input-list")
    }
    if let jobs, !(1...1024).contains(jobs) { throw ValidationError("--jobs takes 1 to 1024") }
    if !(0...100).contains(retries) { throw ValidationError("--retries takes 0 to 100") }
    if !(retryDelay >= 0 && retryDelay <= 3600) { throw ValidationError("--retry-delay takes 0 to 3600 seconds") }
    if let jobTimeout, !(jobTimeout > 0 && jobTimeout <= 1e9) {
      throw ValidationError("--job-timeout takes a positive, finite number of seconds (at most 1e9), got \(jobTimeout)")
    }
    if resume && overwrite { throw ValidationError("--resume continues a batch and --overwrite starts it over; give one") }
  }

  func run() throws {
    try CommandRunner("batch", global).run { runner in
      let plan = try BatchPlan.make(self)
      // A batch is one run: its files are checked against each other before anything exists.
      let protected = try plan.checkFiles()
      if dryRun { return try plan.dryRun(json: global.json) }
      return try plan.execute(runner: runner, command: self, protected: protected)
    }
  }

  /// The subcommands a job may run: those that tell the batch their files (`JobFiles`), so a
  /// command that cannot is never run unchecked.
  static var jobCommands: Set<String> {
    var names = Set(Tessera.configuration.subcommands.filter { $0 is JobFiles.Type }.map { $0.configuration.commandName ?? "" })
    names.subtract(["batch", "batch-report", TestJobCommand.name, ""])
    if TestJobCommand.enabled { names.insert(TestJobCommand.name) }
    return names
  }
}

/// A batch ready to run: its jobs (this shard's), where its report, journal and work go.
struct BatchPlan {
  var jobs: [BatchJob]
  /// Every job of the manifest, of every shard: the shards are one run.
  var allJobs: [BatchJob]
  var total: Int
  var shard: BatchShard?
  var source: String
  var reportPath: String?
  var journalPath: String?
  var workDirectory: String
  /// A folder of this run alone, in $TMPDIR, removed whole at the end.
  var temporaryWork: Bool
  /// The batch's identity: its jobs (ids, commands, arguments), so that reports of shards
  /// of other batches are never merged with this one's.
  var identity: String {
    SHA256.hex(of: allJobs.sorted { $0.id < $1.id }.map { $0.id.count.description + ":" + $0.id + $0.argsHash }.joined(separator: "\n"))
  }

  static func make(_ command: BatchCommand) throws -> BatchPlan {
    var jobs: [BatchJob]
    let source: String
    if let template = command.each {
      let files = try SourceSet.expand(command.items, listFile: command.inputList)
      jobs = try BatchManifest.expand(template: template, files: files, commands: BatchCommand.jobCommands)
      source = "--each"
    } else {
      let manifest = command.items[0]
      source = manifest == "-" ? "stdin" : manifest
      let data = try TextInput.read(manifest, role: "manifest")
      jobs = try BatchManifest.parse(data, source: source, commands: BatchCommand.jobCommands)
    }
    let total = jobs.count
    let allJobs = jobs
    var shard: BatchShard?
    if let text = command.shard {
      shard = text == "auto" ? try BatchShard.automatic(ProcessInfo.processInfo.environment) : try BatchShard(parsing: text)
      jobs = jobs.filter { shard!.contains($0.id) }
    }
    var reportPath = command.report
    var journalPath = command.journal
    if let shard {
      reportPath = reportPath.map(shard.suffixed)
      journalPath = journalPath.map(shard.suffixed)
    }
    if journalPath == nil, let reportPath {
      let base = reportPath.hasSuffix(".json") ? String(reportPath.dropLast(5)) : reportPath
      journalPath = base + ".journal.jsonl"
    }
    // Refused before the journal (made beside the report) or anything else is created.
    for path in [reportPath, journalPath].compactMap({ $0 }) { try OutputPlace.check(path) }
    if command.resume && journalPath == nil {
      throw TesseraError(.usage, "--resume needs the journal of an earlier run: give --report FILE or --journal FILE")
    }
    var workDirectory: String
    var temporaryWork = false
    // Shards run at once: each keeps its own work folder, as it keeps its own journal.
    var workDir = command.workDir
    while let folder = workDir, folder.count > 1, folder.hasSuffix("/") { workDir = String(folder.dropLast()) }
    if let shard { workDir = workDir.map(shard.suffixed) }
    if let journalPath {
      workDirectory = workDir ?? journalPath + ".work"
    } else if let workDir {
      workDirectory = workDir
    } else {
      let base = try temporaryFolder()
      workDirectory = base + "/tessera-batch-\(getpid())-" + UUID().uuidString.prefix(8).lowercased()
      temporaryWork = true
    }
    return BatchPlan(jobs: jobs, allJobs: allJobs, total: total, shard: shard, source: source, reportPath: reportPath,
                     journalPath: journalPath, workDirectory: workDirectory, temporaryWork: temporaryWork)
  }

  // MARK: - One run

  /// How messages name a job.
  static func label(_ job: BatchJob) -> String {
    job.origin == job.id ? "job \(job.id)" : "job \(job.id) (\(job.origin))"
  }

  /// Where job `index`'s private folders go: `WORK/job-HASH-ATTEMPT`.
  func privatePrefix(_ index: Int) -> String {
    workDirectory + "/job-" + String(SHA256.hex(of: allJobs[index].id).prefix(12)) + "-"
  }

  /// Checks every file the run touches against every other before anything is created (64,
  /// naming both), and returns the list each job gets of the files it may not write.
  func checkFiles() throws -> [BatchProtection.Entry] {
    var own: [BatchFileRelations.OwnFile] = []
    if source != "stdin" && source != "--each" { own.append(.init(path: source, role: "the batch's manifest", readable: true)) }
    if let journalPath {
      own.append(.init(path: journalPath, role: "the batch's journal"))
      own.append(.init(path: journalPath + ".lock", role: "the lock of the batch's journal"))
    }
    if let reportPath { own.append(.init(path: reportPath, role: "the batch's report")) }
    var uses: [BatchFileUse] = []
    for (index, job) in allJobs.enumerated() {
      for (step, expanded) in job.expanded(tmp: privatePrefix(index) + "1/tmp").enumerated() {
        guard let files = BatchStepFiles.of(expanded) else { continue }
        uses += files.inputs.map { BatchFileUse(path: $0, kind: .read, job: index, step: step) }
        uses += files.outputs.map { BatchFileUse(path: $0, kind: .write, job: index, step: step) }
      }
    }
    let labels = allJobs.map(BatchPlan.label)
    try BatchFileRelations.check(own: own, uses: uses, labels: labels, workDirectory: temporaryWork ? nil : workDirectory,
                                 privatePrefix: privatePrefix)
    return own.map { BatchProtection.Entry(path: $0.path, job: -1, role: $0.role) }
      + uses.map { BatchProtection.Entry(path: $0.path, job: $0.job, role: ($0.kind == .read ? "an input of " : "an output of ") + labels[$0.job]) }
  }

  func dryRun(json: Bool) throws -> CommandResult {
    var lines: [String] = []
    for job in jobs {
      if json {
        let steps = JSONValue.array(job.steps.map { .object([("command", .string($0.command)), ("args", .array($0.args.map { .string($0) }))]) })
        lines.append(JSONValue.object([("id", .string(job.id)), ("steps", steps)]).serialized())
      } else {
        let commands = job.steps.map { (["tessera", $0.command] + $0.args).map(BatchPlan.shellQuoted).joined(separator: " ") }
        lines.append("\(job.id): " + commands.joined(separator: " && "))
      }
    }
    // The jobs are the output here, on stdout with or without --json.
    if !lines.isEmpty { try Terminal.out(lines.joined(separator: "\n")) }
    return CommandResult(json: .null, text: "")
  }

  static func shellQuoted(_ word: String) -> String {
    let plain = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_./:=,+@%"))
    if !word.isEmpty, word.unicodeScalars.allSatisfy({ plain.contains($0) && $0.isASCII }) { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  /// What a batch holds while it runs: the journal's lock, the journal, its work folder.
  struct Started {
    var lock: BatchLock?
    var journal: BatchJournal?
    var notes: [String]
    var protectedList: String
    var workFolder: BatchWorkFolder?
    /// Removes what the batch made in its work folder: a temporary one whole; else the protected
    /// list, then the marker and the folder once nothing a batch made is left (a folder it
    /// adopted stays; a job folder left in it is what the next run cleans up).
    var removeWork: () -> Void
  }

  /// Refuses what would fail before anything exists, then takes the journal's lock, cleans
  /// what a killed run left and makes the work folder with the run's protected files.
  func start(_ command: BatchCommand, protected: [BatchProtection.Entry]) throws -> Started {
    let journalExists = { (path: String) in (FileStamp(path: path)?.size ?? 0) > 0 }
    if let journalPath, journalExists(journalPath), !command.resume, !command.overwrite {
      throw TesseraError(.cannotCreate, "the journal \(journalPath) of an earlier run exists; pass --resume to continue that batch or --overwrite to start over")
    }
    if let reportPath, !command.resume {
      // Refused now, not after hours of work, and before the journal and its lock exist.
      _ = try OutputSpec.ownFile(path: reportPath, overwrite: command.overwrite).target(inputs: [source]).abort()
    }
    // The journal's lock first: from here on no other batch touches it or its work folder.
    var started = Started(lock: nil, journal: nil, notes: [], protectedList: workDirectory + "/" + BatchWorkFolder.protectedListName, removeWork: {})
    var previous: BatchJournal?
    var madeLock = false
    if let journalPath {
      madeLock = !FileManager.default.fileExists(atPath: journalPath + ".lock")
      started.lock = try BatchLock(journal: journalPath)
      // Again under the lock: another batch may have written it meanwhile.
      let exists = journalExists(journalPath)
      if exists && !command.resume && !command.overwrite {
        throw TesseraError(.cannotCreate, "the journal \(journalPath) of an earlier run exists; pass --resume to continue that batch or --overwrite to start over")
      }
      previous = exists ? try BatchJournal(path: journalPath, fresh: false) : nil
    }
    // A start that fails (a full disk) leaves nothing it made: not the lock, not an empty
    // journal, and an earlier run's journal untouched, so --resume still finds it.
    let undoLock = { [journalPath] in
      // Unlinked while still held: a batch that opened the old file finds it locked and stops.
      if madeLock, let journalPath { unlink(journalPath + ".lock") }
    }
    do {
      // Refuses a folder holding what no batch made, before anything in it is touched.
      let work = try BatchWorkFolder.open(workDirectory)
      started.workFolder = work
      let temporaryWork = self.temporaryWork
      started.removeWork = {
        // A temporary folder is this run's alone (made new, under a unique name).
        if temporaryWork && work.created { try? FileManager.default.removeItem(atPath: work.path) } else { work.finish() }
      }
      do {
        // What a killed batch left: partial outputs of its jobs, unrecorded outputs.
        if journalPath != nil { started.notes += BatchRunner.cleanLeftovers(in: work, journal: previous) }
        try BatchProtection.write(protected, to: started.protectedList)
        if let journalPath {
          let made = !FileManager.default.fileExists(atPath: journalPath)
          do {
            started.journal = try BatchJournal(path: journalPath, fresh: !command.resume)
          } catch {
            if made { unlink(journalPath) }
            throw error
          }
        }
      } catch {
        started.removeWork()
        throw error
      }
    } catch {
      undoLock()
      throw error
    }
    return started
  }

  func execute(runner: CommandRunner, command: BatchCommand, protected: [BatchProtection.Entry]) throws -> CommandResult {
    let global = command.global
    let started = try start(command, protected: protected)
    let (lock, journal, notes, removeWork) = (started.lock, started.journal, started.notes, started.removeWork)
    defer { removeWork() }

    var settings = BatchSettings(workDirectory: workDirectory)
    settings.protectedList = started.protectedList
    settings.workFolder = started.workFolder
    settings.jobIndex = Dictionary(allJobs.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
    let cores = global.threads ?? ProcessInfo.processInfo.activeProcessorCount
    settings.jobs = command.jobs ?? ProcessInfo.processInfo.activeProcessorCount
    settings.threadsPerJob = max(1, cores / settings.jobs)
    settings.retries = command.retries
    settings.retryDelay = command.retryDelay
    settings.jobTimeout = command.jobTimeout
    settings.failFast = command.failFast
    settings.verify = command.verify

    var skipped: [BatchJobResult] = []
    var pending: [BatchJob] = []
    for job in jobs {
      if command.resume, let journal, journal.isDone(job, verify: command.verify) {
        skipped.append(BatchJobResult(id: job.id, status: .skipped, exitCode: 0))
      } else {
        pending.append(job)
      }
    }

    let display = BatchDisplay(total: jobs.count, skipped: skipped.count, quiet: global.quiet,
                               bar: !global.quiet && (global.progress || Terminal.stderrIsTTY), inPlace: Terminal.stderrIsTTY)
    for note in notes where !global.quiet { Terminal.err("tessera batch: \(note)") }
    let batch = BatchRunner(settings: settings, journal: journal, events: { display.handle($0) })
    let startTime = Date()
    let plan = self
    Interruption.beforeExit = { status in
      let signal = status == .interrupted ? SIGINT : (status == .hangup ? SIGHUP : SIGTERM)
      batch.interrupt(signal: signal)
      display.finish()
      // The report of what finished; the journal is already on disk.
      let results = plan.order(skipped + batch.finishedResults)
      try? plan.writeReport(results, status: "interrupted", elapsed: Date().timeIntervalSince(startTime), overwrite: true)
      // Exit does not run the defers: the work folder goes here (the jobs' folders are gone).
      removeWork()
      withExtendedLifetime(lock) {}
    }
    let ran = batch.run(pending)
    if Interruption.requested {
      // The signal's thread writes the report and exits with the signal's status.
      while true { sleep(60) }
    }
    Interruption.beforeExit = nil
    display.finish()
    let results = order(skipped + ran)
    let failed = results.filter { $0.status == .failed }
    let notRun = results.filter { $0.status == .notRun }
    let status = failed.isEmpty && notRun.isEmpty ? "ok" : "failed"
    let elapsed = Date().timeIntervalSince(startTime)
    if let failure = batch.journalFailure {
      // The journal is the batch's memory: without it nothing more may run. The jobs it could
      // not record were undone, so --resume finds the batch as the journal says it is.
      try? writeReport(results, status: "failed", elapsed: elapsed, overwrite: true)
      withExtendedLifetime(lock) {}
      throw TesseraError(.ioError, "\(failure.message); no job was started after it and the jobs it could not record were undone; free space and continue with --resume")
    }
    try writeReport(results, status: status, elapsed: elapsed, overwrite: true)
    withExtendedLifetime(lock) {}
    let counts = BatchSummary(results)
    var text = "tessera batch: \(counts.done) done, \(counts.failed) failed, \(counts.skipped) skipped"
    if counts.notRun > 0 { text += ", \(counts.notRun) not run" }
    text += " of \(jobs.count) jobs\(shard.map { " (shard \($0) of a manifest of \(total))" } ?? "") in \(String(format: "%.1f", elapsed)) s"
    if let reportPath { text += "; report \(reportPath)" }
    return CommandResult(json: summaryJSON(results, status: status, elapsed: elapsed, jobs: false), text: text,
                         status: status == "ok" ? .ok : .checkFailed)
  }

  /// Results in the manifest's order.
  func order(_ results: [BatchJobResult]) -> [BatchJobResult] {
    let byID = Dictionary(results.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    return jobs.map { byID[$0.id] ?? BatchJobResult(id: $0.id, status: .notRun) }
  }

  func summaryJSON(_ results: [BatchJobResult], status: String, elapsed: Double, jobs withJobs: Bool) -> JSONValue {
    let counts = BatchSummary(results)
    var pairs: [(String, JSONValue)] = [
      ("command", .string("batch")), ("status", .string(status)),
      ("elapsed_s", .double((elapsed * 1000).rounded() / 1000)), ("warnings", .array([])),
      ("outputs", .array(results.flatMap { $0.outputs.map { .string($0) } })),
      ("manifest", .string(source)), ("batch_id", .string(identity)), ("shard", shard.map { .string($0.description) } ?? .null),
      ("manifest_jobs", .int(total)), ("jobs_total", .int(results.count)), ("jobs_done", .int(counts.done)),
      ("jobs_failed", .int(counts.failed)), ("jobs_skipped", .int(counts.skipped)), ("jobs_not_run", .int(counts.notRun)),
      ("failed", .array(results.filter { $0.status == .failed }.map { .object([("id", .string($0.id)), ("error", .string($0.summary))]) })),
      ("report", reportPath.map { .string($0) } ?? .null), ("journal", journalPath.map { .string($0) } ?? .null),
    ]
    if withJobs { pairs.append(("jobs", .array(results.map(BatchPlan.jobJSON)))) }
    return .object(pairs)
  }

  static func jobJSON(_ result: BatchJobResult) -> JSONValue {
    .object([
      ("id", .string(result.id)), ("status", .string(result.status.rawValue)),
      ("exit_code", result.exitCode.map { .int(Int($0)) } ?? .null), ("signal", result.signal.map { .int(Int($0)) } ?? .null),
      ("timed_out", .bool(result.timedOut)), ("attempts", .int(result.attempts)),
      ("elapsed_s", .double((result.elapsed * 1000).rounded() / 1000)),
      ("peak_rss_mib", .double((Double(result.peakRSSKiB) / 1024 * 10).rounded() / 10)),
      ("failed_step", result.failedStep.map { .int($0) } ?? .null),
      ("outputs", .array(result.outputs.map { .string($0) })),
      ("stderr_tail", .string(result.status == .skipped ? "" : result.stderrTail)),
    ])
  }

  func writeReport(_ results: [BatchJobResult], status: String, elapsed: Double, overwrite: Bool) throws {
    guard let reportPath else { return }
    let target = try OutputSpec.ownFile(path: reportPath, overwrite: overwrite).target(inputs: [source])
    try target.writeContents(Data((summaryJSON(results, status: status, elapsed: elapsed, jobs: true).serialized(pretty: true) + "\n").utf8))
    try target.commit()
  }
}

struct BatchSummary {
  var done = 0, failed = 0, skipped = 0, notRun = 0
  init(_ results: [BatchJobResult]) {
    for result in results {
      switch result.status {
      case .done: done += 1
      case .failed: failed += 1
      case .skipped: skipped += 1
      case .notRun: notRun += 1
      }
    }
  }
}

/// What a batch shows as it runs: a line per failure and retry, and on a terminal (or with
/// --progress) done / failed / skipped / total with throughput and ETA.
final class BatchDisplay: @unchecked Sendable {
  private let lock = NSLock()
  private let total: Int
  private let quiet: Bool
  private let bar: Bool
  private let inPlace: Bool
  private let started = Date()
  private var done = 0, failed = 0
  private let skipped: Int
  private var lastDraw = Date.distantPast
  private var drawn = false

  init(total: Int, skipped: Int, quiet: Bool, bar: Bool, inPlace: Bool) {
    self.total = total
    self.skipped = skipped
    self.quiet = quiet
    self.bar = bar
    self.inPlace = inPlace
  }

  func handle(_ event: BatchEvent) {
    lock.lock(); defer { lock.unlock() }
    switch event {
    case .started: return
    case .note(let text):
      say("tessera batch: \(text)")
    case .retrying(let id, let attempt, let delay, let reason):
      say("tessera batch: job \(id): \(reason); attempt \(attempt) in \(String(format: "%.1f", delay)) s")
    case .finished(let result):
      if result.status == .done { done += 1 }
      if result.status == .failed {
        failed += 1
        let last = result.stderrTail.split(separator: "\n").last.map(String.init) ?? ""
        // Failures are shown even with --quiet: they are what a script's log is for.
        clearBar()
        Terminal.err(TesseraError.oneLine("tessera batch: job \(result.id) failed (\(result.summary))\(last.isEmpty ? "" : ": " + last)"))
      }
    }
    draw(force: done + failed + skipped == total)
  }

  private func say(_ line: String) {
    guard !quiet else { return }
    clearBar()
    // Ids and paths come from the manifest: a newline or an escape sequence in one is shown, not obeyed.
    Terminal.err(TesseraError.oneLine(line))
  }

  private func clearBar() {
    if inPlace && drawn { StandardStreams.write("\r\u{1B}[K", to: STDERR_FILENO) }
  }

  private func draw(force: Bool) {
    guard bar else { return }
    let now = Date()
    guard force || now.timeIntervalSince(lastDraw) >= (inPlace ? 0.1 : 5) else { return }
    lastDraw = now
    let finished = done + failed
    let elapsed = now.timeIntervalSince(started)
    let rate = elapsed > 0 ? Double(finished) / elapsed : 0
    let left = total - finished - skipped
    let eta = rate > 0 ? String(format: "ETA %.0f s", Double(left) / rate) : "ETA --"
    let line = "batch: \(finished + skipped)/\(total) (\(done) done, \(failed) failed, \(skipped) skipped), \(String(format: "%.1f", rate)) jobs/s, \(eta)"
    if inPlace {
      StandardStreams.write("\r" + line + "\u{1B}[K", to: STDERR_FILENO)
      drawn = true
    } else {
      Terminal.err(line)
    }
  }

  func finish() {
    lock.lock(); defer { lock.unlock() }
    if inPlace && drawn { StandardStreams.write("\n", to: STDERR_FILENO); drawn = false }
  }
}
