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

final class MemoryFileTests: XCTestCase {
  func testLifetimeIsOwnedBySwift() throws {
    var folder = ""
    do {
      let file = MemoryFile(name: "x.tif")
      folder = (file.path as NSString).deletingLastPathComponent
      let ds = try Dataset.create(driver: "GTiff", path: file.path, width: 5, height: 5, bands: 1, type: .byte)
      try ds.close()
      XCTAssertTrue(file.exists)
      XCTAssertGreaterThan(try file.contents().count, 100)
      XCTAssertFalse(MemoryFile.list(folder).isEmpty)
    }
    XCTAssertEqual(MemoryFile.list(folder), [], "the memory file outlived its owner")
  }

  func testFromBytes() throws {
    let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixture.utmsmall))
    let file = try MemoryFile(name: "copy.tif", data: bytes)
    let ds = try Dataset.open(file.path)
    XCTAssertEqual(ds.width, 100)
    try ds.close()
    file.remove()
    XCTAssertFalse(file.exists)
  }
}

final class UtilitiesTests: XCTestCase {
  func testDerivedDatasetKeepsItsSourceAlive() throws {
    let expected = try Dataset.open(Fixture.utmsmall).band(1).checksum()
    // The source is a temporary the caller never holds; the VRT must keep it open until closed.
    let vrt = try GDALUtilities.translate(try Dataset.open(Fixture.utmsmall), to: "", arguments: ["-of", "VRT"])
    let warped = try GDALUtilities.warp([try Dataset.open(Fixture.utmsmall)], to: "", arguments: ["-of", "VRT"])
    XCTAssertEqual(try vrt.band(1).checksum(), expected)
    XCTAssertEqual(try warped.band(1).checksum(), expected)
    try vrt.close()
    try warped.close()
  }

  func testBuildVRTFailsInsteadOfSkippingASource() throws {
    let byte = try Dataset.open(Fixture.utmsmall)
    let float = try GDALUtilities.translate(byte, to: "", arguments: ["-of", "MEM", "-ot", "Float32"])
    XCTAssertThrowsError(try GDALUtilities.buildVRT([byte, float], to: "", arguments: [])) { error in
      XCTAssertTrue("\(error)".contains("Skipping"), "\(error)")
    }
  }

  func testInfoAndBuildVRTAndWarp() throws {
    let src = try Dataset.open(Fixture.utmsmall)
    let json = try GDALUtilities.info(src, arguments: ["-json"])
    XCTAssertTrue(json.contains("\"driverShortName\":\"GTiff\"") || json.contains("\"driverShortName\": \"GTiff\""), json)

    let vrt = try GDALUtilities.buildVRT([src], to: "", arguments: [])
    XCTAssertEqual(vrt.width, 100)
    XCTAssertEqual(try vrt.band(1).checksum(), try src.band(1).checksum())

    let out = MemoryFile(name: "w.tif")
    let warped = try GDALUtilities.warp([src], to: out.path, arguments: ["-t_srs", "EPSG:4326", "-of", "GTiff"])
    XCTAssertEqual(warped.spatialReference?.epsg, 4326)
    try warped.close()
  }
}
