import Foundation
import GDAL
import TestSupport
import XCTest
@testable import TesseraCore

/// The shared grid arithmetic: snapping outward, windows, placements.
final class GridTests: XCTestCase {
  func utm() throws -> SpatialReference { try SpatialReference(epsg: 32633) }

  func testCoveringSnapsOutwardToWholePixelsOnTheAnchor() throws {
    let box = Extent(minX: 100_005, minY: 199_991, maxX: 100_031, maxY: 200_019)
    let tap = try Grid.covering(box, srs: utm(), resolution: (10, 10), cause: "test")
    XCTAssertEqual(tap.extent, Extent(minX: 100_000, minY: 199_990, maxX: 100_040, maxY: 200_020))
    XCTAssertEqual([tap.width, tap.height], [4, 3])
    let shifted = try Grid.covering(box, srs: utm(), resolution: (10, 10), anchor: (5, 1), cause: "test")
    XCTAssertEqual(shifted.extent, Extent(minX: 100_005, minY: 199_991, maxX: 100_035, maxY: 200_021))
    // A hair inside a pixel edge is on it, not a new pixel.
    let edge = try Grid.covering(Extent(minX: 0, minY: 0, maxX: 30 + 1e-9, maxY: 30), srs: utm(), resolution: (10, 10), cause: "test")
    XCTAssertEqual(edge.width, 3)
    XCTAssertEqual(Grid.anchor(of: [399_965, 10, 0, 5_000_035, 0, -10], resolution: (10, 10)).x, 5)
  }

  func testWindowsAndTheirExtentsAgree() throws {
    let grid = Grid(srs: try utm(), minX: 1000, maxY: 2000, resolution: (10, 20), width: 50, height: 40)
    XCTAssertEqual(grid.geoTransform, [1000, 10, 0, 2000, 0, -20])
    let window = Window(x: 3, y: 4, width: 5, height: 6)
    XCTAssertEqual(grid.window(covering: grid.extent(of: window)), window)
    XCTAssertEqual(grid.window(covering: Extent(minX: 1031, minY: 1801, maxX: 1079, maxY: 1919)), window, "outward")
    XCTAssertEqual(grid.window(covering: Extent(minX: 0, minY: 0, maxX: 99_999, maxY: 99_999)), Window(x: 0, y: 0, width: 50, height: 40),
                   "clipped to the grid")
    XCTAssertNil(grid.window(covering: Extent(minX: 0, minY: 0, maxX: 10, maxY: 10)), "outside")
  }

  func testPlacementOfADatasetOnTheGrid() throws {
    let mosaicGrid = try XCTUnwrap(Grid(of: try Dataset.open(Fixture.utmsmall)))
    let source = try Dataset.open(Fixture.utmsmall)
    XCTAssertEqual(mosaicGrid.placement(of: source), Window(x: 0, y: 0, width: 100, height: 100))
    var shifted = mosaicGrid
    shifted.minX -= 3 * mosaicGrid.resolution.x
    shifted.maxY += 2 * mosaicGrid.resolution.y
    XCTAssertEqual(shifted.placement(of: source), Window(x: 3, y: 2, width: 100, height: 100))
    shifted.minX += mosaicGrid.resolution.x / 2
    XCTAssertNil(shifted.placement(of: source), "half a pixel off the grid")
    var finer = mosaicGrid
    finer.resolution = (mosaicGrid.resolution.x / 2, mosaicGrid.resolution.y / 2)
    XCTAssertNil(finer.placement(of: source), "another pixel size")
  }

  func testWindowIntersection() {
    let a = Window(x: 0, y: 0, width: 10, height: 10)
    XCTAssertEqual(a.intersection(Window(x: 5, y: 8, width: 10, height: 10)), Window(x: 5, y: 8, width: 5, height: 2))
    XCTAssertNil(a.intersection(Window(x: 10, y: 0, width: 3, height: 3)), "edges touch, no pixel shared")
    XCTAssertEqual(Window(x: 5, y: 8, width: 5, height: 2).relative(to: Window(x: 4, y: 4, width: 9, height: 9)),
                   Window(x: 1, y: 4, width: 5, height: 2))
  }
}
