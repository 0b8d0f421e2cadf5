import Foundation
import TestSupport
import XCTest

/// The README's examples, run as written: every `tessera …` line of its `sh` blocks, each in a
/// fresh folder holding fixtures under the names the line uses, must exit 0. Lines with a `…`
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
    if line.contains("--each-feature") { try fm.createDirectory(atPath: dir.file("fields"), withIntermediateDirectories: true) }
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
      let merge = try TesseraBinary.run(["merge-memfile"] + products + ["-o", dir.file("merged.tif"), "--bands", "B02,B03,B04,B08",
                                         "--resolution", "10", "--reflectance", "--mask-clouds", "--cog", "--report", dir.file("merged.json"), "-q"])
      XCTAssertEqual(merge.status, 0, merge.stderr)
    }
    if line.hasPrefix("tessera validate-cog") {
      try copy("rasterio/cogeo.tif", "out.tif")
      try copy("rio-tiler/cog.tif", "cog.tif")
    }
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
