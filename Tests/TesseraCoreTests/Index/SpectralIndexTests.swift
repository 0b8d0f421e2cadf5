import Foundation
import GDAL
import TestSupport
import XCTest
@testable import TesseraCore

/// index against hand-computed values and numpy: nodata, zero denominators, negative values,
/// several indices in one pass, bindings, and the same bytes whatever the thread count.
final class SpectralIndexTests: TemporaryDirectoryTestCase {
  var red: String { Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_B04.jp2") }
  var nir: String { Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_B08.jp2") }

  /// A 4 x 1 Float32 raster of `values` with nodata -9999, on a small UTM grid.
  func tiny(_ name: String, _ values: [Float], bands: Int = 1) throws -> String {
    let path = dir.file(name)
    let ds = try Dataset.create(driver: "GTiff", path: path, width: values.count / bands, height: 1, bands: bands, type: .float32, options: [])
    try ds.setGeoTransform([500000, 10, 0, 4000000, 0, -10])
    try ds.setSpatialReference(try SpatialReference(epsg: 32633))
    let n = values.count / bands
    for b in 0..<bands {
      try ds.band(b + 1).setNoDataValue(-9999)
      try ds.band(b + 1).write(Window(x: 0, y: 0, width: n, height: 1), values: Array(values[(b * n)..<((b + 1) * n)]))
    }
    try ds.close()
    return path
  }

  func run(_ configure: (inout IndexRequest) -> Void, bindings: [String: IndexRequest.Binding], _ name: String, threads: Int = 2) throws -> String {
    var request = IndexRequest(bindings: bindings, output: OutputSpec(path: dir.file(name)), resources: Resources(threads: threads))
    configure(&request)
    _ = try SpectralIndex.run(request)
    return dir.file(name)
  }

  func values(_ path: String, band: Int = 1) throws -> [Double] { try PixelComparison.values(path, band: band) }

  func testHandComputedValues() throws {
    // Pixels: ordinary, a zero denominator, nodata in red, negative reflectance.
    let r = try tiny("r.tif", [0.1, 0, -9999, -0.05]), n = try tiny("n.tif", [0.5, 0, 0.4, 0.3])
    let g = try tiny("g.tif", [0.2, 0.1, 0.2, 0.1]), b = try tiny("b.tif", [0.05, 0.05, 0.05, 0.05])
    let s2 = try tiny("s2.tif", [0.3, 0.3, 0.3, 0.2]), s1 = try tiny("s1.tif", [0.25, 0.2, 0.2, 0.1])
    let bind = ["red": r, "nir": n, "green": g, "blue": b, "swir2": s2, "swir1": s1].mapValues { IndexRequest.Binding(path: $0, band: 1) }
    let out = try run({ $0.indices = ["ndvi", "rvi", "evi", "savi", "ndwi", "mndwi", "nbr"] }, bindings: bind, "all.tif")
    func check(_ band: Int, _ expected: [Double], _ name: String) throws {
      let got = try values(out, band: band)
      for (i, (a, e)) in zip(got, expected).enumerated() {
        if e.isNaN { XCTAssertTrue(a.isNaN, "\(name) pixel \(i): \(a)") } else { XCTAssertEqual(a, e, accuracy: 1e-6, "\(name) pixel \(i)") }
      }
    }
    try check(1, [0.4 / 0.6, .nan, .nan, 0.35 / 0.25], "ndvi")
    try check(2, [5, .nan, .nan, -6], "rvi")
    try check(3, [2.5 * 0.4 / (0.5 + 0.6 - 0.375 + 1), 2.5 * 0 / (0 + 0 - 0.375 + 1), .nan, 2.5 * 0.35 / (0.3 - 0.3 - 0.375 + 1)], "evi")
    // The catalogue's default L is 1.
    try check(4, [2 * 0.4 / (0.6 + 1), 0, .nan, 2 * 0.35 / (0.25 + 1)], "savi")
    try check(5, [-0.3 / 0.7, 1, -0.2 / 0.6, -0.2 / 0.4], "ndwi")
    try check(6, [-0.05 / 0.45, -0.1 / 0.3, 0, 0], "mndwi")
    try check(7, [0.2 / 0.8, -1, 0.1 / 0.7, 0.1 / 0.5], "nbr")
    XCTAssertEqual(try Dataset.open(out).bands.map(\.description), ["NDVI", "RVI", "EVI", "SAVI", "NDWI", "MNDWI", "NBR"])
    XCTAssertTrue(try Dataset.open(out).band(1).noDataValue?.isNaN ?? false)
  }

  func testNDVIOfTheSentinel2BandsEqualsNumpy() throws {
    let bind = ["red": IndexRequest.Binding(path: red, band: 1), "nir": IndexRequest.Binding(path: nir, band: 1)]
    let ours = try run({ $0.indices = ["ndvi"] }, bindings: bind, "ndvi.tif")
    let check = try Oracle.python("""
      import json, numpy as np
      from osgeo import gdal
      r = gdal.Open('\(red)').ReadAsArray().astype('f8'); n = gdal.Open('\(nir)').ReadAsArray().astype('f8')
      ours = gdal.Open('\(ours)').ReadAsArray().astype('f8')
      print(json.dumps(float(np.nanmax(np.abs(ours - (n - r) / (n + r))))))
      """) as? Double
    XCTAssertLessThan(try XCTUnwrap(check), 1e-6)
    // --expr over roles is the same index.
    let expr = try run({ $0.expressions = [.init("(nir - red) / (nir + red)")] }, bindings: bind, "expr.tif")
    XCTAssertTrue(try PixelComparison.of(expr, ours).identical)
    // Threads change nothing, byte for byte.
    let one = try run({ $0.indices = ["ndvi", "evi"]; $0.parameters = ["L": 1] },
                      bindings: bind.merging(["blue": IndexRequest.Binding(path: Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_B02.jp2"), band: 1)]) { a, _ in a },
                      "t1.tif", threads: 1)
    for threads in [2, 8] {
      let other = try run({ $0.indices = ["ndvi", "evi"] },
                          bindings: bind.merging(["blue": IndexRequest.Binding(path: Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_B02.jp2"), band: 1)]) { a, _ in a },
                          "t\(threads).tif", threads: threads)
      for band in 1...2 {
        let a = try values(one, band: band), b = try values(other, band: band)
        XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "\(threads) threads, band \(band)")
      }
    }
  }

  func testBandsOfOneInputAndDoublePrecision() throws {
    let four = try tiny("four.tif", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.8, 0.7, 0.6, 0.4, 0.5, 0.6, 0.7], bands: 4)
    let ours = try run({ $0.indices = ["ndvi"]; $0.type = .float64 },
                       bindings: ["red": .init(path: four, band: 3), "nir": .init(path: four, band: 4)], "four-ndvi.tif")
    XCTAssertEqual(try Dataset.open(ours).band(1).dataType, .float64)
    let reds: [Float] = [0.9, 0.8, 0.7, 0.6], nirs: [Float] = [0.4, 0.5, 0.6, 0.7]
    var expected: [Double] = []
    for (r, n) in zip(reds, nirs) {
      let dr = Double(r), dn = Double(n)
      expected.append((dn - dr) / (dn + dr))
    }
    for (a, e) in zip(try values(ours), expected) { XCTAssertEqual(a, e, accuracy: 1e-12) }
    let b = try run({ $0.expressions = [.init("b4 - b1")] }, bindings: ["b4": .init(path: four, band: 4), "b1": .init(path: four, band: 1)], "expr.tif")
    XCTAssertEqual(try values(b)[0], 0.3, accuracy: 1e-6)
  }

  func testBadRequests() throws {
    let bind = ["red": IndexRequest.Binding(path: red, band: 1), "nir": IndexRequest.Binding(path: nir, band: 1)]
    func status(_ configure: (inout IndexRequest) -> Void, _ bindings: [String: IndexRequest.Binding]) -> (ExitStatus, String) {
      var request = IndexRequest(bindings: bindings, output: OutputSpec(path: dir.file("bad.tif")))
      configure(&request)
      do { _ = try SpectralIndex.run(request); return (.ok, "") } catch { let e = TesseraError.from(error); return (e.status, e.message) }
    }
    let missing = status({ $0.indices = ["evi"] }, bind)
    XCTAssertEqual(missing.0, .usage)
    XCTAssertTrue(missing.1.contains("needs nir, red, blue") && missing.1.contains("missing blue"), missing.1)
    let unknown = status({ $0.indices = ["ndiv"] }, bind)
    XCTAssertEqual(unknown.0, .usage)
    XCTAssertTrue(unknown.1.contains("NDVI"), unknown.1)
    XCTAssertEqual(status({ $0.expressions = [.init("(nir - red")] }, bind).0, .usage)
    XCTAssertEqual(status({ $0.indices = ["ndvi"] }, ["red": .init(path: red, band: 1), "nir": .init(path: Fixture.rgbByte, band: 1)]).0, .dataError)
    XCTAssertEqual(status({ $0.indices = ["ndvi"] }, ["red": .init(path: red, band: 1), "nir": .init(path: dir.file("none.tif"), band: 1)]).0, .noInput)
    XCTAssertEqual(status({ $0.indices = ["ndvi"] }, ["red": .init(path: red, band: 2), "nir": .init(path: nir, band: 1)]).0, .dataError)
    XCTAssertEqual(status({ $0.indices = ["bai"] }, bind).0, .usage, "BAI or BaI")
    XCTAssertEqual(dir.contents, [])
  }
}

extension SpectralIndexTests {
  func testSentinel2ProductsInReflectance() throws {
    let t29 = Fixture.path("sentinel2/S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE")
    var request = IndexRequest(bindings: [:], output: OutputSpec(path: dir.file("t29.tif")), resources: Resources(threads: 2))
    request.indices = ["ndvi"]
    request.product = t29
    request.resolution = .explicit(x: 60, y: 60)
    let report = try SpectralIndex.run(request)
    guard case .array(let bands)? = JSONValue.object(report.details)["product"]?["bands"] else { return XCTFail("no product bands") }
    XCTAssertEqual(bands.compactMap { $0["band"] }, [.string("B8A"), .string("B04")], "at 60 m nir is B8A")
    let check = try Oracle.python("""
      import json, glob, numpy as np
      from osgeo import gdal
      base = glob.glob('\(t29)/GRANULE/*/IMG_DATA/R60m/')[0]
      r = gdal.Open(glob.glob(base + '*B04_60m.jp2')[0]).ReadAsArray().astype('f8')
      n = gdal.Open(glob.glob(base + '*B8A_60m.jp2')[0]).ReadAsArray().astype('f8')
      valid = (r > 0) & (n > 0)
      rr, nn = (r - 1000) / 10000, (n - 1000) / 10000
      with np.errstate(all='ignore'): ref = np.where(valid, (nn - rr) / (nn + rr), np.nan)
      ref[~np.isfinite(ref)] = np.nan
      ours = gdal.Open('\(dir.file("t29.tif"))').ReadAsArray().astype('f8')
      print(json.dumps([float(np.nanmax(np.abs(ours - ref.astype('f4')))), int((np.isnan(ours) != np.isnan(ref)).sum())]))
      """) as? [Double]
    XCTAssertEqual(check, [0, 0], "the offset-corrected formula over valid pixels")
    // At 10 m the metadata lists B08 and B04, which this snapshot lacks: 65 naming the file.
    request.resolution = .explicit(x: 10, y: 10)
    request.output = OutputSpec(path: dir.file("t29-10.tif"))
    XCTAssertThrowsError(try SpectralIndex.run(request)) { error in
      let e = TesseraError.from(error)
      XCTAssertEqual(e.status, .dataError)
      XCTAssertTrue(e.message.contains("_10m.jp2") && e.message.contains("missing"), e.message)
    }
  }

  /// Two synthetic products of one tile, baselines 03.00 (no offset) and 04.00 (offset −1000),
  /// hold the same reflectance: the same NDVI wherever both see the ground.
  func testBaselinesGiveTheSameNDVI() throws {
    let products = try SyntheticProducts.make(in: dir.file("s2"), ["--scenario", "orbits", "--size", "240", "--bands", "B04,B08,SCL"])
    XCTAssertEqual(products.count, 2)
    var outputs: [String] = []
    for (i, product) in products.enumerated() {
      var request = IndexRequest(bindings: [:], output: OutputSpec(path: dir.file("p\(i).tif")), resources: Resources(threads: 2))
      request.indices = ["ndvi"]
      request.product = product
      // Each orbit has its own clouds; the ground under neither is the same.
      request.maskClasses = [3, 8, 9, 10]
      _ = try SpectralIndex.run(request)
      outputs.append(dir.file("p\(i).tif"))
    }
    let a = try values(outputs[0]), b = try values(outputs[1])
    let width = try Dataset.open(outputs[0]).width
    // The cloud's thin edge is drawn on the 10 m bands but classified on the 20 m SCL: pixels
    // next to a masked one may carry it unmasked, so they are left out.
    func clear(_ i: Int) -> Bool {
      let (x, y) = (i % width, i / width)
      for dy in -2...2 { for dx in -2...2 {
        let j = (y + dy) * width + (x + dx)
        if x + dx < 0 || x + dx >= width || j < 0 || j >= a.count || a[j].isNaN || b[j].isNaN { return false }
      } }
      return true
    }
    var compared = 0, worst = 0.0
    for i in a.indices where clear(i) {
      compared += 1
      worst = max(worst, abs(a[i] - b[i]))
    }
    XCTAssertGreaterThan(compared, a.count / 2)
    XCTAssertLessThan(worst, 1e-6, "baselines differ by \(worst)")
    // Without the mask, the clouds are there: more valid pixels, and they differ.
    var unmasked = IndexRequest(bindings: [:], output: OutputSpec(path: dir.file("unmasked.tif")), resources: Resources(threads: 2))
    unmasked.indices = ["ndvi"]
    unmasked.product = products[0]
    _ = try SpectralIndex.run(unmasked)
    XCTAssertLessThan(try values(dir.file("unmasked.tif")).filter(\.isNaN).count, a.filter(\.isNaN).count)
    // The product's metadata is read too: no output may replace it, even with --overwrite.
    let metadata = products[0] + "/MTD_MSIL2A.xml"
    let before = try Data(contentsOf: URL(fileURLWithPath: metadata))
    unmasked.output = OutputSpec(path: metadata, overwrite: true)
    XCTAssertThrowsError(try SpectralIndex.run(unmasked)) { XCTAssertEqual(TesseraError.from($0).status, .usage) }
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: metadata)), before)
  }

  func testScaledIntegerOutputClampsAndCounts() throws {
    let r = try tiny("r.tif", [0.1, 0.0, -9999, 0.5]), n = try tiny("n.tif", [0.5, 0.4, 0.4, 0.1])
    var request = IndexRequest(bindings: ["red": .init(path: r, band: 1), "nir": .init(path: n, band: 1)],
                               output: OutputSpec(path: dir.file("int.tif")), resources: Resources(threads: 2))
    request.indices = ["ndvi", "rvi"]
    request.type = .int16
    request.outputScale = 0.0001
    let report = try SpectralIndex.run(request)
    let out = try Dataset.open(dir.file("int.tif"))
    XCTAssertEqual(try out.band(1).dataType, .int16)
    XCTAssertEqual(try out.band(1).noDataValue, -32768)
    XCTAssertEqual(try values(dir.file("int.tif")), [6667, 10000, -32768, -6667])
    // RVI × 10000 of 0.4/0.0 is infinite (nodata), 5 × 10000 = 50000 clamps to 32767.
    XCTAssertEqual(try values(dir.file("int.tif"), band: 2), [32767, -32768, -32768, 2000])
    XCTAssertEqual(JSONValue.object(report.details)["clamped_pixels"], .int(1))
  }
}

extension SpectralIndexTests {
  /// Landsat 5 band files found by name in a folder (`…_b3.tif` red, `…_b4.tif` nir), their
  /// nodata (-9999) kept out of the index.
  func testASensorsBandFilesAreFoundByName() throws {
    let folder = dir.file("landsat")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for band in ["b3", "b4", "b5"] {
      try FileManager.default.copyItem(atPath: Fixture.path("eo-box/lsts/LT50350322008174PAC01_\(band).tif"), toPath: folder + "/LT50350322008174PAC01_\(band).tif")
    }
    var request = IndexRequest(bindings: [:], output: OutputSpec(path: dir.file("ls.tif")), resources: Resources(threads: 2))
    request.indices = ["ndvi"]
    request.sensor = (.landsat5, folder)
    _ = try SpectralIndex.run(request)
    let red = try values(folder + "/LT50350322008174PAC01_b3.tif"), nir = try values(folder + "/LT50350322008174PAC01_b4.tif")
    let ours = try values(dir.file("ls.tif"))
    for i in ours.indices {
      if red[i] == -9999 || nir[i] == -9999 { XCTAssertTrue(ours[i].isNaN); continue }
      XCTAssertEqual(ours[i], (nir[i] - red[i]) / (nir[i] + red[i]), accuracy: 1e-6)
    }
    // NBR needs swir2, B7 on every Landsat: this folder has none.
    request.indices = ["nbr"]
    request.output = OutputSpec(path: dir.file("nbr.tif"))
    XCTAssertThrowsError(try SpectralIndex.run(request)) { error in
      let e = TesseraError.from(error)
      XCTAssertEqual(e.status, .noInput)
      XCTAssertTrue(e.message.contains("B7"), e.message)
    }
  }
}

extension SpectralIndexTests {
  /// `--resolution`: every input resampled onto that grid as gdalwarp -tr -te does it.
  func testAResolutionResamplesEveryInput() throws {
    var request = IndexRequest(bindings: ["red": .init(path: red, band: 1), "nir": .init(path: nir, band: 1)],
                               output: OutputSpec(path: dir.file("r20.tif")), resources: Resources(threads: 2))
    request.indices = ["ndvi"]
    request.resolution = .explicit(x: 20, y: 20)
    _ = try SpectralIndex.run(request)
    let out = try Dataset.open(dir.file("r20.tif"))
    XCTAssertEqual([out.width, out.height], [768, 384])
    let e = try XCTUnwrap(out.extent)
    let te = ["-te", "\(e.minX)", "\(e.minY)", "\(e.maxX)", "\(e.maxY)", "-tr", "20", "20", "-r", "bilinear"]
    try Oracle.tool("gdalwarp", ["-q"] + te + [red, dir.file("r.tif")])
    try Oracle.tool("gdalwarp", ["-q"] + te + [nir, dir.file("n.tif")])
    let r = try values(dir.file("r.tif")), n = try values(dir.file("n.tif")), ours = try values(dir.file("r20.tif"))
    for i in stride(from: 0, to: ours.count, by: 97) {
      XCTAssertEqual(ours[i], Double(Float((n[i] - r[i]) / (n[i] + r[i]))), accuracy: 1e-7, "pixel \(i)")
    }
  }
}
