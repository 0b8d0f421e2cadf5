import Foundation
import GDAL
import TestSupport
import XCTest
@testable import TesseraCore

/// Statistics computed window by window must equal GDAL's ComputeStatistics.
final class StatisticsTests: XCTestCase {
  private func gdalStatistics(_ path: String) throws -> [[Double]?] {
    let script = """
      import json, sys
      from osgeo import gdal
      gdal.UseExceptions()
      ds = gdal.Open(sys.argv[1] if len(sys.argv) > 1 else \(String(reflecting: path)))
      out = []
      for i in range(ds.RasterCount):
          try:
              out.append(list(ds.GetRasterBand(i + 1).ComputeStatistics(False)))
          except RuntimeError:
              out.append(None)
      print(json.dumps(out))
      """
    return try Oracle.python(script) as? [[Double]?] ?? []
  }

  private func assertMatches(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let expected = try gdalStatistics(path)
    let ds = try Dataset.open(path)
    XCTAssertEqual(expected.count, ds.bandCount, file: file, line: line)
    for (i, want) in expected.enumerated() {
      let got = try BandStatisticsScan.compute(try ds.band(i + 1))
      guard let want, let got else {
        XCTAssertTrue(want == nil && got == nil, "band \(i + 1): \(String(describing: want)) vs \(String(describing: got))", file: file, line: line)
        continue
      }
      XCTAssertEqual(got.min, want[0], file: file, line: line)
      XCTAssertEqual(got.max, want[1], file: file, line: line)
      XCTAssertEqual(got.mean, want[2], accuracy: abs(want[2]) * 1e-9 + 1e-9, file: file, line: line)
      XCTAssertEqual(got.stddev, want[3], accuracy: abs(want[3]) * 1e-9 + 1e-9, file: file, line: line)
    }
  }

  func testByteWithNodataZero() throws { try assertMatches(Fixture.rgbByte) }
  func testInt16WithNegativeNodata() throws { try assertMatches(Fixture.n43) }
  func testFloat32() throws { try assertMatches(Fixture.float32) }
  func testUInt16JPEG2000() throws { try assertMatches(Fixture.s2Band) }

  func testAllNodataBandHasNoStatistics() throws {
    let ds = try Dataset.create(driver: "MEM", path: "", width: 4, height: 4, bands: 1, type: .float32)
    try ds.band(1).setNoDataValue(-9999)
    try ds.band(1).write(Window(x: 0, y: 0, width: 4, height: 4), values: [Float](repeating: -9999, count: 16))
    XCTAssertNil(try BandStatisticsScan.compute(try ds.band(1)))
    // NaN never counts either.
    try ds.band(1).write(Window(x: 0, y: 0, width: 2, height: 1), values: [Float.nan, 5])
    XCTAssertEqual(try BandStatisticsScan.compute(try ds.band(1)), BandStatistics(min: 5, max: 5, mean: 5, stddev: 0))
  }

  func testStatisticsLeaveNoSidecarBesideTheInput() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let copy = dir.file("in.tif")
    try FileManager.default.copyItem(atPath: Fixture.rgbByte, toPath: copy)
    _ = try RasterInfo.read(path: copy, statistics: true)
    XCTAssertEqual(dir.contents, ["in.tif"])
  }
}
