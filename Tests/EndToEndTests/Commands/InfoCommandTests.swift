import Foundation
import TestSupport
import XCTest

/// `tessera info` run as a user runs it: exit codes, stdout, stderr, and untouched inputs.
final class InfoCommandTests: XCTestCase {
  func json(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8))
  }

  func testJSONGoesToStdoutAloneAndParses() throws {
    let result = try TesseraBinary.run(["info", Fixture.rgbByte, "--json"])
    XCTAssertEqual(result.status, 0, result.stderr)
    let report = try json(result.stdout) as? [String: Any]
    XCTAssertEqual(report?["command"] as? String, "info")
    XCTAssertEqual(report?["status"] as? String, "ok")
    let files = report?["files"] as? [[String: Any]]
    XCTAssertEqual(files?.count, 1, "one file is an array of one, as several are")
    let object = files?.first
    XCTAssertEqual(object?["driver"] as? String, "GTiff")
    XCTAssertEqual(object?["width"] as? Int, 791)
    XCTAssertEqual((object?["crs"] as? [String: Any])?["epsg"] as? Int, 32618)
    XCTAssertEqual(result.stderr, "", "no text on stderr for a clean --json run")
  }

  func testTextReportGoesToStdoutAndStderrStaysEmpty() throws {
    let result = try TesseraBinary.run(["info", Fixture.utmsmall])
    XCTAssertEqual(result.status, 0)
    XCTAssertEqual(result.stderr, "")
    XCTAssertTrue(result.stdout.contains("NAD27 / UTM zone 11N (EPSG:26711)"), result.stdout)
    XCTAssertTrue(result.stdout.contains("100 x 100"), result.stdout)
  }

  func testQuietStillPrintsTheReport() throws {
    // As gdalinfo -q: the report is the output; --quiet silences only stderr.
    let result = try TesseraBinary.run(["info", Fixture.utmsmall, "--quiet"])
    XCTAssertEqual(result.status, 0)
    XCTAssertEqual(result.stderr, "")
    XCTAssertTrue(result.stdout.contains("EPSG:26711"), result.stdout)
  }

  func testSeveralFilesGiveTheShapeOfOne() throws {
    let result = try TesseraBinary.run(["info", Fixture.utmsmall, Fixture.n43, "--json"])
    XCTAssertEqual(result.status, 0)
    let files = (try json(result.stdout) as? [String: Any])?["files"] as? [[String: Any]]
    XCTAssertEqual(files?.compactMap { $0["width"] as? Int }, [100, 121])
  }

  func testStatsMatchAndLeaveNothingBesideTheInput() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try FileManager.default.copyItem(atPath: Fixture.rgbByte, toPath: dir.file("RGB.byte.tif"))
    let before = try FolderSnapshot(dir.path)
    let result = try TesseraBinary.run(["info", dir.file("RGB.byte.tif"), "--stats", "--json"])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertEqual(try FolderSnapshot(dir.path), before, "info --stats wrote beside its input")
    let files = (try json(result.stdout) as? [String: Any])?["files"] as? [[String: Any]]
    let bands = files?.first?["bands"] as? [[String: Any]]
    let stats = bands?.first?["stats"] as? [String: Double]
    // GDAL's ComputeStatistics on this band (nodata 0 excluded): 1, 255, 44.4344786507, 58.4900559296.
    XCTAssertEqual(stats?["min"], 1)
    XCTAssertEqual(stats?["max"], 255)
    XCTAssertEqual(stats?["mean"] ?? 0, 44.434478650699106, accuracy: 1e-9)
    XCTAssertEqual(stats?["stddev"] ?? 0, 58.49005592956493, accuracy: 1e-9)
  }

  func testMissingInputExits66NamingIt() throws {
    let result = try TesseraBinary.run(["info", "/no/such/file.tif"])
    XCTAssertEqual(result.status, 66)
    XCTAssertEqual(result.stdout, "")
    let lines = result.stderr.split(separator: "\n")
    XCTAssertEqual(lines.count, 1, result.stderr)
    XCTAssertTrue(result.stderr.hasPrefix("tessera info: /no/such/file.tif"), result.stderr)
  }

  func testCorruptInputExits65WithOneLine() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.file("broken.tif")
    try Data(try Data(contentsOf: URL(fileURLWithPath: Fixture.rgbByte)).prefix(300)).write(to: URL(fileURLWithPath: path))
    let before = try FolderSnapshot(dir.path)
    let result = try TesseraBinary.run(["info", path])
    XCTAssertEqual(result.status, 65)
    XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    XCTAssertTrue(result.stderr.contains("broken.tif"), result.stderr)
    XCTAssertEqual(try FolderSnapshot(dir.path), before)
  }

  func testErrorsWithJSONPrintTheErrorObjectOnStdout() throws {
    let result = try TesseraBinary.run(["info", "/no/such/file.tif", "--json"])
    XCTAssertEqual(result.status, 66)
    let object = try json(result.stdout) as? [String: Any]
    XCTAssertEqual(object?["command"] as? String, "info")
    XCTAssertEqual(object?["status"] as? String, "error")
    XCTAssertEqual(object?["exit_code"] as? Int, 66)
    XCTAssertTrue((object?["error"] as? String)?.contains("/no/such/file.tif") ?? false)
    // The file that failed keeps its place in the list, as one of several does.
    let files = object?["files"] as? [[String: Any]]
    XCTAssertEqual(files?.first?["path"] as? String, "/no/such/file.tif")
    XCTAssertEqual(files?.first?["exit_code"] as? Int, 66)
  }

  func testOneBadFileAmongGoodOnesStillDescribesTheOthers() throws {
    let result = try TesseraBinary.run(["info", Fixture.utmsmall, "/no/such.tif", "--json"])
    XCTAssertEqual(result.status, 66)
    let array = (try json(result.stdout) as? [String: Any])?["files"] as? [[String: Any]]
    XCTAssertEqual(array?.count, 2)
    XCTAssertEqual(array?[0]["width"] as? Int, 100)
    XCTAssertEqual(array?[1]["exit_code"] as? Int, 66)
  }

  func testUsageErrorsExit64() throws {
    let unknown = try TesseraBinary.run(["info", Fixture.utmsmall, "--no-such-option"])
    XCTAssertEqual(unknown.status, 64)
    let noFile = try TesseraBinary.run(["info"])
    XCTAssertEqual(noFile.status, 64)
    let badThreads = try TesseraBinary.run(["info", Fixture.utmsmall, "--threads", "0"])
    XCTAssertEqual(badThreads.status, 64)
    let badConfig = try TesseraBinary.run(["info", Fixture.utmsmall, "--config", "NOEQUALS"])
    XCTAssertEqual(badConfig.status, 64)
    let withJSON = try TesseraBinary.run(["info", "--bogus", "--json"])
    XCTAssertEqual(withJSON.status, 64)
    XCTAssertEqual((try json(withJSON.stdout) as? [String: Any])?["exit_code"] as? Int, 64)
  }

  func testHelpListsTheSubcommands() throws {
    let result = try TesseraBinary.run(["--help"])
    XCTAssertEqual(result.status, 0)
    XCTAssertTrue(result.stdout.contains("info"), result.stdout)
    XCTAssertTrue(result.stdout.contains("Exit codes"), result.stdout)
  }

  func testProgressOnANonTerminalOnlyWhenAsked() throws {
    let quiet = try TesseraBinary.run(["info", Fixture.rgbByte, "--stats"])
    XCTAssertFalse(quiet.stderr.contains("%"), quiet.stderr)
    let shown = try TesseraBinary.run(["info", Fixture.rgbByte, "--stats", "--progress"])
    XCTAssertEqual(shown.status, 0)
    XCTAssertTrue(shown.stderr.contains("100%"), shown.stderr)
  }

  func testConfigReachesGDAL() throws {
    // With PAM off GDAL ignores the .aux.xml that sets nodata; with it on, the sidecar applies.
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try FileManager.default.copyItem(atPath: Fixture.utmsmall, toPath: dir.file("u.tif"))
    try Data("""
      <PAMDataset><PAMRasterBand band="1"><NoDataValue>7</NoDataValue></PAMRasterBand></PAMDataset>
      """.utf8).write(to: URL(fileURLWithPath: dir.file("u.tif.aux.xml")))
    let on = try TesseraBinary.run(["info", dir.file("u.tif"), "--json"])
    let off = try TesseraBinary.run(["info", dir.file("u.tif"), "--json", "--config", "GDAL_PAM_ENABLED=NO"])
    let nodata = { (r: ProcessResult) in ((((try? self.json(r.stdout) as? [String: Any])?["files"] as? [[String: Any]])?.first)?["bands"] as? [[String: Any]])?.first?["nodata"] }
    XCTAssertEqual(nodata(on) as? Double, 7)
    XCTAssertTrue(nodata(off) is NSNull, "\(String(describing: nodata(off)))")
  }

  func testCompletionScriptsAreGenerated() throws {
    for shell in ["bash", "zsh", "fish"] {
      let result = try TesseraBinary.run(["--generate-completion-script", shell])
      XCTAssertEqual(result.status, 0)
      XCTAssertTrue(result.stdout.contains("info"), shell)
    }
  }
}
