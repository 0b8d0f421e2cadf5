import Foundation
import GDAL
import TestSupport
import XCTest

@testable import TesseraCore

/// Every CRS alias resolves to the EPSG code the README names, and that code is the CRS its name
/// says in PROJ's database (proj.db), not a neighbour.
final class CRSAliasTests: XCTestCase {
  /// Near Beijing: 3° zone CM 117E, 6° zone CM 117E (114E-120E).
  let beijing = (lon: 116.4, lat: 39.9)

  func testDatumAliasesCaseInsensitive() throws {
    let expected = ["wgs84": 4326, "cgcs2000": 4490, "xian1980": 4610, "xian80": 4610, "beijing1954": 4214,
                    "bj54": 4214, "beijing54": 4214, "webmercator": 3857, "BJ54": 4214, "Xian80": 4610, "BEIJING54": 4214]
    for (alias, epsg) in expected {
      XCTAssertEqual(try CRSInput.aliasCode(alias), epsg, alias)
      XCTAssertEqual(try CRSInput.resolve(alias).epsg, epsg, alias)
    }
  }

  func testGaussKrugerZoneFromTheCentre() throws {
    let expected: [(String, Int, String)] = [
      ("cgcs2000-gk3", 4548, "CGCS2000 / 3-degree Gauss-Kruger CM 117E"),
      ("cgcs2000-gk6", 4509, "CGCS2000 / Gauss-Kruger CM 117E"),
      ("xian1980-gk3", 2384, "Xian 1980 / 3-degree Gauss-Kruger CM 117E"),
      ("xian1980-gk6", 2345, "Xian 1980 / Gauss-Kruger CM 117E"),
      ("beijing1954-gk3", 2436, "Beijing 1954 / 3-degree Gauss-Kruger CM 117E"),
      ("beijing1954-gk6", 21460, "Beijing 1954 / Gauss-Kruger CM 117E"),
      ("BJ54-GK6", 21460, "Beijing 1954 / Gauss-Kruger CM 117E"),
      ("xian80-gk3", 2384, "Xian 1980 / 3-degree Gauss-Kruger CM 117E"),
    ]
    for (alias, epsg, name) in expected {
      XCTAssertEqual(try CRSInput.aliasCode(alias, centre: beijing), epsg, alias)
      let srs = try CRSInput.resolve(alias, centre: beijing)
      XCTAssertEqual(srs.epsg, epsg, alias)
      XCTAssertEqual(srs.name, name, alias)
    }
    // Zone edges: 3° zones are centred on multiples of 3, 6° zones run 114-120 for CM 117.
    XCTAssertEqual(try CRSInput.aliasCode("cgcs2000-gk3", centre: (115.6, 30)), 4548)
    XCTAssertEqual(try CRSInput.aliasCode("cgcs2000-gk3", centre: (115.4, 30)), 4547)
    XCTAssertEqual(try CRSInput.aliasCode("cgcs2000-gk6", centre: (114.1, 30)), 4509)
    XCTAssertEqual(try CRSInput.aliasCode("cgcs2000-gk6", centre: (113.9, 30)), 4508)
  }

  func testGaussKrugerExplicitCentralMeridianMatchesProjDatabase() throws {
    XCTAssertEqual(try CRSInput.aliasCode("cgcs2000-gk3:114"), 4547)
    XCTAssertEqual(try CRSInput.aliasCode("cgcs2000-gk6:117"), 4509)
    XCTAssertEqual(try CRSInput.aliasCode("cgcs2000-gk3:117E"), 4548)
    // Every central meridian of every family: the code's name in proj.db says that meridian.
    let families = [("cgcs2000", "CGCS2000"), ("xian1980", "Xian 1980"), ("beijing1954", "Beijing 1954")]
    for (key, datum) in families {
      for width in [3, 6] {
        for cm in stride(from: 75, through: 135, by: width) {
          let srs = try CRSInput.resolve("\(key)-gk\(width):\(cm)")
          let name = width == 3 ? "\(datum) / 3-degree Gauss-Kruger CM \(cm)E" : "\(datum) / Gauss-Kruger CM \(cm)E"
          XCTAssertEqual(srs.name, name, "\(key)-gk\(width):\(cm)")
        }
      }
    }
  }

  func testGaussKrugerRefusals() {
    XCTAssertThrowsError(try CRSInput.aliasCode("cgcs2000-gk3:115")) { XCTAssertEqual(($0 as? TesseraError)?.status, .usage) }
    XCTAssertThrowsError(try CRSInput.aliasCode("cgcs2000-gk6:114")) { XCTAssertEqual(($0 as? TesseraError)?.status, .usage) }
    XCTAssertThrowsError(try CRSInput.aliasCode("cgcs2000-gk3:138")) { XCTAssertEqual(($0 as? TesseraError)?.status, .usage) }
    XCTAssertThrowsError(try CRSInput.aliasCode("cgcs2000-gk3")) { XCTAssertEqual(($0 as? TesseraError)?.status, .usage) }
    // A raster outside China's zones (New York) has no zone to take.
    XCTAssertThrowsError(try CRSInput.aliasCode("cgcs2000-gk6", centre: (-74, 40.7))) {
      XCTAssertEqual(($0 as? TesseraError)?.status, .dataError)
    }
  }

  func testTOWGS84Parsing() throws {
    XCTAssertEqual(try DatumShift.parseTOWGS84("15.8,-154.4,-82.3", option: "--src-towgs84"), [15.8, -154.4, -82.3])
    XCTAssertEqual(try DatumShift.parseTOWGS84("1,2,3,0.1,0.2,0.3,1.5", option: "--src-towgs84").count, 7)
    for bad in ["1,2", "1,2,3,4", "1,2,x", "1,2,nan", ""] {
      XCTAssertThrowsError(try DatumShift.parseTOWGS84(bad, option: "--src-towgs84"), bad) {
        XCTAssertEqual(($0 as? TesseraError)?.status, .usage)
      }
    }
  }
}
