import Foundation
import TestSupport
import XCTest

/// One option name, one meaning (docs/INTERFACE.md): two commands that give one option name
/// different help text (or spellings, or grammar) fail here unless the pair is listed below with
/// its reason; and the README's "Options shared by commands" table must be the one
/// `make options-table` generates from the same declarations.
final class SharedOptionsTests: TemporaryDirectoryTestCase {
  override var directoryLabel: String { "tessera-shared-options" }

  /// An option whose help text in `commands` may differ from the others', and why.
  struct Exception {
    let option: String
    let commands: [String]
    let reason: String
  }

  /// Two sorts: meanings that differ for a reason, and (marked "#26") today's departures from the
  /// rule that the renames of issue #26 remove; delete each entry once its commands agree (the test
  /// says when an entry is no longer needed).
  static let exceptions: [Exception] = [
    Exception(option: "overwrite", commands: ["batch"],
              reason: "batch writes no raster: what it replaces is its own report and journal, so it starts over"),
    Exception(option: "input-list", commands: ["batch"],
              reason: "batch's list holds the files --each makes jobs of, not rasters the command reads"),
    Exception(option: "report", commands: ["batch"],
              reason: "batch's report is its jobs' ledger (status, attempts, outputs), not a command's JSON report"),
    Exception(option: "like", commands: ["timelapse"],
              reason: "clip takes only the raster's bounds (its own pixels stay); timelapse warps every frame onto the raster's grid"),
    Exception(option: "method", commands: ["merge-memfile"],
              reason: "one help text; merge-memfile's products combine by first or last only (mosaic adds min, max, mean, count)"),
    Exception(option: "categorical", commands: ["quicklook", "timelapse"],
              reason: "the same fact (the band holds classes), drawn (colours) rather than written (nearest overviews)"),
    Exception(option: "resolution", commands: ["index"], reason: "the shared grammar, and with a Sentinel-2 product it also chooses which band files are read"),
    Exception(option: "resolution", commands: ["merge-memfile"], reason: "a Sentinel-2 pixel size, 10, 20 or 60 m, that also chooses which band files are read"),
    Exception(option: "dst-nodata", commands: ["index"], reason: "index computes its bands: one nodata for all of them, NaN by default, kept out of an integer type's clamp range"),
    Exception(option: "ot", commands: ["index"], reason: "index stores its own values: Float32 by default, and Int8 as GDAL 3.6's signed byte, which GDAL cannot convert into"),
  ]

  /// The rows that break the rule: for each option with several rows, those not listed as an
  /// exception, when more than one is left; and the exceptions that no row needs any more.
  static func violations(_ rows: [OptionDeclarations.Row], _ exceptions: [Exception]) -> [String] {
    var found: [String] = []
    var used = Set<Int>()
    for (option, variants) in Dictionary(grouping: rows, by: \.option).sorted(by: { $0.key < $1.key }) where variants.count > 1 {
      let unlisted = variants.filter { row in
        guard let listed = exceptions.firstIndex(where: { $0.option == option && Set($0.commands) == Set(row.commands) }) else { return true }
        used.insert(listed)
        return false
      }
      if unlisted.count > 1 {
        let texts = unlisted.map { "\($0.commands.joined(separator: ", ")): \($0.names.joined(separator: "/")) \"\($0.meaning)\"" }
        found.append("--\(option) has \(unlisted.count) help texts (\(texts.joined(separator: "; "))): give them one, or list the odd ones with a reason")
      }
    }
    for (index, exception) in exceptions.enumerated() where !used.contains(index) {
      found.append("the exception for --\(exception.option) in \(exception.commands.joined(separator: ", ")) is not needed any more: remove it")
    }
    return found
  }

  func testOneOptionNameHasOneHelpTextOutsideTheListedExceptions() throws {
    let declared = try OptionDeclarations.load()
    XCTAssertGreaterThan(declared.rows.count, 30, "the options table script found too few shared options")
    for violation in SharedOptionsTests.violations(declared.rows, SharedOptionsTests.exceptions) { XCTFail(violation) }
  }

  /// The check itself: a command that gives a shared name its own text, unlisted, is caught, and
  /// so is an exception nothing needs.
  func testTheCheckCatchesAnUnlistedMeaningAndAStaleException() {
    let rows = [
      OptionDeclarations.Row(option: "bbox", names: ["--bbox"], meaning: "Output bounds.", commands: ["mosaic", "clip"]),
      OptionDeclarations.Row(option: "bbox", names: ["--bbox"], meaning: "Something else.", commands: ["timelapse"]),
    ]
    XCTAssertEqual(SharedOptionsTests.violations(rows, []).count, 1)
    XCTAssertEqual(SharedOptionsTests.violations(rows, [Exception(option: "bbox", commands: ["timelapse"], reason: "test")]), [])
    let stale = SharedOptionsTests.violations([rows[0]], [Exception(option: "bbox", commands: ["timelapse"], reason: "test")])
    XCTAssertEqual(stale.count, 1)
    XCTAssertTrue(stale.first?.contains("not needed any more") ?? false, stale.description)
  }

  func testTheReadmeTableIsTheGeneratedOne() throws {
    let check = try OptionDeclarations.script(["--check", OptionDeclarations.readme])
    XCTAssertEqual(check.status, 0, check.stderr)
    // A README whose table lost its first row is caught (the check can fail).
    let text = try String(contentsOfFile: OptionDeclarations.readme, encoding: .utf8)
    var lines = text.components(separatedBy: "\n")
    let begin = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("<!-- options-table:begin") }, "the README has no table markers")
    XCTAssertTrue(lines[begin + 3].hasPrefix("| `-"), lines[begin + 3])
    lines.remove(at: begin + 3)
    let stale = dir.file("README.md")
    try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: stale))
    let caught = try OptionDeclarations.script(["--check", stale])
    XCTAssertEqual(caught.status, 1)
    XCTAssertTrue(caught.stderr.contains("make options-table"), caught.stderr)
  }
}
