import ArgumentParser
import Foundation

/// A command whose `--help` ends with a few examples to copy.
protocol HelpExamples {
  static var examples: [String] { get }
}

extension HelpExamples {
  /// The block appended to the command's help.
  static var examplesText: String {
    "\nEXAMPLES:\n" + examples.map { "  \($0)" }.joined(separator: "\n") + "\n"
  }
}

// The commands whose files belong to other work keep their examples here.

extension InfoCommand: HelpExamples {
  static let examples = [
    "tessera info scene.tif",
    "tessera info scene.tif --stats --json",
    "tessera info --crs 4490",
  ]
}

extension ValidateCOGCommand: HelpExamples {
  static let examples = [
    "tessera validate-cog out.tif",
    "tessera validate-cog *.tif --strict --json",
  ]
}

extension ValidateMergeCommand: HelpExamples {
  static let examples = [
    "tessera validate-merge merged.tif --expect-bands B02,B03,B04,B08 --expect-crs 32632",
    "tessera validate-merge merged.tif --against merged.json --min-valid-fraction 0.5",
  ]
}

extension BatchCommand: HelpExamples {
  static let examples = [
    "tessera batch jobs.jsonl --jobs 2 --report run/report.json",
    "tessera batch --each 'reproject {path} out/{stem}_4326.tif --dst-crs 4326' tiles/*.tif --dry-run",
    "tessera batch jobs.jsonl --jobs 2 --report run/report.json --resume",
  ]
}

extension BatchReportCommand: HelpExamples {
  static let examples = [
    "tessera batch-report run/report.shard-*.json",
    "tessera batch-report run/report.shard-*.json --json",
  ]
}
