import Foundation
import GDAL
import TestSupport
import XCTest
@testable import TesseraCore

/// band-stack against gdalbuildvrt -separate + gdal_translate on the same files.
final class BandStackTests: TemporaryDirectoryTestCase {
  func s2(_ band: String) -> String { Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_\(band).jp2") }
  var landsat: [String] { ["b3", "b4", "b5"].map { Fixture.path("eo-box/lsts/LT50350322008174PAC01_\($0).tif") } }

  @discardableResult
  func stack(_ inputs: [String], _ name: String, configure: (inout BandStackRequest) -> Void = { _ in }) throws -> (String, OperationReport) {
    var request = BandStackRequest(inputs: inputs, output: OutputSpec(path: dir.file(name)), resources: Resources(threads: 2))
    configure(&request)
    let report = try BandStack.run(request)
    return (dir.file(name), report)
  }

  /// GDAL's own stack of single-band files (each a VRT of one band, as 3.6's -separate takes band 1).
  func gdalStack(_ inputs: [(String, Int)], _ name: String, _ arguments: [String] = []) throws -> String {
    var singles: [String] = []
    for (i, (path, band)) in inputs.enumerated() {
      let single = dir.file("\(name)-\(i).vrt")
      try Oracle.tool("gdal_translate", ["-q", "-of", "VRT", "-b", "\(band)", path, single])
      singles.append(single)
    }
    try Oracle.tool("gdalbuildvrt", ["-q", "-separate"] + arguments + [dir.file("\(name).vrt")] + singles)
    try Oracle.tool("gdal_translate", ["-q", dir.file("\(name).vrt"), dir.file("\(name).tif")])
    return dir.file("\(name).tif")
  }

  func testFourSentinel2BandsAsGDALStacksThem() throws {
    let bands = ["B02", "B03", "B04", "B08"]
    let (ours, report) = try stack(bands.map(s2), "s2.tif")
    let theirs = try gdalStack(bands.map { (s2($0), 1) }, "s2-gdal")
    XCTAssertTrue(try PixelComparison.of(ours, theirs).identical)
    let out = try Dataset.open(ours)
    XCTAssertEqual(out.bands.map(\.description), bands)
    XCTAssertEqual(out.metadataItem("INTERLEAVE", domain: "IMAGE_STRUCTURE"), "BAND")
    guard case .array(let inputs)? = JSONValue.object(report.details)["inputs"] else { return XCTFail("no inputs") }
    XCTAssertEqual(inputs.count, 4)
    XCTAssertEqual(inputs[0]["name"], .string("B02"))
    XCTAssertEqual(inputs[0]["pixel_size"], .array([.int(10), .int(10)]))
  }

  func testDifferentGridsNeedAResolutionRule() throws {
    XCTAssertThrowsError(try stack([s2("B04"), s2("B11")], "mixed.tif")) { error in
      let e = TesseraError.from(error)
      XCTAssertEqual(e.status, .dataError)
      XCTAssertTrue(e.message.contains("B04.jp2 pixels of 10 x 10") && e.message.contains("B11.jp2 pixels of 20 x 20"), e.message)
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("mixed.tif")))
    for (rule, text) in [(MosaicRequest.ResolutionRule.highest, "highest"), (.lowest, "lowest")] {
      let (ours, _) = try stack([s2("B04"), s2("B11")], "\(text).tif") { $0.resolution = rule }
      let theirs = try gdalStack([(s2("B04"), 1), (s2("B11"), 1)], "\(text)-gdal", ["-resolution", text])
      XCTAssertTrue(try PixelComparison.of(ours, theirs).identical, text)
    }
    let (bilinear, _) = try stack([s2("B04"), s2("B11")], "bilinear.tif") { $0.resolution = .highest; $0.resampling = .bilinear }
    let theirs = try gdalStack([(s2("B04"), 1), (s2("B11"), 1)], "bilinear-gdal", ["-resolution", "highest", "-r", "bilinear"])
    XCTAssertTrue(try PixelComparison.of(bilinear, theirs).identical)
  }

  func testLandsatBandsKeepTheirNodataAndNames() throws {
    let (ours, _) = try stack(landsat, "landsat.tif") { $0.descriptions = ["red", "nir", "swir1"] }
    let theirs = try gdalStack(landsat.map { ($0, 1) }, "landsat-gdal")
    XCTAssertTrue(try PixelComparison.of(ours, theirs).identical)
    let out = try Dataset.open(ours)
    XCTAssertEqual(out.bands.map(\.description), ["red", "nir", "swir1"])
    XCTAssertEqual(try out.band(2).noDataValue, -9999)
    XCTAssertEqual(try out.band(1).dataType, .int16)
    // A narrowing --ot warns, and a nodata it cannot hold is dropped and reported.
    let (_, narrowed) = try stack(landsat, "uint16.tif") { $0.outputType = .uint16 }
    XCTAssertTrue(narrowed.warnings.contains { $0.contains("--ot UInt16") }, "\(narrowed.warnings)")
    XCTAssertNil(try Dataset.open(dir.file("uint16.tif")).band(1).noDataValue)
  }

  func testPicksMultiBandInputsExtentsAndColours() throws {
    // All three bands of RGB.byte, then its band 2 again.
    let (ours, _) = try stack([Fixture.rgbByte, Fixture.rgbByte + ":2"], "picks.tif") { $0.interleave = .pixel }
    let theirs = try gdalStack([(Fixture.rgbByte, 1), (Fixture.rgbByte, 2), (Fixture.rgbByte, 3), (Fixture.rgbByte, 2)], "picks-gdal")
    XCTAssertTrue(try PixelComparison.of(ours, theirs).identical)
    XCTAssertEqual(try Dataset.open(ours).metadataItem("INTERLEAVE", domain: "IMAGE_STRUCTURE"), "PIXEL")
    // Quadrants of one grid: union pads, intersection keeps the common area.
    let q = [1, 2].map { Fixture.path("rasterio/rgb\($0).tif") + ":1" }
    let (union, _) = try stack(q, "union.tif")
    XCTAssertTrue(try PixelComparison.of(union, try gdalStack(q.map { (String($0.dropLast(2)), 1) }, "union-gdal")).identical)
    let (common, _) = try stack(q, "common.tif") { $0.coverage = .intersection }
    XCTAssertLessThan(try Dataset.open(common).width, try Dataset.open(union).width)
    // Three bands named B04, B03, B02 are red, green, blue.
    let (rgb, _) = try stack([s2("B04"), s2("B03"), s2("B02")], "rgb.tif")
    XCTAssertEqual(try Dataset.open(rgb).bands.map(\.colorInterpretation), ["Red", "Green", "Blue"])
    let (nir, _) = try stack([s2("B08"), s2("B04"), s2("B03")], "nir.tif") { $0.colorInterpretation = ["red", "green", "blue"] }
    XCTAssertEqual(try Dataset.open(nir).bands.map(\.colorInterpretation), ["Red", "Green", "Blue"])
  }

  func testAnImagineInputAndBandNamesFromFileNames() throws {
    let img = dir.file("T33UUU_20170216T102101_B04.img")
    try Oracle.tool("gdal_translate", ["-q", "-of", "HFA", s2("B04"), img])
    let (ours, _) = try stack([img, s2("B08")], "img.tif")
    let theirs = try gdalStack([(s2("B04"), 1), (s2("B08"), 1)], "img-gdal")
    XCTAssertTrue(try PixelComparison.of(ours, theirs).identical)
    XCTAssertEqual(BandStack.bandName(fromFile: "LC08_L1TP_224077_20200518_20200518_01_RT_B5.TIF"), "B5")
    XCTAssertEqual(BandStack.bandName(fromFile: "T33UUU_20170216T102101_B8A.jp2"), "B8A")
    XCTAssertEqual(BandStack.bandName(fromFile: "T29UNU_20221005T115411_B04_60m.jp2"), "B04")
    XCTAssertNil(BandStack.bandName(fromFile: "scene.tif"))
  }

  func testBadInputs() throws {
    func status(_ inputs: [String], configure: (inout BandStackRequest) -> Void = { _ in }) -> ExitStatus? {
      var request = BandStackRequest(inputs: inputs, output: OutputSpec(path: dir.file("bad.tif")))
      configure(&request)
      do { _ = try BandStack.run(request); return .ok } catch { return TesseraError.from(error).status }
    }
    XCTAssertEqual(status([Fixture.rgbByte + ":4"]), .dataError)
    XCTAssertEqual(status([Fixture.rgbByte, Fixture.utmsmall]), .dataError, "two CRSs")
    XCTAssertEqual(status([dir.file("none.tif")]), .noInput)
    XCTAssertEqual(status([s2("B04"), s2("B08")]) { $0.descriptions = ["one"] }, .usage)
    XCTAssertEqual(dir.contents, [])
  }
}

extension BandStackTests {
  /// --resolution X aligns the grid to multiples of X, as gdalbuildvrt -tr X X -tap.
  func testAPixelSizeAlignsLikeGDALBuildVRTTap() throws {
    let (ours, _) = try stack([s2("B04"), s2("B11")], "tap.tif") { $0.resolution = .explicit(x: 25, y: 25) }
    let theirs = try gdalStack([(s2("B04"), 1), (s2("B11"), 1)], "tap-gdal", ["-tr", "25", "25", "-tap"])
    XCTAssertTrue(try PixelComparison.of(ours, theirs).identical)
    let a = try XCTUnwrap(try Dataset.open(ours).geoTransform), b = try XCTUnwrap(try Dataset.open(theirs).geoTransform)
    XCTAssertEqual(a, b)
    XCTAssertEqual(a[0].truncatingRemainder(dividingBy: 25), 0, "the corner on a multiple of 25")
    XCTAssertEqual(a[3].truncatingRemainder(dividingBy: 25), 0)
  }

  /// Inputs on one grid with a pixel size asked for are resampled as gdalbuildvrt -tr -tap does
  /// (this was exit 70: the one-grid path took the stack's new grid for theirs).
  func testOneGridResampledToAPixelSizeIsGDALBuildVRTTap() throws {
    let (ours, _) = try stack([landsat[0], landsat[1]], "one-grid-tap.tif") { $0.resolution = .explicit(x: 100, y: 100) }
    let theirs = try gdalStack([(landsat[0], 1), (landsat[1], 1)], "one-grid-tap-gdal", ["-tr", "100", "100", "-tap"])
    XCTAssertTrue(try PixelComparison.of(ours, theirs).identical)
    XCTAssertEqual(try Dataset.open(ours).geoTransform, try Dataset.open(theirs).geoTransform)
  }
}
