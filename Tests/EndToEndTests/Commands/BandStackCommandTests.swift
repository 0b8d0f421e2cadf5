import Foundation
import GDAL
import TestSupport
import XCTest

/// band-stack as a script runs it: exit codes, one-line errors, JSON, nothing left, inputs untouched.
final class BandStackCommandTests: TemporaryDirectoryTestCase {
  func s2(_ band: String) -> String { Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_\(band).jp2") }

  func testNonASCIIPathsAGlobAndTheReport() throws {
    let folder = dir.file("影像 波段")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for band in ["B02", "B03", "B04"] { try FileManager.default.copyItem(atPath: s2(band), toPath: folder + "/T33UUU_\(band) 原始.jp2") }
    let before = try FolderSnapshot(folder)
    let out = dir.file("合成 结果.tif")
    let run = try TesseraBinary.run(["band-stack", folder + "/*.jp2", "-o", out, "--descriptions", "B02,B03,B04", "--json"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    XCTAssertEqual((report["inputs"] as? [[String: Any]])?.map { $0["name"] as? String }, ["B02", "B03", "B04"])
    XCTAssertEqual(report["extent"] as? String, "union")
    XCTAssertEqual(report["data_type"] as? String, "UInt16")
    XCTAssertEqual(try Dataset.open(out).bandCount, 3)
    XCTAssertEqual(try FolderSnapshot(folder), before)
  }

  func testBadInputsGiveTheirCodesOneLineAndNoOutput() throws {
    let copy = dir.file("b04.jp2")
    try FileManager.default.copyItem(atPath: s2("B04"), toPath: copy)
    let before = try FolderSnapshot(dir.path)
    let cases: [([String], Int32)] = [
      ([copy, s2("B11")], 65),
      ([copy, Fixture.rgbByte], 65),
      ([copy + ":2"], 65),
      ([dir.file("missing.tif")], 66),
      // --resolution same is the default said aloud: inputs on different grids are refused.
      ([copy, s2("B11"), "--resolution", "same"], 65),
      ([copy, "--resolution", "0"], 64),
      ([copy, "--ot", "Float128"], 64),
      ([], 64),
      // Band picks that are no band: never a missing file (66), never band 1 by another spelling.
      ([copy + ":0"], 64),
      ([copy + ":+1"], 64),
      ([copy + ":99999999999999999999"], 64),
      ([copy, copy, "--color-interp", "red,bogus"], 64),
    ]
    for (args, code) in cases {
      let run = try TesseraBinary.run(["band-stack"] + args + ["-o", dir.file("out.tif"), "--json"])
      XCTAssertEqual(run.status, code, "\(args): \(run.stderr)")
      let lines = run.stderr.split(separator: "\n").filter { !$0.hasPrefix("warning:") }
      XCTAssertEqual(lines.count, 1, "\(args): \(run.stderr)")
      XCTAssertTrue(lines.first?.hasPrefix("tessera band-stack: ") ?? false, run.stderr)
      XCTAssertEqual(try FolderSnapshot(dir.path), before, "\(args) left something or touched the input")
    }
  }
}
