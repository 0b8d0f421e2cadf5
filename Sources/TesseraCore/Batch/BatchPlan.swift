import Foundation

/// A batch ready to run: its jobs (this shard's), where its report, journal and work go.
public struct BatchPlan: Sendable {
  public let request: BatchRequest
  /// The jobs this run (this shard) runs.
  public let jobs: [BatchJob]
  /// Every job of the manifest, of every shard: the shards are one run.
  let allJobs: [BatchJob]
  let shard: BatchShard?
  /// How reports name the manifest: its path, `stdin` or `--each`.
  let source: String
  public let reportPath: String?
  public let journalPath: String?
  let workDirectory: String
  /// A folder of this run alone, in $TMPDIR, removed whole at the end.
  let temporaryWork: Bool

  /// The manifest's jobs, of every shard.
  var total: Int { allJobs.count }

  /// The batch's identity: its jobs (ids, commands, arguments), so that reports of shards
  /// of other batches are never merged with this one's.
  var identity: String {
    SHA256.hex(of: allJobs.sorted { $0.id < $1.id }.map { $0.id.count.description + ":" + $0.id + $0.argsHash }.joined(separator: "\n"))
  }

  public static func make(_ request: BatchRequest) throws -> BatchPlan {
    let (allJobs, source) = try readJobs(request)
    let shard = try request.shard.map { text in
      text == "auto" ? try BatchShard.automatic(ProcessInfo.processInfo.environment) : try BatchShard(parsing: text)
    }
    let jobs = shard.map { shard in allJobs.filter { shard.contains($0.id) } } ?? allJobs
    let (reportPath, journalPath) = try ownFilePaths(request, shard: shard)
    if request.resume && journalPath == nil {
      throw TesseraError(.usage, "--resume needs the journal of an earlier run: give --report FILE or --journal FILE")
    }
    let (workDirectory, temporaryWork) = try workFolder(request, shard: shard, journalPath: journalPath)
    return BatchPlan(request: request, jobs: jobs, allJobs: allJobs, shard: shard, source: source, reportPath: reportPath,
                     journalPath: journalPath, workDirectory: workDirectory, temporaryWork: temporaryWork)
  }

  /// The manifest's jobs, or the template's over its files, and how reports name where they came from.
  static func readJobs(_ request: BatchRequest) throws -> (jobs: [BatchJob], source: String) {
    switch request.source {
    case .each(let template, let files, let listFile):
      let expanded = try SourceSet.expand(files, listFile: listFile)
      return (try BatchManifest.expand(template: template, files: expanded, commands: request.commands), "--each")
    case .manifest(let manifest):
      let source = manifest == "-" ? "stdin" : manifest
      let data = try TextInput.read(manifest, role: "manifest")
      return (try BatchManifest.parse(data, source: source, commands: request.commands), source)
    }
  }

  /// The report's and the journal's paths (a shard's own; the journal beside the report unless
  /// given), refused before the journal or anything else is created.
  static func ownFilePaths(_ request: BatchRequest, shard: BatchShard?) throws -> (report: String?, journal: String?) {
    var reportPath = request.report
    var journalPath = request.journal
    if let shard {
      reportPath = reportPath.map(shard.suffixed)
      journalPath = journalPath.map(shard.suffixed)
    }
    if journalPath == nil, let reportPath {
      let base = reportPath.hasSuffix(".json") ? String(reportPath.dropLast(5)) : reportPath
      journalPath = base + ".journal.jsonl"
    }
    for path in [reportPath, journalPath].compactMap({ $0 }) { try OutputPlace.check(path) }
    return (reportPath, journalPath)
  }

  /// Where the jobs' private folders go: the one given, else beside the journal, else a
  /// temporary folder of this run alone.
  static func workFolder(_ request: BatchRequest, shard: BatchShard?, journalPath: String?) throws -> (path: String, temporary: Bool) {
    // Shards run at once: each keeps its own work folder, as it keeps its own journal.
    var workDir = request.workDir
    while let folder = workDir, folder.count > 1, folder.hasSuffix("/") { workDir = String(folder.dropLast()) }
    if let shard { workDir = workDir.map(shard.suffixed) }
    if let journalPath { return (workDir ?? journalPath + ".work", false) }
    if let workDir { return (workDir, false) }
    let base = try temporaryFolder()
    return (base + "/tessera-batch-\(getpid())-" + UUID().uuidString.prefix(8).lowercased(), true)
  }

  // MARK: - Before the run

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
  /// `stepFiles` tells a step's inputs and outputs from its arguments (nil: they do not parse).
  public func checkFiles(stepFiles: (BatchStep) -> (inputs: [String], outputs: [String])?) throws -> [BatchProtection.Entry] {
    let own = ownFiles()
    let uses = fileUses(stepFiles)
    let labels = allJobs.map(BatchPlan.label)
    try BatchFileRelations.check(own: own, uses: uses, labels: labels, workDirectory: temporaryWork ? nil : workDirectory,
                                 privatePrefix: privatePrefix)
    return own.map { BatchProtection.Entry(path: $0.path, job: -1, role: $0.role) }
      + uses.map { BatchProtection.Entry(path: $0.path, job: $0.job, role: ($0.kind == .read ? "an input of " : "an output of ") + labels[$0.job]) }
  }

  /// The batch's own files: its manifest, journal, the journal's lock, its report.
  func ownFiles() -> [BatchFileRelations.OwnFile] {
    var own: [BatchFileRelations.OwnFile] = []
    if source != "stdin" && source != "--each" { own.append(.init(path: source, role: "the batch's manifest", readable: true)) }
    if let journalPath {
      own.append(.init(path: journalPath, role: "the batch's journal"))
      own.append(.init(path: journalPath + ".lock", role: "the lock of the batch's journal"))
    }
    if let reportPath { own.append(.init(path: reportPath, role: "the batch's report")) }
    return own
  }

  /// What every step of every job (of every shard) reads and writes.
  func fileUses(_ stepFiles: (BatchStep) -> (inputs: [String], outputs: [String])?) -> [BatchFileUse] {
    var uses: [BatchFileUse] = []
    for (index, job) in allJobs.enumerated() {
      for (step, expanded) in job.expanded(tmp: privatePrefix(index) + "1/tmp").enumerated() {
        guard let files = stepFiles(expanded) else { continue }
        uses += files.inputs.map { BatchFileUse(path: $0, kind: .read, job: index, step: step) }
        uses += files.outputs.map { BatchFileUse(path: $0, kind: .write, job: index, step: step) }
      }
    }
    return uses
  }

  /// The jobs a dry run shows, a line each, as the shell commands they run.
  public var dryRunLines: [String] {
    jobs.map { job in
      let commands = job.steps.map { (["tessera", $0.command] + $0.args).map(BatchPlan.shellQuoted).joined(separator: " ") }
      return "\(job.id): " + commands.joined(separator: " && ")
    }
  }

  /// The jobs `--dry-run --json` lists: each its id and steps.
  public var dryRunJobs: [JSONValue] {
    jobs.map { job in
      let steps = JSONValue.array(job.steps.map { .object([("command", .string($0.command)), ("args", .array($0.args.map { .string($0) }))]) })
      return .object([("id", .string(job.id)), ("steps", steps)])
    }
  }

  static func shellQuoted(_ word: String) -> String {
    let plain = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_./:=,+@%"))
    if !word.isEmpty, word.unicodeScalars.allSatisfy({ plain.contains($0) && $0.isASCII }) { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  /// How the runner runs this plan's jobs, given the work folder and its protected list.
  func settings(work: BatchWorkFolder, protectedList: String) -> BatchSettings {
    var settings = BatchSettings(workDirectory: workDirectory)
    settings.protectedList = protectedList
    settings.workFolder = work
    settings.jobIndex = Dictionary(allJobs.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
    let cores = request.threads ?? ProcessInfo.processInfo.activeProcessorCount
    settings.jobs = request.parallelJobs ?? ProcessInfo.processInfo.activeProcessorCount
    settings.threadsPerJob = max(1, cores / settings.jobs)
    settings.retries = request.retries
    settings.retryDelay = request.retryDelay
    settings.jobTimeout = request.jobTimeout
    settings.failFast = request.failFast
    settings.verify = request.verify
    return settings
  }

  /// Results in the manifest's order.
  func order(_ results: [BatchJobResult]) -> [BatchJobResult] {
    let byID = Dictionary(results.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    return jobs.map { byID[$0.id] ?? BatchJobResult(id: $0.id, status: .notRun) }
  }
}
