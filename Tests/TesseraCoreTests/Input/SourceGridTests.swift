import Foundation
import GDAL
import TestSupport
import XCTest
@testable import TesseraCore

/// Inputs onto one grid: band picks, each input's own grid, the output grid from a resolution
/// and an extent rule, and sources placed as they are or warped.
final class SourceGridTests: TemporaryDirectoryTestCase {
  /// A 4 x 4 Byte raster of pixels `size` wide whose top-left corner is at (`west`, `north`).
  func raster(_ name: String, west: Double, north: Double, size: Double, srs: String = "EPSG:32633", bands: Int = 1) throws -> String {
    let path = dir.file(name)
    var arguments = ["-q", "-srcwin", "0", "0", "4", "4", "-a_srs", srs, "-a_ullr", "\(west)", "\(north)", "\(west + 4 * size)",
                     "\(north - 4 * size)"]
    for b in 1...bands { arguments += ["-b", "\(b)"] }
    try Oracle.tool("gdal_translate", arguments + [Fixture.rgbByte, path])
    return path
  }

  func sources(_ paths: [String]) throws -> [BandSource] { try BandSource.bands(of: paths) }

  func testBandsOfFilesAndPicks() throws {
    let three = try raster("three.tif", west: 0, north: 40, size: 10, bands: 3)
    let bands = try sources([three, three + ":2"])
    XCTAssertEqual(bands.map(\.band), [1, 2, 3, 2])
    XCTAssertEqual(Set(bands.map(\.path)), [three])
    XCTAssertThrowsError(try sources([three + ":4"])) { error in
      let e = TesseraError.from(error)
      XCTAssertEqual(e.status, .dataError)
      XCTAssertEqual(e.message, "\(three):4 asks for band 4; \(three) has 3")
    }
    XCTAssertThrowsError(try sources([three + ":0"])) { XCTAssertEqual(TesseraError.from($0).status, .usage) }
  }

  func testOwnGridsAreNorthUpAndInOneCRS() throws {
    let a = try raster("a.tif", west: 0, north: 40, size: 10), b = try raster("b.tif", west: 20, north: 40, size: 20)
    let grids = try SourceGrid.ownGrids(try sources([a, b]))
    XCTAssertEqual(grids.map(\.resolution.x), [10, 20])
    let other = try raster("c.tif", west: 0, north: 40, size: 10, srs: "EPSG:32634")
    XCTAssertThrowsError(try SourceGrid.ownGrids(try sources([a, other]))) { error in
      let e = TesseraError.from(error)
      XCTAssertEqual(e.status, .dataError)
      XCTAssertTrue(e.message.hasPrefix("\(other) is in ") && e.message.hasSuffix("; reproject one first"), e.message)
    }
    let southUp = dir.file("south.tif")
    try Oracle.tool("gdal_translate", ["-q", "-a_ullr", "0", "0", "40", "40", "-a_srs", "EPSG:32633", a, southUp])
    XCTAssertThrowsError(try SourceGrid.ownGrids(try sources([southUp]))) { error in
      XCTAssertEqual(TesseraError.from(error).message, "\(southUp) has no north-up georeferencing (a CRS and an unrotated geotransform)")
    }
  }

  func testResolutionRules() throws {
    let sizes: [(x: Double, y: Double)] = [(10, 20), (30, 10)]
    func rule(_ r: MosaicRequest.ResolutionRule) throws -> [Double] {
      let s = try SourceGrid.resolution(r, sizes: sizes, name: { "input \($0 + 1)" })
      return [s.x, s.y]
    }
    XCTAssertEqual(try rule(.highest), [10, 10])
    XCTAssertEqual(try rule(.lowest), [30, 20])
    XCTAssertEqual(try rule(.average), [20, 15])
    XCTAssertEqual(try rule(.explicit(x: 5, y: 6)), [5, 6])
    XCTAssertThrowsError(try rule(.same)) { error in
      XCTAssertEqual(TesseraError.from(error).message, "--resolution same: input 2 has pixels of 30.0 x 10.0, the first 10.0 x 20.0")
    }
  }

  func testExtentRulesAndTheGridOnTheFinestLattice() throws {
    let a = try raster("a.tif", west: 5, north: 40, size: 10), b = try raster("b.tif", west: 25, north: 60, size: 20)
    let grids = try SourceGrid.ownGrids(try sources([a, b]))
    XCTAssertEqual(SourceGrid.finest(grids), 0)
    XCTAssertEqual(try SourceGrid.extent(grids.map(\.extent), .union), Extent(minX: 5, minY: -20, maxX: 105, maxY: 60))
    XCTAssertEqual(try SourceGrid.extent(grids.map(\.extent), .intersection), Extent(minX: 25, minY: 0, maxX: 45, maxY: 40))
    let grid = try SourceGrid.covering(grids, .union, resolution: (10, 10), lattice: 0, cause: "test")
    XCTAssertEqual(grid.extent, Extent(minX: 5, minY: -20, maxX: 105, maxY: 60), "on a's lattice")
    XCTAssertEqual(Grid.anchor(of: grid.geoTransform, resolution: (10, 10)).x, 5)
    let apart = try raster("apart.tif", west: 1000, north: 40, size: 10)
    XCTAssertThrowsError(try SourceGrid.extent(try SourceGrid.ownGrids(try sources([a, apart])).map(\.extent), .intersection)) { error in
      XCTAssertEqual(TesseraError.from(error).message, "the inputs' footprints do not overlap; --extent intersection is empty")
    }
  }

  func testSourcesOnTheLatticeArePlacedOthersWarped() throws {
    let a = try raster("a.tif", west: 0, north: 40, size: 10), b = try raster("b.tif", west: 20, north: 40, size: 20)
    let inputs = try sources([a, b])
    let grids = try SourceGrid.ownGrids(inputs)
    let grid = try SourceGrid.covering(grids, .union, resolution: (10, 10), lattice: 0, cause: "test")
    XCTAssertNil(SourceGrid.placed(inputs, on: grid), "b needs resampling")
    let placed = try PlacedInputs(inputs, on: grid) { _ in .nearest }
    defer { placed.remove() }
    XCTAssertEqual(placed.sources.map(\.window), [Window(x: 0, y: 0, width: 4, height: 4), Window(x: 0, y: 0, width: 10, height: 8)])
    XCTAssertEqual(placed.bands, [1, 1])
    guard case .file(let warped) = placed.sources[1].storage else { return XCTFail("a file") }
    let vrt = try Dataset.open(warped)
    XCTAssertEqual([vrt.width, vrt.height], [grid.width, grid.height])
    XCTAssertEqual(vrt.geoTransform, grid.geoTransform)
  }

  func testExtentIntersectionAndIntegerRanges() {
    let a = Extent(minX: 0, minY: 0, maxX: 10, maxY: 10)
    XCTAssertEqual(a.intersection(Extent(minX: 5, minY: -5, maxX: 20, maxY: 5)), Extent(minX: 5, minY: 0, maxX: 10, maxY: 5))
    XCTAssertNil(a.intersection(Extent(minX: 10, minY: 0, maxX: 20, maxY: 10)), "touching edges share no area")
    XCTAssertEqual(DataType.byte.integerRange, 0...255)
    XCTAssertEqual(DataType.int16.integerRange, -32768...32767)
    XCTAssertEqual(DataType.uint32.integerRange.upperBound, 4_294_967_295)
  }
}
