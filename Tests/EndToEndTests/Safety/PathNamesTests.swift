import Foundation
import GDAL
import TestSupport
import XCTest

/// Unicode names (Chinese, accented), spaces and names that begin with a dash work in every
/// subcommand: `--` ends the options, and an option's value may start with a dash.
final class PathNamesTests: TemporaryDirectoryTestCase {
  func testEverySubcommandTakesUnicodeSpacedAndDashLeadingNames() throws {
    let fm = FileManager.default
    func copy(_ fixture: String, _ name: String) throws { try fm.copyItem(atPath: Fixture.path(fixture), toPath: dir.file(name)) }
    try copy("rasterio/rgb1.tif", "-影像 1.tif")
    try copy("rasterio/rgb2.tif", "-café 2.tif")
    try copy("eo-box/s2l1c/T33UUU_20170216T102101_B04.jp2", "-红 B04.jp2")
    try copy("eo-box/s2l1c/T33UUU_20170216T102101_B08.jp2", "-近红 B08.jp2")
    try copy("eo-box/s2l1c/s2l1c_ref.gpkg", "-田块 ü.gpkg")
    let products = try SyntheticProducts.make(in: dir.file("s2"), ["--scenario", "zones", "--size", "240", "--bands", "B04,B08,SCL"])
    let product = dir.file("-产品 é.SAFE")
    try fm.moveItem(atPath: products[0], toPath: product)
    let inputs = try FolderSnapshot(dir.path)

    let runs: [[String]] = [
      ["info", "--", "-影像 1.tif"],
      ["mosaic", "-o", "-出 mosaic.tif", "--", "-影像 1.tif", "-café 2.tif"],
      ["reproject", "--dst-crs", "EPSG:4326", "--", "-影像 1.tif", "-出 4326.tif"],
      ["resample", "--resolution", "60", "--", "-影像 1.tif", "-出 60.tif"],
      ["clip", "--cutline", "-田块 ü.gpkg", "--", "-红 B04.jp2", "-出 clip.tif"],
      ["band-stack", "-o", "-出 stack.tif", "--", "-红 B04.jp2", "-近红 B08.jp2"],
      ["index", "ndvi", "-i", "red=-红 B04.jp2", "-i", "nir=-近红 B08.jp2", "-o", "-出 ndvi.tif"],
      ["cog-export", "--", "-出 4326.tif", "-出 cog.tif"],
      ["validate-cog", "--", "-出 cog.tif"],
      ["merge-memfile", "-o", "-出 merged.tif", "-b", "B04,B08", "--report", "-出 merged.json", "--", product],
      ["validate-merge", "--expect-bands", "2", "--against", "-出 merged.json", "--", "-出 merged.tif"],
      ["quicklook", "--", "-影像 1.tif", "-出 预览.png"],
      ["timelapse", "-o", "-出 动画.gif", "--order", "given", "--", "-影像 1.tif", "-café 2.tif"],
      ["batch", "--each", "info {path}", "--report", "-出 batch.json", "--", "-影像 1.tif", "-café 2.tif"],
      ["batch-report", "--", "-出 batch.json"],
    ]
    for arguments in runs {
      let run = try TesseraBinary.run([arguments[0], "-q"] + arguments.dropFirst(), in: dir.path)
      XCTAssertEqual(run.status, 0, "\(arguments): \(run.stderr)")
    }
    for name in ["-出 mosaic.tif", "-出 4326.tif", "-出 60.tif", "-出 clip.tif", "-出 stack.tif", "-出 ndvi.tif", "-出 cog.tif", "-出 merged.tif"] {
      XCTAssertGreaterThan(try Dataset.open(dir.file(name)).width, 0, name)
    }
    // The inputs are as they were.
    let after = try FolderSnapshot(dir.path)
    for (path, data) in inputs.files { XCTAssertEqual(after.files[path], data, path) }
  }

  /// A name that starts with a dash and holds an `h`, given without `--`, read as a cluster of
  /// short flags was help, exit 0, and nothing written: a script took the job for done (found by
  /// the hostile review). It is 64, naming the argument and how to write it; `-h` itself and
  /// `--` work as before.
  func testADashNameReadAsHelpIsAUsageError() throws {
    try FileManager.default.copyItem(atPath: Fixture.path("rasterio/rgb1.tif"), toPath: dir.file("-dash.tif"))
    for arguments in [["reproject", "-dash.tif", "out.tif", "--dst-crs", "EPSG:4326"], ["info", "-h.tif"],
                      ["mosaic", "-o", "m.tif", "-dash.tif", "--json"]] {
      let run = try TesseraBinary.run(arguments, in: dir.path)
      XCTAssertEqual(run.status, 64, "\(arguments): \(run.stdout)")
      let name = arguments.first { $0.hasPrefix("-") && $0.hasSuffix(".tif") } ?? ""
      XCTAssertTrue(run.stderr.contains("'\(name)' reads as options") && run.stderr.contains("./\(name)"), run.stderr)
      XCTAssertFalse(run.stdout.contains("USAGE"), "no help printed")
    }
    XCTAssertEqual(dir.contents, ["-dash.tif"], "nothing written")
    let help = try TesseraBinary.run(["reproject", "-h"], in: dir.path)
    XCTAssertEqual(help.status, 0)
    XCTAssertTrue(help.stdout.contains("USAGE"), help.stdout)
    XCTAssertEqual(try TesseraBinary.run(["info", "--", "-dash.tif"], in: dir.path).status, 0)
  }
}
