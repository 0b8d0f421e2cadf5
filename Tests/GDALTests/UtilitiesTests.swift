import Foundation
import GDAL
import TestSupport
import XCTest

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
