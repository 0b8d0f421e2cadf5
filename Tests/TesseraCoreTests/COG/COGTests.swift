import Foundation
import GDAL
import TestSupport
import XCTest

@testable import TesseraCore

/// validate-cog against GDAL's validate_cloud_optimized_geotiff.py, and cog-export's outputs.
final class COGTests: TemporaryDirectoryTestCase {

  /// GDAL's own validator (python3-gdal), with the full block check.
  func gdalVerdict(_ path: String) throws -> (errors: [String], ifd: [String: Int], data: [String: Int]) {
    let script = """
      import json
      from osgeo import gdal
      from osgeo_utils.samples.validate_cloud_optimized_geotiff import validate
      gdal.UseExceptions()
      result = validate(\(String(reflecting: path)), full_check=True)
      warnings, errors, details = result if len(result) == 3 else ([],) + tuple(result)
      print(json.dumps({"errors": errors, "ifd": details.get("ifd_offsets", {}), "data": details.get("data_offsets", {})}))
      """
    let object = try Oracle.python(script) as? [String: Any] ?? [:]
    return (object["errors"] as? [String] ?? [], object["ifd"] as? [String: Int] ?? [:], object["data"] as? [String: Int] ?? [:])
  }

  func assertAgrees(_ path: String, valid: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
    let ours = try COGValidator.validate(path: path)
    let theirs = try gdalVerdict(path)
    XCTAssertEqual(ours.isValid(strict: false), valid, "\(path): \(ours.errors)", file: file, line: line)
    XCTAssertEqual(theirs.errors.isEmpty, valid, "GDAL on \(path): \(theirs.errors)", file: file, line: line)
    XCTAssertEqual(Set(ours.errors), Set(theirs.errors), path, file: file, line: line)
    let details = Dictionary(ours.details.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
    if case .object(let ifd)? = details["ifd_offsets"] {
      XCTAssertEqual(Dictionary(ifd.compactMap { k, v in if case .int(let i) = v { return (k, i) } else { return nil } }, uniquingKeysWith: { a, _ in a }), theirs.ifd, file: file, line: line)
    }
    if case .object(let data)? = details["data_offsets"] {
      XCTAssertEqual(Dictionary(data.compactMap { k, v in if case .int(let i) = v { return (k, i) } else { return nil } }, uniquingKeysWith: { a, _ in a }), theirs.data, file: file, line: line)
    }
  }

  func testReferenceCOGsAreValid() throws {
    for path in ["rasterio/cogeo.tif", "rio-tiler/cog.tif", "rio-tiler/mosaic_cog1.tif", "rio-tiler/mosaic_cog2.tif"] {
      try assertAgrees(Fixture.path(path), valid: true)
    }
  }

  func testStripedGeoTIFFIsInvalid() throws {
    try assertAgrees(Fixture.rgbByte, valid: false)
    let ours = try COGValidator.validate(path: Fixture.rgbByte)
    XCTAssertFalse(ours.warnings.isEmpty, "no overviews on a 791 px image should warn")
  }

  func testTiledGeoTIFFWithExternalOverviewsIsInvalid() throws {
    let path = dir.file("tiled.tif")
    try Oracle.tool("gdal_translate", ["-q", "-co", "TILED=YES", Fixture.rgbByte, path])
    try Oracle.tool("gdaladdo", ["-q", "-ro", path, "2", "4"])
    XCTAssertTrue(FileManager.default.fileExists(atPath: path + ".ovr"))
    try assertAgrees(path, valid: false)
    XCTAssertTrue(try COGValidator.validate(path: path).errors.contains { $0.contains("external .ovr") })
  }

  func testCOGEditedInPlaceIsInvalid() throws {
    let path = dir.file("edited.tif")
    try Oracle.tool("gdal_translate", ["-q", "-of", "COG", Fixture.rgbByte, path])
    try assertAgrees(path, valid: true)
    // Opening a COG for update and writing a block breaks its layout; GDAL says so in the ghost area.
    let edit = try Dataset.open(path, access: .update)
    try edit.band(1).write(Window(x: 0, y: 0, width: 4, height: 4), values: [UInt8](repeating: 7, count: 16))
    try edit.close()
    try assertAgrees(path, valid: false)
  }

  func testBigTIFFCOGIsValid() throws {
    let path = dir.file("big.tif")
    try Oracle.tool("gdal_translate", ["-q", "-of", "COG", "-co", "BIGTIFF=YES", Fixture.rgbByte, path])
    try assertAgrees(path, valid: true)
    XCTAssertTrue(try COGValidator.validate(path: path).details.contains { $0.0 == "bigtiff" && $0.1 == .bool(true) })
  }

  /// GDAL writes block leaders little-endian even in big-endian files; its validator reads them
  /// so, and so does Tessera's (classic and BigTIFF, with a mask interleaved).
  func testBigEndianCOGLayoutsAgreeWithGDAL() throws {
    let staged = dir.file("staged.tif")
    try Oracle.tool("gdal_translate", ["-q", "-co", "TILED=YES", Fixture.rgbByte, staged])
    try Oracle.tool("gdaladdo", ["-q", "-r", "average", staged, "2", "4"])
    for bigTIFF in ["NO", "YES"] {
      for mask in [false, true] {
        let path = dir.file("be-\(bigTIFF)-\(mask).tif")
        var args = ["-q", "-co", "ENDIANNESS=BIG", "-co", "BIGTIFF=\(bigTIFF)", "-co", "TILED=YES", "-co", "COPY_SRC_OVERVIEWS=YES"]
        if mask { args += ["-mask", "1"] }
        try Oracle.tool("gdal_translate", args + [staged, path])
        try assertAgrees(path, valid: true)
      }
    }
  }

  /// validate-cog's verdict against GDAL's validate_cloud_optimized_geotiff.py over a generated
  /// set: both byte orders, classic and BigTIFF, with and without masks, in COG layout, merely
  /// tiled, striped, edited in place, and truncated. Where GDAL's script fails on a file (it
  /// raises on some truncated ones) its verdict counts as "not valid".
  func testVerdictsAgreeWithGDALsValidatorOverGeneratedTIFFs() throws {
    let staged = dir.file("staged.tif")
    try Oracle.tool("gdal_translate", ["-q", "-co", "TILED=YES", Fixture.rgbByte, staged])
    try Oracle.tool("gdaladdo", ["-q", "-r", "average", staged, "2", "4"])
    var files: [String] = []
    for order in ["LITTLE", "BIG"] {
      for bigTIFF in ["NO", "YES"] {
        for mask in [false, true] {
          let tag = "\(order)-\(bigTIFF)-\(mask)"
          let common = ["-q", "-co", "ENDIANNESS=\(order)", "-co", "BIGTIFF=\(bigTIFF)"] + (mask ? ["-mask", "1"] : [])
          let cog = dir.file("cog-\(tag).tif")
          try Oracle.tool("gdal_translate", common + ["-co", "TILED=YES", "-co", "COPY_SRC_OVERVIEWS=YES", staged, cog])
          let tiled = dir.file("tiled-\(tag).tif")
          try Oracle.tool("gdal_translate", common + ["-co", "TILED=YES", Fixture.rgbByte, tiled])
          let striped = dir.file("striped-\(tag).tif")
          try Oracle.tool("gdal_translate", common + [Fixture.rgbByte, striped])
          // Edited in place: a block rewritten after the layout was made.
          let edited = dir.file("edited-\(tag).tif")
          try FileManager.default.copyItem(atPath: cog, toPath: edited)
          _ = try Oracle.python("""
            from osgeo import gdal
            ds = gdal.Open('\(edited)', gdal.GA_Update)
            ds.GetRasterBand(1).WriteRaster(0, 0, 8, 8, bytes(64))
            ds = None
            print(1)
            """)
          let bytes = try Data(contentsOf: URL(fileURLWithPath: cog))
          let truncated = dir.file("truncated-\(tag).tif")
          try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: truncated))
          files += [cog, tiled, striped, edited, truncated]
        }
      }
    }
    var disagreements: [String] = []
    var valid = 0
    for file in files {
      let ours = (try? COGValidator.validate(path: file))?.isValid(strict: false) ?? false
      let theirs = (try? gdalVerdict(file)).map { $0.errors.isEmpty } ?? false
      if ours != theirs { disagreements.append("\((file as NSString).lastPathComponent): tessera \(ours), GDAL \(theirs)") }
      if ours { valid += 1 }
    }
    print("validate-cog against GDAL's validator: \(files.count) generated TIFFs (\(valid) valid), \(disagreements.count) disagreements")
    XCTAssertEqual(disagreements, [])
    // Both verdicts occur: the COG layouts (and the small tiled files) are valid, the rest not.
    XCTAssertGreaterThanOrEqual(valid, 8)
    XCTAssertLessThan(valid, files.count)
  }

  func testNotATIFFAndMissingFiles() throws {
    let junk = dir.file("junk.tif")
    try Data("not a tiff at all".utf8).write(to: URL(fileURLWithPath: junk))
    XCTAssertThrowsError(try COGValidator.validate(path: junk)) { XCTAssertEqual(($0 as? TesseraError)?.status, .dataError) }
    XCTAssertThrowsError(try COGValidator.validate(path: dir.file("none.tif"))) { XCTAssertEqual(TesseraError.from($0).status, .noInput) }
    // A truncated COG: its IFD chain points past the end.
    let cut = dir.file("cut.tif")
    try Data(try Data(contentsOf: URL(fileURLWithPath: Fixture.path("rasterio/cogeo.tif"))).prefix(600)).write(to: URL(fileURLWithPath: cut))
    XCTAssertThrowsError(try COGValidator.validate(path: cut)) { XCTAssertEqual(($0 as? TesseraError)?.status, .dataError) }
  }

  // MARK: - cog-export

  /// A Float32 raster over 512 px, so it gets overviews.
  func float32Fixture() throws -> String {
    let path = dir.file("float32.tif")
    try Oracle.tool("gdal_translate", ["-q", "-ot", "Float32", "-b", "1", "-scale", "0", "65535", "0", "1", Fixture.path("rio-tiler/mosaic_cog1.tif"), path])
    return path
  }

  func export(_ input: String, _ name: String, configure: (inout COGSettings) -> Void = { _ in }) throws -> String {
    var request = COGExportRequest(input: input, output: OutputSpec(path: dir.file(name)), resources: Resources(threads: 2))
    configure(&request.cog)
    _ = try COGExport.run(request)
    return request.output.path
  }

  func overviewCount(_ path: String) throws -> Int { try Dataset.open(path).band(1).overviewCount }

  func testEveryProfileOnByteUInt16AndFloat32() throws {
    let inputs = [("byte", Fixture.rgbByte), ("uint16", Fixture.path("rio-tiler/mosaic_cog1.tif")), ("float32", try float32Fixture())]
    for profile in COGSettings.Profile.allCases {
      for (kind, input) in inputs {
        let name = "\(profile.rawValue)-\(kind).tif"
        if profile.isLossy && kind != "byte" {
          XCTAssertThrowsError(try export(input, name) { $0.profile = profile }) { error in
            XCTAssertEqual((error as? TesseraError)?.status, .usage, name)
          }
          continue
        }
        let output = try export(input, name) { $0.profile = profile }
        XCTAssertTrue(try COGValidator.validate(path: output).isValid(strict: true), name)
        XCTAssertTrue(try gdalVerdict(output).errors.isEmpty, "GDAL's validator rejects \(name)")
        if !profile.isLossy {
          let comparison = try PixelComparison.of(output, input)
          XCTAssertTrue(comparison.identical, "\(name): \(comparison)")
        }
        // GDAL's COG driver, asked the same, makes the same number of overviews.
        let theirs = dir.file("gdal-\(name)")
        try Oracle.tool("gdal_translate", ["-q", "-of", "COG", "-co", "COMPRESS=\(profile.compress)", input, theirs])
        XCTAssertEqual(try overviewCount(output), try overviewCount(theirs), name)
        XCTAssertGreaterThan(try overviewCount(output), 0, name)
      }
    }
  }

  /// Tessera only changes how the driver is fed; the file must be the driver's, byte for byte.
  func testOutputIsByteIdenticalToGDALsCOG() throws {
    let input = Fixture.path("rio-tiler/mosaic_cog1.tif")
    let ours = try export(input, "ours.tif") { $0.overviewResampling = .average }
    let theirs = dir.file("theirs.tif")
    try Oracle.tool("gdal_translate", ["-q", "-of", "COG", "-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=YES", "-co", "BLOCKSIZE=512",
                                       "-co", "OVERVIEW_RESAMPLING=AVERAGE", "-co", "BIGTIFF=NO", "-co", "NUM_THREADS=2", input, theirs])
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: ours)), try Data(contentsOf: URL(fileURLWithPath: theirs)))
  }

  /// --web-optimized reprojects with the overview resampling unless --warp-resampling says
  /// otherwise; either way the file is the COG driver's, byte for byte, for that method.
  func testWebOptimizedStatesItsWarpResampling() throws {
    let input = Fixture.path("gdal_autotest/utmsmall.tif")
    for warp in [Resampling?.none, .bilinear] {
      let ours = try export(input, "web-\(warp?.rawValue ?? "default").tif") {
        $0.webOptimized = true
        $0.warpResampling = warp
      }
      let theirs = dir.file("web-gdal-\(warp?.rawValue ?? "default").tif")
      try Oracle.tool("gdal_translate", ["-q", "-of", "COG", "-co", "TILING_SCHEME=GoogleMapsCompatible",
                                         "-co", "WARP_RESAMPLING=\((warp ?? .average).gdalName.uppercased())",
                                         "-co", "OVERVIEW_RESAMPLING=AVERAGE", "-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=YES", "-co", "BLOCKSIZE=512",
                                         "-co", "BIGTIFF=NO", "-co", "NUM_THREADS=2", input, theirs])
      XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: ours)), try Data(contentsOf: URL(fileURLWithPath: theirs)), "\(String(describing: warp))")
    }
  }

  func testLossyProfilesRefuseWhatTheirCodecsCannotTake() throws {
    let paletted = dir.file("paletted.tif")
    _ = try Oracle.python("""
      from osgeo import gdal
      ds = gdal.GetDriverByName('GTiff').Create('\(paletted)', 32, 32, 1, gdal.GDT_Byte)
      table = gdal.ColorTable(); table.SetColorEntry(1, (255, 0, 0, 255))
      ds.GetRasterBand(1).SetRasterColorTable(table); ds.GetRasterBand(1).Fill(1); ds = None
      print(1)
      """)
    for (input, profile, text) in [(paletted, COGSettings.Profile.jpeg, "paletted"), (Fixture.path("gdal_autotest/byte.tif"), .webp, "takes 3, 4 bands")] {
      XCTAssertThrowsError(try export(input, "lossy.tif") { $0.profile = profile }) { error in
        XCTAssertEqual((error as? TesseraError)?.status, .usage)
        XCTAssertTrue("\(error)".contains(text), "\(error)")
      }
    }
    XCTAssertFalse(dir.contents.contains("lossy.tif"))
  }

  func testOptionsReachTheDriver() throws {
    let categorical = Fixture.path("rio-tiler/cog.tif")
    let noOverviews = try export(Fixture.rgbByte, "none.tif") { $0.overviews = .none }
    XCTAssertEqual(try overviewCount(noOverviews), 0)
    XCTAssertFalse(try COGValidator.validate(path: noOverviews).warnings.isEmpty)
    let one = try export(categorical, "one.tif") { $0.overviews = .count(1); $0.blockSize = 256 }
    XCTAssertEqual(try overviewCount(one), 1)
    XCTAssertEqual(try Dataset.open(one).band(1).blockSize.width, 256)
    let predictor = try export(Fixture.rgbByte, "pred.tif")
    XCTAssertEqual(try Dataset.open(predictor).metadataItem("PREDICTOR", domain: "IMAGE_STRUCTURE"), "2")
    let floatPredictor = try export(try float32Fixture(), "pred3.tif")
    XCTAssertEqual(try Dataset.open(floatPredictor).metadataItem("PREDICTOR", domain: "IMAGE_STRUCTURE"), "3")
    let masked = try export(Fixture.rgbByte, "mask.tif") { $0.addMask = true }
    XCTAssertEqual(try Dataset.open(masked).band(1).maskKind, .perDataset)
    let nodata = try export(Fixture.utmsmall, "nodata.tif") { $0.nodata = .value(255) }
    XCTAssertEqual(try Dataset.open(nodata).band(1).noDataValue, 255)
    let web = try export(Fixture.utmsmall, "web.tif") { $0.webOptimized = true }
    XCTAssertEqual(try Dataset.open(web).spatialReference?.epsg, 3857)
    let big = try export(Fixture.utmsmall, "bigtiff.tif") { $0.bigTIFF = .yes }
    XCTAssertTrue(try COGValidator.validate(path: big).details.contains { $0.0 == "bigtiff" && $0.1 == .bool(true) })
  }

  func testCategoricalOverviewsUseNearest() throws {
    // A paletted raster: with nearest, every overview value is an index the full image uses;
    // averaging would invent indices in between.
    let paletted = dir.file("paletted.tif")
    try Oracle.tool("rgb2pct.py", ["-n", "32", Fixture.rgbByte, paletted])
    XCTAssertTrue(try Dataset.open(paletted).band(1).hasColorTable)
    let output = try export(paletted, "paletted-cog.tif")
    let ds = try Dataset.open(output)
    let band = try ds.band(1)
    let full = Set(try band.read(Window(x: 0, y: 0, width: ds.width, height: ds.height), as: UInt8.self))
    guard let overview = band.overview(0) else { return XCTFail("no overview") }
    let values = try overview.read(Window(x: 0, y: 0, width: overview.width, height: overview.height), as: UInt8.self)
    XCTAssertTrue(Set(values).isSubset(of: full), "overview holds values the image does not: \(Set(values).subtracting(full))")
  }

  func testBadInputs() throws {
    XCTAssertThrowsError(try export(dir.file("missing.tif"), "x.tif")) { XCTAssertEqual(TesseraError.from($0).status, .noInput) }
    let corrupt = dir.file("corrupt.tif")
    try Data((0..<2000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: corrupt))
    XCTAssertThrowsError(try export(corrupt, "y.tif")) { XCTAssertEqual(TesseraError.from($0).status, .dataError) }
    try Data("old".utf8).write(to: URL(fileURLWithPath: dir.file("exists.tif")))
    XCTAssertThrowsError(try export(Fixture.rgbByte, "exists.tif")) { XCTAssertEqual(($0 as? TesseraError)?.status, .cannotCreate) }
    XCTAssertEqual(dir.contents.sorted(), ["corrupt.tif", "exists.tif"])
  }

  /// The TIFF reader takes every field as untrusted: thousands of seeded mutations of real
  /// headers (bytes replaced in the first IFDs, tag types and counts, offsets past the end,
  /// truncations) end as a validation result or an error for the file, never a trap.
  func testTheTIFFReaderSurvivesDamagedStructures() throws {
    var rng = SeededGenerator(seed: 0xC06_7E57)
    let sources = ["gdal_autotest/byte.tif", "rasterio/cogeo.tif", "rio-tiler/cog.tif", "gdal_autotest/utmsmall.tif"]
    var outcomes = (valid: 0, invalid: 0, refused: 0)
    for source in sources {
      let pristine = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixture.path(source))))
      // Damage lands where the structure is: the header, the first IFDs and their arrays.
      let structure = Swift.min(pristine.count, 4096)
      for _ in 0..<500 {
        var bytes = pristine
        for _ in 0..<(1 + rng.next(below: 6)) {
          bytes[rng.next(below: structure)] = UInt8(truncatingIfNeeded: rng.next())
        }
        if rng.next(below: 4) == 0 { bytes = Array(bytes.prefix(rng.next(below: bytes.count))) }
        let path = dir.file("mutated.tif")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
          let result = try COGValidator.validate(path: path)
          if result.isValid(strict: false) { outcomes.valid += 1 } else { outcomes.invalid += 1 }
        } catch let error as TesseraError {
          XCTAssertEqual(error.status, .dataError, error.message)
          outcomes.refused += 1
        }
      }
    }
    // Every outcome occurs, so the mutations reach past the header checks.
    XCTAssertGreaterThan(outcomes.refused, 0)
    XCTAssertGreaterThan(outcomes.invalid + outcomes.valid, 0)
  }
}
