import Foundation
import TestSupport
import XCTest

/// Every command's `--json` output, on success and on failure, checked against its schema in
/// docs/schemas by Tools/validate-json.py (python3-jsonschema: `make test-deps`). The schemas
/// are closed where the shape is, so a key renamed, dropped or added fails here first.
final class JSONSchemaTests: TemporaryDirectoryTestCase {
  struct ValidatorMissing: Error, CustomStringConvertible {
    var description: String { "python3-jsonschema is missing: make test-deps installs it" }
  }

  static let repository = Fixture.root.deletingLastPathComponent()
  static let schemas = repository.appendingPathComponent("docs/schemas").path
  static let validator = repository.appendingPathComponent("Tools/validate-json.py").path

  var t29unu: String { Fixture.path("sentinel2/S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE") }

  override func setUpWithError() throws {
    try super.setUpWithError()
    let probe = try Run.process(Oracle.python, ["-c", "import jsonschema"])
    // Not a skip: without the validator the shapes go unchecked, and the suite must say so.
    guard probe.status == 0 else { throw ValidatorMissing() }
  }

  /// Checks `document` against docs/schemas/`schema`.schema.json; the validator's exit status
  /// (0 valid, 1 not) and what it said.
  func validate(_ document: String, against schema: String) throws -> ProcessResult {
    let file = dir.file("document-\(UUID().uuidString).json")
    try Data(document.utf8).write(to: URL(fileURLWithPath: file))
    defer { try? FileManager.default.removeItem(atPath: file) }
    return try Run.process(Oracle.python, [JSONSchemaTests.validator, schema, file])
  }

  /// Runs tessera with `--json`, expects `status`, and checks its stdout against the command's
  /// schema.
  func check(_ arguments: [String], exits status: Int32, file: StaticString = #filePath, line: UInt = #line) throws {
    let run = try TesseraBinary.run(arguments + ["--json"], in: dir.path)
    let label = arguments.joined(separator: " ")
    XCTAssertEqual(run.status, status, "\(label): \(run.stderr)", file: file, line: line)
    let verdict = try validate(run.stdout, against: arguments[0])
    XCTAssertEqual(verdict.status, 0, "\(label):\n\(verdict.stdout)\(verdict.stderr)\n\(run.stdout.prefix(2000))", file: file, line: line)
  }

  // MARK: - The schemas

  func testEveryCommandHasASchemaAndEverySchemaIsValid() throws {
    let help = try TesseraBinary.run(["--help"])
    // A command's line starts two spaces in; its abstract's continuation lines further in.
    let section = help.stdout.components(separatedBy: "SUBCOMMANDS:").last?.components(separatedBy: "\n\n").first ?? ""
    let commands = section.split(separator: "\n").compactMap { line -> String? in
      guard line.hasPrefix("  "), !line.hasPrefix("   "), let word = line.split(separator: " ").first else { return nil }
      return String(word)
    }.filter { $0 != "help" }
    XCTAssertGreaterThanOrEqual(commands.count, 15, section)
    let files = Set(try FileManager.default.contentsOfDirectory(atPath: JSONSchemaTests.schemas))
    for command in commands { XCTAssertTrue(files.contains("\(command).schema.json"), "no schema for \(command)") }
    XCTAssertTrue(files.contains("error.schema.json") && files.contains("common.schema.json"))
    // The validator checks each schema of the folder against draft 2020-12 before using one.
    for file in files.sorted() where file.hasSuffix(".schema.json") {
      let run = try validate("{}", against: JSONSchemaTests.schemas + "/" + file)
      XCTAssertNotEqual(run.status, 2, "\(file): \(run.stderr)")
    }
  }

  /// The test of the tests: documents a shape change would produce are refused.
  func testADocumentOfAnotherShapeFails() throws {
    let input = Fixture.path("rasterio/rgb1.tif")
    let run = try TesseraBinary.run(["mosaic", input, "-o", dir.file("m.tif"), "--json"])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertEqual(try validate(run.stdout, against: "mosaic").status, 0)
    var report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    func refused(_ changed: [String: Any], _ why: String, schema: String = "mosaic") throws {
      let text = String(decoding: try JSONSerialization.data(withJSONObject: changed), as: UTF8.self)
      let verdict = try validate(text, against: schema)
      XCTAssertEqual(verdict.status, 1, "\(why): \(verdict.stdout)\(verdict.stderr)")
    }
    var changed = report
    changed["crs"] = "EPSG:32618"
    try refused(changed, "a CRS as a string")
    changed = report
    changed["extra"] = 1
    try refused(changed, "a key the schema does not know")
    changed = report
    changed.removeValue(forKey: "status")
    try refused(changed, "no status")
    var outputs = try XCTUnwrap(report["outputs"] as? [[String: Any]])
    outputs[0]["band_count"] = "3"
    changed = report
    changed["outputs"] = outputs
    try refused(changed, "a count as a string inside outputs")
    // info's old shapes: a bare file object, and an array for several files.
    let info = try TesseraBinary.run(["info", input, "--json"])
    let files = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])?["files"] as? [[String: Any]])
    try refused(files[0], "info's file object alone", schema: "info")
    let array = String(decoding: try JSONSerialization.data(withJSONObject: files), as: UTF8.self)
    XCTAssertEqual(try validate(array, against: "info").status, 1, "info's files as a bare array")
    // An error object of another command.
    report = ["command": "clip", "status": "error", "exit_code": 66, "error": "x.tif: no such file"]
    try refused(report, "clip's error object as mosaic's")
    XCTAssertEqual(try validate("[{}", against: "mosaic").status, 2, "not JSON")
  }

  // MARK: - Every command, success and failure

  func testInfo() throws {
    let input = Fixture.path("rasterio/rgb1.tif")
    try check(["info", input], exits: 0)
    try check(["info", input, Fixture.utmsmall, "--stats"], exits: 0)
    try check(["info", "--crs", "EPSG:4326"], exits: 0)
    try check(["info", "missing.tif"], exits: 66)
    try check(["info", input, "missing.tif"], exits: 66)
    try check(["info", "--crs", "no-such-crs"], exits: 64)
    try check(["info", input, "--no-such-option"], exits: 64)
  }

  func testWritingCommands() throws {
    let rgb1 = Fixture.path("rasterio/rgb1.tif"), rgb2 = Fixture.path("rasterio/rgb2.tif")
    try check(["mosaic", rgb1, rgb2, "-o", "m.tif"], exits: 0)
    try check(["mosaic", "missing.tif", "-o", "m2.tif"], exits: 66)
    try check(["clip", Fixture.rgbByte, "c.tif", "--bbox", "-77.5,24.2,-77.3,24.4", "--bbox-crs", "EPSG:4326"], exits: 0)
    try check(["clip", Fixture.rgbByte, "c2.tif", "--bbox", "10,10,11,11", "--bbox-crs", "EPSG:4326"], exits: 65)
    try check(["reproject", rgb1, "r.tif", "--dst-crs", "EPSG:4326"], exits: 0)
    try check(["reproject", rgb1, "r2.tif", "--dst-crs", "no-such-crs"], exits: 64)
    try check(["resample", rgb1, "s.tif", "--resolution", "600"], exits: 0)
    try check(["resample", "missing.tif", "s2.tif", "--resolution", "600"], exits: 66)
    try check(["band-stack", rgb1, rgb2, "-o", "b.tif"], exits: 0)
    try check(["band-stack", rgb1, "missing.tif", "-o", "b2.tif"], exits: 66)
    try check(["cog-export", rgb1, "cog.tif"], exits: 0)
    try check(["cog-export", rgb1, "cog.tif"], exits: 73)
  }

  func testIndex() throws {
    try check(["index", "--expr", "b1*2", Fixture.path("rasterio/rgb1.tif"), "-o", "i.tif"], exits: 0)
    try check(["index", "--list"], exits: 0)
    try check(["index", "--describe", "ndvi"], exits: 0)
    try check(["index", "--describe", "no-such-index"], exits: 64)
  }

  func testValidators() throws {
    try check(["validate-cog", Fixture.path("rasterio/cogeo.tif")], exits: 0)
    try check(["validate-cog", Fixture.path("rasterio/cogeo.tif"), Fixture.rgbByte], exits: 1)
    try check(["validate-cog", Fixture.path("rasterio/cogeo.tif"), "missing.tif"], exits: 66)
    try check(["validate-merge", Fixture.path("rasterio/rgb1.tif"), "--expect-bands", "3"], exits: 0)
    try check(["validate-merge", Fixture.path("rasterio/rgb1.tif"), "--expect-bands", "4"], exits: 1)
    try check(["validate-merge", "missing.tif"], exits: 66)
  }

  func testMergeMemfile() throws {
    try check(["merge-memfile", t29unu, "-o", "t29.tif", "-b", "B04,B8A,SCL", "--resolution", "60", "--cog"], exits: 0)
    // The default bands include B02, which this product's metadata lists but the fixture lacks.
    try check(["merge-memfile", t29unu, "-o", "t29-default.tif", "--resolution", "60"], exits: 65)
  }

  func testPreviews() throws {
    let rgb1 = Fixture.path("rasterio/rgb1.tif"), rgb2 = Fixture.path("rasterio/rgb2.tif")
    try check(["quicklook", rgb1, "q.png"], exits: 0)
    try check(["quicklook", "missing.tif", "q2.png"], exits: 66)
    try check(["timelapse", rgb1, rgb2, "-o", "t.gif"], exits: 0)
    try check(["timelapse", rgb1, "missing.tif", "-o", "t2.gif"], exits: 66)
  }

  func testBatchAndBatchReport() throws {
    let input = Fixture.path("rasterio/rgb1.tif")
    let jobs = dir.file("jobs.jsonl")
    try Data("""
      {"id": "a", "command": "info", "args": ["\(input)"]}
      {"id": "b", "command": "info", "args": ["missing.tif"]}

      """.utf8).write(to: URL(fileURLWithPath: jobs))
    try check(["batch", jobs, "--dry-run"], exits: 0)
    try check(["batch", jobs, "--report", "report.json"], exits: 1)
    try check(["batch-report", "report.json"], exits: 1)
    try Data(#"{"id": "a", "command": "no-such-command", "args": []}"#.utf8).write(to: URL(fileURLWithPath: dir.file("bad.jsonl")))
    try check(["batch", "bad.jsonl"], exits: 65)
    try check(["batch-report", jobs], exits: 65)
    let good = dir.file("good.jsonl")
    try Data(#"{"id": "a", "command": "info", "args": ["\#(input)"]}"#.utf8).write(to: URL(fileURLWithPath: good))
    try check(["batch", good, "--report", "good-report.json"], exits: 0)
    try check(["batch-report", "good-report.json"], exits: 0)
  }
}
