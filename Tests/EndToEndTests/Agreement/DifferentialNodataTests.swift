import Foundation
import GDAL
import TestSupport
import XCTest

/// The seeded differential test's nodata cases (issue 24): band-stack of inputs with per-band
/// nodata against gdalbuildvrt -separate + gdal_translate, and integer index outputs with
/// clamping against numpy; valid counts against what GDAL reads (the band's mask).
extension DifferentialTests {
  /// Runs a Python snippet (numpy, osgeo) with arguments and parses its JSON output.
  func pythonJSON(_ script: String, _ arguments: [String]) throws -> Any {
    let result = try Run.process(Oracle.python, ["-c", script] + arguments, environment: ["GDAL_PAM_ENABLED": "NO"])
    guard result.status == 0 else {
      XCTFail("python3-gdal failed: \(result.stderr)")
      return NSNull()
    }
    return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8), options: [.fragmentsAllowed])
  }

  /// Writes a seeded random one-band raster; prints per band nodata and GDAL's valid count.
  static let makeRaster = """
    import json, sys
    import numpy as np
    from osgeo import gdal, osr
    path, type_name, seed, low, high, nodata = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
    rng = np.random.default_rng(seed)
    values = rng.uniform(low, high, (7, 9))
    if type_name not in ('Float32', 'Float64'): values = np.round(values)
    if nodata != 'none': values[rng.random((7, 9)) < 0.2] = float(nodata)
    ds = gdal.GetDriverByName('GTiff').Create(path, 9, 7, 1, gdal.GetDataTypeByName(type_name))
    ds.SetGeoTransform([300000, 20, 0, 5000000, 0, -20])
    srs = osr.SpatialReference(); srs.ImportFromEPSG(32633); ds.SetProjection(srs.ExportToWkt())
    band = ds.GetRasterBand(1)
    if nodata != 'none': band.SetNoDataValue(float(nodata))
    band.WriteArray(values)
    ds = None
    ds = gdal.Open(path)
    print(json.dumps(int((ds.GetRasterBand(1).GetMaskBand().ReadAsArray() > 0).sum())))
    """

  static let validCounts = """
    import json, sys
    from osgeo import gdal
    ds = gdal.Open(sys.argv[1])
    b = [ds.GetRasterBand(i + 1) for i in range(ds.RasterCount)]
    print(json.dumps({'valid': [int((x.GetMaskBand().ReadAsArray() > 0).sum()) for x in b], 'nodata': [x.GetNoDataValue() for x in b]}))
    """

  func testNodataCasesAgreeWithGDALAndNumpy() throws {
    var rng = SeededGenerator(seed: DifferentialTests.seed ^ 0x0DA7A)
    var failures: [String] = []
    // band-stack: 2-4 inputs of one type, each with its own nodata (or none).
    for i in 0..<5 {
      let type = ["UInt16", "Int16", "Byte"][rng.next(below: 3)]
      let choices: [String] = type == "Byte" ? ["none", "0", "255", "7"] : type == "UInt16" ? ["none", "0", "65535", "9"] : ["none", "-32768", "0", "-9999"]
      let count = 2 + rng.next(below: 3)
      var inputs: [String] = [], nodata: [String] = [], valid: [Int] = []
      for k in 0..<count {
        let path = dir.file("stack\(i)-\(k).tif")
        let value = choices[rng.next(below: choices.count)]
        let ok = try XCTUnwrap(try pythonJSON(Self.makeRaster, [path, type, "\(rng.next(below: 1 << 30))", "0", "200", value]) as? Int)
        inputs.append(path); nodata.append(value); valid.append(ok)
      }
      let out = dir.file("stack\(i).tif"), reference = dir.file("stack\(i)-gdal.tif"), vrt = dir.file("stack\(i).vrt")
      let run = try TesseraBinary.run(["band-stack"] + inputs + ["-o", out, "--json"])
      guard run.status == 0, let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] else {
        failures.append("band-stack \(inputs): \(run.stderr)"); continue
      }
      try Oracle.tool("gdalbuildvrt", ["-q", "-separate", vrt] + inputs)
      try Oracle.tool("gdal_translate", ["-q", vrt, reference])
      let comparison = try PixelComparison.of(out, reference)
      if !comparison.identical { failures.append("band-stack \(inputs) vs gdal_translate: \(comparison)") }
      // Bands not listed in nodata_dropped keep exactly the validity GDAL read in their input.
      let dropped = Set((json["nodata_dropped"] as? [[String: Any]] ?? []).compactMap { $0["band"] as? Int })
      let first = nodata.first { $0 != "none" }
      let expectedDropped = Set(nodata.indices.filter { nodata[$0] != (first ?? "none") }.map { $0 + 1 })
      if dropped != expectedDropped { failures.append("band-stack \(nodata): nodata_dropped \(dropped.sorted()), expected \(expectedDropped.sorted())") }
      let read = try XCTUnwrap(try pythonJSON(Self.validCounts, [out]) as? [String: Any])
      let outValid = read["valid"] as? [Int] ?? []
      for b in 1...count where !dropped.contains(b) && outValid[b - 1] != valid[b - 1] {
        failures.append("band-stack \(nodata): band \(b) has \(outValid[b - 1]) valid pixels, its input \(valid[b - 1]), and is not listed as changed")
      }
      if !dropped.isEmpty && !run.stderr.contains("band \(dropped.min() ?? 0)") { failures.append("band-stack \(nodata): no warning: \(run.stderr)") }
    }
    // index: integer outputs with clamping, against numpy (value / --output-scale, rounded half away
    // from zero, then clipped to the type's range less the nodata value).
    let numpyIndex = """
      import json, sys
      import numpy as np
      from osgeo import gdal
      src, type_name, scale, fill = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
      ds = gdal.Open(src); b = ds.GetRasterBand(1); x = b.ReadAsArray().astype(np.float64); nd = b.GetNoDataValue()
      info = np.iinfo(getattr(np, type_name.lower().replace('byte', 'uint8')))
      lo, hi = float(info.min), float(info.max)
      if fill == lo: lo += 1
      if fill == hi: hi -= 1
      v = x / scale
      v = np.sign(v) * np.floor(np.abs(v) + 0.5)
      v = np.clip(v, lo, hi)
      v[x == nd] = fill
      print(json.dumps({'values': v.ravel().tolist(), 'valid': int((v != fill).sum())}))
      """
    for i in 0..<8 {
      let type = ["Int16", "UInt16", "Byte", "Int32", "UInt32"][rng.next(below: 5)]
      let scale = [100.0, 1000.0, 10000.0, 1e6][rng.next(below: 4)]
      let input = dir.file("index\(i).tif")
      _ = try pythonJSON(Self.makeRaster, [input, "Float32", "\(rng.next(below: 1 << 30))", "-6", "6", "-9999"])
      let out = dir.file("index\(i)-out.tif")
      let givenNodata = rng.next(below: 3) == 0
      var args = ["index", "--expr", "b1", input, "-o", out, "--ot", type, "--output-scale", "\(1 / scale)", "--json"]
      if givenNodata { args += ["--dst-nodata", "0"] }
      let run = try TesseraBinary.run(args)
      guard run.status == 0, let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
        let fill = json["nodata"] as? Double
      else { failures.append("index \(args): \(run.stderr)"); continue }
      let expectedFill: Double = givenNodata ? 0 : (type.hasPrefix("U") || type == "Byte" ? ["Byte": 255, "UInt16": 65535, "UInt32": 4_294_967_295][type] ?? 0 : ["Int16": -32768, "Int32": -2_147_483_648][type] ?? 0)
      if fill != expectedFill { failures.append("index \(type): nodata \(fill), expected \(expectedFill)") }
      let oracle = try XCTUnwrap(try pythonJSON(numpyIndex, [input, type, "\(1 / scale)", "\(expectedFill)"]) as? [String: Any])
      let expected = oracle["values"] as? [Double] ?? []
      let comparison = PixelComparison.of(try PixelComparison.values(out), expected)
      if !comparison.identical { failures.append("index \(type) ×\(scale) nodata \(expectedFill) vs numpy: \(comparison)") }
      let read = try XCTUnwrap(try pythonJSON(Self.validCounts, [out]) as? [String: Any])
      let reported = json["valid_pixels"] as? [Int] ?? []
      if reported != (read["valid"] as? [Int] ?? []) || reported != [oracle["valid"] as? Int ?? -1] {
        failures.append("index \(type) ×\(scale): valid_pixels \(reported), GDAL reads \(read["valid"] ?? ""), numpy \(oracle["valid"] ?? "")")
      }
    }
    XCTAssertEqual(failures, [], failures.joined(separator: "\n"))
  }
}
