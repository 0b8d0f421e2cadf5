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
      let merged = try ShardReports.load(try SourceSet.expand(reports)).merged()
      return CommandResult(json: merged.json, report: merged.text, status: merged.status)
    }
  }
}
