import Foundation
import TestSupport
import XCTest

/// cog-export and validate-cog as scripts and CI jobs run them.
final class COGCommandTests: TemporaryDirectoryTestCase {

  func testValidateCOGExitCodes() throws {
    let valid = try TesseraBinary.run(["validate-cog", Fixture.path("rasterio/cogeo.tif")])
    XCTAssertEqual(valid.status, 0, valid.stderr)
    XCTAssertTrue(valid.stdout.contains("valid cloud optimized GeoTIFF"), valid.stdout)
    let invalid = try TesseraBinary.run(["validate-cog", Fixture.rgbByte, "--json"])
    XCTAssertEqual(invalid.status, 1)
    let verdict = try JSONSerialization.jsonObject(with: Data(invalid.stdout.utf8)) as? [String: Any]
    XCTAssertEqual(verdict?["status"] as? String, "failed")
    let report = (verdict?["files"] as? [[String: Any]])?.first
    XCTAssertEqual(report?["valid"] as? Bool, false)
    XCTAssertFalse((report?["errors"] as? [String] ?? []).isEmpty)
    let missing = try TesseraBinary.run(["validate-cog", dir.file("none.tif")])
    XCTAssertEqual(missing.status, 66)
    try Data("no tiff".utf8).write(to: URL(fileURLWithPath: dir.file("junk.tif")))
    let junk = try TesseraBinary.run(["validate-cog", dir.file("junk.tif")])
    XCTAssertEqual(junk.status, 65)
  }

  func testStrictTurnsWarningsIntoFailures() throws {
    let noOverviews = dir.file("flat.tif")
    let made = try TesseraBinary.run(["cog-export", Fixture.rgbByte, noOverviews, "--overviews", "none", "--quiet"])
    XCTAssertEqual(made.status, 0, made.stderr)
    XCTAssertEqual(try TesseraBinary.run(["validate-cog", noOverviews]).status, 0)
    XCTAssertEqual(try TesseraBinary.run(["validate-cog", noOverviews, "--strict"]).status, 1)
  }

  func testCOGExportWritesAValidatedCOGAndReportsIt() throws {
    let input = dir.file("in.tif")
    try FileManager.default.copyItem(atPath: Fixture.rgbByte, toPath: input)
    let before = try FolderSnapshot(dir.path)
    let result = try TesseraBinary.run(["cog-export", input, dir.file("out.tif"), "--profile", "zstd", "--json"])
    XCTAssertEqual(result.status, 0, result.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    XCTAssertEqual((report?["validation"] as? [String: Any])?["valid"] as? Bool, true)
    XCTAssertEqual((report?["outputs"] as? [[String: Any]])?.first?["compression"] as? String, "ZSTD")
    XCTAssertEqual(dir.contents, ["in.tif", "out.tif"])
    XCTAssertEqual(try FolderSnapshot(dir.path).files["in.tif"], before.files["in.tif"])
  }

  func testBadInputsAndExistingOutput() throws {
    XCTAssertEqual(try TesseraBinary.run(["cog-export", dir.file("none.tif"), dir.file("a.tif")]).status, 66)
    try Data("x".utf8).write(to: URL(fileURLWithPath: dir.file("a.tif")))
    let exists = try TesseraBinary.run(["cog-export", Fixture.utmsmall, dir.file("a.tif")])
    XCTAssertEqual(exists.status, 73)
    XCTAssertEqual(try TesseraBinary.run(["cog-export", Fixture.utmsmall, dir.file("b.tif"), "--blocksize", "300"]).status, 64)
    XCTAssertEqual(try TesseraBinary.run(["cog-export", Fixture.path("rio-tiler/mosaic_cog1.tif"), dir.file("c.tif"), "--profile", "webp"]).status, 64)
    XCTAssertEqual(dir.contents, ["a.tif"])
  }
}
