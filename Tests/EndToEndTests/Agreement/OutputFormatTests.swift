import Foundation
import GDAL
import TestSupport
import XCTest

/// The output format is the one the file name asks for (`.img` is HFA), or `--format`; a name
/// no driver claims, or a result the driver cannot hold, is 64 with nothing written.
final class OutputFormatTests: TemporaryDirectoryTestCase {
  let t29unu = Fixture.path("sentinel2/S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE")

  /// Each raster writer's arguments, with the output path last-substituted for `OUT`.
  var writers: [(name: String, args: [String])] {
    let utm = Fixture.utmsmall
    return [
      ("reproject", ["reproject", utm, "OUT", "--dst-crs", "EPSG:4326"]),
      ("resample", ["resample", utm, "OUT", "--size", "50%", "--resampling", "average"]),
      ("mosaic", ["mosaic", Fixture.path("rasterio/rgb1.tif"), Fixture.path("rasterio/rgb2.tif"), "-o", "OUT"]),
      ("clip", ["clip", utm, "OUT", "--cutline", Fixture.path("gdal_autotest/cutline.vrt")]),
      ("band-stack", ["band-stack", utm, Fixture.path("gdal_autotest/byte.tif"), "-o", "OUT"]),
      ("index", ["index", "--expr", "b1 * 2 - 7", utm, "-o", "OUT"]),
      ("merge-memfile", ["merge-memfile", t29unu, "-o", "OUT", "-b", "B04,SCL", "--resolution", "60"]),
    ]
  }

  func driver(_ path: String) throws -> String? {
    try Oracle.gdalinfo(path)["driverShortName"] as? String
  }

  /// CRS WKT and every band's nodata as GDAL reads them.
  func georeferencing(_ path: String) throws -> (wkt: String, nodata: [String]) {
    let info = try Oracle.gdalinfo(path)
    let wkt = ((info["coordinateSystem"] as? [String: Any])?["wkt"] as? String) ?? ""
    let nodata = ((info["bands"] as? [[String: Any]]) ?? []).map { "\($0["noDataValue"] ?? "none")" }
    return (wkt, nodata)
  }

  func testImgOutputsOfEveryRasterWriterAreHFAEqualToTheirGTiff() throws {
    for (name, args) in writers {
      let tif = dir.file("\(name).tif"), img = dir.file("\(name).img")
      for out in [tif, img] {
        let run = try TesseraBinary.run(args.map { $0 == "OUT" ? out : $0 } + ["-q"])
        XCTAssertEqual(run.status, 0, "\(name) \(out): \(run.stderr)")
      }
      XCTAssertEqual(try driver(img), "HFA", name)
      XCTAssertEqual(try driver(tif), "GTiff", name)
      let comparison = try PixelComparison.of(img, tif)
      XCTAssertTrue(comparison.identical, "\(name): \(comparison)")
      let a = try georeferencing(img), b = try georeferencing(tif)
      XCTAssertTrue(try SpatialReference(userInput: a.wkt).isSame(as: try SpatialReference(userInput: b.wkt)), "\(name): CRS \(a.wkt) vs \(b.wkt)")
      XCTAssertEqual(a.nodata, b.nodata, name)
    }
    XCTAssertFalse(dir.contents.contains { $0.hasPrefix(".tessera") }, "\(dir.contents)")
  }

  /// --each-feature writes every feature's file in the format --format names, with its extension.
  func testEachFeatureFilesTakeTheFormat() throws {
    let folder = dir.file("fields")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let run = try TesseraBinary.run(["clip", Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_B04.jp2"), "-o", folder,
                                     "--cutline", Fixture.path("eo-box/s2l1c/s2l1c_ref.gpkg"), "--where", "fid <= 3",
                                     "--each-feature", "--format", "HFA", "-q"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let rasters = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasSuffix(".aux.xml") }
    XCTAssertFalse(rasters.isEmpty)
    for file in rasters {
      XCTAssertTrue(file.hasSuffix(".img"), file)
      XCTAssertEqual(try driver(folder + "/" + file), "HFA", file)
    }
  }

  /// An .img made by gdal_translate -of HFA reads as its GeoTIFF does.
  func testImgInputsKeepWorking() throws {
    let img = dir.file("in.img")
    try Oracle.tool("gdal_translate", ["-q", "-of", "HFA", Fixture.utmsmall, img])
    for (input, out) in [(img, dir.file("from-img.tif")), (Fixture.utmsmall, dir.file("from-tif.tif"))] {
      let run = try TesseraBinary.run(["reproject", input, out, "--dst-crs", "EPSG:4326", "-q"])
      XCTAssertEqual(run.status, 0, run.stderr)
    }
    XCTAssertTrue(try PixelComparison.of(dir.file("from-img.tif"), dir.file("from-tif.tif")).identical)
  }

  func testNamesNoDriverClaimsAndResultsADriverCannotHoldAre64WithNothingWritten() throws {
    let float32 = Fixture.float32
    let cases: [([String], String)] = [
      (["resample", Fixture.utmsmall, dir.file("out.xyz2"), "--size", "50%"], ".xyz2"),
      (["resample", Fixture.utmsmall, dir.file("out"), "--size", "50%"], "no extension"),
      (["resample", Fixture.utmsmall, dir.file("out.grd"), "--size", "50%"], "--format"),
      (["resample", Fixture.utmsmall, dir.file("out.vrt"), "--size", "50%"], "VRT"),
      (["resample", Fixture.utmsmall, dir.file("out.tif"), "--size", "50%", "--format", "NoSuchDriver"], "NoSuchDriver"),
      (["band-stack", float32, float32, float32, float32, "-o", dir.file("four.png")], "PNG cannot hold Float32"),
      (["band-stack", Fixture.utmsmall, Fixture.utmsmall, Fixture.utmsmall, Fixture.utmsmall, Fixture.utmsmall, "-o", dir.file("five.png")],
       "PNG holds"),
      (["clip", Fixture.utmsmall, dir.file("cut.jpg"), "--cutline", Fixture.path("gdal_autotest/cutline.vrt")], "JPEG"),
      (["reproject", Fixture.path("gdal_autotest/nodata_byte.tif"), dir.file("r.jpg"), "--dst-crs", "EPSG:4326"], "JPEG is lossy"),
      (["merge-memfile", t29unu, "-o", dir.file("m.jpg"), "-b", "B04", "--resolution", "60"], "JPEG"),
      (["cog-export", Fixture.utmsmall, dir.file("c.img")], "COG"),
      // Formats of several files (their companions would keep the temporary name).
      (["resample", Fixture.utmsmall, dir.file("out.hdr"), "--size", "50%"], "MFF driver writes"),
      (["resample", Fixture.utmsmall, dir.file("out.asc"), "--size", "50%"], "a .prj file"),
    ]
    for (args, text) in cases {
      let run = try TesseraBinary.run(args)
      XCTAssertEqual(run.status, 64, "\(args): \(run.stderr)")
      XCTAssertTrue(run.stderr.hasPrefix("tessera \(args[0]): ") && run.stderr.contains(text), "\(args): \(run.stderr)")
      XCTAssertEqual(run.stderr.split(separator: "\n").filter { !$0.hasPrefix("warning") }.count, 1, run.stderr)
      XCTAssertEqual(dir.contents, [], "\(args) left \(dir.contents)")
    }
  }

  /// A PNG's georeferencing lives in its .aux.xml: a sidecar the disk refuses (no inodes left)
  /// is a failed write, 74 with nothing left, never a PNG without its CRS and exit 0.
  func testASidecarThatCannotBeSavedIsAFailedWrite() throws {
    let mount = try mountSmallDisk("size=10m,nr_inodes=3", name: "fs")
    let run = try TesseraBinary.run(["reproject", Fixture.rgbByte, mount + "/r.png", "--dst-crs", "EPSG:4326"])
    // No inode for the sidecar: the file could not be created (73), or not written (74).
    XCTAssertTrue([73, 74].contains(run.status), run.stderr)
    let last = run.stderr.split(separator: "\n").last.map(String.init) ?? ""
    XCTAssertTrue(last.hasPrefix("tessera reproject: ") && last.contains("No space left"), run.stderr)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mount), [])
  }

  func testFormatOverridesTheExtension() throws {
    let run = try TesseraBinary.run(["resample", Fixture.utmsmall, dir.file("out.raster"), "--size", "50%", "--format", "hfa", "-q"])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertEqual(try driver(dir.file("out.raster")), "HFA")
    let tiff = try TesseraBinary.run(["resample", Fixture.utmsmall, dir.file("tiff.img"), "--size", "50%", "-f", "GTiff", "-q"])
    XCTAssertEqual(tiff.status, 0, tiff.stderr)
    XCTAssertEqual(try driver(dir.file("tiff.img")), "GTiff")
  }

  /// --co is checked against the chosen driver; HFA's defaults are its own.
  func testCreationOptionsBelongToTheChosenDriver() throws {
    for (out, option, name) in [("a.img", "COMPRESS=LZW", "HFA"), ("b.img", "TILED=YES", "HFA"), ("c.tif", "NOSUCH=1", "GTiff")] {
      let run = try TesseraBinary.run(["resample", Fixture.utmsmall, dir.file(out), "--size", "50%", "--co", option])
      XCTAssertEqual(run.status, 64, "\(option): \(run.stderr)")
      XCTAssertTrue(run.stderr.contains(name) && run.stderr.contains(option), run.stderr)
    }
    XCTAssertEqual(dir.contents, [])
    let compressed = try TesseraBinary.run(["resample", Fixture.utmsmall, dir.file("rle.img"), "--size", "50%", "-q"])
    XCTAssertEqual(compressed.status, 0, compressed.stderr)
    let plain = try TesseraBinary.run(["resample", Fixture.utmsmall, dir.file("plain.img"), "--size", "50%", "--co", "COMPRESSED=NO", "-q"])
    XCTAssertEqual(plain.status, 0, plain.stderr)
    let rle = try Oracle.gdalinfo(dir.file("rle.img"))
    let bandMetadata = (rle["bands"] as? [[String: Any]])?.first?["metadata"] as? [String: Any]
    XCTAssertEqual((bandMetadata?["IMAGE_STRUCTURE"] as? [String: Any])?["COMPRESSION"] as? String, "RLE", "\(rle)")
    XCTAssertTrue(try PixelComparison.of(dir.file("rle.img"), dir.file("plain.img")).identical)
  }

  /// A CreateCopy-only driver is the final copy of the GTiff result: equal to gdal_translate of it.
  func testCreateCopyOnlyDriversEqualGDALTranslateOfTheGTiffResult() throws {
    let base = ["resample", Fixture.utmsmall, "OUT", "--size", "50%", "--resampling", "average", "-q"]
    for out in ["r.tif", "r.jp2", "r.png", "r.nc"] {
      let run = try TesseraBinary.run(base.map { $0 == "OUT" ? dir.file(out) : $0 })
      XCTAssertEqual(run.status, 0, "\(out): \(run.stderr)")
    }
    try Oracle.tool("gdal_translate", ["-q", "-of", "JP2OpenJPEG", "-co", "REVERSIBLE=YES", "-co", "QUALITY=100", dir.file("r.tif"), dir.file("g.jp2")])
    try Oracle.tool("gdal_translate", ["-q", "-of", "PNG", dir.file("r.tif"), dir.file("g.png")])
    XCTAssertEqual(try driver(dir.file("r.jp2")), "JP2OpenJPEG")
    XCTAssertEqual(try driver(dir.file("r.png")), "PNG")
    XCTAssertTrue(try PixelComparison.of(dir.file("r.jp2"), dir.file("g.jp2")).identical)
    // gdal_translate here runs without PAM, so its PNG has no georeferencing: the pixels are compared.
    XCTAssertTrue(PixelComparison.of(try PixelComparison.values(dir.file("r.png")), try PixelComparison.values(dir.file("g.png"))).identical)
    XCTAssertTrue(try PixelComparison.of(dir.file("r.png"), dir.file("r.tif")).identical, "the PNG keeps its georeferencing beside it")
    // netCDF writes through its own library, not GDAL's file layer (it was 66 blaming the input).
    XCTAssertEqual(try driver(dir.file("r.nc")), "netCDF")
    XCTAssertTrue(PixelComparison.of(try PixelComparison.values(dir.file("r.nc")), try PixelComparison.values(dir.file("r.tif"))).identical)
    // Lossless by default: the JPEG 2000 holds the GeoTIFF's pixels.
    XCTAssertTrue(try PixelComparison.of(dir.file("r.jp2"), dir.file("r.tif")).identical)
    XCTAssertFalse(dir.contents.contains { $0.hasPrefix(".tessera") }, "\(dir.contents)")
  }

  /// HFA's spill file (.ige, named by replacing the extension) moves in with its .img, replaces
  /// the old one with --overwrite, and never leaves a temporary name behind.
  func testHFASpillFileIsPartOfTheOutput() throws {
    let out = dir.file("spill.img")
    for extra in [[], ["--overwrite"]] {
      let run = try TesseraBinary.run(["resample", Fixture.utmsmall, out, "--size", "50%", "--co", "USE_SPILL=YES", "-q"] + extra)
      XCTAssertEqual(run.status, 0, run.stderr)
      XCTAssertTrue(dir.contents.contains("spill.ige"), "\(dir.contents)")
      XCTAssertFalse(dir.contents.contains { $0.hasPrefix(".tessera") }, "\(dir.contents)")
    }
    try Oracle.tool("gdal_translate", ["-q", "-of", "GTiff", out, dir.file("back.tif")])
    let run = try TesseraBinary.run(["resample", Fixture.utmsmall, dir.file("ref.tif"), "--size", "50%", "-q"])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(try PixelComparison.of(dir.file("back.tif"), dir.file("ref.tif")).identical)
    // Without --overwrite an existing output is 73, and the old .img and .ige stay.
    let before = try FolderSnapshot(dir.path)
    let again = try TesseraBinary.run(["resample", Fixture.utmsmall, out, "--size", "50%", "--co", "USE_SPILL=YES"])
    XCTAssertEqual(again.status, 73, again.stderr)
    XCTAssertEqual(try FolderSnapshot(dir.path), before)
  }
}
