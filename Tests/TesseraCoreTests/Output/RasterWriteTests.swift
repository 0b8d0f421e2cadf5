import Foundation
import GDAL
import TestSupport
import XCTest
@testable import TesseraCore

final class RasterWriteTests: XCTestCase {
  var dir: TemporaryDirectory!

  override func setUpWithError() throws { dir = try TemporaryDirectory() }
  override func tearDown() { dir.remove() }

  /// The path's own faults are said first: an existing output is 73 even when the raster would
  /// not fit the disk, and the layout is not even worked out.
  func testTheTargetIsCheckedBeforeTheLayout() throws {
    let path = dir.file("out.tif")
    XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("old".utf8)))
    var asked = false
    XCTAssertThrowsError(try RasterWrite(OutputSpec(path: path), inputs: [], resources: Resources()) {
      asked = true
      return RasterWrite.Layout(width: 1 << 20, height: 1 << 20, bands: 64, type: .float64)
    }) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .cannotCreate, "\(error)")
    }
    XCTAssertFalse(asked)
    XCTAssertEqual(FileManager.default.contents(atPath: path), Data("old".utf8))
  }

  /// A raster that cannot fit the free space is refused before any work, and leaves nothing.
  func testARasterTooLargeForTheDiskIsRefusedAndLeavesNothing() throws {
    let path = dir.file("huge.tif")
    XCTAssertThrowsError(try RasterWrite(OutputSpec(path: path), inputs: [], resources: Resources()) {
      RasterWrite.Layout(width: 1 << 24, height: 1 << 24, bands: 64, type: .float64)
    }) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .dataError, "\(error)")
      XCTAssertTrue("\(error)".contains("--force-size"), "\(error)")
    }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
  }

  /// The raster is created on its grid, takes the template's nodata and descriptions and the
  /// command's own band settings, and is in place when the body is done.
  func testARasterOnAGridFromABandTemplate() throws {
    let template = try Dataset.create(driver: "MEM", path: "", width: 4, height: 3, bands: 2, type: .uint16, options: [])
    try template.setSpatialReference(try SpatialReference(epsg: 32633))
    try template.band(1).setNoDataValue(7)
    try template.band(2).setDescription("nir")
    let grid = Grid(srs: try SpatialReference(epsg: 32633), minX: 500_000, maxY: 4_000_000, resolution: (10, 10), width: 4, height: 3)
    let path = dir.file("out.tif")
    let writer = try RasterWrite(OutputSpec(path: path), inputs: [], resources: Resources(), cache: .singlePass) {
      RasterWrite.Layout(grid: grid, bands: 3, type: .uint16)
    }
    var bands = RasterWrite.Bands(count: 3, type: .uint16, template: template, nodata: .inherit)
    bands.descriptions = [nil, nil, "mask"]
    bands.colorInterpretations = [nil, nil, "Alpha"]
    let seen = try writer.raster(RasterWrite.Frame(grid), bands) { output in (output.width, output.height, output.bandCount) }
    XCTAssertEqual(seen.0, 4)
    XCTAssertEqual(seen.1, 3)
    XCTAssertEqual(seen.2, 3)
    let written = try Dataset.open(path)
    XCTAssertEqual(written.geoTransform, grid.geoTransform)
    XCTAssertEqual(try written.band(1).noDataValue, 7)
    XCTAssertEqual(try written.band(2).description, "nir")
    XCTAssertEqual(try written.band(3).description, "mask")
    let report = writer.report([("k", .int(1))], warnings: ["w"])
    XCTAssertEqual(report.outputs, [path])
    XCTAssertEqual(report.warnings, ["w"])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["out.tif"])
  }
}
