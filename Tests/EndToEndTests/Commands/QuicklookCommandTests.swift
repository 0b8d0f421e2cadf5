import Foundation
import GDAL
import TestSupport
import XCTest

/// quicklook and timelapse as a user checks them: the picture's size and bands, pixel colours
/// against the stretch arithmetic, frames against quicklooks, GIF structure, MP4 through
/// ffmpeg, and bad input.
final class QuicklookCommandTests: TemporaryDirectoryTestCase {
  func json(_ run: ProcessResult) throws -> [String: Any] {
    try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stderr)
  }

  func testAnRGBPreviewIsTheStretchOfEachBand() throws {
    let out = dir.file("rgb.png")
    let run = try TesseraBinary.run(["quicklook", Fixture.rgbByte, out, "--json"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let report = try json(run)
    let png = try Dataset.open(out)
    XCTAssertEqual([png.width, png.height, png.bandCount], [791, 718, 4], "full size (narrower than 1024), RGB and alpha for nodata")
    let ranges = try XCTUnwrap(report["stretch_values"] as? [[String: Any]]).map { ($0["min"] as! Double, $0["max"] as! Double) }
    // The percentiles numpy gives over the pixels valid in every band.
    let expected = try XCTUnwrap(try Oracle.python("""
      import json, numpy as np
      from osgeo import gdal
      a = gdal.Open('\(Fixture.rgbByte)').ReadAsArray().astype('float64')
      valid = (a != 0).all(axis=0)
      print(json.dumps([[float(np.percentile(b[valid], 2)), float(np.percentile(b[valid], 98))] for b in a]))
      """) as? [[Double]])
    for (band, range) in ranges.enumerated() {
      XCTAssertEqual(range.0, expected[band][0], accuracy: 1e-9)
      XCTAssertEqual(range.1, expected[band][1], accuracy: 1e-9)
    }
    let source = try Dataset.open(Fixture.rgbByte)
    for (x, y) in [(400, 300), (100, 600), (600, 100), (395, 359)] {
      let values = try (1...3).map { try source.band($0).read(Window(x: x, y: y, width: 1, height: 1), as: Double.self)[0] }
      let pixel = try (1...4).map { Int(try png.band($0).read(Window(x: x, y: y, width: 1, height: 1), as: UInt8.self)[0]) }
      if values.allSatisfy({ $0 == 0 }) { XCTAssertEqual(pixel[3], 0, "nodata is transparent"); continue }
      for band in 0..<3 {
        let level = min(255, max(0, Int(((values[band] - ranges[band].0) / (ranges[band].1 - ranges[band].0) * 255).rounded())))
        XCTAssertEqual(pixel[band], level, "pixel (\(x), \(y)) band \(band + 1)")
      }
      XCTAssertEqual(pixel[3], 255)
    }
  }

  func testAnNDVIThroughRdYlGnWithALegend() throws {
    let s2 = { (band: String) in Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_\(band).jp2") }
    let ndvi = dir.file("ndvi.tif")
    XCTAssertEqual(try TesseraBinary.run(["index", "ndvi", "-i", "red=\(s2("B04"))", "-i", "nir=\(s2("B08"))", "-o", ndvi, "-q"]).status, 0)
    let out = dir.file("ndvi.png")
    let run = try TesseraBinary.run(["quicklook", ndvi, out, "--colormap", "rdylgn", "--stretch", "minmax", "--width", "16384", "--json"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let report = try json(run)
    XCTAssertEqual(report["colormap"] as? String, "rdylgn")
    let range = try XCTUnwrap((report["stretch_values"] as? [[String: Any]])?.first)
    let low = try XCTUnwrap(range["min"] as? Double), high = try XCTUnwrap(range["max"] as? Double)
    // The lowest NDVI is ColorBrewer's darkest red, the highest its darkest green, and a value
    // between maps to the level the arithmetic gives (checked against the map's own anchors at
    // its ends and middle).
    let source = try Dataset.open(ndvi), png = try Dataset.open(out)
    let values = try source.band(1).read(Window(x: 0, y: 0, width: source.width, height: source.height), as: Float.self)
    let rgb = try (1...3).map { try png.band($0).read(Window(x: 0, y: 0, width: png.width, height: png.height), as: UInt8.self) }
    let minIndex = try XCTUnwrap(values.indices.min { values[$0].isNaN ? false : (values[$1].isNaN || values[$0] < values[$1]) })
    let maxIndex = try XCTUnwrap(values.indices.max { values[$0].isNaN ? true : (!values[$1].isNaN && values[$0] < values[$1]) })
    XCTAssertEqual(Double(values[minIndex]), low, accuracy: 1e-6)
    XCTAssertEqual(Double(values[maxIndex]), high, accuracy: 1e-6)
    XCTAssertEqual(rgb.map { $0[minIndex] }, [0xa5, 0x00, 0x26])
    XCTAssertEqual(rgb.map { $0[maxIndex] }, [0x00, 0x68, 0x37])
    if let middle = values.indices.first(where: { abs((Double(values[$0]) - low) / (high - low) - 0.5) < 0.001 }) {
      for (channel, expected) in [0xff, 0xff, 0xbf].enumerated() { XCTAssertEqual(Int(rgb[channel][middle]), expected, accuracy: 2) }
    }
    // With a legend the picture grows by a strip under it; the image part is unchanged.
    let legend = dir.file("legend.png")
    XCTAssertEqual(try TesseraBinary.run(["quicklook", ndvi, legend, "--colormap", "rdylgn", "--stretch", "minmax", "--width", "16384", "--legend", "-q"]).status, 0)
    let withLegend = try Dataset.open(legend)
    XCTAssertEqual(withLegend.width, png.width)
    XCTAssertGreaterThan(withLegend.height, png.height)
    XCTAssertEqual(try withLegend.band(1).read(Window(x: 0, y: 0, width: png.width, height: png.height), as: UInt8.self), rgb[0])
  }

  func testAHugeSparseRasterPreviewsInBoundedMemory() throws {
    // 40000 x 40000 UInt16 (3.2 GB if it were read whole), a few blocks written.
    let big = dir.file("big.tif")
    _ = try Oracle.python("""
      from osgeo import gdal
      import numpy as np
      d = gdal.GetDriverByName('GTiff').Create('\(big)', 40000, 40000, 1, gdal.GDT_UInt16, ['TILED=YES', 'SPARSE_OK=TRUE', 'COMPRESS=DEFLATE'])
      d.GetRasterBand(1).SetNoDataValue(0)
      d.GetRasterBand(1).WriteArray(np.full((2048, 2048), 1000, dtype='uint16'), 10000, 10000)
      d.GetRasterBand(1).WriteArray(np.full((2048, 2048), 3000, dtype='uint16'), 30000, 20000)
      d = None
      print(1)
      """)
    let out = dir.file("big.png")
    // An address-space cap far below the raster's size (not under AddressSanitizer, whose shadow
    // memory reserves terabytes of address space).
    let asan = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") != nil
    let cap = asan ? "" : "ulimit -v 2000000; "
    let run = try Run.process("/bin/sh", ["-c", cap + "exec \"$0\" quicklook \"$1\" \"$2\" --json", TesseraBinary.path, big, out])
    XCTAssertEqual(run.status, 0, run.stderr)
    let png = try Dataset.open(out)
    XCTAssertEqual([png.width, png.height], [1024, 1024])
    let alpha = try png.band(png.bandCount).read(Window(x: 0, y: 0, width: 1024, height: 1024), as: UInt8.self)
    let opaque = alpha.filter { $0 == 255 }.count
    XCTAssertGreaterThan(opaque, 2 * 40, "the two written blocks show")
    XCTAssertLessThan(opaque, 1024 * 1024 / 50, "the rest is nodata")
  }

  func testBadInputsAreOneLineWithTheirCodesAndNothingWritten() throws {
    let out = dir.file("out.png")
    let cases: [([String], Int32, String)] = [
      ([Fixture.rgbByte, out, "--colormap", "rainbow"], 64, "viridis"),
      ([Fixture.rgbByte, dir.file("out.gif")], 64, ".png"),
      ([dir.file("missing.tif"), out], 66, "missing.tif"),
      ([Fixture.rgbByte, out, "-b", "4,3,2"], 65, "no band 4"),
      ([Fixture.rgbByte, out, "--stretch", "p98,p2"], 64, "--stretch"),
      ([Fixture.rgbByte, out, "--nodata-color", "pink"], 64, "--nodata-color"),
      ([Fixture.rgbByte, out, "--band", "1", "--color-table", dir.file("none.txt")], 66, "none.txt"),
    ]
    for (arguments, code, text) in cases {
      let run = try TesseraBinary.run(["quicklook"] + arguments + ["--json"])
      XCTAssertEqual(run.status, code, "\(arguments): \(run.stderr)")
      XCTAssertTrue(run.stderr.contains(text), run.stderr)
      XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
      XCTAssertEqual((try? json(run))?["exit_code"] as? Int, Int(code))
    }
    XCTAssertEqual(dir.contents, [])
    // An existing output needs --overwrite.
    try Data("keep".utf8).write(to: URL(fileURLWithPath: out))
    XCTAssertEqual(try TesseraBinary.run(["quicklook", Fixture.rgbByte, out]).status, 73)
    XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "keep")
  }

  func testClassesKeepTheirColours() throws {
    let scl = Fixture.path("sentinel2/S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE/GRANULE/L2A_T29UNU_A038058_20221005T115407/IMG_DATA/R60m/T29UNU_20221005T115411_SCL_60m.jp2")
    let out = dir.file("scl.png")
    let run = try TesseraBinary.run(["quicklook", scl, out, "--width", "1830", "--json"])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertEqual(try json(run)["style"] as? String, "classes (Sentinel-2 SCL)")
    let source = try Dataset.open(scl), png = try Dataset.open(out)
    let values = try source.band(1).read(Window(x: 0, y: 0, width: 1830, height: 1830), as: UInt8.self)
    let rgb = try (1...3).map { try png.band($0).read(Window(x: 0, y: 0, width: 1830, height: 1830), as: UInt8.self) }
    let colours: [UInt8: [UInt8]] = [4: [0, 160, 0], 6: [0, 0, 255], 8: [192, 192, 192], 9: [255, 255, 255]]
    var checked = 0
    for (value, colour) in colours {
      guard let index = values.firstIndex(of: value) else { continue }
      XCTAssertEqual(rgb.map { $0[index] }, colour, "SCL class \(value)")
      checked += 1
    }
    XCTAssertGreaterThanOrEqual(checked, 2)
    // A colour table file of one's own.
    let table = dir.file("classes.txt")
    try "# value r g b\n4 10 20 30\n6, 40, 50, 60\n".write(toFile: table, atomically: true, encoding: .utf8)
    XCTAssertEqual(try TesseraBinary.run(["quicklook", scl, dir.file("own.png"), "--width", "1830", "--color-table", table, "-q"]).status, 0)
    let own = try Dataset.open(dir.file("own.png"))
    if let index = values.firstIndex(of: 4) {
      XCTAssertEqual(try (1...3).map { try own.band($0).read(Window(x: index % 1830, y: index / 1830, width: 1, height: 1), as: UInt8.self)[0] }, [10, 20, 30])
    }
  }
}
