import Foundation
import TestSupport
import XCTest

/// Which stream each command writes what to (docs/INTERFACE.md, "Streams"): stdout holds what
/// was asked for — info's report, index's list and description, the validators' verdicts,
/// batch-report's summary, batch's dry-run listing, or with --json exactly one object —, and
/// stderr the chatter: progress, `wrote …`, warnings, errors. --quiet silences stderr only, as
/// gdalinfo's -q does: the report is the output.
final class StreamsTests: TemporaryDirectoryTestCase {
  var rgb1: String { Fixture.path("rasterio/rgb1.tif") }

  func run(_ arguments: [String]) throws -> ProcessResult {
    try TesseraBinary.run(arguments, in: dir.path)
  }

  /// stdout parsed as one JSON document: one object, nothing before or after it.
  func oneObject(_ result: ProcessResult, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    return try XCTUnwrap(value as? [String: Any], "stdout is not one object: \(result.stdout.prefix(300))", file: file, line: line)
  }

  /// `tessera ARGS | grep PATTERN` through a shell, as a user types it.
  func piped(_ arguments: [String], grep pattern: String) throws -> ProcessResult {
    let command = "\"$0\" " + arguments.indices.map { "\"$\($0 + 1)\"" }.joined(separator: " ") + " | grep -- '\(pattern)'"
    return try Run.process("/bin/sh", ["-c", command, TesseraBinary.path] + arguments, currentDirectory: dir.path)
  }

  // MARK: - Reports on stdout

  func testInfoReportIsOnStdoutSoGrepFindsTheCRS() throws {
    let grep = try piped(["info", Fixture.utmsmall], grep: "crs")
    XCTAssertEqual(grep.status, 0, "grep found nothing: \(grep.stderr)")
    XCTAssertTrue(grep.stdout.contains("EPSG:26711"), grep.stdout)
    XCTAssertEqual(grep.stderr, "")
    let plain = try run(["info", Fixture.utmsmall, rgb1])
    XCTAssertEqual(plain.status, 0)
    XCTAssertEqual(plain.stderr, "")
    XCTAssertTrue(plain.stdout.contains("utmsmall.tif") && plain.stdout.contains("rgb1.tif"), plain.stdout)
  }

  func testQuietSilencesStderrButNotTheReport() throws {
    let reports: [([String], String)] = [
      (["info", Fixture.utmsmall], "EPSG:26711"),
      (["info", "--crs", "EPSG:4326"], "EPSG:4326"),
      (["index", "--list"], "NDVI"),
      (["index", "--describe", "ndvi"], "formula"),
      (["validate-cog", Fixture.path("rasterio/cogeo.tif")], "valid cloud optimized GeoTIFF"),
      (["validate-merge", rgb1, "--expect-bands", "3"], "every check passed"),
    ]
    for (arguments, expected) in reports {
      for quiet in [[], ["--quiet"], ["-q"]] {
        let result = try run(arguments + quiet)
        XCTAssertEqual(result.status, 0, "\(arguments + quiet): \(result.stderr)")
        XCTAssertTrue(result.stdout.contains(expected), "\(arguments + quiet): stdout \(result.stdout.prefix(300))")
        XCTAssertEqual(result.stderr, "", "\(arguments + quiet)")
      }
    }
  }

  func testVerdictsThatFailAreOnStdoutToo() throws {
    let cog = try run(["validate-cog", Fixture.rgbByte, "-q"])
    XCTAssertEqual(cog.status, 1)
    XCTAssertTrue(cog.stdout.contains("not a valid cloud optimized GeoTIFF"), cog.stdout)
    XCTAssertEqual(cog.stderr, "")
    let merge = try run(["validate-merge", rgb1, "--expect-bands", "4"])
    XCTAssertEqual(merge.status, 1)
    XCTAssertTrue(merge.stdout.contains("FAILED band count: expected 4, found 3"), merge.stdout)
    XCTAssertEqual(merge.stderr, "")
  }

  func testBatchDryRunAndBatchReportPrintOnStdoutAndTheRunsChatterOnStderr() throws {
    let jobs = dir.file("jobs.jsonl")
    try Data("""
      {"id": "a", "command": "info", "args": ["\(rgb1)"]}
      {"id": "b", "command": "info", "args": ["missing.tif"]}

      """.utf8).write(to: URL(fileURLWithPath: jobs))
    let dry = try run(["batch", jobs, "--dry-run", "-q"])
    XCTAssertEqual(dry.status, 0, dry.stderr)
    XCTAssertTrue(dry.stdout.contains("a: tessera info") && dry.stdout.contains("b: tessera info missing.tif"), dry.stdout)
    XCTAssertEqual(dry.stderr, "")
    let listing = try oneObject(try run(["batch", jobs, "--dry-run", "--json"]))
    XCTAssertEqual(listing["command"] as? String, "batch")
    XCTAssertEqual((listing["jobs"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, ["a", "b"])

    // The run itself writes files; its summary and the failed job are chatter on stderr.
    let batch = try run(["batch", jobs, "--report", "report.json"])
    XCTAssertEqual(batch.status, 1)
    XCTAssertEqual(batch.stdout, "")
    XCTAssertTrue(batch.stderr.contains("job b failed (exit 66)") && batch.stderr.contains("1 done, 1 failed"), batch.stderr)
    let report = try run(["batch-report", "report.json", "-q"])
    XCTAssertEqual(report.status, 1)
    XCTAssertTrue(report.stdout.contains("failed: b (exit 66)"), report.stdout)
    XCTAssertEqual(report.stderr, "")
  }

  // MARK: - Chatter on stderr

  func testWritingCommandsSayWroteOnStderrAndNothingOnStdout() throws {
    let cases: [[String]] = [
      ["mosaic", rgb1, "-o", "m.tif"], ["clip", Fixture.rgbByte, "c.tif", "--bbox", "-77.5,24.2,-77.3,24.4", "--bbox-crs", "EPSG:4326"],
      ["resample", rgb1, "s.tif", "--resolution", "600"], ["band-stack", rgb1, "-o", "b.tif"],
      ["index", "--expr", "b1*2", rgb1, "-o", "i.tif"], ["cog-export", rgb1, "cog.tif"], ["quicklook", rgb1, "q.png"],
      ["timelapse", rgb1, Fixture.path("rasterio/rgb2.tif"), "-o", "t.gif"],
    ]
    for arguments in cases {
      let result = try run(arguments)
      XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderr)")
      XCTAssertEqual(result.stdout, "", "\(arguments)")
      XCTAssertTrue(result.stderr.hasPrefix("wrote "), "\(arguments): \(result.stderr)")
    }
    let quiet = try run(["mosaic", rgb1, "-o", "m2.tif", "-q"])
    XCTAssertEqual(quiet.status, 0)
    XCTAssertEqual(quiet.stdout + quiet.stderr, "")
  }

  func testProgressAndWarningsGoToStderr() throws {
    let progress = try run(["resample", rgb1, "p.tif", "--resolution", "600", "--progress"])
    XCTAssertEqual(progress.status, 0, progress.stderr)
    XCTAssertEqual(progress.stdout, "")
    XCTAssertTrue(progress.stderr.contains("100%") && progress.stderr.contains("wrote p.tif"), progress.stderr)
    // rgb1.tif's datum is unnamed: PROJ can only do a ballpark shift to WGS 84, which is said.
    let warned = try run(["reproject", rgb1, "w.tif", "--dst-crs", "EPSG:4326", "--json"])
    XCTAssertEqual(warned.status, 0, warned.stderr)
    XCTAssertTrue(warned.stderr.contains("warning: datum change"), warned.stderr)
    let report = try oneObject(warned)
    XCTAssertTrue((report["warnings"] as? [String])?.first?.hasPrefix("datum change") ?? false, "\(report["warnings"] ?? "")")
  }

  // MARK: - Errors

  func testAnErrorIsOneLineOnStderrAndWithJSONOneObjectOnStdout() throws {
    let cases: [[String]] = [
      ["info", "missing.tif"], ["validate-cog", "missing.tif"], ["mosaic", "missing.tif", "-o", "m.tif"],
      ["reproject", rgb1, "r.tif", "--dst-crs", "no-such-crs"], ["index", "--describe", "no-such-index"],
      ["batch-report", "missing.json"],
    ]
    for arguments in cases {
      let text = try run(arguments)
      XCTAssertNotEqual(text.status, 0, "\(arguments)")
      XCTAssertEqual(text.stdout, "", "\(arguments)")
      XCTAssertEqual(text.stderr.split(separator: "\n").count, 1, "\(arguments): \(text.stderr)")
      XCTAssertTrue(text.stderr.hasPrefix("tessera \(arguments[0]): "), "\(arguments): \(text.stderr)")
      let json = try run(arguments + ["--json"])
      XCTAssertEqual(json.status, text.status, "\(arguments)")
      let object = try oneObject(json)
      XCTAssertEqual(object["command"] as? String, arguments[0], "\(arguments)")
      XCTAssertEqual(object["status"] as? String, "error", "\(arguments)")
      XCTAssertEqual(object["exit_code"] as? Int, Int(text.status), "\(arguments)")
      XCTAssertEqual(json.stderr, text.stderr, "\(arguments): the same line on stderr with --json")
    }
  }

  // MARK: - One JSON object, one shape

  func testEveryJSONOutputIsOneObjectWithCommandAndStatus() throws {
    let cases: [[String]] = [
      ["info", rgb1], ["info", rgb1, Fixture.utmsmall], ["info", "--crs", "EPSG:4326"], ["index", "--list"],
      ["index", "--describe", "ndvi"], ["validate-cog", Fixture.path("rasterio/cogeo.tif")], ["validate-merge", rgb1],
      ["mosaic", rgb1, "-o", "j.tif"],
    ]
    for arguments in cases {
      let result = try run(arguments + ["--json", "-q"])
      XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderr)")
      XCTAssertEqual(result.stderr, "", "\(arguments)")
      let object = try oneObject(result)
      XCTAssertEqual(object["command"] as? String, arguments[0], "\(arguments)")
      XCTAssertEqual(object["status"] as? String, "ok", "\(arguments)")
    }
  }

  /// `jq '.files[].crs.epsg'` works for one file and for several.
  func testInfoOfOneFileAndOfSeveralHaveOneShape() throws {
    func epsgs(_ files: [String]) throws -> [Int?] {
      let object = try oneObject(try run(["info"] + files + ["--json"]))
      let entries = try XCTUnwrap(object["files"] as? [[String: Any]], "\(object)")
      return entries.map { ($0["crs"] as? [String: Any])?["epsg"] as? Int }
    }
    XCTAssertEqual(try epsgs([Fixture.utmsmall]), [26711])
    XCTAssertEqual(try epsgs([Fixture.utmsmall, Fixture.rgbByte]), [26711, 32618])
  }

  /// Every report names a CRS as info does: `{epsg, name, wkt}`.
  func testEveryCRSInAReportIsTheSameObject() throws {
    func crs(_ value: Any?, _ label: String) throws -> [String: Any] {
      let object = try XCTUnwrap(value as? [String: Any], "\(label): \(String(describing: value))")
      XCTAssertEqual(Set(object.keys), ["epsg", "name", "wkt"], label)
      XCTAssertTrue((object["wkt"] as? String)?.hasPrefix("PROJCRS") ?? false || (object["wkt"] as? String)?.hasPrefix("GEOGCRS") ?? false, label)
      return object
    }
    let reproject = try oneObject(try run(["reproject", Fixture.utmsmall, "r.tif", "--dst-crs", "EPSG:4326", "--json"]))
    XCTAssertEqual(try crs(reproject["dst_crs"], "reproject dst_crs")["epsg"] as? Int, 4326)
    let mosaic = try oneObject(try run(["mosaic", Fixture.rgbByte, "-o", "m.tif", "--json"]))
    let mosaicCRS = try crs(mosaic["crs"], "mosaic crs")
    XCTAssertEqual(mosaicCRS["epsg"] as? Int, 32618)
    let info = try oneObject(try run(["info", Fixture.rgbByte, "--json"]))
    let infoCRS = try crs(((info["files"] as? [[String: Any]])?.first)?["crs"], "info crs")
    XCTAssertEqual(mosaicCRS["name"] as? String, infoCRS["name"] as? String, "mosaic names the CRS as info does")
    let clip = try oneObject(try run(["clip", Fixture.rgbByte, "c.tif", "--bbox", "-77.5,24.2,-77.3,24.4", "--bbox-crs", "EPSG:4326", "--json"]))
    let region = clip["region"] as? [String: Any]
    XCTAssertEqual(try crs(region?["crs"], "clip region crs")["epsg"] as? Int, 32618)
    XCTAssertEqual(try crs(region?["given_crs"], "clip given_crs")["epsg"] as? Int, 4326)
    let described = try oneObject(try run(["info", "--crs", "EPSG:32618", "--json"]))
    XCTAssertEqual(try crs(described["crs"], "info --crs")["epsg"] as? Int, 32618)
  }
}
