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
      let plan = try BatchPlan.make(request)
      // A batch is one run: its files are checked against each other before anything exists.
      let protected = try plan.checkFiles(stepFiles: BatchStepFiles.of)
      if dryRun { return printDryRun(plan, runner) }
      return try execute(plan, protected: protected)
    }
  }

  var request: BatchRequest {
    let source: BatchRequest.Source = each.map { .each(template: $0, files: items, listFile: inputList) } ?? .manifest(items[0])
    var request = BatchRequest(source: source, commands: BatchCommand.jobCommands)
    request.parallelJobs = jobs
    request.threads = global.threads
    request.retries = retries
    request.retryDelay = retryDelay
    request.jobTimeout = jobTimeout
    request.shard = shard
    request.resume = resume
    request.verify = verify
    request.failFast = failFast
    request.overwrite = overwrite
    request.report = report
    request.journal = journal
    request.workDir = workDir
    return request
  }

  /// The jobs are the output here, on stdout: a line each, or one object listing them.
  func printDryRun(_ plan: BatchPlan, _ runner: CommandRunner) -> CommandResult {
    CommandResult(json: runner.okJSON([("dry_run", .bool(true)), ("jobs", .array(plan.dryRunJobs))]),
                  report: plan.dryRunLines.joined(separator: "\n"))
  }

  func execute(_ plan: BatchPlan, protected: [BatchProtection.Entry]) throws -> CommandResult {
    let execution = try BatchExecution(plan: plan, protected: protected)
    let progress = BatchProgress(BatchDisplay(total: plan.jobs.count, skipped: execution.skipped.count), quiet: global.quiet,
                                 bar: !global.quiet && (global.progress || Terminal.stderrIsTTY), inPlace: Terminal.stderrIsTTY)
    for note in execution.notes where !global.quiet { Terminal.err("tessera batch: \(note)") }
    Interruption.beforeExit = { status in
      execution.interrupt(signal: status == .interrupted ? SIGINT : (status == .hangup ? SIGHUP : SIGTERM))
      progress.finish()
    }
    let ran = execution.run(events: { progress.handle($0) })
    // The signal's thread writes the report and exits with the signal's status.
    if Interruption.requested { Interruption.awaitExit() }
    Interruption.beforeExit = nil
    progress.finish()
    let report = try execution.finish(ran)
    return CommandResult(json: report.json(withJobs: false), text: report.text, status: report.exitStatus)
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
