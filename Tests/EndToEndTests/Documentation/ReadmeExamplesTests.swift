import Foundation
import TestSupport
import XCTest

/// The README's examples, run as written: every `tessera …` line of its `sh` blocks, each in a
/// fresh folder holding fixtures under the names the line uses (its inputs only: a folder an
/// example writes into is the example's to make), must exit 0. Lines with a `…`
/// placeholder (Sentinel-2 product names; those commands run in `make demo` and their own
/// tests), with a pipe, or that write shell completions into system folders are left out, and
/// counted.
final class ReadmeExamplesTests: TemporaryDirectoryTestCase {
  override var directoryLabel: String { "tessera-readme" }

  static let readme = Fixture.root.deletingLastPathComponent().appendingPathComponent("README.md").path

  /// The `tessera` lines of the README's sh blocks, continuation lines joined, comments cut.
  static func exampleLines() throws -> [String] {
    var lines: [String] = []
    var inBlock = false
    var pending = ""
    for raw in try String(contentsOfFile: readme, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
      let line = String(raw)
      if line.hasPrefix("```") { inBlock = line.hasPrefix("```sh"); continue }
      guard inBlock else { continue }
      var text = pending + line.trimmingCharacters(in: .whitespaces)
      if text.hasSuffix("\\") { pending = String(text.dropLast()) + " "; continue }
      pending = ""
      if let hash = text.range(of: " #") { text = String(text[..<hash.lowerBound]) }
      text = text.trimmingCharacters(in: .whitespaces)
      if text.hasPrefix("tessera ") { lines.append(text) }
    }
    return lines
  }

  /// Fixtures under the names the examples use: a Landsat scene for the generic names, aligned
  /// quadrants for the tiles, Sentinel-2 bands where a 20 m band is meant, a DEM, float and
  /// categorical rasters, and valid COGs for the validator.
  func stage(for line: String) throws {
    let fm = FileManager.default
    func copy(_ fixture: String, _ name: String) throws {
      let path = dir.file(name)
      try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      if !fm.fileExists(atPath: path) { try fm.copyItem(atPath: Fixture.path(fixture), toPath: path) }
    }
    let names: [String: String] = [
      "scene.tif": "rasterio/RGB.byte.tif", "in.tif": "rasterio/RGB.byte.tif", "mosaic.tif": "rasterio/RGB.byte.tif",
      "rgb.tif": "rasterio/RGB.byte.tif", "a.tif": "rasterio/rgb1.tif", "b.tif": "rasterio/rgb2.tif",
      "T33UUU_B04.tif": "rasterio/rgb1.tif", "T33UVU_B04.tif": "rasterio/rgb2.tif", "T32UQD_B04.tif": "rasterio/rgb3.tif",
      "dem.tif": "gdal_autotest/n43.tif", "B05_20m.tif": "eo-box/s2l1c/T33UUU_20170216T102101_B05.jp2",
      "ndvi.tif": "gdal_autotest/float32.tif", "classes.tif": "gdal_autotest/utmsmall.tif",
      "B04.jp2": "eo-box/s2l1c/T33UUU_20170216T102101_B04.jp2", "fields.gpkg": "eo-box/s2l1c/s2l1c_ref.gpkg",
      "B03.jp2": "eo-box/s2l1c/T33UUU_20170216T102101_B03.jp2", "B02.jp2": "eo-box/s2l1c/T33UUU_20170216T102101_B02.jp2",
      "B11.jp2": "eo-box/s2l1c/T33UUU_20170216T102101_B11.jp2", "B08.jp2": "eo-box/s2l1c/T33UUU_20170216T102101_B08.jp2",
    ]
    if line.contains(" box.shp") {
      for ext in ["shp", "shx", "dbf", "prj", "cpg"] { try copy("rasterio/box.\(ext)", "box.\(ext)") }
    }
    if line.contains(" beijing54.tif") {
      // A Beijing 1954 (EPSG:4214) raster near Beijing, for the datum examples.
      try Oracle.tool("gdal_translate", ["-q", "-srcwin", "100", "100", "100", "100", "-a_srs", "EPSG:4214", "-a_ullr", "116.38",
                                         "39.92", "116.40", "39.90", Fixture.path("rasterio/rgb1.tif"), dir.file("beijing54.tif")])
    }
    // Inputs reprojected to EPSG:32633 are Sentinel-2 bands from that zone's neighbourhood.
    if line.contains("EPSG:32633") {
      try copy("eo-box/s2l1c/T33UUU_20170216T102101_B04.jp2", "a.tif")
      try copy("eo-box/s2l1c/T33UUU_20170216T102101_B08.jp2", "b.tif")
    }
    for (name, fixture) in names where line.contains(" \(name)") || line.contains("=\(name)") { try copy(fixture, name) }
    if line.contains("tiles/") {
      for i in 1...4 { try copy("rasterio/rgb\(i).tif", "tiles/q\(i)_B04.tif") }
    }
    if line.contains("scenes.txt") {
      try copy("eo-box/s2l1c/T33UUU_20170216T102101_B04.jp2", "B04.jp2")
      try copy("eo-box/s2l1c/T33UUU_20170216T102101_B08.jp2", "B08.jp2")
      try Data("B04.jp2\nB08.jp2\n".utf8).write(to: URL(fileURLWithPath: dir.file("scenes.txt")))
    }
    if line.hasPrefix("tessera validate-merge") {
      // What the README's merge-memfile example (with its placeholder product names) writes.
      let products = try SyntheticProducts.make(in: dir.file("s2"), ["--scenario", "zones", "--size", "240",
                                                                     "--bands", "B02,B03,B04,B08,SCL"])
      let merge = try TesseraBinary.run(["merge-memfile"] + products + ["-o", dir.file("merged.tif"), "-b", "B02,B03,B04,B08",
                                         "--resolution", "10", "--reflectance", "--mask-clouds", "--cog", "--report", dir.file("merged.json"), "-q"])
      XCTAssertEqual(merge.status, 0, merge.stderr)
    }
    if line.contains("jobs.jsonl") {
      try copy("rasterio/rgb1.tif", "in/a.tif")
      try copy("rasterio/rgb2.tif", "in/b.tif")
      let jobs = [
        #"{"id": "a", "command": "reproject", "args": ["in/a.tif", "a-4326.tif", "--dst-crs", "EPSG:4326"]}"#,
        #"{"id": "b", "steps": [{"command": "reproject", "args": ["in/b.tif", "{tmp}/b.tif", "--dst-crs", "EPSG:4326"]}, {"command": "cog-export", "args": ["{tmp}/b.tif", "{id}.tif"]}]}"#,
      ]
      try Data((jobs.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: dir.file("jobs.jsonl")))
    }
    if line.hasPrefix("tessera batch-report") {
      try copy("rasterio/rgb1.tif", "in/a.tif")
      try Data(#"{"id": "a", "command": "info", "args": ["in/a.tif"]}"#.utf8).write(to: URL(fileURLWithPath: dir.file("one.jsonl")))
      for shard in ["0/2", "1/2"] {
        let run = try TesseraBinary.run(["batch", "one.jsonl", "--shard", shard, "--report", "report.json", "-q"], in: dir.path)
        XCTAssertEqual(run.status, 0, run.stderr)
      }
    }
    if line.hasPrefix("tessera timelapse") {
      for name in ["2021-06-01", "2021-07-01"] { try copy("gdal_autotest/float32.tif", "ndvi/\(name).tif") }
      try copy("rasterio/RGB.byte.tif", "june.tif")
      try copy("rasterio/RGB.byte.tif", "july.tif")
    }
    if line.hasPrefix("tessera validate-cog") {
      try copy("rasterio/cogeo.tif", "out.tif")
      try copy("rio-tiler/cog.tif", "cog.tif")
    }
  }

  /// The Kubernetes Indexed Job of the README: its container's command, run once for each
  /// completion index with its TESSERA_SHARD_COUNT (and /data in a test folder), must split a
  /// manifest into shards that partition it.
  func testTheKubernetesIndexedJobPartitionsTheManifest() throws {
    let text = try String(contentsOfFile: ReadmeExamplesTests.readme, encoding: .utf8)
    let yaml = try XCTUnwrap(text.components(separatedBy: "```yaml\n").dropFirst().first?.components(separatedBy: "```").first)
    func value(_ key: String) -> String? {
      yaml.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(key) }
        .map { String($0.split(separator: ":", maxSplits: 1)[1]).trimmingCharacters(in: .whitespaces) }
    }
    let completions = try XCTUnwrap(Int(value("completions:") ?? ""))
    let commandLine = try XCTUnwrap(value("command:"))
    var command = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(commandLine.utf8)) as? [String])
    let countLine = try XCTUnwrap(yaml.range(of: "name: TESSERA_SHARD_COUNT"))
    let count = try XCTUnwrap(yaml[countLine.upperBound...].split(separator: "\n").first { $0.contains("value:") })
      .split(separator: "\"").dropFirst().first.map(String.init)
    XCTAssertEqual(count, String(completions), "completions and TESSERA_SHARD_COUNT must agree")
    XCTAssertEqual(command.removeFirst(), "tessera")
    command = command.map { $0.replacingOccurrences(of: "/data", with: dir.path) }
    try FileManager.default.createDirectory(atPath: dir.file("run"), withIntermediateDirectories: true)
    let ids = (0..<40).map { "scene-\($0)" }
    try Data(ids.map { #"{"id": "\#($0)", "command": "info", "args": ["\#(Fixture.path("rasterio/rgb1.tif"))"]}"# }.joined(separator: "\n").utf8)
      .write(to: URL(fileURLWithPath: dir.file("jobs.jsonl")))
    var seen: [String] = []
    for index in 0..<completions {
      let run = try TesseraBinary.run(command + ["-q"], environment: ["JOB_COMPLETION_INDEX": String(index), "TESSERA_SHARD_COUNT": count ?? ""])
      XCTAssertEqual(run.status, 0, run.stderr)
      let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("run/report.shard-\(index)-of-\(completions).json")))) as? [String: Any])
      seen += ((report["jobs"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
    }
    XCTAssertEqual(seen.sorted(), ids.sorted(), "every job in exactly one shard")
  }

  func testEveryExampleRunsAsWritten() throws {
    let lines = try ReadmeExamplesTests.exampleLines()
    var ran = 0, left: [String] = []
    for line in lines {
      if line.contains("…") || line.contains("|") || line.contains("--generate-completion-script") {
        left.append(line)
        continue
      }
      dir.remove()
      dir = try TemporaryDirectory("tessera-readme")
      try stage(for: line)
      // As a shell runs it: quotes, globs and all, with tessera on the PATH.
      let binFolder = (TesseraBinary.path as NSString).deletingLastPathComponent
      let path = binFolder + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
      let run = try Run.process("/bin/sh", ["-c", line + " -q"], environment: ["PATH": path], currentDirectory: dir.path)
      XCTAssertEqual(run.status, 0, "\(line)\n\(run.stderr)")
      ran += 1
    }
    XCTAssertGreaterThanOrEqual(ran, 18, "the README's examples were not found")
    print("README examples: \(ran) run as written, \(left.count) left out (placeholders, pipes, completions)")
  }
}
