import Foundation
@testable import TesseraCore
import XCTest

/// The pieces of previews: stretch specifications and percentiles, colour maps' ends, dates in
/// names.
final class RenderingTests: XCTestCase {
  func testStretchSpecificationsAndNumpysPercentiles() throws {
    XCTAssertEqual(try StretchSpec(parsing: "p2,p98"), .percentiles(2, 98))
    XCTAssertEqual(try StretchSpec(parsing: "-1, 1"), .values(-1, 1))
    XCTAssertEqual(try StretchSpec(parsing: "MinMax"), .minmax)
    for bad in ["p98,p2", "1,1", "p2", "x,y", "p-1,p50"] { XCTAssertThrowsError(try StretchSpec(parsing: bad), bad) }
    // numpy.percentile([1, 2, 3, 4, 10], [2, 98]) = [1.08, 9.52]
    let range = try XCTUnwrap(StretchSpec.percentiles(2, 98).range(of: [10, 1, 3, 2, 4]))
    XCTAssertEqual(range.low, 1.08, accuracy: 1e-9)
    XCTAssertEqual(range.high, 9.52, accuracy: 1e-9)
    XCTAssertNil(StretchSpec.minmax.range(of: []))
  }

  /// Infinities stay out of stretches (as NaN does); ranges as wide as ±1e308 and infinite
  /// values map to the ends, never to a trap.
  func testInfinitiesAndHugeRangesNeverTrap() throws {
    let values: [Float] = [.infinity, 1, 2, 3, -.infinity]
    XCTAssertEqual(StretchSpec.minmax.range(of: values), StretchRange(low: 1, high: 3))
    let percentiles = try XCTUnwrap(StretchSpec.percentiles(0, 100).range(of: values))
    XCTAssertEqual([percentiles.low, percentiles.high], [1, 3])
    XCTAssertNil(StretchSpec.minmax.range(of: [.infinity, -.infinity]))
    let wide = StretchRange(low: -1e308, high: 1e308)
    XCTAssertEqual(wide.level(0), 128)
    XCTAssertEqual(wide.level(.infinity), 255)
    XCTAssertEqual(wide.level(-.infinity), 0)
    XCTAssertEqual(StretchRange(low: 1, high: 3).level(.nan), 0)
    XCTAssertEqual(StretchRange(low: 0, high: 10).level(5), 128)
    XCTAssertEqual(StretchSpec.values(-1e308, 1e308).description, "-1e+308,1e+308")
  }

  func testColourTableLinesAnIntCannotHoldAreUsageErrors() throws {
    let folder = NSTemporaryDirectory() + "/tessera-colour-table-\(getpid())"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    for line in ["1e300 1 2 3", "inf 1 2 3", "9223372036854775807 1 2 3", "nan 1 2 3", "1.5 1 2 3", "1 256 0 0", "1 1 2 inf"] {
      let path = folder + "/t.txt"
      try (line + "\n").write(toFile: path, atomically: true, encoding: .utf8)
      XCTAssertThrowsError(try ClassColors.read(path), line) { error in
        XCTAssertEqual((error as? TesseraError)?.status, .usage, line)
        XCTAssertTrue("\(error)".contains("line 1"), "\(error)")
      }
    }
    let path = folder + "/ok.txt"
    try "-9223372036854775808 1 2 3\n7 10 20 30 40\n".write(toFile: path, atomically: true, encoding: .utf8)
    XCTAssertEqual(try ClassColors.read(path), [Int.min: RGBA(1, 2, 3), 7: RGBA(10, 20, 30, 40)])
    // A table saved on Windows: CR LF line ends read as the same table.
    try "-9223372036854775808 1 2 3\r\n7 10 20 30 40\r\n".write(toFile: path, atomically: true, encoding: .utf8)
    XCTAssertEqual(try ClassColors.read(path), [Int.min: RGBA(1, 2, 3), 7: RGBA(10, 20, 30, 40)])
  }

  func testColourMapsRunFromTheirPublishedEnds() {
    XCTAssertEqual(Colormap.rdylgn.table.first, RGBA(0xa5, 0x00, 0x26))
    XCTAssertEqual(Colormap.rdylgn.table.last, RGBA(0x00, 0x68, 0x37))
    XCTAssertEqual(Colormap.viridis.table.first, RGBA(0x44, 0x01, 0x54))
    XCTAssertEqual(Colormap.viridis.table.last, RGBA(0xfd, 0xe7, 0x25))
    XCTAssertEqual(Colormap.gray.table[128], RGBA(128, 128, 128))
    // terrain's 0.5 anchor, (1, 1, 0.6), is at index 127.5: between its neighbours.
    XCTAssertEqual(Colormap.terrain.table.first, RGBA(0x33, 0x33, 0x99))
    XCTAssertGreaterThanOrEqual(Colormap.terrain.table[127].r, 253)
    XCTAssertGreaterThanOrEqual(Colormap.terrain.table[128].r, 253)
    XCTAssertEqual(Colormap.terrain.table.last, RGBA(255, 255, 255))
    for map in Colormap.allCases { XCTAssertEqual(map.table.count, 256) }
  }

  func testDatesInSentinel2LandsatAndPlainNames() {
    let names: [(name: String, date: String?, why: String)] = [
      ("S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE", "2022-10-05", "a SAFE's sensing date"),
      ("LC08_L2SP_044034_20230601_20230607_02_T1_SR_B4.TIF", "2023-06-01", "a Landsat acquisition date"),
      ("ndvi_2021-07-15.tif", "2021-07-15", "an ISO date"),
      ("T33UUU_20170216T102101_B04.jp2", "2017-02-16", "a band file's date"),
      ("tile_12345678.tif", nil, "not a date"),
      ("scene_20230230.tif", nil, "February has no 30th"),
      ("RGB.byte.tif", nil, "no date at all"),
    ]
    for (name, date, why) in names { XCTAssertEqual(AcquisitionDate.parse(name: name), date, "\(name): \(why)") }
  }
}
