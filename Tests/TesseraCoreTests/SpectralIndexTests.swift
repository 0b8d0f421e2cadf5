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
    let expr = try run({ $0.expression = "(nir - red) / (nir + red)" }, bindings: bind, "expr.tif")
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
    let ours = try run({ $0.indices = ["ndvi"]; $0.precision = .double },
                       bindings: ["red": .init(path: four, band: 3), "nir": .init(path: four, band: 4)], "four-ndvi.tif")
    XCTAssertEqual(try Dataset.open(ours).band(1).dataType, .float64)
    let reds: [Float] = [0.9, 0.8, 0.7, 0.6], nirs: [Float] = [0.4, 0.5, 0.6, 0.7]
    var expected: [Double] = []
    for (r, n) in zip(reds, nirs) {
      let dr = Double(r), dn = Double(n)
      expected.append((dn - dr) / (dn + dr))
    }
    for (a, e) in zip(try values(ours), expected) { XCTAssertEqual(a, e, accuracy: 1e-12) }
    let b = try run({ $0.expression = "b4 - b1" }, bindings: ["b4": .init(path: four, band: 4), "b1": .init(path: four, band: 1)], "expr.tif")
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
    XCTAssertEqual(status({ $0.expression = "(nir - red" }, bind).0, .usage)
    XCTAssertEqual(status({ $0.indices = ["ndvi"] }, ["red": .init(path: red, band: 1), "nir": .init(path: Fixture.rgbByte, band: 1)]).0, .dataError)
    XCTAssertEqual(status({ $0.indices = ["ndvi"] }, ["red": .init(path: red, band: 1), "nir": .init(path: dir.file("none.tif"), band: 1)]).0, .noInput)
    XCTAssertEqual(status({ $0.indices = ["ndvi"] }, ["red": .init(path: red, band: 2), "nir": .init(path: nir, band: 1)]).0, .dataError)
    XCTAssertEqual(status({ $0.indices = ["bai"] }, bind).0, .usage, "BAI or BaI")
    XCTAssertEqual(dir.contents, [])
  }
}
