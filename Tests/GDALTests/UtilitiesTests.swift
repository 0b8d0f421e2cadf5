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

  /// A probe's warnings are its own (a warped VRT of two sources holds only the first, which is
  /// all a probe for the grid needs); the same call outside a probe still warns, and a probe's
  /// failures still throw.
  func testProbeWarningsStayWithTheProbe() throws {
    let a = try Dataset.open(Fixture.utmsmall), b = try Dataset.open(Fixture.utmsmall)
    GDALWarnings.shared.reset()
    let probe = try GDALUtilities.probeWarp([a, b], arguments: ["-t_srs", "EPSG:4326"])
    try probe.close()
    XCTAssertEqual(GDALWarnings.shared.all, [])
    try GDALUtilities.warp([a, b], to: "", arguments: ["-of", "VRT", "-t_srs", "EPSG:4326"]).close()
    XCTAssertTrue(GDALWarnings.shared.all.contains { $0.contains("first source dataset") }, "\(GDALWarnings.shared.all)")
    XCTAssertThrowsError(try GDALUtilities.probeWarp([a], arguments: ["-t_srs", "EPSG:0"]))
    GDALWarnings.shared.reset()
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
