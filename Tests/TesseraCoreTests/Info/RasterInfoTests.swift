import Foundation
import GDAL
import TestSupport
import XCTest
@testable import TesseraCore

/// `tessera info` against `gdalinfo -json` on the same files.
final class RasterInfoTests: XCTestCase {
  private func assertAgreesWithGDALInfo(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let ours = try RasterInfo.read(path: path)
    let theirs = try Oracle.gdalinfo(path)
    XCTAssertEqual(ours.driver, theirs["driverShortName"] as? String, file: file, line: line)
    let size = theirs["size"] as? [Int]
    XCTAssertEqual([ours.width, ours.height], size, file: file, line: line)
    // gdalinfo prints 16 significant digits.
    let theirGT = theirs["geoTransform"] as? [Double]
    XCTAssertEqual(ours.geoTransform?.count, theirGT?.count, file: file, line: line)
    for (a, b) in zip(ours.geoTransform ?? [], theirGT ?? []) {
      XCTAssertEqual(a, b, accuracy: abs(b) * 1e-15 + 1e-15, file: file, line: line)
    }

    // CRS: the same CRS as gdalinfo's coordinateSystem.wkt (GDAL itself varies the spelling).
    let theirCRS = (theirs["coordinateSystem"] as? [String: Any])?["wkt"] as? String
    XCTAssertEqual(ours.crs == nil, theirCRS == nil, file: file, line: line)
    if let wkt = ours.crs?.wkt, let theirCRS {
      XCTAssertTrue(try SpatialReference(userInput: wkt).isSame(as: SpatialReference(userInput: theirCRS)), file: file, line: line)
      XCTAssertEqual(ours.crs?.name, try SpatialReference(userInput: theirCRS).name, file: file, line: line)
    }

    // Corners: our bounds are exactly gdalinfo's corner coordinates' extent.
    if let corners = theirs["cornerCoordinates"] as? [String: [Double]], let b = ours.bounds {
      let xs = ["upperLeft", "lowerLeft", "upperRight", "lowerRight"].compactMap { corners[$0]?[0] }
      let ys = ["upperLeft", "lowerLeft", "upperRight", "lowerRight"].compactMap { corners[$0]?[1] }
      // gdalinfo rounds corners to 3 decimals (7 for degrees).
      XCTAssertEqual(b.minX, xs.min() ?? .nan, accuracy: 1e-3, file: file, line: line)
      XCTAssertEqual(b.maxX, xs.max() ?? .nan, accuracy: 1e-3, file: file, line: line)
      XCTAssertEqual(b.minY, ys.min() ?? .nan, accuracy: 1e-3, file: file, line: line)
      XCTAssertEqual(b.maxY, ys.max() ?? .nan, accuracy: 1e-3, file: file, line: line)
    }
    // WGS 84 bounds: densified edges contain gdalinfo's transformed corners and stay close to them.
    if let extent = (theirs["wgs84Extent"] as? [String: Any])?["coordinates"] as? [[[Double]]], let b = ours.boundsWGS84 {
      let ring = extent[0]
      for point in ring {
        XCTAssertTrue(point[0] >= b.minX - 1e-7 && point[0] <= b.maxX + 1e-7, "\(point) outside \(b)", file: file, line: line)
        XCTAssertTrue(point[1] >= b.minY - 1e-7 && point[1] <= b.maxY + 1e-7, "\(point) outside \(b)", file: file, line: line)
      }
      XCTAssertEqual(b.minX, ring.map { $0[0] }.min() ?? .nan, accuracy: 0.01, file: file, line: line)
      XCTAssertEqual(b.maxY, ring.map { $0[1] }.max() ?? .nan, accuracy: 0.01, file: file, line: line)
    }

    let theirBands = theirs["bands"] as? [[String: Any]] ?? []
    XCTAssertEqual(ours.bands.count, theirBands.count, file: file, line: line)
    for (b, t) in zip(ours.bands, theirBands) {
      XCTAssertEqual(b.type.rawValue, t["type"] as? String, file: file, line: line)
      XCTAssertEqual([b.block.width, b.block.height], t["block"] as? [Int], file: file, line: line)
      XCTAssertEqual(b.nodata, t["noDataValue"] as? Double, file: file, line: line)
      XCTAssertEqual(b.description, t["description"] as? String ?? "", file: file, line: line)
      XCTAssertEqual(b.colorInterpretation, t["colorInterpretation"] as? String, file: file, line: line)
      XCTAssertEqual(b.offset, t["offset"] as? Double ?? 0, file: file, line: line)
      XCTAssertEqual(b.scale, t["scale"] as? Double ?? 1, file: file, line: line)
      XCTAssertEqual(b.overviewCount, (t["overviews"] as? [Any])?.count ?? 0, file: file, line: line)
    }
    let structure = (theirs["metadata"] as? [String: Any])?["IMAGE_STRUCTURE"] as? [String: String] ?? [:]
    XCTAssertEqual(ours.compression, structure["COMPRESSION"], file: file, line: line)
    XCTAssertEqual(ours.interleave, structure["INTERLEAVE"], file: file, line: line)
    // Where GDAL marks the layout, info agrees; cogeo.tif is a COG without the marker.
    if structure["LAYOUT"] == "COG" { XCTAssertTrue(ours.isCOG, file: file, line: line) }
    let theirSubdatasets = (theirs["metadata"] as? [String: Any])?["SUBDATASETS"] as? [String: String] ?? [:]
    XCTAssertEqual(ours.subdatasets.count * 2, theirSubdatasets.count, file: file, line: line)
    for (i, s) in ours.subdatasets.enumerated() {
      XCTAssertEqual(s.name, theirSubdatasets["SUBDATASET_\(i + 1)_NAME"], file: file, line: line)
      XCTAssertEqual(s.description, theirSubdatasets["SUBDATASET_\(i + 1)_DESC"], file: file, line: line)
    }
  }

  func testRGBByteAgreesWithGDALInfo() throws {
    try assertAgreesWithGDALInfo(Fixture.rgbByte)
    let info = try RasterInfo.read(path: Fixture.rgbByte)
    XCTAssertEqual(info.crs?.epsg, 32618)
    XCTAssertEqual(info.bands.map(\.nodata), [0, 0, 0])
    XCTAssertEqual(info.interleave, "PIXEL")
  }

  func testUTMSmallAgreesWithGDALInfo() throws { try assertAgreesWithGDALInfo(Fixture.utmsmall) }

  func testN43AgreesWithGDALInfo() throws {
    try assertAgreesWithGDALInfo(Fixture.n43)
    XCTAssertEqual(try RasterInfo.read(path: Fixture.n43).crs?.epsg, 4326)
  }

  func testSentinel2JP2BandAgreesWithGDALInfo() throws {
    try assertAgreesWithGDALInfo(Fixture.s2Band)
    let info = try RasterInfo.read(path: Fixture.s2Band)
    XCTAssertEqual(info.driver, "JP2OpenJPEG")
    XCTAssertEqual(info.crs?.epsg, 32633)
  }

  func testSentinel2ProductListsItsSubdatasets() throws {
    try assertAgreesWithGDALInfo(Fixture.t29unuMetadata)
    let info = try RasterInfo.read(path: Fixture.t29unuMetadata)
    XCTAssertEqual(info.subdatasets.count, 4)
    XCTAssertTrue(info.subdatasets[2].name.hasSuffix(":60m:EPSG_32629"))
    XCTAssertTrue(info.subdatasets[2].description.contains("60m"))
  }

  func testTiledFileWithOverviewsAgreesWithGDALInfo() throws {
    try assertAgreesWithGDALInfo(Fixture.path("rasterio/cogeo.tif"))
    let info = try RasterInfo.read(path: Fixture.path("rasterio/cogeo.tif"))
    XCTAssertEqual(info.crs?.epsg, 3857)
    XCTAssertGreaterThan(info.overviewCount, 0)
    XCTAssertTrue(info.isCOG, "a valid COG without GDAL's LAYOUT marker")
  }

  func testCOGLayoutIsRecognised() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let out = dir.file("cog.tif")
    let src = try Dataset.open(Fixture.rgbByte)
    try Dataset.createCopy(of: src, driver: "COG", path: out, options: ["COMPRESS=DEFLATE"]).close()
    XCTAssertTrue(try RasterInfo.read(path: out).isCOG)
    XCTAssertFalse(try RasterInfo.read(path: Fixture.rgbByte).isCOG)
  }

  func testTheSameFileGivesTheSameTextWhateverWasReadBefore() throws {
    let first = try RasterInfo.read(path: Fixture.rgbByte).json.serialized()
    _ = try RasterInfo.read(path: Fixture.n43)
    _ = try SpatialReference(epsg: 4326).wkt()
    XCTAssertEqual(try RasterInfo.read(path: Fixture.rgbByte).json.serialized(), first)
  }

  func testJSONShapeHasTheDocumentedKeys() throws {
    let json = try RasterInfo.read(path: Fixture.rgbByte, statistics: true).json
    guard case .object(let pairs) = json else { return XCTFail("not an object") }
    XCTAssertEqual(pairs.map(\.0), [
      "path", "driver", "width", "height", "band_count", "crs", "geotransform", "pixel_size", "bounds",
      "bounds_wgs84", "bands", "compression", "interleave", "overview_count", "cog", "subdatasets",
    ])
    guard case .array(let bands)? = json["bands"], case .object(let band)? = bands.first else { return XCTFail() }
    XCTAssertEqual(band.map(\.0), [
      "index", "type", "nodata", "description", "block", "offset", "scale", "color_interpretation", "overview_count", "stats",
    ])
    XCTAssertEqual(json["crs"]?["epsg"], .int(32618))
  }
}
