import Foundation
import GDAL
import TestSupport
import XCTest

/// Tessera reads everything it writes, at 1, 2 and 8 threads. GDAL 3.6's multi-threaded GeoTIFF
/// decoder reports `Bad value 2 for "ExtraSamples" tag` on every block of a band-interleaved file
/// of 3 or more bands and reads it right all the same; Tessera proves that by reading the file
/// on one thread and on several, and a block that truly does not decode still fails with 65.
final class ReadOwnOutputsTests: TemporaryDirectoryTestCase {
  /// A small RGB raster (half of RGB.byte.tif), its bands as single files, and its two halves.
  private func sources() throws -> (rgb: String, bands: [String], halves: [String]) {
    let rgb = dir.file("small.tif")
    try Oracle.tool("gdal_translate", ["-q", "-outsize", "50%", "50%", Fixture.rgbByte, rgb])
    let bands = try (1...3).map { band -> String in
      let path = dir.file("b\(band).tif")
      try Oracle.tool("gdal_translate", ["-q", "-b", "\(band)", rgb, path])
      return path
    }
    let left = dir.file("left.tif"), right = dir.file("right.tif")
    try Oracle.tool("gdal_translate", ["-q", "-srcwin", "0", "0", "250", "359", rgb, left])
    try Oracle.tool("gdal_translate", ["-q", "-srcwin", "150", "0", "245", "359", rgb, right])
    return (rgb, bands, [left, right])
  }

  /// Every layout Tessera writes, and the band-interleaved MINISBLACK file gdal_translate writes.
  private func layouts() throws -> [String: String] {
    let (rgb, bands, halves) = try sources()
    let folder = dir.file("layouts")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let products = try SyntheticProducts.make(in: dir.file("s2"), ["--size", "240", "--bands", "B02,B03,B04,B08"])
    let writes: [(String, [String])] = [
      ("band-stack", ["band-stack"] + bands + ["-o", folder + "/band-stack.tif"]),
      ("band-stack pixel", ["band-stack"] + bands + ["-o", folder + "/band-stack-pixel.tif", "--interleave", "pixel"]),
      ("index", ["index", "ndvi,rvi,savi", "-o", folder + "/index.tif", "-i", "red=" + bands[0], "-i", "nir=" + bands[1]]),
      ("index band", ["index", "ndvi,rvi,savi", "-o", folder + "/index-band.tif", "-i", "red=" + bands[0],
                      "-i", "nir=" + bands[1], "--co", "INTERLEAVE=BAND"]),
      ("merge-memfile", ["merge-memfile"] + products + ["-o", folder + "/merge.tif", "-b", "B02,B03,B04,B08"]),
      ("merge-memfile band", ["merge-memfile"] + products + ["-o", folder + "/merge-band.tif", "-b", "B02,B03,B04,B08",
                                                            "--co", "INTERLEAVE=BAND"]),
      ("mosaic band", ["mosaic"] + halves + ["-o", folder + "/mosaic-band.tif", "--co", "INTERLEAVE=BAND"]),
      ("cog-export", ["cog-export", rgb, folder + "/cog.tif"]),
    ]
    var made: [String: String] = [:]
    for (label, arguments) in writes {
      let run = try TesseraBinary.run(arguments + ["-q"])
      XCTAssertEqual(run.status, 0, "writing \(label): \(run.stderr)")
      made[label] = arguments[arguments.firstIndex(of: "-o").map { $0 + 1 } ?? 2]
    }
    XCTAssertEqual(try Oracle.gdalinfo(made["band-stack"] ?? "")["metadata"].flatMap { ($0 as? [String: Any])?["IMAGE_STRUCTURE"] }
      .flatMap { ($0 as? [String: String])?["INTERLEAVE"] }, "BAND", "band-stack's default layout is band-interleaved")
    let gdalBand = folder + "/gdal-band.tif"
    try Oracle.tool("gdal_translate", ["-q", "-co", "INTERLEAVE=BAND", "-co", "PHOTOMETRIC=MINISBLACK", rgb, gdalBand])
    made["gdal_translate INTERLEAVE=BAND PHOTOMETRIC=MINISBLACK"] = gdalBand
    return made
  }

  /// The inner half of a raster's bounds, for clip.
  private func innerBox(_ path: String) throws -> String {
    let dataset = try Dataset.open(path)
    defer { try? dataset.close() }
    let gt = dataset.geoTransform ?? [0, 1, 0, 0, 0, -1]
    let (w, h) = (Double(dataset.width), Double(dataset.height))
    return [gt[0] + gt[1] * w / 4, gt[3] + gt[5] * h * 3 / 4, gt[0] + gt[1] * w * 3 / 4, gt[3] + gt[5] * h / 4]
      .map { String($0) }.joined(separator: ",")
  }

  func testEveryLayoutTesseraWritesIsReadByEveryReadingCommandAtOneTwoAndEightThreads() throws {
    for (label, input) in try layouts().sorted(by: { $0.key < $1.key }) {
      let box = try innerBox(input)
      for threads in ["1", "2", "8"] {
        let out = dir.file("t\(threads)")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let commands: [[String]] = [
          ["info", "--stats", input],
          ["reproject", input, out + "/r.tif", "--dst-crs", "EPSG:4326"],
          ["resample", input, out + "/s.tif", "--size", "50%"],
          ["clip", input, out + "/c.tif", "--bbox", box],
          ["mosaic", input, "-o", out + "/m.tif"],
          ["cog-export", input, out + "/g.tif"],
          ["index", "ndvi", input, "-i", "red=1,nir=2", "-o", out + "/i.tif"],
          ["band-stack", input, "-o", out + "/b.tif"],
          ["quicklook", input, out + "/q.png"],
        ]
        for command in commands {
          let run = try TesseraBinary.run(command + ["--threads", threads, "-q"])
          XCTAssertEqual(run.status, 0, "\(label) read by \(command[0]) at \(threads) threads: \(run.stderr)")
        }
        try FileManager.default.removeItem(atPath: out)
      }
    }
  }

  /// Where it is cheap, the pixels are GDAL's own: reproject is gdalwarp's single-threaded
  /// result (also through a VRT), and info --stats is GDAL's ComputeStatistics, whatever the
  /// thread count.
  func testABandInterleavedFileReadsAsGDALReadsItAtEveryThreadCount() throws {
    let input = dir.file("band.tif")
    try Oracle.tool("gdal_translate", ["-q", "-co", "INTERLEAVE=BAND", "-co", "PHOTOMETRIC=MINISBLACK", Fixture.rgbByte, input])
    let oracle = dir.file("gdalwarp.tif"), vrt = dir.file("band.vrt")
    try Oracle.tool("gdalwarp", ["-q", "-wo", "NUM_THREADS=1", "-t_srs", "EPSG:4326", input, oracle])
    try Oracle.tool("gdalbuildvrt", ["-q", vrt, input])
    // GDAL's exact statistics (gdalinfo -stats computes them so; its JSON rounds the mean).
    let script = "import json, sys\nfrom osgeo import gdal\nd = gdal.Open(sys.argv[1])\n"
      + "print(json.dumps([d.GetRasterBand(i).ComputeStatistics(False)[:3] for i in range(1, d.RasterCount + 1)]))"
    let computed = try Run.process(Oracle.python, ["-c", script, input], environment: ["GDAL_PAM_ENABLED": "NO"])
    XCTAssertEqual(computed.status, 0, computed.stderr)
    let expected = try JSONSerialization.jsonObject(with: Data(computed.stdout.utf8)) as? [[Double]] ?? []
    XCTAssertEqual(expected.count, 3)
    for threads in ["1", "2", "8"] {
      let out = dir.file("r\(threads).tif")
      let run = try TesseraBinary.run(["reproject", input, out, "--dst-crs", "EPSG:4326", "--threads", threads, "-q"])
      XCTAssertEqual(run.status, 0, run.stderr)
      let comparison = try PixelComparison.of(out, oracle)
      XCTAssertTrue(comparison.identical, "\(threads) threads: \(comparison)")
      let info = try TesseraBinary.run(["info", "--stats", input, "--json", "--threads", threads])
      XCTAssertEqual(info.status, 0, info.stderr)
      let report = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any]
      let object = (report?["files"] as? [[String: Any]])?.first
      let ours = (object?["bands"] as? [[String: Any]] ?? []).map { band in
        ["min", "max", "mean"].map { ((band["stats"] as? [String: Double])?[$0]) ?? .nan }
      }
      XCTAssertEqual(ours.count, expected.count)
      // GDAL opens a VRT's sources itself; a band-interleaved source reads the same through one.
      let throughVRT = try TesseraBinary.run(["reproject", vrt, dir.file("v\(threads).tif"), "--dst-crs", "EPSG:4326",
                                              "--threads", threads, "-q"])
      XCTAssertEqual(throughVRT.status, 0, throughVRT.stderr)
      let viaVRT = try PixelComparison.of(dir.file("v\(threads).tif"), oracle)
      XCTAssertTrue(viaVRT.identical, "through a VRT, \(threads) threads: \(viaVRT)")
      for (a, b) in zip(ours, expected) {
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-9, "\(threads) threads: \(ours) vs GDAL \(expected)") }
      }
    }
  }

  /// The proof is not a pass for damage: a tile of a band-interleaved file that does not decode
  /// fails every reading command with 65 and GDAL's decoder's words, at 2 and 8 threads as at 1.
  func testACorruptTileOfABandInterleavedFileStillFailsWith65() throws {
    let sound = dir.file("sound.tif"), damaged = dir.file("damaged.tif")
    try Oracle.tool("gdal_translate", ["-q", "-co", "COMPRESS=DEFLATE", "-co", "TILED=YES", "-co", "BLOCKXSIZE=256",
                                       "-co", "BLOCKYSIZE=256", "-co", "INTERLEAVE=BAND", "-co", "PHOTOMETRIC=MINISBLACK",
                                       Fixture.rgbByte, sound])
    let dataset = try Dataset.open(sound)
    let band = try dataset.band(2)
    let offset = Int(band.metadataItem("BLOCK_OFFSET_1_1", domain: "TIFF") ?? "") ?? 0
    let size = Int(band.metadataItem("BLOCK_SIZE_1_1", domain: "TIFF") ?? "") ?? 0
    try dataset.close()
    XCTAssertGreaterThan(size, 100)
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: sound)))
    for i in (offset + 10)..<(offset + size - 10) { bytes[i] = bytes[i] &* 7 &+ 13 }
    try Data(bytes).write(to: URL(fileURLWithPath: damaged))
    // The sound file reads at every thread count: the damage, not the layout, is what fails.
    XCTAssertEqual(try TesseraBinary.run(["info", "--stats", sound, "--threads", "8", "-q"]).status, 0)
    let out = dir.file("out")
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    for threads in ["1", "2", "8"] {
      for command in [["info", "--stats", damaged], ["reproject", damaged, out + "/r.tif", "--dst-crs", "EPSG:4326"],
                      ["resample", damaged, out + "/s.tif", "--size", "50%"], ["cog-export", damaged, out + "/g.tif"],
                      ["band-stack", damaged, "-o", out + "/b.tif"]] {
        let run = try TesseraBinary.run(command + ["--threads", threads])
        XCTAssertEqual(run.status, 65, "\(command[0]) at \(threads) threads: \(run.stderr)")
        XCTAssertTrue(run.stderr.contains("damaged.tif"), "\(command[0]) at \(threads) threads: \(run.stderr)")
        XCTAssertFalse(run.stderr.contains("ExtraSamples"), "\(command[0]) at \(threads) threads blamed the layout: \(run.stderr)")
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
      }
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [], "\(threads) threads left output")
    }
  }
}
