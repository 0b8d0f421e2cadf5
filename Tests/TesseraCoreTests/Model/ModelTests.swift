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

  func testNodataListsParseOnePerBand() throws {
    XCTAssertEqual(NodataSetting("0,0,255"), .perBand([0, 0, 255]))
    XCTAssertEqual(NodataSetting(" 5 "), .value(5))
    XCTAssertEqual(NodataSetting("nan,1"), .perBand([.nan, 1]))
    XCTAssertNil(NodataSetting("1,x"))
    XCTAssertNil(NodataSetting("1,,2"))
    XCTAssertNil(NodataSetting("none,1"))
    let list = try XCTUnwrap(NodataSetting("7,8,9"))
    XCTAssertEqual(list.forBand(1), .value(8))
    XCTAssertEqual(NodataSetting.value(3).forBand(2), .value(3))
    XCTAssertEqual(list.gdalArgument, "7 8 9")
    XCTAssertEqual(list.description, "7,8,9")
    XCTAssertThrowsError(try list.requireBandCount(2, option: "--dst-nodata", what: "the output"))
    XCTAssertNoThrow(try list.requireBandCount(3, option: "--dst-nodata", what: "the output"))
    XCTAssertThrowsError(try NodataSetting.perBand([1, 300]).requireFits(.byte, option: "--dst-nodata"))
  }

  func testOutputTypesAreGDALsInAnyCase() throws {
    XCTAssertEqual(try TypeConversion.parse("uint16"), .uint16)
    XCTAssertEqual(try TypeConversion.parse("FLOAT32"), .float32)
    XCTAssertThrowsError(try TypeConversion.parse("Int8"))
    XCTAssertThrowsError(try TypeConversion.parse("CInt16"))
    let byte = TypeConversion(.byte)
    XCTAssertTrue(byte.narrows(from: .float32))
    XCTAssertFalse(TypeConversion(.float32).narrows(from: .int16))
    XCTAssertEqual(TypeConversion.nodata(-9999, as: .byte), 0)
    XCTAssertEqual(TypeConversion.nodata(254.5, as: .byte), 255)
  }
}
