import Foundation
import TestSupport
import XCTest

/// Seeded, reproducible combinations of fixtures, target CRSs (EPSG codes, PROJ strings,
/// aliases), methods, sizes, boxes (western and southern coordinates included), nodata and
/// thread counts for reproject, resample and mosaic, each compared pixel for pixel with the GDAL
/// tool that does the same job, and each run twice to catch non-determinism. A failing case is
/// printed as the two commands that reproduce it. Every third case writes an Erdas Imagine
/// `.img` (HFA) instead of a GeoTIFF, compared with the same GDAL GeoTIFF.
final class DifferentialTests: TemporaryDirectoryTestCase {
  override var directoryLabel: String { "tessera-differential" }

  static let seed: UInt64 = 0xD1FF_2026_1126

  struct Case {
    let tessera: [String]
    let oracle: (tool: String, arguments: [String])
    /// A second oracle step (gdal_translate after gdalbuildvrt).
    var then: (tool: String, arguments: [String])?
    let output: String
    let reference: String

    var reproduction: String {
      "tessera " + tessera.map(DifferentialTests.quoted).joined(separator: " ") + "\n  " + oracle.tool + " "
        + oracle.arguments.map(DifferentialTests.quoted).joined(separator: " ")
        + (then.map { "\n  " + $0.tool + " " + $0.arguments.map(DifferentialTests.quoted).joined(separator: " ") } ?? "")
    }
  }

  /// `.img` for every third case (by index, so the seeded draws stay as they were), else `.tif`.
  static func outputExtension(_ index: Int) -> String { index % 3 == 2 ? "img" : "tif" }

  static func quoted(_ s: String) -> String { s.contains(" ") || s.contains("+") ? "'\(s)'" : s }

  /// Rasters with the CRS forms gdalwarp takes for them and what the methods may do with them.
  let sources: [(path: String, type: String, lonLat: (Double, Double))] = [
    (Fixture.path("gdal_autotest/byte.tif"), "Byte", (-117.64, 33.90)),
    (Fixture.path("gdal_autotest/utmsmall.tif"), "Byte", (-117.64, 33.90)),
    (Fixture.path("gdal_autotest/n43.tif"), "Int16", (-79.5, 43.5)),
    (Fixture.path("gdal_autotest/float32.tif"), "Float32", (-117.64, 33.90)),
    (Fixture.path("gdal_autotest/nodata_byte.tif"), "Byte", (-117.64, 33.90)),
    (Fixture.path("rasterio/rgb1.tif"), "Byte", (-78.4, 25.0)),
    (Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_B05.jp2"), "UInt16", (12.61, 52.49)),
  ]

  let crss: [(tessera: String, gdal: String)] = [
    ("EPSG:4326", "EPSG:4326"), ("wgs84", "EPSG:4326"), ("webmercator", "EPSG:3857"), ("cgcs2000", "EPSG:4490"),
    ("EPSG:3857", "EPSG:3857"), ("+proj=laea +lat_0=45 +lon_0=-100 +datum=WGS84 +units=m +no_defs",
                                 "+proj=laea +lat_0=45 +lon_0=-100 +datum=WGS84 +units=m +no_defs"),
    ("+proj=sinu +lon_0=0 +R=6371007.181 +units=m +no_defs", "+proj=sinu +lon_0=0 +R=6371007.181 +units=m +no_defs"),
  ]

  let methods: [(tessera: String, gdal: String)] = [
    ("nearest", "near"), ("bilinear", "bilinear"), ("cubic", "cubic"), ("average", "average"), ("mode", "mode"),
    ("min", "min"), ("max", "max"), ("med", "med"), ("lanczos", "lanczos"),
  ]

  func cases() throws -> [Case] {
    var rng = SeededGenerator(seed: DifferentialTests.seed)
    var cases: [Case] = []
    // reproject
    for i in 0..<36 {
      let source = sources[rng.next(below: sources.count)]
      let crs = crss[rng.next(below: crss.count)]
      let method = methods[rng.next(below: methods.count)]
      let out = dir.file("r\(i).\(DifferentialTests.outputExtension(i))"), ref = dir.file("r\(i)-gdal.tif")
      var ours = ["reproject", source.path, out, "--dst-crs", crs.tessera, "--resampling", method.tessera]
      var theirs = ["-q", "-wo", "NUM_THREADS=1", "-t_srs", crs.gdal, "-r", method.gdal]
      if rng.next(below: 2) == 0 {
        let w = 10 + rng.next(below: 120), h = 10 + rng.next(below: 120)
        ours += ["--size", "\(w),\(h)"]
        theirs += ["-ts", "\(w)", "\(h)"]
      }
      if rng.next(below: 3) == 0 {
        // A box in longitude/latitude around the raster's centre: negative numbers in the west.
        let (lon, lat) = source.lonLat
        let half = 0.002 + Double(rng.next(below: 100)) / 2000
        let box = [lon - half, lat - half, lon + half, lat + half].map { String(format: "%.4f", $0) }
        ours += ["--bbox", box.joined(separator: ","), "--bbox-crs", "EPSG:4326"]
        // The box densified into the target CRS, as GDAL 3.11's gdalwarp -te_srs takes it (3.6's uses two corners).
        theirs += ["-te"] + (try Oracle.transformBounds(box, from: "EPSG:4326", to: crs.gdal))
      }
      switch rng.next(below: 3) {
      case 0:
        let nodata = source.type == "Byte" ? "7" : "-9999"
        ours += ["--dst-nodata", nodata]
        theirs += ["-dstnodata", nodata]
      default: break
      }
      ours += ["--threads", rng.next(below: 2) == 0 ? "1" : "2", "-q"]
      cases.append(Case(tessera: ours, oracle: ("gdalwarp", theirs + [source.path, ref]), output: out, reference: ref))
    }
    // resample
    for i in 0..<18 {
      let source = sources[rng.next(below: sources.count)]
      let method = methods[rng.next(below: methods.count)]
      let out = dir.file("s\(i).\(DifferentialTests.outputExtension(i))"), ref = dir.file("s\(i)-gdal.tif")
      var ours = ["resample", source.path, out, "--resampling", method.tessera]
      var theirs = ["-q", "-wo", "NUM_THREADS=1", "-r", method.gdal]
      if rng.next(below: 2) == 0 {
        let factor = [2, 3, 4, 5][rng.next(below: 4)]
        // The source's own pixel size times a whole factor, read from the file by gdalwarp's rule.
        let size = try? pixelSize(source.path)
        let x = (size?.0 ?? 60) * Double(factor), y = (size?.1 ?? 60) * Double(factor)
        ours += ["--resolution", "\(x),\(y)"]
        theirs += ["-tr", "\(x)", "\(y)"]
      } else {
        let w = 5 + rng.next(below: 150), h = 5 + rng.next(below: 150)
        ours += ["--size", "\(w),\(h)"]
        theirs += ["-ts", "\(w)", "\(h)"]
      }
      ours += ["--threads", rng.next(below: 2) == 0 ? "1" : "2", "-q"]
      cases.append(Case(tessera: ours, oracle: ("gdalwarp", theirs + [source.path, ref]), output: out, reference: ref))
    }
    // mosaic of the quadrants, in a random order, either overlap rule
    let quadrants = (1...4).map { Fixture.path("rasterio/rgb\($0).tif") }
    for i in 0..<8 {
      var picked = quadrants.filter { _ in rng.next(below: 3) != 0 }
      if picked.count < 2 { picked = Array(quadrants.prefix(2)) }
      for j in stride(from: picked.count - 1, to: 0, by: -1) { picked.swapAt(j, rng.next(below: j + 1)) }
      let first = rng.next(below: 2) == 0
      let out = dir.file("m\(i).\(DifferentialTests.outputExtension(i))"), ref = dir.file("m\(i)-gdal.tif"), vrt = dir.file("m\(i)-gdal.vrt")
      var ours = ["mosaic"] + picked + ["-o", out, "-q", "--threads", rng.next(below: 2) == 0 ? "1" : "2"]
      if first { ours += ["--method", "first"] }
      // gdalbuildvrt lets the last source win; --method first is the list reversed.
      let sources = first ? Array(picked.reversed()) : picked
      cases.append(Case(tessera: ours, oracle: ("gdalbuildvrt", ["-q", vrt] + sources), then: ("gdal_translate", ["-q", vrt, ref]),
                        output: out, reference: ref))
    }
    cases += try datumCases(&rng)
    return cases
  }

  /// Beijing 1954 and Xian 1980 rasters (made here from a fixture's pixels) reprojected to
  /// CGCS2000, WGS 84 and Gauss-Krüger zones, plain (PROJ's ballpark shift or, in the Pearl River
  /// area, EPSG:15920), with a --ct pipeline or URN, or with --src-towgs84, each against gdalwarp
  /// given the same CRS and transformation text.
  func datumCases(_ rng: inout SeededGenerator) throws -> [Case] {
    struct Datum { let path: String; let epsg: Int; let ellps: String; let towgs84: String; let gk3: Int }
    func raster(_ name: String, epsg: Int, west: Double, north: Double) throws -> String {
      let path = dir.file(name)
      try Oracle.tool("gdal_translate", ["-q", "-srcwin", "50", "80", "120", "90", "-a_srs", "EPSG:\(epsg)", "-a_ullr", "\(west)",
                                         "\(north)", "\(west + 0.024)", "\(north - 0.018)", Fixture.path("rasterio/rgb1.tif"), path])
      return path
    }
    let datums = [
      // Near Beijing (3° zone CM 117E), near Xi'an (CM 108E), in the Pearl River area (CM 114E).
      Datum(path: try raster("beijing54.tif", epsg: 4214, west: 116.38, north: 39.92), epsg: 4214, ellps: "krass",
            towgs84: "15.8,-154.4,-82.3", gk3: 4548),
      Datum(path: try raster("xian80.tif", epsg: 4610, west: 108.93, north: 34.28), epsg: 4610, ellps: "IAU76",
            towgs84: "24.1,-118.6,-87.3,0.3,-0.2,0.9,1.8", gk3: 4545),
      Datum(path: try raster("pearl54.tif", epsg: 4214, west: 113.10, north: 22.12), epsg: 4214, ellps: "krass",
            towgs84: "15.8,-154.4,-82.3", gk3: 4547),
    ]
    var cases: [Case] = []
    for i in 0..<12 {
      let datum = datums[rng.next(below: datums.count)]
      let out = dir.file("d\(i).tif"), ref = dir.file("d\(i)-gdal.tif")
      let method = methods[rng.next(below: 3)]
      var ours = ["reproject", datum.path, out, "--resampling", method.tessera, "-q"]
      var theirs = ["-q", "-wo", "NUM_THREADS=1", "-r", method.gdal]
      switch rng.next(below: 4) {
      case 0:
        // No transformation given: PROJ's own choice (a ballpark one, warned, or EPSG:15920).
        let (alias, code) = [("cgcs2000", 4490), ("wgs84", 4326), ("cgcs2000-gk3", datum.gk3)][rng.next(below: 3)]
        ours += ["--dst-crs", alias]
        theirs += ["-t_srs", "EPSG:\(code)"]
      case 1:
        let ct = "+proj=pipeline +step +proj=axisswap +order=2,1 +step +proj=unitconvert +xy_in=deg +xy_out=rad "
          + "+step +proj=cart +ellps=\(datum.ellps) +step +proj=helmert +x=\(15 + rng.next(below: 20)) +y=-\(100 + rng.next(below: 60)) "
          + "+z=-\(60 + rng.next(below: 40)) +step +inv +proj=cart +ellps=GRS80 +step +proj=unitconvert +xy_in=rad +xy_out=deg "
          + "+step +proj=axisswap +order=2,1"
        ours += ["--dst-crs", "cgcs2000", "--ct", ct]
        theirs += ["-t_srs", "EPSG:4490", "-ct", ct]
      case 2:
        ours += ["--dst-crs", "wgs84", "--src-towgs84", datum.towgs84]
        theirs += ["-s_srs", "+proj=longlat +ellps=\(datum.ellps) +towgs84=\(datum.towgs84) +no_defs", "-t_srs", "EPSG:4326"]
      default:
        // An EPSG operation by URN (only meaningful inside its area; elsewhere both tools apply it anyway).
        let urn = "urn:ogc:def:coordinateOperation:EPSG::15920"
        if datum.epsg == 4214 {
          ours += ["--dst-crs", "EPSG:4326", "--ct", urn]
          theirs += ["-t_srs", "EPSG:4326", "-ct", urn]
        } else {
          // Xi'an lies in the 6° zone of CM 111E.
          ours += ["--dst-crs", "xian1980-gk6"]
          theirs += ["-t_srs", "EPSG:2344"]
        }
      }
      cases.append(Case(tessera: ours, oracle: ("gdalwarp", theirs + [datum.path, ref]), output: out, reference: ref))
    }
    return cases
  }

  func testTesseraAgreesWithGDALsToolsOnSeededCases() throws {
    let all = try cases()
    var failures: [String] = []
    var agreed = 0
    for c in all {
      // GDAL's tools: their own errors (a box outside a projection's domain) make the case moot
      // only if Tessera fails too.
      let oracle = try Run.process(Run.which(c.oracle.tool) ?? c.oracle.tool, c.oracle.arguments, environment: ["GDAL_PAM_ENABLED": "NO"])
      if let then = c.then, oracle.status == 0 {
        _ = try Run.process(Run.which(then.tool) ?? then.tool, then.arguments, environment: ["GDAL_PAM_ENABLED": "NO"])
      }
      let first = try TesseraBinary.run(c.tessera)
      let gdalMade = FileManager.default.fileExists(atPath: c.reference)
      if first.status != 0 || !gdalMade {
        if first.status == 0 || gdalMade || ![64, 65].contains(first.status) {
          failures.append("tessera exit \(first.status) (\(first.stderr.split(separator: "\n").last ?? "")), GDAL made \(gdalMade ? "a file" : "none"):\n  \(c.reproduction)")
        }
        continue
      }
      let firstPixels = try Data(contentsOf: URL(fileURLWithPath: c.output))
      try FileManager.default.removeItem(atPath: c.output)
      try? FileManager.default.removeItem(atPath: c.output + ".aux.xml")
      let second = try TesseraBinary.run(c.tessera)
      XCTAssertEqual(second.status, 0, second.stderr)
      let comparison = try PixelComparison.of(c.output, c.reference)
      let expectedDriver = c.output.hasSuffix(".img") ? "HFA" : "GTiff"
      let driver = try Oracle.gdalinfo(c.output)["driverShortName"] as? String
      if driver != expectedDriver {
        failures.append("written as \(driver ?? "?"), not \(expectedDriver):\n  \(c.reproduction)")
      } else if try Data(contentsOf: URL(fileURLWithPath: c.output)) != firstPixels {
        failures.append("not deterministic (two runs wrote different files):\n  \(c.reproduction)")
      } else if !comparison.identical {
        failures.append("differs from GDAL: \(comparison):\n  \(c.reproduction)")
      } else {
        agreed += 1
      }
      for file in [c.output, c.output + ".aux.xml", c.reference] { try? FileManager.default.removeItem(atPath: file) }
    }
    print("differential: \(all.count) cases, \(agreed) identical to GDAL's tools and deterministic, \(failures.count) failures")
    for f in failures { XCTFail(f) }
  }
}

/// The absolute pixel size of a raster, as gdalinfo reports it.
func pixelSize(_ path: String) throws -> (Double, Double) {
  let info = try Oracle.gdalinfo(path)
  let gt = info["geoTransform"] as? [Double] ?? [0, 60, 0, 0, 0, -60]
  return (abs(gt[1]), abs(gt[5]))
}
