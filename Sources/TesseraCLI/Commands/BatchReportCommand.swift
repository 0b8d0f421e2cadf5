import ArgumentParser
import Foundation
import TesseraCore

struct BatchReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "batch-report",
    abstract: "Merge the reports of a batch's shards into one summary.",
    discussion: """
      Reads the reports 'tessera batch --report' wrote (one per shard: report.shard-I-of-N.json) and \
      prints jobs done, failed, skipped and not run, and the time taken. A job id in two reports \
      (shards that overlapped) is listed. The reports must be of one batch (the same jobs: 65 \
      otherwise), each shard once (the same report given twice counts once; two different reports \
      of one shard are 65). Exit 1 when any job failed or did not run, or a shard's report is missing.
      """)

  @Argument(help: ArgumentHelp("Batch reports.", valueName: "REPORT")) var reports: [String]
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if reports.isEmpty { throw ValidationError("give the reports to merge") }
  }

  func run() throws {
    try CommandRunner("batch-report", global).run { _ in
      let set = try ShardReports.load(try SourceSet.expand(reports))
      var jobs: [(report: String, job: JSONValue)] = []
      var elapsed = 0.0, longest = 0.0
      for report in set.reports {
        if let seconds = BatchReportCommand.number(report.value["elapsed_s"]) {
          elapsed += seconds
          longest = max(longest, seconds)
        }
        if case .array(let items)? = report.value["jobs"] { jobs += items.map { (report.path, $0) } }
      }
      var counts: [String: Int] = ["done": 0, "failed": 0, "skipped": 0, "not_run": 0]
      var seen: [String: String] = [:]
      var duplicates: [JSONValue] = []
      var failed: [JSONValue] = []
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
      let bad = counts["failed", default: 0] + counts["not_run", default: 0]
      let complete = set.missing.isEmpty
      let status = !complete ? "incomplete" : (bad == 0 ? "ok" : "failed")
      let json = JSONValue.object([
        ("command", .string("batch-report")), ("status", .string(status)),
        ("reports", .array(set.reports.map { .string($0.path) })), ("shards", .array(set.reports.compactMap { $0.shard.map { .string($0.description) } })),
        ("batch_id", .string(set.batchID)), ("missing_shards", .array(set.missing.map { .string($0.description) })),
        ("repeated_reports", .array(set.repeated.map { .object([("report", .string($0.report)), ("same_as", .string($0.sameAs))]) })),
        ("jobs_total", .int(jobs.count)), ("jobs_done", .int(counts["done", default: 0])),
        ("jobs_failed", .int(counts["failed", default: 0])), ("jobs_skipped", .int(counts["skipped", default: 0])),
        ("jobs_not_run", .int(counts["not_run", default: 0])),
        ("elapsed_s_sum", .double((elapsed * 1000).rounded() / 1000)), ("elapsed_s_longest", .double((longest * 1000).rounded() / 1000)),
        ("failed", .array(failed)), ("duplicate_ids", .array(duplicates)),
      ])
      var text = "batch-report: \(jobs.count) jobs in \(set.reports.count) reports: \(counts["done", default: 0]) done, "
        + "\(counts["failed", default: 0]) failed, \(counts["skipped", default: 0]) skipped, \(counts["not_run", default: 0]) not run; "
        + String(format: "%.1f s of work, the longest shard %.1f s", elapsed, longest)
      for item in failed {
        guard case .string(let id)? = item["id"], case .string(let status)? = item["status"] else { continue }
        let shown = TesseraError.oneLine(id)
        if status == "not_run" { text += "\n  not run: \(shown)" } else if case .string(let error)? = item["error"] { text += "\n  failed: \(shown) (\(error))" }
      }
      for repeated in set.repeated { text += "\n  \(repeated.report) is the same report as \(repeated.sameAs): counted once" }
      if !duplicates.isEmpty { text += "\n  \(duplicates.count) job ids appear in more than one report" }
      if !complete {
        text += "\n  incomplete: no report of shard \(set.missing.map(\.description).joined(separator: ", ")) (of \(set.reports.first?.shard?.count ?? 0))"
      }
      return CommandResult(json: json, text: text, status: status == "ok" ? .ok : .checkFailed)
    }
  }

  static func number(_ value: JSONValue?) -> Double? {
    switch value {
    case .int(let i)?: return Double(i)
    case .number(let d)?: return d
    default: return nil
    }
  }
}

/// The reports given to batch-report, checked to be the shards of one batch.
struct ShardReports {
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
  static func load(_ paths: [String]) throws -> ShardReports {
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
}
