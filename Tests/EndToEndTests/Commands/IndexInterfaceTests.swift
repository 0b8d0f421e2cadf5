import Foundation
import GDAL
import TestSupport
import XCTest

/// index's interface (issue #26): `-i` bindings, one band per `--expr`, `--ot` of every type with
/// GDAL's scale and offset, `--resolution` rules, roles from band descriptions, the warning about
/// digital numbers, every missing role in one line, and the dropped spellings refused naming the
/// new ones.
final class IndexInterfaceTests: TemporaryDirectoryTestCase {
  /// A 40 x 30 scene of digital numbers (100…4999, UInt16; × `scale` as Float32 when it is not 1),
  /// in EPSG:32633 at 10 m, whose bands are described as given.
  func scene(_ name: String, descriptions: [String] = ["B02", "B03", "B04", "B08"], scale: Double = 1) throws -> String {
    let path = dir.file(name)
    let script = """
      import json
      import numpy as np
      from osgeo import gdal, osr
      names = [\(descriptions.map { "'\($0)'" }.joined(separator: ", "))]
      scale = \(scale)
      ds = gdal.GetDriverByName('GTiff').Create('\(path)', 40, 30, len(names), gdal.GDT_UInt16 if scale == 1 else gdal.GDT_Float32)
      ds.SetGeoTransform([500000, 10, 0, 4000000, 0, -10])
      srs = osr.SpatialReference(); srs.ImportFromEPSG(32633); ds.SetProjection(srs.ExportToWkt())
      rng = np.random.default_rng(7)
      for i, n in enumerate(names):
          b = ds.GetRasterBand(i + 1); b.SetDescription(n)
          b.WriteArray(rng.integers(100, 5000, (30, 40)).astype(np.float64) * scale)
      ds = None
      print(json.dumps(True))
      """
    _ = try Oracle.python(script)
    return path
  }

  /// numpy's value of `formula` (over bands as b1…bn, as float64) for every pixel of `path`,
  /// rounded to float32 as index's default output holds it unless `float64`.
  func numpy(_ path: String, _ formula: String, float64: Bool = false) throws -> [Double] {
    let script = """
      import json
      import numpy as np
      from osgeo import gdal
      ds = gdal.Open('\(path)')
      for i in range(ds.RasterCount):
          globals()['b%d' % (i + 1)] = ds.GetRasterBand(i + 1).ReadAsArray().astype(np.float64)
      print(json.dumps([float(v) for v in np.\(float64 ? "float64" : "float32")(\(formula)).ravel()]))
      """
    return try XCTUnwrap(try Oracle.python(script) as? [Double])
  }

  /// Each band's stored values × GDAL's scale + offset as numpy reads them (Int8 is GDAL 3.6's
  /// signed Byte), with the band's scale, offset and type.
  func unscaled(_ path: String) throws -> [[String: Any]] {
    let script = """
      import json
      import numpy as np
      from osgeo import gdal
      ds = gdal.Open('\(path)'); out = []
      for i in range(ds.RasterCount):
          b = ds.GetRasterBand(i + 1); x = b.ReadAsArray()
          if b.GetMetadataItem('PIXELTYPE', 'IMAGE_STRUCTURE') == 'SIGNEDBYTE': x = x.view(np.int8)
          s, o = b.GetScale(), b.GetOffset()
          v = np.where(x == b.GetNoDataValue(), np.nan, x.astype(np.float64) * s + o)
          out.append({'values': [None if np.isnan(t) else float(t) for t in v.ravel()], 'scale': s, 'offset': o,
                      'type': gdal.GetDataTypeName(b.DataType), 'stored': [int(t) if x.dtype.kind in 'iu' else float(t) for t in x.ravel()]})
      print(json.dumps(out))
      """
    return try XCTUnwrap(try Oracle.python(script) as? [[String: Any]])
  }

  func report(_ run: ProcessResult) throws -> [String: Any] {
    XCTAssertEqual(run.status, 0, run.stderr)
    return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stdout)
  }

  // MARK: - Bindings

  /// -i ROLE=FILE:N, -i ROLE=N (band N of INPUT), several in one value, a file with a comma in
  /// its name and a file named like a number (./3) all bind the same bands: one NDVI, numpy's.
  func testEveryBindingSpellingGivesTheSameNDVI() throws {
    let s2 = try scene("s2.tif")
    try FileManager.default.copyItem(atPath: s2, toPath: dir.file("a,b.tif"))
    try FileManager.default.copyItem(atPath: s2, toPath: dir.file("3"))
    let spellings: [[String]] = [
      ["-i", "red=\(s2):3", "-i", "nir=\(s2):4"],
      [s2, "-i", "red=3", "-i", "nir=4"],
      [s2, "-i", "red=3,nir=4"],
      ["-i", "red=\(dir.file("a,b.tif")):3,nir=\(dir.file("a,b.tif")):4"],
      ["-i", "red=./3:3", "-i", "nir=./3:4"],
      ["--input", "red=\(s2):3", "--input=nir=\(s2):4"],
    ]
    let expected = try numpy(s2, "(b4 - b3) / (b4 + b3)")
    for (i, args) in spellings.enumerated() {
      let out = dir.file("ndvi\(i).tif")
      let run = try TesseraBinary.run(["index", "ndvi"] + args + ["-o", out, "-q"], in: dir.path)
      XCTAssertEqual(run.status, 0, "\(args): \(run.stderr)")
      let comparison = PixelComparison.of(try PixelComparison.values(out), expected, tolerance: 1e-6)
      XCTAssertTrue(comparison.identical, "\(args): \(comparison)")
    }
  }

  /// Every dropped spelling is 64, one line naming the new one, nothing written.
  func testOldSpellingsAre64NamingTheNewOnes() throws {
    let s2 = try scene("s2.tif")
    let before = try FolderSnapshot(dir.path)
    let cases: [([String], String)] = [
      (["ndvi", s2, "--bands", "red=3,nir=4"], "-i red=3,nir=4"),
      (["ndvi", "--band", "red=\(s2):3", "--band", "nir=\(s2):4"], "-i red=\(s2):3"),
      (["ndvi", s2, "-b", "3"], "-i ROLE=3"),
      (["ndvi", s2, "--band", "3"], "-i ROLE=3"),
      (["ndvi", s2, "-i", "red=3,nir=4", "--precision", "double"], "--ot Float64"),
      (["ndvi", s2, "-i", "red=3,nir=4", "--ot", "Int16", "--scale", "10000"], "--output-scale 0.0001"),
    ]
    for (args, new) in cases {
      let run = try TesseraBinary.run(["index"] + args + ["-o", dir.file("o.tif")])
      XCTAssertEqual(run.status, 64, "\(args): \(run.stderr)")
      XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
      XCTAssertTrue(run.stderr.contains(new), "\(args) should name \(new): \(run.stderr)")
    }
    XCTAssertEqual(try FolderSnapshot(dir.path), before, "nothing written")
  }

  /// A missing-role error names every missing role in one line.
  func testEveryMissingRoleIsNamedInOneLine() throws {
    let plain = try scene("plain.tif", descriptions: ["", "", "", ""])
    let run = try TesseraBinary.run(["index", "evi,ndwi", plain, "-o", dir.file("o.tif")])
    XCTAssertEqual(run.status, 64, run.stderr)
    XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
    XCTAssertTrue(run.stderr.contains("missing nir, red, blue, green"), run.stderr)
    let some = try TesseraBinary.run(["index", "evi,ndwi", plain, "-i", "red=3", "-o", dir.file("o.tif")])
    XCTAssertEqual(some.status, 64, some.stderr)
    XCTAssertTrue(some.stderr.contains("missing nir, blue, green") && some.stderr.contains("bound: red"), some.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("o.tif")))
  }

  // MARK: - Descriptions and digital numbers

  /// Without -i, roles come from the band descriptions (Sentinel-2 names or role names), each
  /// said on stderr; the result is the one explicit bindings give.
  func testRolesAreBoundByBandDescriptions() throws {
    let s2 = try scene("s2.tif")
    let run = try TesseraBinary.run(["index", "ndvi,ndwi", s2, "-o", dir.file("d.tif")])
    XCTAssertEqual(run.status, 0, run.stderr)
    for said in ["red is band 3 of \(s2) (described B04)", "nir is band 4 of \(s2) (described B08)", "green is band 2 of \(s2) (described B03)"] {
      XCTAssertTrue(run.stderr.contains(said), "\(said): \(run.stderr)")
    }
    XCTAssertEqual(try TesseraBinary.run(["index", "ndvi,ndwi", s2, "-i", "red=3,nir=4,green=2", "-o", dir.file("e.tif"), "-q"]).status, 0)
    XCTAssertTrue(try PixelComparison.of(dir.file("d.tif"), dir.file("e.tif")).identical)

    let named = try scene("named.tif", descriptions: ["nir", "Red"])
    let byName = try TesseraBinary.run(["index", "ndvi", named, "-o", dir.file("n.tif")])
    XCTAssertEqual(byName.status, 0, byName.stderr)
    XCTAssertTrue(byName.stderr.contains("red is band 2") && byName.stderr.contains("nir is band 1"), byName.stderr)
    let comparison = PixelComparison.of(try PixelComparison.values(dir.file("n.tif")), try numpy(named, "(b1 - b2) / (b1 + b2)"), tolerance: 1e-6)
    XCTAssertTrue(comparison.identical, "\(comparison)")
  }

  /// A reflectance index over digital numbers warns once, suggesting --input-scale 0.0001; scaled
  /// inputs, reflectance inputs and --expr (no catalogue index) do not.
  func testDigitalNumbersInAReflectanceIndexWarnOnce() throws {
    let dn = try scene("dn.tif")
    let warned = try TesseraBinary.run(["index", "ndvi,evi", dn, "-o", dir.file("w.tif"), "--json"])
    let json = try report(warned)
    let lines = warned.stderr.split(separator: "\n").filter { $0.hasPrefix("warning:") }
    XCTAssertEqual(lines.count, 1, warned.stderr)
    XCTAssertTrue(lines.first?.contains("--input-scale 0.0001") ?? false, warned.stderr)
    XCTAssertTrue(lines.first?.contains("nir, red, blue") ?? false, warned.stderr)
    XCTAssertEqual((json["warnings"] as? [String])?.filter { $0.contains("--input-scale 0.0001") }.count, 1, "\(json)")

    let reflectance = try scene("r.tif", scale: 0.0001)
    for args in [["ndvi", dn, "--input-scale", "0.0001"], ["ndvi", reflectance], ["--expr", "(nir - red) / (nir + red)", dn]] {
      let run = try TesseraBinary.run(["index"] + args + ["-o", dir.file("q.tif"), "--overwrite"])
      XCTAssertEqual(run.status, 0, run.stderr)
      XCTAssertFalse(run.stderr.contains("warning:"), "\(args): \(run.stderr)")
    }
  }

  // MARK: - Bands

  /// Two --expr give two bands in order, named by NAME= or described by the expression, each
  /// equal to numpy; index names and --expr mix, the names' bands first.
  func testEachExprIsABandInOrder() throws {
    let s2 = try scene("s2.tif")
    let out = dir.file("two.tif")
    let json = try report(try TesseraBinary.run(["index", "--expr", "NDVI=(nir - red) / (nir + red)", "--expr", "b4 / b2", s2,
                                                 "-i", "red=3,nir=4", "-o", out, "--json"]))
    XCTAssertEqual((json["indices"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["NDVI", "b4 / b2"])
    XCTAssertEqual(try Dataset.open(out).bands.map(\.description), ["NDVI", "b4 / b2"])
    for (band, formula) in [(1, "(b4 - b3) / (b4 + b3)"), (2, "b4 / b2")] {
      let comparison = PixelComparison.of(try PixelComparison.values(out, band: band), try numpy(s2, formula), tolerance: 1e-6)
      XCTAssertTrue(comparison.identical, "band \(band): \(comparison)")
    }

    let mixed = dir.file("mixed.tif")
    XCTAssertEqual(try TesseraBinary.run(["index", "ndvi", "--expr", "twice=nir * 2", "-i", "red=\(s2):3", "-i", "nir=\(s2):4", "-o", mixed, "-q"]).status, 0)
    XCTAssertEqual(try Dataset.open(mixed).bands.map(\.description), ["NDVI", "twice"])
    XCTAssertTrue(PixelComparison.of(try PixelComparison.values(mixed, band: 2), try numpy(s2, "b4 * 2")).identical)
  }

  // MARK: - Types, scale and offset

  /// --ot with --output-scale/--output-offset: GDAL's scale and offset on each band, and the
  /// values read back through them equal the float index within half a scale step; integers
  /// clamp and count the clamped pixels.
  func testOutputTypesCarryGDALsScaleAndOffset() throws {
    let s2 = try scene("s2.tif")
    let ndvi = try numpy(s2, "(b4 - b3) / (b4 + b3)", float64: true)
    let cases: [(type: String, scale: Double, offset: Double)] = [
      ("Float64", 0.5, 0.25), ("Int16", 0.0001, 0), ("UInt16", 0.0001, -1), ("Int8", 0.01, 0), ("Byte", 0.01, -1), ("Int32", 1e-6, 0),
    ]
    for (type, scale, offset) in cases {
      let out = dir.file("\(type).tif")
      let json = try report(try TesseraBinary.run(["index", "ndvi", s2, "-i", "red=3,nir=4", "-o", out, "--ot", type,
                                                   "--output-scale", "\(scale)", "--output-offset", "\(offset)", "--json"]))
      XCTAssertEqual(json["data_type"] as? String, type)
      XCTAssertEqual(json["clamped_pixels"] as? Int, 0, type)
      let band = try XCTUnwrap(try unscaled(out).first)
      XCTAssertEqual(band["scale"] as? Double, scale, type)
      XCTAssertEqual(band["offset"] as? Double, offset, type)
      XCTAssertEqual(band["type"] as? String, type == "Int8" ? "Byte" : type)
      let values = (band["values"] as? [Any] ?? []).map { ($0 as? Double) ?? .nan }
      let step = type.hasPrefix("Float") ? 1e-12 : scale / 2 + 1e-12
      let comparison = PixelComparison.of(values, ndvi, tolerance: step)
      XCTAssertTrue(comparison.identical, "\(type): \(comparison)")
    }
    // NDVI / 0.001 runs past Int8's ±127: clamped and counted, as numpy counts them.
    let clamped = try report(try TesseraBinary.run(["index", "ndvi", s2, "-i", "red=3,nir=4", "-o", dir.file("c.tif"), "--ot", "Int8",
                                                    "--output-scale", "0.001", "--json"]))
    let expected = ndvi.filter { abs(($0 / 0.001).rounded()) > 127 }.count
    XCTAssertGreaterThan(expected, 0)
    XCTAssertEqual(clamped["clamped_pixels"] as? Int, expected)
    let stored = try XCTUnwrap(try unscaled(dir.file("c.tif")).first?["stored"] as? [Int])
    XCTAssertEqual(stored.filter { abs($0) == 127 }.count, ndvi.filter { abs(($0 / 0.001).rounded()) >= 127 }.count)
    XCTAssertEqual(stored, ndvi.map { Int(Swift.min(Swift.max(($0 / 0.001).rounded(), -127), 127)) })
  }

  // MARK: - Grid

  /// --resolution takes a number, X,Y, or a rule over the inputs' pixel sizes; -r is --resampling.
  func testResolutionRulesAndTheShortResampling() throws {
    let s2 = try scene("s2.tif")
    let coarse = dir.file("nir20.tif")
    try Oracle.tool("gdal_translate", ["-q", "-b", "4", "-tr", "20", "20", "-r", "average", s2, coarse])
    for (rule, resolution) in [(["--resolution", "highest"], [10.0, 10.0]), (["--resolution", "lowest"], [20, 20]),
                               (["--res", "average"], [15, 15]), (["--resolution", "30,40"], [30, 40]), ([], [10, 10])] {
      let json = try report(try TesseraBinary.run(["index", "ndvi", "-i", "red=\(s2):3", "-i", "nir=\(coarse)", "-o", dir.file("g.tif"),
                                                   "--overwrite", "-r", "nearest", "--json"] + rule))
      XCTAssertEqual(json["resolution"] as? [Double], resolution, "\(rule)")
    }
    let same = try TesseraBinary.run(["index", "ndvi", "-i", "red=\(s2):3", "-i", "nir=\(coarse)", "-o", dir.file("s.tif"), "--resolution", "same"])
    XCTAssertEqual(same.status, 65, same.stderr)
    let short = dir.file("short.tif"), long = dir.file("long.tif")
    XCTAssertEqual(try TesseraBinary.run(["index", "ndvi", "-i", "red=\(s2):3", "-i", "nir=\(coarse)", "-o", short, "-r", "cubic", "-q"]).status, 0)
    XCTAssertEqual(try TesseraBinary.run(["index", "ndvi", "-i", "red=\(s2):3", "-i", "nir=\(coarse)", "-o", long, "--resampling", "cubic", "-q"]).status, 0)
    XCTAssertTrue(try PixelComparison.of(short, long).identical)
  }
}
