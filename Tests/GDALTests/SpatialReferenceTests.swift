import Foundation
import GDAL
import TestSupport
import XCTest

final class SpatialReferenceTests: XCTestCase {
  func testEveryInputForm() throws {
    let fromEPSG = try SpatialReference(userInput: "EPSG:32618")
    XCTAssertEqual(fromEPSG.epsg, 32618)
    XCTAssertEqual(fromEPSG.name, "WGS 84 / UTM zone 18N")
    XCTAssertEqual(fromEPSG.utmZone, 18)

    let fromWKT = try SpatialReference(userInput: try fromEPSG.wkt(.wkt1))
    XCTAssertTrue(fromWKT.isSame(as: fromEPSG))
    XCTAssertEqual(fromWKT.epsg, 32618)

    let fromPROJ = try SpatialReference(userInput: "+proj=utm +zone=18 +datum=WGS84 +units=m +no_defs")
    XCTAssertTrue(fromPROJ.isSame(as: fromEPSG))
    XCTAssertEqual(fromPROJ.epsg, 32618, "a PROJ string identifies by matching")

    // An ESRI .prj file, by path.
    let fromPrj = try SpatialReference(userInput: Fixture.path("rasterio/box.prj"))
    XCTAssertTrue(fromPrj.isProjected)
    XCTAssertEqual(fromPrj.epsg, 32618)

    XCTAssertFalse(fromEPSG.isSame(as: try SpatialReference(epsg: 32617)))
  }

  func testUnknownCRSCarriesGDALsMessage() {
    XCTAssertThrowsError(try SpatialReference(userInput: "EPSG:999999")) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("EPSG:999999"), text)
    }
    XCTAssertThrowsError(try SpatialReference(userInput: "not a crs at all"))
  }

  func testTraditionalAxisOrder() throws {
    // EPSG:4326 is lat/lon by the book; Tessera keeps x = longitude everywhere.
    let wgs84 = try SpatialReference(epsg: 4326)
    let utm = try SpatialReference(epsg: 32633)
    var points = [(x: 15.0, y: 52.0)]
    try CoordinateTransformation(from: wgs84, to: utm).transform(&points)
    XCTAssertEqual(points[0].x, 500000, accuracy: 1)
    XCTAssertEqual(points[0].y, 5761038, accuracy: 2)
  }
}
