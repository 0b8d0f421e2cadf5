import Foundation

/// The reports given to batch-report, checked to be the shards of one batch.
public struct ShardReports {
  struct Report {
    var path: String
    var value: JSONValue
    var shard: BatchShard?
  }

  var reports: [Report] = []
  var batchID = ""
  /// Reports given again (the same file, or the same bytes), counted once.
  var repeated: [(report: String, sameAs: String)] = []
  /// Shards of the batch no report covers.
  var missing: [BatchShard] = []

  /// Reads and checks the reports: one batch (65 naming two files of different batches), each
  /// shard once, every shard count the same.
  public static func load(_ paths: [String]) throws -> ShardReports {
    var set = ShardReports()
    var contents: [(path: String, data: Data, resolved: String)] = []
    for path in paths {
      let data = try TextInput.read(path, role: "report")
      let resolved = BatchFileRelations.resolve(path)
      if let same = contents.first(where: { $0.resolved == resolved || $0.data == data }) {
        set.repeated.append((path, same.path))
        continue
      }
      contents.append((path, data, resolved))
      set.reports.append(try report(path, data))
    }
    try set.checkOneBatch()
    return set
  }

  static func report(_ path: String, _ data: Data) throws -> Report {
    let value: JSONValue
    do { value = try JSONValue.parse(data) } catch { throw TesseraError(.dataError, "report \(path) is not JSON: \(error)") }
    guard case .string("batch")? = value["command"], case .array? = value["jobs"] else {
      throw TesseraError(.dataError, "report \(path) is not a batch report (written by 'tessera batch --report')")
    }
    var shard: BatchShard?
    if case .string(let text)? = value["shard"] {
      guard let parsed = try? BatchShard(parsing: text) else { throw TesseraError(.dataError, "report \(path) names a shard '\(text)' that is not I/N") }
      shard = parsed
    }
    return Report(path: path, value: value, shard: shard)
  }

  /// One batch, each shard once; fills in `batchID` and `missing`.
  mutating func checkOneBatch() throws {
    guard let first = reports.first else { return }
    for report in reports {
      guard case .string(let id)? = report.value["batch_id"] else {
        throw TesseraError(.dataError, "report \(report.path) does not say which batch it is of (written by an older tessera); run its batch again to merge it")
      }
      if batchID.isEmpty { batchID = id; continue }
      if id != batchID {
        throw TesseraError(.dataError, "report \(report.path) is of another batch than \(first.path) (other jobs or arguments); merge the shards of one batch")
      }
    }
    var seen: [Int: String] = [:]
    for report in reports {
      guard let shard = report.shard, let firstShard = first.shard else {
        if reports.count > 1 {
          let whole = report.shard == nil ? report : first
          throw TesseraError(.dataError, "report \(whole.path) covers the whole batch, so \(whole.path == first.path ? reports[1].path : first.path) repeats its jobs; give the whole batch's report alone, or the shards' reports")
        }
        continue
      }
      if shard.count != firstShard.count {
        throw TesseraError(.dataError, "report \(report.path) is shard \(shard) and \(first.path) shard \(firstShard): one batch is split one way; give the reports of one split")
      }
      if let other = seen[shard.index] {
        throw TesseraError(.dataError, "reports \(other) and \(report.path) are both of shard \(shard) but differ (two runs of it); give one of them")
      }
      seen[shard.index] = report.path
    }
    if let count = first.shard?.count {
      missing = (0..<count).filter { seen[$0] == nil }.compactMap { try? BatchShard(index: $0, count: count) }
    }
  }

  /// The shards' jobs counted together: the summary on stdout with --json, its text, and 1 when
  /// a job failed or did not run or a shard's report is missing.
  public func merged() -> (json: JSONValue, text: String, status: ExitStatus) {
    let jobs = reports.flatMap { report -> [(report: String, job: JSONValue)] in
      guard case .array(let items)? = report.value["jobs"] else { return [] }
      return items.map { (report.path, $0) }
    }
    let tally = Tally(jobs)
    let seconds = reports.compactMap { ShardReports.number($0.value["elapsed_s"]) }
    let elapsed = seconds.reduce(0, +), longest = seconds.reduce(0, max)
    let bad = tally.count("failed") + tally.count("not_run")
    let status = !missing.isEmpty ? "incomplete" : (bad == 0 ? "ok" : "failed")
    let json = JSONValue.object([
      ("command", .string("batch-report")), ("status", .string(status)),
      ("reports", .array(reports.map { .string($0.path) })), ("shards", .array(reports.compactMap { $0.shard.map { .string($0.description) } })),
      ("batch_id", .string(batchID)), ("missing_shards", .array(missing.map { .string($0.description) })),
      ("repeated_reports", .array(repeated.map { .object([("report", .string($0.report)), ("same_as", .string($0.sameAs))]) })),
      ("jobs_total", .int(jobs.count)), ("jobs_done", .int(tally.count("done"))),
      ("jobs_failed", .int(tally.count("failed"))), ("jobs_skipped", .int(tally.count("skipped"))),
      ("jobs_not_run", .int(tally.count("not_run"))),
      ("elapsed_s_sum", .double((elapsed * 1000).rounded() / 1000)), ("elapsed_s_longest", .double((longest * 1000).rounded() / 1000)),
      ("failed", .array(tally.failed)), ("duplicate_ids", .array(tally.duplicates)),
    ])
    let text = self.text(tally, jobs: jobs.count, elapsed: elapsed, longest: longest)
    return (json, text, status == "ok" ? .ok : .checkFailed)
  }

  /// The jobs of every report by status, the failed and not run, and ids in two reports.
  struct Tally {
    var counts: [String: Int] = ["done": 0, "failed": 0, "skipped": 0, "not_run": 0]
    var duplicates: [JSONValue] = []
    var failed: [JSONValue] = []

    init(_ jobs: [(report: String, job: JSONValue)]) {
      var seen: [String: String] = [:]
      for (report, job) in jobs {
        guard case .string(let id)? = job["id"], case .string(let status)? = job["status"] else { continue }
        if let first = seen[id] {
          duplicates.append(.object([("id", .string(id)), ("reports", .array([.string(first), .string(report)]))]))
        }
        seen[id] = report
        counts[status, default: 0] += 1
        if status == "failed" || status == "not_run" {
          var error = status
          if case .int(let code)? = job["exit_code"] { error = "exit \(code)" }
          if case .int(let signal)? = job["signal"] { error = "killed by signal \(signal)" }
          failed.append(.object([("id", .string(id)), ("status", .string(status)), ("error", .string(error)), ("report", .string(report))]))
        }
      }
    }

    func count(_ status: String) -> Int { counts[status, default: 0] }
  }

  func text(_ tally: Tally, jobs: Int, elapsed: Double, longest: Double) -> String {
    var text = "batch-report: \(jobs) jobs in \(reports.count) reports: \(tally.count("done")) done, "
      + "\(tally.count("failed")) failed, \(tally.count("skipped")) skipped, \(tally.count("not_run")) not run; "
      + String(format: "%.1f s of work, the longest shard %.1f s", elapsed, longest)
    for item in tally.failed {
      guard case .string(let id)? = item["id"], case .string(let status)? = item["status"] else { continue }
      let shown = TesseraError.oneLine(id)
      if status == "not_run" { text += "\n  not run: \(shown)" } else if case .string(let error)? = item["error"] { text += "\n  failed: \(shown) (\(error))" }
    }
    for repeated in repeated { text += "\n  \(repeated.report) is the same report as \(repeated.sameAs): counted once" }
    if !tally.duplicates.isEmpty { text += "\n  \(tally.duplicates.count) job ids appear in more than one report" }
    if !missing.isEmpty {
      text += "\n  incomplete: no report of shard \(missing.map(\.description).joined(separator: ", ")) (of \(reports.first?.shard?.count ?? 0))"
    }
    return text
  }

  static func number(_ value: JSONValue?) -> Double? {
    switch value {
    case .int(let i)?: return Double(i)
    case .number(let d)?: return d
    default: return nil
    }
  }
}
