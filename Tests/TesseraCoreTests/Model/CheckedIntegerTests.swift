import Foundation
import GDAL
import TestSupport
import XCTest

/// The one conversion of floating point to integers: never a trap, whatever the value.
final class CheckedIntegerTests: XCTestCase {
  func testCheckedIsNilForWhatTheTypeCannotHold() {
    XCTAssertEqual(Int(checked: 2.7), 2)
    XCTAssertEqual(Int(checked: 2.5, rounding: .toNearestOrAwayFromZero), 3)
    XCTAssertEqual(Int(checked: -2.5, rounding: .down), -3)
    for bad in [Double.nan, .infinity, -.infinity, 1e300, 9.3e18, 9223372036854775807.0] {
      XCTAssertNil(Int(checked: bad), "\(bad)")
    }
    XCTAssertEqual(Int(checked: -9223372036854775808.0), Int.min)
    XCTAssertNil(UInt8(checked: 256.0))
    XCTAssertNil(UInt8(checked: -1.0))
    XCTAssertEqual(UInt8(checked: 255.4), 255)
    XCTAssertNil(Int32(checked: Float(3e9)))
    XCTAssertNil(UInt16(checked: Float.infinity))
  }

  func testSaturatingClampsToTheTypesEnds() {
    XCTAssertEqual(Int(saturating: Double.infinity), Int.max)
    XCTAssertEqual(Int(saturating: -Double.infinity), Int.min)
    XCTAssertEqual(Int(saturating: 1e300), Int.max)
    XCTAssertEqual(Int(saturating: 9223372036854775807.0), Int.max, "2^63 is one past Int.max")
    XCTAssertEqual(Int(saturating: Double.nan), 0)
    XCTAssertEqual(Int(saturating: Double.nan, nan: -1), -1)
    XCTAssertEqual(UInt8(saturating: 300.0), 255)
    XCTAssertEqual(UInt8(saturating: -3.0), 0)
    XCTAssertEqual(UInt8(saturating: 127.5, rounding: .toNearestOrAwayFromZero), 128)
    XCTAssertEqual(Int64(saturating: Float(-1e30)), Int64.min)
    XCTAssertEqual(Int32(saturating: 1e10), Int32.max)
  }

  /// The class, kept: Swift's trapping conversions put their messages ("Double value cannot be
  /// converted to Int because it is either infinite or NaN", "… because the result would be
  /// greater than Int.max") into the object file of each source that converts unchecked.
  /// Every conversion goes through CheckedInteger.swift, so no object file of Tessera's own
  /// modules holds one.
  func testNoSourceConvertsFloatingPointUnchecked() throws {
    let products = Bundle.main.bundleURL.deletingLastPathComponent()
    let candidates = [products, products.appendingPathComponent("debug")]
    guard let build = candidates.first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent("TesseraCore.build").path) }) else {
      throw XCTSkip("no object files beside the test bundle (\(products.path))")
    }
    var offenders: [String] = []
    var scanned = 0
    for module in ["GDAL", "TesseraCore", "TesseraCLI"] {
      let folder = build.appendingPathComponent("\(module).build")
      for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".swift.o") {
        let data = try Data(contentsOf: folder.appendingPathComponent(name))
        scanned += 1
        if data.range(of: Data("value cannot be converted to".utf8)) != nil { offenders.append("\(module)/\(name)") }
      }
    }
    XCTAssertGreaterThan(scanned, 50, "the object files were found")
    XCTAssertEqual(offenders, [], "convert through Int(checked:) or Int(saturating:) (Sources/GDAL/CheckedInteger.swift)")
  }
}
