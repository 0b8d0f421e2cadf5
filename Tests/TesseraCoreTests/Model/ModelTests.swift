import Foundation
import GDAL
import TestSupport
import XCTest
@testable import TesseraCore

final class ModelTests: XCTestCase {
  func testWindowPlanCoversEveryPixelOnce() {
    for (w, h, bw, bh, target) in [(791, 718, 791, 3, 100_000), (5490, 5490, 512, 512, 1 << 20), (7, 5, 256, 256, 4), (1, 1, 1, 1, 1)] {
      let plan = WindowPlan(width: w, height: h, blockWidth: bw, blockHeight: bh, targetPixels: target)
      var covered = 0
      var windows = 0
      for window in plan {
        XCTAssertGreaterThan(window.width, 0)
        XCTAssertLessThanOrEqual(window.x + window.width, w)
        XCTAssertLessThanOrEqual(window.y + window.height, h)
        // Windows start on block boundaries.
        XCTAssertEqual(window.x % min(bw, w), 0)
        XCTAssertEqual(window.y % min(bh, h), 0)
        covered += window.pixelCount
        windows += 1
      }
      XCTAssertEqual(covered, w * h)
      XCTAssertEqual(windows, plan.count)
    }
  }

  func testJSONSerialisation() {
    let value: JSONValue = .object([
      ("a", .string("quote \" backslash \\ newline \n tab \t bell \u{7}")), ("nan", .double(.nan)),
      ("whole", .double(3)), ("fraction", .double(0.25)), ("none", .null), ("list", .array([.bool(true), .int(-2)])),
    ])
    let text = value.serialized()
    XCTAssertEqual(
      text,
      #"{"a":"quote \" backslash \\ newline \n tab \t bell \u0007","nan":"NaN","whole":3,"fraction":0.25,"none":null,"list":[true,-2]}"#)
    XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(value.serialized(pretty: true).utf8)))
  }

  func testErrorClassification() {
    XCTAssertEqual(TesseraError.from(OpenError.notFound(path: "a.tif")).status, .noInput)
    XCTAssertEqual(TesseraError.from(OpenError.permissionDenied(path: "a.tif")).status, .noInput)
    XCTAssertEqual(TesseraError.from(OpenError.unreadable(path: "a.tif", gdalMessage: "x")).status, .dataError)
    XCTAssertEqual(TesseraError.from(GDALError(context: "reading", message: "bad")).status, .dataError)
    XCTAssertEqual(TesseraError.from(GDALError.userInterrupt(context: "x")).status, .interrupted)
    // One line, with the newline shown rather than hidden (it may be part of a file's name).
    XCTAssertEqual(TesseraError.from(GDALError(context: "a", message: "two\nlines")).message, "a: two\\nlines")
  }
}
