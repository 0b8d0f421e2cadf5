import Foundation
import GDAL
import TestSupport
import XCTest

/// The option names of #26 as a user types them: each new spelling gives what the old one gave
/// (or what GDAL's tool gives for the same job), each dropped spelling and each GDAL spelling
/// typed by habit is exit 64 naming Tessera's, short options, bare EPSG codes, an unknown option
/// named before a missing one, and the examples ending every help.
final class OptionSpellingTests: TemporaryDirectoryTestCase {
  func run(_ arguments: [String]) throws -> ProcessResult {
    let result = try TesseraBinary.run(arguments)
    XCTAssertEqual(result.status, 0, "\(arguments.joined(separator: " ")): \(result.stderr)")
    return result
  }

  func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

  func assertRefused(_ arguments: [String], naming text: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let result = try TesseraBinary.run(arguments)
    let label = arguments.joined(separator: " ")
    XCTAssertEqual(result.status, 64, label, file: file, line: line)
    XCTAssertTrue(result.stderr.contains(text), "\(label): \(result.stderr)", file: file, line: line)
    XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "one line: \(result.stderr)", file: file, line: line)
  }

  // MARK: - Bands

  func testBandNumbersAreDashBRepeatableInEveryCommand() throws {
    let rgb = Fixture.rgbByte
    // mosaic: -b 3 -b 1 is -b 3,1 is --band 3,1, and its bands are the input's 3 and 1.
    _ = try run(["mosaic", rgb, "-o", dir.file("m1.tif"), "-b", "3", "-b", "1"])
    _ = try run(["mosaic", rgb, "-o", dir.file("m2.tif"), "--band", "3,1"])
    XCTAssertEqual(try bytes(dir.file("m1.tif")), try bytes(dir.file("m2.tif")))
    XCTAssertTrue(PixelComparison.of(try PixelComparison.values(dir.file("m1.tif"), band: 1), try PixelComparison.values(rgb, band: 3)).identical)
    XCTAssertTrue(PixelComparison.of(try PixelComparison.values(dir.file("m1.tif"), band: 2), try PixelComparison.values(rgb, band: 1)).identical)
    // clip: -b 2 keeps band 2 of the whole clip.
    let box = ["--bbox", "110000,2780000,170000,2820000", "--bbox-crs", "EPSG:32618"]
    _ = try run(["clip", rgb, dir.file("all.tif")] + box)
    _ = try run(["clip", rgb, dir.file("b2.tif"), "-b", "2"] + box)
    XCTAssertEqual(try Dataset.open(dir.file("b2.tif")).bandCount, 1)
    XCTAssertTrue(PixelComparison.of(try PixelComparison.values(dir.file("b2.tif")), try PixelComparison.values(dir.file("all.tif"), band: 2)).identical)
    // quicklook: the RGB triple and the single band, by -b and by --band.
    _ = try run(["quicklook", rgb, dir.file("q1.png"), "-b", "3,2,1", "--width", "200"])
    _ = try run(["quicklook", rgb, dir.file("q2.png"), "-b", "3", "-b", "2", "-b", "1", "--width", "200"])
    _ = try run(["quicklook", rgb, dir.file("q3.png"), "--band", "3,2,1", "--width", "200"])
    XCTAssertEqual(try bytes(dir.file("q1.png")), try bytes(dir.file("q2.png")))
    XCTAssertEqual(try bytes(dir.file("q1.png")), try bytes(dir.file("q3.png")))
    _ = try run(["quicklook", rgb, dir.file("one-b.png"), "-b", "2", "--colormap", "viridis", "--width", "200"])
    _ = try run(["quicklook", rgb, dir.file("one-band.png"), "--band", "2", "--colormap", "viridis", "--width", "200"])
    XCTAssertEqual(try bytes(dir.file("one-b.png")), try bytes(dir.file("one-band.png")))
    // timelapse: -b N of rasters, as quicklook's.
    _ = try run(["timelapse", rgb, rgb, "-o", dir.file("t1.gif"), "-b", "1", "--order", "given", "--width", "120"])
    _ = try run(["timelapse", rgb, rgb, "-o", dir.file("t2.gif"), "--band", "1", "--order", "given", "--width", "120"])
    XCTAssertEqual(try bytes(dir.file("t1.gif")), try bytes(dir.file("t2.gif")))
  }

  func testBandNamesAreForProductsOnly() throws {
    let rgb = Fixture.rgbByte
    try assertRefused(["mosaic", rgb, "-o", dir.file("m.tif"), "-b", "B02"], naming: "band names are for Sentinel-2 products")
    try assertRefused(["clip", rgb, dir.file("c.tif"), "--bbox", "0,0,1,1", "-b", "B04,B03"], naming: "band names are for Sentinel-2 products")
    try assertRefused(["quicklook", rgb, dir.file("q.png"), "-b", "B04,B03,B02"], naming: "band names are for Sentinel-2 products")
    try assertRefused(["timelapse", rgb, rgb, "-o", dir.file("t.gif"), "-b", "B04,B03,B02", "--order", "given"], naming: "is no Sentinel-2 product")
    try assertRefused(["mosaic", rgb, "-o", dir.file("m.tif"), "-b", "1,B02"], naming: "mixes band numbers and names")
    try assertRefused(["merge-memfile", Fixture.t29unuMetadata, "-o", dir.file("m.tif"), "-b", "4"], naming: "by name, like -b B02")
    try assertRefused(["quicklook", rgb, dir.file("q.png"), "-b", "1,2"], naming: "three bands drawn as red, green, blue")
    XCTAssertEqual(dir.contents, [])
  }

  func testProductsTakeBandNamesByDashB() throws {
    let products = try SyntheticProducts.make(in: dir.file("s2"), ["--scenario", "orbits", "--size", "240", "--bands", "B02,B03,B04,B08,SCL"])
    // timelapse: -b B04,B03,B02 is the default; other names reach the products.
    _ = try run(["timelapse"] + products + ["-o", dir.file("default.gif"), "--stretch", "0,3000", "--width", "120"])
    _ = try run(["timelapse"] + products + ["-o", dir.file("named.gif"), "-b", "B04,B03,B02", "--stretch", "0,3000", "--width", "120"])
    _ = try run(["timelapse"] + products + ["-o", dir.file("false.gif"), "-b", "b08", "-b", "B04,B03", "--stretch", "0,3000", "--width", "120"])
    XCTAssertEqual(try bytes(dir.file("default.gif")), try bytes(dir.file("named.gif")))
    XCTAssertNotEqual(try bytes(dir.file("default.gif")), try bytes(dir.file("false.gif")))
    // merge-memfile: -b B04,B08 repeatable as -b B04 -b B08; --method first is last over the products reversed.
    _ = try run(["merge-memfile"] + products + ["-o", dir.file("m1.tif"), "-b", "B04,B08", "--method", "first", "-q"])
    _ = try run(["merge-memfile"] + products + ["-o", dir.file("m2.tif"), "-b", "B04", "-b", "B08", "--method", "first", "-q"])
    _ = try run(["merge-memfile"] + products.reversed() + ["-o", dir.file("m3.tif"), "-b", "B04,B08", "--method", "last", "-q"])
    _ = try run(["merge-memfile"] + products + ["-o", dir.file("m4.tif"), "-b", "B04,B08", "-q"])
    XCTAssertTrue(try PixelComparison.of(dir.file("m1.tif"), dir.file("m2.tif")).identical)
    XCTAssertTrue(try PixelComparison.of(dir.file("m1.tif"), dir.file("m3.tif")).identical)
    XCTAssertFalse(try PixelComparison.of(dir.file("m1.tif"), dir.file("m4.tif")).identical, "the products overlap: first and last differ")
    let bands = try XCTUnwrap(try Oracle.gdalinfo(dir.file("m1.tif"))["bands"] as? [[String: Any]])
    XCTAssertEqual(bands.compactMap { $0["description"] as? String }, ["B04", "B08"])
  }

  // MARK: - Method, resolution, size

  func testMosaicMethodFirstIsGDALBuildVRTOverTheInputsReversed() throws {
    let quadrants = (1...2).map { Fixture.path("rasterio/rgb\($0).tif") }
    _ = try run(["mosaic"] + quadrants + ["-o", dir.file("first.tif"), "--method", "first"])
    try Oracle.tool("gdalbuildvrt", ["-q", dir.file("ref.vrt")] + quadrants.reversed())
    try Oracle.tool("gdal_translate", ["-q", dir.file("ref.vrt"), dir.file("ref.tif")])
    let comparison = try PixelComparison.of(dir.file("first.tif"), dir.file("ref.tif"))
    XCTAssertTrue(comparison.identical, "\(comparison)")
  }

  func testResAndShortOptionsAreTheLongOnes() throws {
    let utm = Fixture.utmsmall
    _ = try run(["resample", utm, dir.file("long.tif"), "--resolution", "120", "--resampling", "average", "--format", "GTiff", "--threads", "1", "--quiet"])
    let short = try run(["resample", utm, "-o", dir.file("short.tif"), "--res", "120", "-r", "average", "-f", "GTiff", "-j", "1", "-q"])
    _ = try run(["resample", utm, dir.file("of.tif"), "--res", "120", "-r", "average", "--of", "GTiff"])
    XCTAssertEqual(short.stderr, "", "-q prints nothing")
    XCTAssertEqual(try bytes(dir.file("long.tif")), try bytes(dir.file("short.tif")))
    XCTAssertEqual(try bytes(dir.file("long.tif")), try bytes(dir.file("of.tif")))
    // band-stack: --res average, and --resolution same as giving none.
    let b04 = Fixture.s2Band, b03 = Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_B03.jp2")
    _ = try run(["band-stack", b04, b03, "-o", dir.file("same.tif"), "--resolution", "same", "--descriptions", "red,green"])
    _ = try run(["band-stack", b04, b03, "-o", dir.file("none.tif"), "--descriptions", "red,green"])
    XCTAssertEqual(try bytes(dir.file("same.tif")), try bytes(dir.file("none.tif")))
    let bands = try XCTUnwrap(try Oracle.gdalinfo(dir.file("same.tif"))["bands"] as? [[String: Any]])
    XCTAssertEqual(bands.compactMap { $0["description"] as? String }, ["red", "green"])
    _ = try run(["band-stack", b04, Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_B11.jp2"), "-o", dir.file("avg.tif"), "--res", "average", "-r", "bilinear"])
    // reproject and resample take a pixel size only, and say so.
    try assertRefused(["reproject", utm, dir.file("x.tif"), "--dst-crs", "4326", "--res", "highest"], naming: "takes a pixel size X or X,Y")
    try assertRefused(["resample", utm, dir.file("x.tif"), "--resolution", "lowest"], naming: "takes a pixel size X or X,Y")
  }

  func testSizePercentIsGDALsOutsize() throws {
    // An even input: 50% is what --scale 0.5 gave, gdalwarp -ts 50 50.
    _ = try run(["resample", Fixture.utmsmall, dir.file("half.tif"), "--size", "50%", "-r", "average"])
    try Oracle.tool("gdalwarp", ["-q", "-ts", "50", "50", "-r", "average", Fixture.utmsmall, dir.file("half-gdal.tif")])
    let half = try PixelComparison.of(dir.file("half.tif"), dir.file("half-gdal.tif"))
    XCTAssertTrue(half.identical, "\(half)")
    // An odd input: the size of gdal_translate -outsize 50% 50% (791 x 718 -> 395 x 359), pixels of gdalwarp -ts.
    _ = try run(["resample", Fixture.rgbByte, dir.file("odd.tif"), "--size", "50%"])
    try Oracle.tool("gdal_translate", ["-q", "-outsize", "50%", "50%", Fixture.rgbByte, dir.file("odd-translate.tif")])
    let ours = try Dataset.open(dir.file("odd.tif")), translated = try Dataset.open(dir.file("odd-translate.tif"))
    XCTAssertEqual([ours.width, ours.height], [translated.width, translated.height])
    try Oracle.tool("gdalwarp", ["-q", "-ts", "\(ours.width)", "\(ours.height)", Fixture.rgbByte, dir.file("odd-warp.tif")])
    XCTAssertTrue(try PixelComparison.of(dir.file("odd.tif"), dir.file("odd-warp.tif")).identical)
    // P%,Q% and a side of 0, as gdalwarp -ts W 0.
    _ = try run(["resample", Fixture.rgbByte, dir.file("pq.tif"), "--size", "25%,10%"])
    XCTAssertEqual(try [Dataset.open(dir.file("pq.tif")).width, Dataset.open(dir.file("pq.tif")).height], [197, 71])
    _ = try run(["resample", Fixture.rgbByte, dir.file("aspect.tif"), "--size", "300,0", "-r", "bilinear"])
    try Oracle.tool("gdalwarp", ["-q", "-ts", "300", "0", "-r", "bilinear", Fixture.rgbByte, dir.file("aspect-gdal.tif")])
    let aspect = try PixelComparison.of(dir.file("aspect.tif"), dir.file("aspect-gdal.tif"))
    XCTAssertTrue(aspect.identical, "\(aspect)")
    // reproject takes the same grammar.
    _ = try run(["reproject", Fixture.utmsmall, dir.file("r.tif"), "--dst-crs", "4326", "--size", "50%"])
    XCTAssertEqual(try [Dataset.open(dir.file("r.tif")).width, Dataset.open(dir.file("r.tif")).height], [50, 50])
    try assertRefused(["resample", Fixture.utmsmall, dir.file("x.tif"), "--size", "0,0"], naming: "--size '0,0'")
    try assertRefused(["resample", Fixture.utmsmall, dir.file("x.tif"), "--size", "50"], naming: "P% or P%,Q%")
  }

  // MARK: - CRS

  func testABareNumberIsAnEPSGCode() throws {
    let utm = Fixture.utmsmall
    _ = try run(["reproject", utm, dir.file("named.tif"), "--dst-crs", "EPSG:4326", "--bbox", "-117.63,33.86,-117.60,33.89", "--bbox-crs", "EPSG:4326"])
    _ = try run(["reproject", utm, dir.file("bare.tif"), "--dst-crs", "4326", "--bbox", "-117.63,33.86,-117.60,33.89", "--bbox-crs", "4326"])
    XCTAssertEqual(try bytes(dir.file("named.tif")), try bytes(dir.file("bare.tif")))
    _ = try run(["reproject", utm, dir.file("src.tif"), "--src-crs", "26711", "--dst-crs", "4326"])
    let described = try run(["info", "--crs", "4490", "--json"])
    let crs = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(described.stdout.utf8)) as? [String: Any])
    XCTAssertEqual((crs["crs"] as? [String: Any])?["epsg"] as? Int, 4490)
    XCTAssertTrue(try TesseraBinary.run(["reproject", utm, dir.file("x.tif"), "--dst-crs", "999999"]).stderr.contains("unknown CRS '999999'"))
  }

  // MARK: - Refusals

  func testDroppedSpellingsExit64NamingTheNewOne() throws {
    let rgb = Fixture.rgbByte, out = dir.file("o.tif")
    let cases: [([String], String)] = [
      (["mosaic", rgb, "-o", out, "--bands", "1,2"], "--bands is now -b/--band"),
      (["clip", rgb, out, "--bbox", "0,0,1,1", "--bands", "1"], "--bands is now -b/--band"),
      (["quicklook", rgb, dir.file("q.png"), "--bands", "3,2,1"], "--bands is now -b/--band"),
      (["timelapse", rgb, "-o", dir.file("t.gif"), "--bands", "3,2,1"], "--bands is now -b/--band"),
      (["timelapse", rgb, "-o", dir.file("t.gif"), "--product-bands", "B04,B03,B02"], "--product-bands is now -b/--band"),
      (["merge-memfile", Fixture.t29unuMetadata, "-o", out, "--bands", "B04"], "--bands is now -b/--band"),
      (["mosaic", rgb, "-o", out, "--order", "first"], "--order is now --method: --method first"),
      (["mosaic", rgb, "-o", out, "--order=last"], "--order is now --method: --method last"),
      (["merge-memfile", Fixture.t29unuMetadata, "-o", out, "--order", "first"], "--order is now --method"),
      (["resample", rgb, out, "--scale", "0.5"], "--scale 0.5 is --size 50%"),
      (["band-stack", rgb, "-o", out, "--names", "a,b,c"], "--names is now --descriptions"),
    ]
    for (arguments, text) in cases { try assertRefused(arguments, naming: text) }
    XCTAssertEqual(dir.contents, [])
  }

  func testGDALSpellingsPointAtTesseras() throws {
    let utm = Fixture.utmsmall, out = dir.file("o.tif")
    let cases: [([String], String)] = [
      (["reproject", utm, out, "--dst-crs", "4326", "-tr", "0.001", "0.001"], "-tr is GDAL's spelling; reproject takes --resolution"),
      (["reproject", utm, out, "--dst-crs", "4326", "--tr", "0.001"], "--tr is GDAL's spelling; reproject takes --resolution"),
      (["reproject", utm, out, "-t_srs", "EPSG:4326"], "takes --dst-crs"),
      (["reproject", utm, out, "--t-srs", "EPSG:4326"], "takes --dst-crs"),
      (["reproject", utm, out, "--dst-crs", "4326", "-s_srs", "EPSG:26711"], "takes --src-crs"),
      (["reproject", utm, out, "--dst-crs", "4326", "-te", "0", "0", "1", "1"], "takes --bbox"),
      (["reproject", utm, out, "--dst-crs", "4326", "-of", "GTiff"], "takes --format"),
      (["band-stack", utm, "-o", out, "-ot", "Byte"], "takes --ot"),
      (["reproject", utm, out, "--dst-crs", "4326", "-srcnodata", "0"], "takes --src-nodata"),
      (["reproject", utm, out, "--dst-crs", "4326", "-dstnodata", "0"], "takes --dst-nodata"),
      (["resample", utm, out, "-ts", "10", "10"], "takes --size"),
      (["resample", utm, out, "-outsize", "50%", "50%"], "takes --size"),
      (["resample", utm, out, "--res", "60", "-co", "COMPRESS=LZW"], "takes --co"),
      (["clip", utm, out, "--bbox", "0,0,1,1", "-tr", "10", "10"], "-tr is GDAL's spelling of --resolution, which clip does not take"),
    ]
    for (arguments, text) in cases { try assertRefused(arguments, naming: text) }
    XCTAssertEqual(dir.contents, [])
  }

  func testAnUnknownOptionIsNamedBeforeAMissingOne() throws {
    // mosaic misses -o, reproject --dst-crs, resample its output: the unknown option comes first.
    try assertRefused(["mosaic", Fixture.utmsmall, "--bogus"], naming: "Unknown option '--bogus'")
    try assertRefused(["reproject", Fixture.utmsmall, dir.file("o.tif"), "--resolutoin", "10"], naming: "Unknown option '--resolutoin'. Did you mean '--resolution'?")
    try assertRefused(["resample", Fixture.utmsmall, "--sise=50%"], naming: "Unknown option '--sise'. Did you mean '--size'?")
    // Values that start with a dash are values, not options.
    try assertRefused(["reproject", Fixture.utmsmall, "--bbox", "-117.63,33.86,-117.60,33.89", "--nope"], naming: "Unknown option '--nope'")
    let json = try TesseraBinary.run(["mosaic", Fixture.utmsmall, "--bogus", "--json"])
    let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    XCTAssertEqual(object["error"] as? String, "Unknown option '--bogus'")
    XCTAssertEqual(object["exit_code"] as? Int, 64)
  }

  // MARK: - Help

  func testEveryHelpEndsWithExamples() throws {
    let commands = ["info", "mosaic", "index", "clip", "band-stack", "reproject", "resample", "cog-export", "validate-cog",
                    "merge-memfile", "validate-merge", "batch", "batch-report", "quicklook", "timelapse"]
    for command in commands {
      let help = try run([command, "--help"]).stdout
      let tail = help.components(separatedBy: "\nEXAMPLES:\n").last ?? ""
      let examples = tail.split(separator: "\n").filter { !$0.isEmpty }
      XCTAssertTrue(help.contains("\nEXAMPLES:\n"), command)
      XCTAssertTrue((2...3).contains(examples.count), "\(command): \(examples)")
      XCTAssertTrue(examples.allSatisfy { $0.hasPrefix("  tessera \(command) ") }, "\(command): \(examples)")
      XCTAssertEqual(try run(["help", command]).stdout, help)
    }
  }

  func testTheExitCodesAreListedInOrder() throws {
    let help = try run(["--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
    let after = try XCTUnwrap(help.components(separatedBy: "Exit codes:").last)
    let list = after.components(separatedBy: "USAGE:").first ?? after
    let codes = try NSRegularExpression(pattern: #"(?:^ *|, )(\d+) "#).matches(in: list, range: NSRange(list.startIndex..., in: list))
      .compactMap { Range($0.range(at: 1), in: list).flatMap { Int(list[$0]) } }
    XCTAssertEqual(codes, [0, 1, 64, 65, 66, 69, 70, 71, 73, 74, 129, 130, 143])
  }
}
