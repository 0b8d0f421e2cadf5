import Foundation
import GDAL
import TestSupport
import XCTest

/// index as a script runs it: the list and description, exit codes, one-line errors with the
/// expression's column, nothing written, inputs untouched.
final class IndexCommandTests: TemporaryDirectoryTestCase {
  var red: String { Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_B04.jp2") }
  var nir: String { Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_B08.jp2") }

  func testListAndDescribe() throws {
    let list = try TesseraBinary.run(["index", "--list", "--json"])
    XCTAssertEqual(list.status, 0, list.stderr)
    let listing = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
    XCTAssertEqual(listing["command"] as? String, "index")
    let entries = try XCTUnwrap(listing["indices"] as? [[String: Any]])
    XCTAssertGreaterThanOrEqual(entries.count, 280)
    let rvi = try XCTUnwrap(entries.first { $0["name"] as? String == "RVI" })
    XCTAssertEqual(rvi["formula"] as? String, "N / R")
    XCTAssertEqual(rvi["roles"] as? [String], ["nir", "red"])
    let water = try TesseraBinary.run(["index", "--list", "--domain", "water"])
    XCTAssertEqual(water.status, 0)
    let names = water.stdout.split(separator: "\n").filter { !$0.hasPrefix(" ") }.compactMap { $0.split(separator: " ").first.map(String.init) }
    XCTAssertTrue(names.contains("NDWI") && !names.contains("NDVI"), "\(names)")
    let describe = try TesseraBinary.run(["index", "--describe", "savi"])
    XCTAssertTrue(describe.stdout.contains("L = 1.0") && describe.stdout.contains("Awesome Spectral Indices"), describe.stdout)
  }

  func testReportAndBadInputs() throws {
    let run = try TesseraBinary.run(["index", "ndvi,rvi", "-o", dir.file("two.tif"), "-i", "red=" + red, "-i", "nir=" + nir, "--json"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    XCTAssertEqual((report["indices"] as? [[String: Any]])?.map { $0["name"] as? String }, ["NDVI", "RVI"])
    XCTAssertEqual(report["data_type"] as? String, "Float32")
    XCTAssertEqual(try Dataset.open(dir.file("two.tif")).bands.map(\.description), ["NDVI", "RVI"])
    try FileManager.default.removeItem(atPath: dir.file("two.tif"))

    let copy = dir.file("red.jp2")
    try FileManager.default.copyItem(atPath: red, toPath: copy)
    let before = try FolderSnapshot(dir.path)
    let cases: [([String], Int32, String)] = [
      (["evi", "-i", "red=" + copy, "-i", "nir=" + nir], 64, "missing blue"),
      (["ndiv", "-i", "red=" + copy, "-i", "nir=" + nir], 64, "NDVI"),
      (["--expr", "(nir - red))", "-i", "red=" + copy, "-i", "nir=" + nir], 64, "column 12"),
      (["ndvi", "-i", "red=" + copy, "-i", "nir=" + Fixture.rgbByte], 65, "EPSG"),
      (["ndvi", "-i", "red=" + copy, "-i", "nir=" + dir.file("none.jp2")], 66, "none.jp2"),
      (["ndvi", "-i", "red=" + copy], 64, "nir"),
    ]
    for (args, code, text) in cases {
      let run = try TesseraBinary.run(["index"] + args + ["-o", dir.file("out.tif"), "--json"])
      XCTAssertEqual(run.status, code, "\(args): \(run.stderr)")
      var lines = run.stderr.split(separator: "\n").filter { !$0.hasPrefix("warning:") }
      if args.contains("--expr") {
        // A syntax error's one hint line: a caret under the column, in the quoted expression.
        XCTAssertEqual(lines.count, 2, run.stderr)
        let caret = lines.last.map { $0.count - 1 } ?? 0
        XCTAssertEqual(Array(lines[0])[caret], ")", run.stderr)
        lines.removeLast()
      }
      XCTAssertEqual(lines.count, 1, "\(args): \(run.stderr)")
      XCTAssertTrue(lines.first?.hasPrefix("tessera index: ") ?? false, run.stderr)
      XCTAssertTrue(run.stderr.contains(text), "\(args): \(run.stderr)")
      XCTAssertEqual(try FolderSnapshot(dir.path), before, "\(args) left something or touched the input")
    }
  }
}
