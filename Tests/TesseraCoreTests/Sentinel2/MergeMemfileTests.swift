import Foundation
import GDAL
import TestSupport
import XCTest

@testable import TesseraCore

/// merge-memfile against GDAL's tools on the same band files, on real products and on the
/// synthetic ones Tools/s2products.py writes (two orbits of one tile; two tiles across UTM zones).
final class MergeMemfileTests: XCTestCase {
  nonisolated(unsafe) static var products: TemporaryDirectory?
  nonisolated(unsafe) static var orbits: [String] = []
  nonisolated(unsafe) static var zones: [String] = []
  nonisolated(unsafe) static var zoneZips: [String] = []

  var dir: TemporaryDirectory!

  override class func setUp() {
    super.setUp()
    guard let folder = try? TemporaryDirectory("tessera-s2") else { return }
    products = folder
    func generate(_ args: [String]) -> [String] {
      (try? SyntheticProducts.make(in: args[0], Array(args.dropFirst()))) ?? []
    }
    orbits = generate([folder.file("orbits"), "--scenario", "orbits", "--size", "600"])
    zoneZips = generate([folder.file("zones"), "--scenario", "zones", "--size", "300", "--bands", "B04,B08,SCL", "--zip"])
    zones = zoneZips.map { String($0.dropLast(4)) + ".SAFE" }
  }

  override class func tearDown() {
    products?.remove()
    super.tearDown()
  }

  override func setUpWithError() throws {
    dir = try TemporaryDirectory()
    XCTAssertEqual(Self.orbits.count, 2, "the synthetic product generator failed")
    XCTAssertEqual(Self.zones.count, 2, "the synthetic product generator failed")
  }

  override func tearDown() { dir.remove() }

  static let t29unu = Fixture.path("sentinel2/S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE")
  static let t01ubt = Fixture.path("sentinel2/S2B_MSIL2A_20230122T231849_N0400_R087_T01UBT_20230124T042703.SAFE")

  @discardableResult
  func merge(_ products: [String], _ name: String, bands: [Sentinel2Band], configure: (inout MergeMemfileRequest) -> Void = { _ in })
    throws -> (path: String, report: JSONValue)
  {
    var request = MergeMemfileRequest(products: products, output: OutputSpec(path: dir.file(name)), bands: bands, resources: Resources(threads: 2))
    configure(&request)
    let report = try MergeMemfile.run(request)
    return (request.output.path, .object(report.details))
  }

  func pixels(_ path: String, band index: Int = 1) throws -> [Double] { try PixelComparison.values(path, band: index) }

  func assertSame(_ a: [Double], _ b: [Double], tolerance: Double = 0, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
    let comparison = PixelComparison.of(a, b, tolerance: tolerance)
    XCTAssertTrue(comparison.identical, "\(message): \(comparison)", file: file, line: line)
  }

  func bandFile(_ product: String, _ band: String, _ resolution: Int) throws -> String {
    let root = product + "/GRANULE"
    let granule = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: root).first)
    let folder = "\(root)/\(granule)/IMG_DATA/R\(resolution)m"
    let name = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.contains("_\(band)_\(resolution)m.") })
    return folder + "/" + name
  }

  // MARK: - Reading products

  func testEveryProductLayoutIsRead() throws {
    let t29 = try XCTUnwrap(Sentinel2Product.open(Self.t29unu).first)
    XCTAssertEqual(t29.level, .l2a)
    XCTAssertEqual(t29.tile, "29UNU")
    XCTAssertEqual(t29.processingBaseline, "04.00")
    XCTAssertEqual(t29.offset(for: .b04), -1000)
    XCTAssertEqual(t29.quantification, 10000)
    XCTAssertEqual(t29.relativeOrbit, 23)
    XCTAssertEqual(t29.files.filter { $0.band == .b04 }.map(\.resolution).sorted(), [10, 20, 60])
    XCTAssertEqual(t29.files.filter { $0.exists }.map(\.band.rawValue).sorted(), ["B04", "B8A", "SCL"])
    // The MTD path names the same product.
    XCTAssertEqual(try Sentinel2Product.open(Self.t29unu + "/MTD_MSIL2A.xml").first?.id, t29.id)

    // Planetary Computer's layout: GeoTIFF band files, many listed files left out.
    let t01 = try XCTUnwrap(Sentinel2Product.open(Self.t01ubt).first)
    XCTAssertEqual(t01.tile, "01UBT")
    XCTAssertTrue(try t01.file(for: .b02, resolution: 60).path.hasSuffix("R10m/T01UBT_20230122T231849_B02_10m.tif"))
    XCTAssertTrue(try t01.file(for: .scl, resolution: 60).path.hasSuffix("R20m/T01UBT_20230122T231849_SCL_20m.tif"))

    // GDAL's fake products: offsets by processing baseline, L1C's RADIO_ADD_OFFSET.
    let fakes = Fixture.path("gdal_autotest/sentinel2")
    let old = try XCTUnwrap(Sentinel2Product.open(fakes + "/fake_l2a_MSIL2A/S2A_MSIL2A_20180818T094031_N0208_R036_T34VFJ_20180818T120345.SAFE/MTD_MSIL2A.xml").first)
    XCTAssertEqual(old.processingBaseline, "02.08")
    XCTAssertEqual(old.offset(for: .b04), 0)
    XCTAssertEqual(old.tile, "34VFJ")
    let new = try XCTUnwrap(Sentinel2Product.open(fakes + "/fake_l2a_processing_baseline_5_09/S2B_MSIL2A_20230823T095559_N0509_R122_T34UCF_20230823T124759.SAFE/MTD_MSIL2A.xml").first)
    XCTAssertEqual(new.offset(for: .b8a), -1000)
    XCTAssertEqual(new.offsetSource, "metadata")
    let l1c = try XCTUnwrap(Sentinel2Product.open(fakes + "/fake_l1c_processing_baseline_5_09/S2B_MSIL1C_20230823T095559_N0509_R122_T34UCF_20230823T120234.SAFE/MTD_MSIL1C.xml").first)
    XCTAssertEqual(l1c.level, .l1c)
    XCTAssertEqual(l1c.offset(for: .b02), -1000)
    let compact = try XCTUnwrap(Sentinel2Product.open(fakes + "/fake_l1c_safecompact/S2A_MSIL1C_test.SAFE").first)
    XCTAssertEqual(compact.tile, "30TXT")
    XCTAssertEqual(compact.level, .l1c)
    XCTAssertTrue(try compact.file(for: .b8a, resolution: 20).exists)
    XCTAssertThrowsError(try compact.file(for: .scl, resolution: 20))

    // A folder of L1C band files (eo-box) and a zipped product.
    let folder = try XCTUnwrap(Sentinel2Product.open(Fixture.path("eo-box/s2l1c")).first)
    XCTAssertEqual(folder.level, .l1c)
    XCTAssertEqual(folder.tile, "33UUU")
    XCTAssertEqual(folder.sensingTime, "2017-02-16T10:21:01Z")
    XCTAssertEqual(folder.offset(for: .b04), 0, "sensed before baseline 04.00")
    let zipped = try XCTUnwrap(Sentinel2Product.open(Self.zoneZips[0]).first)
    XCTAssertTrue(try zipped.file(for: .b04, resolution: 10).path.hasPrefix("/vsizip//"))
  }

  // MARK: - Missing data

  func testT29UNUFailsAt10mNamingTheMissingFileAndWorksAt60m() throws {
    XCTAssertThrowsError(try merge([Self.t29unu], "t29-10m.tif", bands: [.b04]) { $0.resolution = 10 }) { error in
      let failure = TesseraError.from(error)
      XCTAssertEqual(failure.status, .dataError)
      XCTAssertTrue(failure.message.contains("T29UNU_20221005T115411_B04_10m.jp2"), failure.message)
      XCTAssertTrue(failure.message.contains("missing"), failure.message)
    }
    XCTAssertEqual(dir.contents, [], "nothing written after the failure")

    let (out, report) = try merge([Self.t29unu], "t29-60m.tif", bands: [.b04, .b8a, .scl]) { $0.resolution = 60 }
    // The product's own files, unchanged: the merge of one product on its own grid is a copy.
    assertSame(try pixels(out, band: 1), try pixels(try bandFile(Self.t29unu, "B04", 60)), "B04")
    assertSame(try pixels(out, band: 2), try pixels(try bandFile(Self.t29unu, "B8A", 60)), "B8A")
    // GDAL's SENTINEL2 driver serves this one: its 60m subdataset's SCL band is the same.
    let subdataset = "SENTINEL2_L2A:\(Self.t29unu)/MTD_MSIL2A.xml:60m:EPSG_32629"
    let driver = try Dataset.open(subdataset)
    let sclIndex = try XCTUnwrap((1...driver.bandCount).first { (try? driver.band($0).metadataItem("BANDNAME")) == "SCL" })
    let driverSCL = try driver.band(sclIndex).read(Window(x: 0, y: 0, width: driver.width, height: driver.height), as: Double.self)
    assertSame(try pixels(out, band: 3), driverSCL, "SCL against the SENTINEL2 driver")
    XCTAssertEqual(report["grid"]?["resolution"], .int(60))
    XCTAssertEqual(report["products"]?[0]?["processing_baseline"], .string("04.00"))
  }

  // MARK: - Oracles

  func testTwoOrbitsEqualGDALBuildVRTOfTheBandFiles() throws {
    for order in [MosaicRequest.Order.last, .first] {
      let (out, report) = try merge(Self.orbits, "orbits-\(order).tif", bands: [.b04, .b08]) { $0.order = order }
      for (k, band) in ["B04", "B08"].enumerated() {
        let files = try Self.orbits.map { try bandFile($0, band, 10) }
        let vrt = dir.file("\(band)-\(order).vrt"), oracle = dir.file("\(band)-\(order).tif")
        try Oracle.tool("gdalbuildvrt", ["-q", "-srcnodata", "0", "-vrtnodata", "0", vrt] + (order == .last ? files : files.reversed()))
        try Oracle.tool("gdal_translate", ["-q", vrt, oracle])
        assertSame(try pixels(out, band: k + 1), try pixels(oracle), "\(band), order \(order)")
      }
      // The swath edge leaves part of the tile to A alone.
      if case .int(let overlap)? = report["overlap"]?["pixels"] {
        XCTAssertGreaterThan(overlap, 0)
        XCTAssertLessThan(overlap, 600 * 600)
      } else {
        XCTFail("no overlap in the report")
      }
    }
  }

  func testUTMZoneCrossingEqualsGDALWarpOfEachFileAndZipInputIsTheSame() throws {
    let (out, report) = try merge(Self.zones, "zones.tif", bands: [.b04, .scl])
    XCTAssertEqual(report["grid"]?["crs"]?["epsg"], .int(32632), "zone 32 covers most of the output")
    XCTAssertEqual(report["products"]?[1]?["reprojected"], .bool(true))
    let grid = try XCTUnwrap(report["grid"])
    func number(_ v: JSONValue?) -> Double {
      switch v { case .int(let i)?: return Double(i); case .number(let d)?: return d; default: return .nan }
    }
    let b = try XCTUnwrap(grid["bounds"])
    for (k, (band, resolution)) in [("B04", 10), ("SCL", 20)].enumerated() {
      var pieces: [String] = []
      for (i, product) in Self.zones.enumerated() {
        let window = try XCTUnwrap(report["products"]?[i]?["window"])
        let minX = number(b["minx"]) + number(window["x"]) * 10, maxY = number(b["maxy"]) - number(window["y"]) * 10
        let maxX = minX + number(window["width"]) * 10, minY = maxY - number(window["height"]) * 10
        let piece = dir.file("\(band)-\(i).tif")
        try Oracle.tool("gdalwarp", ["-q", "-t_srs", "EPSG:32632", "-te", "\(minX)", "\(minY)", "\(maxX)", "\(maxY)", "-tr", "10", "10",
                                     "-r", "near", "-srcnodata", "0", "-dstnodata", "0", "-multi", "-wo", "NUM_THREADS=2",
                                     try bandFile(product, band, resolution), piece])
        pieces.append(piece)
      }
      let vrt = dir.file("\(band).vrt"), oracle = dir.file("\(band)-oracle.tif")
      try Oracle.tool("gdalbuildvrt", ["-q", "-srcnodata", "0", "-vrtnodata", "0", "-te", "\(number(b["minx"]))", "\(number(b["miny"]))",
                                       "\(number(b["maxx"]))", "\(number(b["maxy"]))", vrt] + pieces)
      try Oracle.tool("gdal_translate", ["-q", vrt, oracle])
      assertSame(try pixels(out, band: k + 1), try pixels(oracle), "\(band) across zones")
    }
    // Through /vsizip/, never unpacked: the same pixels.
    let (zipped, _) = try merge(Self.zoneZips, "zones-zip.tif", bands: [.b04, .scl])
    XCTAssertTrue(try PixelComparison.of(zipped, out).identical)
    XCTAssertEqual(dir.contents.filter { $0.hasPrefix(".") }, [], "no staging file left")
  }

  func testEOBoxL1CBandFolderEqualsTheFilesAndGDALWarp() throws {
    let folder = Fixture.path("eo-box/s2l1c")
    let (out, report) = try merge([folder], "l1c.tif", bands: [.b04, .b08, .b05]) { $0.resolution = 10 }
    assertSame(try pixels(out, band: 1), try pixels(folder + "/T33UUU_20170216T102101_B04.jp2"), "B04")
    assertSame(try pixels(out, band: 2), try pixels(folder + "/T33UUU_20170216T102101_B08.jp2"), "B08")
    let oracle = dir.file("b05-10m.tif")
    try Oracle.tool("gdalwarp", ["-q", "-tr", "10", "10", "-r", "near", "-srcnodata", "0", "-dstnodata", "0",
                                 folder + "/T33UUU_20170216T102101_B05.jp2", oracle])
    assertSame(try pixels(out, band: 3), try pixels(oracle), "B05 made finer, nearest")
    XCTAssertEqual(report["products"]?[0]?["level"], .string("L1C"))
    XCTAssertThrowsError(try merge([folder], "l1c-clouds.tif", bands: [.b04]) { $0.maskClouds = true }) {
      XCTAssertEqual(TesseraError.from($0).status, .dataError)
    }
  }

  func testT01UBTGeoTIFFLayoutUsesTheFinerFileWhereTheListedOneIsLeftOut() throws {
    let (out, _) = try merge([Self.t01ubt], "t01.tif", bands: [.b02, .scl]) { $0.resolution = 1098 }
    assertSame(try pixels(out, band: 1), try pixels(try bandFile(Self.t01ubt, "B02", 10)), "B02")
    assertSame(try pixels(out, band: 2), try pixels(try bandFile(Self.t01ubt, "SCL", 20)), "SCL")
  }

  // MARK: - Reflectance and clouds

  func testReflectanceAppliesEachProductsOwnOffset() throws {
    let (out, report) = try merge(Self.orbits, "refl.tif", bands: [.b04]) { $0.reflectance = true }
    XCTAssertEqual(report["products"]?[0]?["offset_applied"]?["B04"], .int(-1000), "A is baseline 04.00")
    XCTAssertEqual(report["products"]?[1]?["offset_applied"]?["B04"], .int(0), "B is baseline 03.00")
    let a = try pixels(try bandFile(Self.orbits[0], "B04", 10)), b = try pixels(try bandFile(Self.orbits[1], "B04", 10))
    let expected = zip(a, b).map { pa, pb -> Double in
      if pb != 0 { return Double(Float(pb) / 10000) }
      if pa != 0 { return Double((Float(pa) - 1000) / 10000) }
      return .nan
    }
    let dataset = try Dataset.open(out)
    XCTAssertEqual(try dataset.band(1).dataType, .float32)
    XCTAssertTrue(try dataset.band(1).noDataValue?.isNaN ?? false)
    assertSame(try pixels(out), expected, "(DN + offset) / 10000")
    // The same ground has the same reflectance whichever baseline delivered it (the generator
    // makes it so): where both are clear, A with its offset removed equals B.
    var both = 0
    let scl = try pixels(try bandFile(Self.orbits[0], "SCL", 20))
    func clear(_ row: Int, _ col: Int) -> Bool {
      // The 20 m SCL pixel and its neighbours: the generator draws its cloud at each resolution.
      for r in max(0, row - 1)...min(299, row + 1) {
        for c in max(0, col - 1)...min(299, col + 1) where scl[r * 300 + c] != 4 && scl[r * 300 + c] != 5 { return false }
      }
      return true
    }
    for i in 0..<a.count where a[i] != 0 && b[i] != 0 {
      guard clear(i / 600 / 2, (i % 600) / 2) else { continue }
      both += 1
      XCTAssertEqual(a[i] - 1000, b[i], "pixel \(i)")
      if a[i] - 1000 != b[i] { break }
    }
    XCTAssertGreaterThan(both, 1000)
  }

  func testCloudMaskLetsTheOtherProductShowThrough() throws {
    let (out, report) = try merge(Self.orbits, "clouds.tif", bands: [.b04]) { $0.order = .first; $0.maskClouds = true }
    XCTAssertEqual(report["cloud_mask"]?["scl_classes"], .array([.int(3), .int(8), .int(9), .int(10)]))
    let a = try pixels(try bandFile(Self.orbits[0], "B04", 10)), b = try pixels(try bandFile(Self.orbits[1], "B04", 10))
    let sclA = try pixels(try bandFile(Self.orbits[0], "SCL", 20)), sclB = try pixels(try bandFile(Self.orbits[1], "SCL", 20))
    let masked: Set<Double> = [3, 8, 9, 10]
    var showThrough = 0
    let expected = (0..<a.count).map { i -> Double in
      let s = (i / 600 / 2) * 300 + (i % 600) / 2  // SCL is 20 m: nearest to 10 m repeats each pixel 2 x 2
      if a[i] != 0 && !masked.contains(sclA[s]) { return a[i] }
      if b[i] != 0 && !masked.contains(sclB[s]) {
        if a[i] != 0 { showThrough += 1 }
        return b[i]
      }
      return 0
    }
    assertSame(try pixels(out), expected, "first wins, clouds masked")
    XCTAssertGreaterThan(showThrough, 500, "B shows through A's cloud")
  }

  // MARK: - Staging

  func testStagingModesAgreeAndMemLimitMovesStagingToDisk() throws {
    let before = MemoryFile.list("/vsimem/tessera")
    var checksums: [String: JSONValue] = [:]
    for mode in MergeMemfileRequest.Staging.allCases {
      let (_, report) = try merge(Self.orbits, "stage-\(mode).tif", bands: [.b04, .b08]) { $0.staging = mode }
      XCTAssertEqual(report["staging"]?["mode"], .string(mode.rawValue))
      checksums[mode.rawValue] = report["bands"]
    }
    let (_, limited) = try merge(Self.orbits, "limited.tif", bands: [.b04, .b08]) {
      $0.memLimitBytes = 1 << 20
    }
    XCTAssertEqual(limited["staging"]?["mode"], .string("disk"))
    XCTAssertEqual(limited["staging"]?["requested"], .string("mem"))
    guard case .string(let note)? = limited["staging"]?["note"] else { return XCTFail("no staging note: \(limited)") }
    XCTAssertTrue(note.contains("temporary files beside the output"), note)
    XCTAssertEqual(checksums["mem"], checksums["vsimem"])
    XCTAssertEqual(checksums["disk"], checksums["vsimem"])
    XCTAssertEqual(limited["bands"], checksums["vsimem"])
    XCTAssertEqual(dir.contents, ["limited.tif", "stage-disk.tif", "stage-mem.tif", "stage-vsimem.tif"], "no staging file on disk")
    XCTAssertEqual(MemoryFile.list("/vsimem/tessera"), before, "no /vsimem/ file left")
  }

  func testAFailureMidwayLeavesNoStagingFileAnywhere() throws {
    // Product B with a truncated band file: it opens, and fails when staging reads it.
    let copy = dir.file("B.SAFE")
    try FileManager.default.copyItem(atPath: Self.orbits[1], toPath: copy)
    let broken = try bandFile(copy, "B08", 10)
    let data = try Data(contentsOf: URL(fileURLWithPath: broken))
    try data.prefix(data.count / 3).write(to: URL(fileURLWithPath: broken))
    let out = dir.file("out")
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let before = MemoryFile.list("/vsimem/tessera")
    for mode in [MergeMemfileRequest.Staging.vsimem, .disk] {
      var request = MergeMemfileRequest(products: [Self.orbits[0], copy], output: OutputSpec(path: out + "/m.tif"), bands: [.b04, .b08], resources: Resources(threads: 2))
      request.staging = mode
      XCTAssertThrowsError(try MergeMemfile.run(request)) { error in
        XCTAssertEqual(TesseraError.from(error).status, .dataError, "\(error)")
      }
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [], "\(mode): nothing beside the output")
      XCTAssertEqual(MemoryFile.list("/vsimem/tessera"), before, "\(mode): no /vsimem/ file left")
    }
  }

  func testCOGOutputIsValidAndHoldsTheSamePixels() throws {
    let before = MemoryFile.list("/vsimem/tessera")
    let (gtiff, _) = try merge(Self.orbits, "plain.tif", bands: [.b04, .b08, .scl])
    let (cog, report) = try merge(Self.orbits, "merged-cog.tif", bands: [.b04, .b08, .scl]) {
      $0.cog = COGSettings()
    }
    XCTAssertTrue(try COGValidator.validate(path: cog).isValid(strict: false))
    XCTAssertTrue(try PixelComparison.of(cog, gtiff).identical)
    XCTAssertEqual(report["cog"], .bool(true))
    XCTAssertEqual(report["validation"]?["valid"], .bool(true), "the export's validation object")
    XCTAssertEqual(dir.contents, ["merged-cog.tif", "plain.tif"])
    XCTAssertEqual(MemoryFile.list("/vsimem/tessera"), before, "the COG driver's temporary overviews are gone too")
  }

  // MARK: - validate-merge

  func testValidateMergePassesAndFails() throws {
    let (out, details) = try merge(Self.orbits, "v.tif", bands: [.b04, .b08])
    let reportPath = dir.file("v.json")
    try Data(JSONValue.object([("grid", details["grid"]!), ("bands", details["bands"]!)]).serialized().utf8)
      .write(to: URL(fileURLWithPath: reportPath))
    var good = MergeExpectations()
    good.bandNames = ["B04", "B08"]
    good.crs = "EPSG:32633"
    good.resolution = 10
    good.minValidFraction = 0.9
    good.againstReport = reportPath
    let passed = try MergeValidation.validate(path: out, expectations: good)
    XCTAssertTrue(passed.allSatisfy(\.passed), "\(passed.filter { !$0.passed })")
    XCTAssertGreaterThan(passed.count, 8)

    var bad = MergeExpectations()
    bad.bandCount = 3
    bad.crs = "EPSG:32632"
    bad.resolution = 20
    bad.minValidFraction = 1.0
    let failed = try MergeValidation.validate(path: out, expectations: bad).filter { !$0.passed }.map(\.name)
    XCTAssertTrue(failed.contains("band count") && failed.contains("crs") && failed.contains("resolution"), "\(failed)")

    // A file that differs from its report fails the checksum check.
    let (other, _) = try merge(Self.orbits, "w.tif", bands: [.b04, .b08]) { $0.order = .first }
    var against = MergeExpectations()
    against.againstReport = reportPath
    let mismatches = try MergeValidation.validate(path: other, expectations: against).filter { !$0.passed }.map(\.name)
    XCTAssertTrue(mismatches.contains("checksum of B04"), "\(mismatches)")
    XCTAssertTrue(mismatches.contains("content hash of B04"), "\(mismatches)")

    // Float32 reflectance between 0 and 1: GDAL's checksum sees values cast to integers (all 0
    // or 1); the content hash sees every bit.
    let (lastWins, lastReport) = try merge(Self.orbits, "rl.tif", bands: [.b04]) { $0.reflectance = true }
    let (firstWins, _) = try merge(Self.orbits, "rf.tif", bands: [.b04]) { $0.reflectance = true; $0.order = .first }
    let reflectanceReport = dir.file("rl.json")
    try Data(JSONValue.object([("grid", lastReport["grid"]!), ("bands", lastReport["bands"]!)]).serialized().utf8)
      .write(to: URL(fileURLWithPath: reflectanceReport))
    var floats = MergeExpectations()
    floats.againstReport = reflectanceReport
    XCTAssertTrue(try MergeValidation.validate(path: lastWins, expectations: floats).allSatisfy(\.passed))
    let floatMismatches = try MergeValidation.validate(path: firstWins, expectations: floats).filter { !$0.passed }.map(\.name)
    XCTAssertTrue(floatMismatches.contains("content hash of B04"), "\(floatMismatches)")
  }
}
