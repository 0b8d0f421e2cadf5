import GDAL
@testable import TesseraCore
import TestSupport
import XCTest

/// The driver an output's name asks for, as GDAL's tools choose it.
final class RasterFormatTests: XCTestCase {
  func testExtensionsMapToTheirDrivers() throws {
    let expected = ["a.tif": "GTiff", "a.TIFF": "GTiff", "a.img": "HFA", "a.IMG": "HFA", "a.jp2": "JP2OpenJPEG", "a.png": "PNG",
                    "a.jpg": "JPEG", "a.webp": "WEBP", "a.ers": "ERS", "a.vrt": "VRT"]
    for (path, driver) in expected {
      XCTAssertEqual(try RasterFormat.resolve(path: path, requested: nil, allowsVRT: true).driver, driver, path)
    }
    XCTAssertFalse(try RasterFormat.resolve(path: "a.jp2", requested: nil, allowsVRT: false).canCreate, "JP2OpenJPEG only copies")
    XCTAssertTrue(try RasterFormat.resolve(path: "a.img", requested: nil, allowsVRT: false).canCreate)
  }

  func testRequestedDriverWinsAndUnknownOrAmbiguousNamesAreUsageErrors() throws {
    XCTAssertEqual(try RasterFormat.resolve(path: "a.tif", requested: "hfa", allowsVRT: false).driver, "HFA")
    for (path, requested, allowsVRT) in [("a.xyz2", nil, false), ("a", nil, false), ("a.grd", nil, false), ("a.vrt", nil, false),
                                         ("a.tif", "VRT", false), ("a.tif", "MEM", false), ("a.tif", "NoSuch", false)] as [(String, String?, Bool)] {
      XCTAssertThrowsError(try RasterFormat.resolve(path: path, requested: requested, allowsVRT: allowsVRT), "\(path) \(requested ?? "")") {
        XCTAssertEqual(($0 as? TesseraError)?.status, .usage, "\($0)")
      }
    }
  }

  func testWhatAFormatHolds() throws {
    let png = try RasterFormat.resolve(path: "a.png", requested: nil, allowsVRT: false)
    XCTAssertNoThrow(try png.requireHolds(bands: 4, type: .byte, path: "a.png"))
    XCTAssertThrowsError(try png.requireHolds(bands: 4, type: .float32, path: "a.png"))
    XCTAssertThrowsError(try png.requireHolds(bands: 5, type: .byte, path: "a.png"))
    let jpeg = try RasterFormat.resolve(path: "a.jpg", requested: nil, allowsVRT: false)
    XCTAssertThrowsError(try jpeg.requireHoldsNodata(true, options: [], path: "a.jpg"))
    XCTAssertNoThrow(try jpeg.requireHoldsNodata(false, options: [], path: "a.jpg"))
    let hfa = try RasterFormat.resolve(path: "a.img", requested: nil, allowsVRT: false)
    XCTAssertNoThrow(try hfa.requireHolds(bands: 300, type: .float64, path: "a.img"))
  }

  func testHFASpillFileIsASidecarOfTheImgOnly() {
    XCTAssertEqual(OutputTarget.sidecar("/d/x.img", ".ige"), "/d/x.ige")
    XCTAssertEqual(OutputTarget.sidecar("/d/x.tif", ".ige"), "/d/x.tif.ige", "a stranger's x.ige is not x.tif's")
    XCTAssertEqual(OutputTarget.sidecar("/d/x.img", ".aux.xml"), "/d/x.img.aux.xml")
  }
}
