import Foundation

/// What became of a batch: every job's result in the manifest's order, the batch's status
/// (`ok`, `failed`, `interrupted`) and its time. The report file holds it with every job; the
/// summary (`--json`) without them.
public struct BatchReport: Sendable {
  let plan: BatchPlan
  public let results: [BatchJobResult]
  public let status: String
  public let elapsed: Double

  /// 0 when every job was done or skipped, else 1.
  public var exitStatus: ExitStatus { status == "ok" ? .ok : .checkFailed }

  /// The line the batch ends with on stderr.
  public var text: String {
    let counts = BatchSummary(results)
    var text = "tessera batch: \(counts.done) done, \(counts.failed) failed, \(counts.skipped) skipped"
    if counts.notRun > 0 { text += ", \(counts.notRun) not run" }
    let shard = plan.shard.map { " (shard \($0) of a manifest of \(plan.total))" } ?? ""
    text += " of \(plan.jobs.count) jobs\(shard) in \(String(format: "%.1f", elapsed)) s"
    if let reportPath = plan.reportPath { text += "; report \(reportPath)" }
    return text
  }

  public func json(withJobs: Bool) -> JSONValue {
    let counts = BatchSummary(results)
    var pairs: [(String, JSONValue)] = [
      ("command", .string("batch")), ("status", .string(status)),
      ("elapsed_s", .double((elapsed * 1000).rounded() / 1000)), ("warnings", .array([])),
      ("outputs", .array(results.flatMap { $0.outputs.map { .string($0) } })),
      ("manifest", .string(plan.source)), ("batch_id", .string(plan.identity)),
      ("shard", plan.shard.map { .string($0.description) } ?? .null),
      ("manifest_jobs", .int(plan.total)), ("jobs_total", .int(results.count)), ("jobs_done", .int(counts.done)),
      ("jobs_failed", .int(counts.failed)), ("jobs_skipped", .int(counts.skipped)), ("jobs_not_run", .int(counts.notRun)),
      ("failed", .array(results.filter { $0.status == .failed }.map { .object([("id", .string($0.id)), ("error", .string($0.summary))]) })),
      ("report", plan.reportPath.map { .string($0) } ?? .null), ("journal", plan.journalPath.map { .string($0) } ?? .null),
    ]
    if withJobs { pairs.append(("jobs", .array(results.map(BatchReport.jobJSON)))) }
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

  /// Writes the report file (with every job), when the batch has one.
  func write(overwrite: Bool) throws {
    guard let reportPath = plan.reportPath else { return }
    let target = try OutputSpec.ownFile(path: reportPath, overwrite: overwrite).target(inputs: [plan.source])
    try target.writeContents(Data((json(withJobs: true).serialized(pretty: true) + "\n").utf8))
    try target.commit()
  }
}
