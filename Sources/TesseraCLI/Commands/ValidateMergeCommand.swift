import ArgumentParser
import Foundation
import TesseraCore

struct ValidateMergeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "validate-merge",
    abstract: "Check a merged raster against what a CI job expects of it.",
    discussion: """
      Every expectation given is one check: band count or names, CRS, resolution, the least \
      valid (not nodata, not NaN) fraction of every band, and with --against the grid, band \
      names, checksums and valid fractions that merge-memfile's --report recorded.

      Exit codes: 0 every check passed; 1 one failed (the failed ones are listed); 64 a bad \
      option; 65 the file or report is unreadable; 66 a file is missing.
      """)

  @Argument(help: "The merged raster.") var file: String
  @Option(name: .customLong("expect-bands"), parsing: .unconditional, help: ArgumentHelp("A band count, or band names in order.", valueName: "N|B02,B03,…"))
  var expectBands: Parsed<ExpectedBands>?
  @Option(name: .customLong("expect-crs"), parsing: .unconditional, help: "The CRS the file must have (any form tessera takes).") var expectCRS: String?
  @Option(name: .customLong("expect-resolution"), parsing: .unconditional, help: "The pixel size the file must have.") var expectResolution: Double?
  @Option(name: .customLong("min-valid-fraction"), parsing: .unconditional, help: ArgumentHelp("The least valid fraction of every band.", valueName: "F"))
  var minValidFraction: Double?
  @Option(parsing: .unconditional, help: ArgumentHelp("A merge-memfile report the file must match.", valueName: "REPORT.json")) var against: String?
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if let f = minValidFraction, !(0...1).contains(f) { throw ValidationError("--min-valid-fraction takes 0 to 1") }
    if let r = expectResolution, !(r.isFinite && r > 0) { throw ValidationError("--expect-resolution must be a positive number") }
    _ = try expectBands.value()
  }

  func run() throws {
    try CommandRunner("validate-merge", global).run { _ in
      var expectations = MergeExpectations()
      switch try expectBands.value() {
      case .count(let n)?: expectations.bandCount = n
      case .names(let names)?: expectations.bandNames = names
      case nil: break
      }
      expectations.crs = expectCRS
      expectations.resolution = expectResolution
      expectations.minValidFraction = minValidFraction
      expectations.againstReport = against
      let checks = try MergeValidation.validate(path: file, expectations: expectations)
      let failed = checks.filter { !$0.passed }
      let json = JSONValue.object([
        ("command", .string("validate-merge")), ("path", .string(file)),
        ("status", .string(failed.isEmpty ? "ok" : "failed")), ("valid", .bool(failed.isEmpty)),
        ("checks", .array(checks.map(\.json))), ("failed", .array(failed.map { .string($0.name) })),
      ])
      var lines = checks.map { "\($0.passed ? "ok    " : "FAILED") \($0.name): expected \($0.expected), found \($0.actual)" }
      if checks.isEmpty { lines.append("no expectation given; \(file) opens as a raster") }
      lines.append(failed.isEmpty ? "\(file): every check passed" : "\(file): \(failed.count) of \(checks.count) checks failed")
      return CommandResult(json: json, report: lines.joined(separator: "\n"), status: failed.isEmpty ? .ok : .checkFailed)
    }
  }
}

/// `--expect-bands`: a band count, or band names in order.
enum ExpectedBands: ArgumentValue {
  case count(Int)
  case names([String])

  init(argumentText text: String) throws {
    if let n = Int(text) {
      self = .count(n)
    } else {
      let names = commaItems(text, omittingEmpty: true)
      if names.isEmpty { throw ValidationError("--expect-bands takes a count or band names") }
      self = .names(names)
    }
  }
}
