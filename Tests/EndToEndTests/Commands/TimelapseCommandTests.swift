import Foundation
import GDAL
import TestSupport
import XCTest

/// timelapse: frame count, loop and delays read back from the GIF's own blocks, frames equal to
/// the quicklooks of the same inputs, Sentinel-2 products of two baselines, MP4 through ffmpeg
/// (and the error without it), bad input.
final class TimelapseCommandTests: TemporaryDirectoryTestCase {
  /// What a GIF's blocks say: its images, its loop count, each frame's delay (1/100 s).
  struct NotAGIF: Error { let reason: String }

  struct GIFStructure {
    var width = 0, height = 0, images = 0
    var loopCount: Int?
    var delays: [Int] = []
    var transparentIndexes: [Int?] = []

    init(_ path: String) throws {
      let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
      guard bytes.count > 13, String(decoding: bytes[0..<6], as: UTF8.self) == "GIF89a" else { throw NotAGIF(reason: "not a GIF89a") }
      width = Int(bytes[6]) | Int(bytes[7]) << 8
      height = Int(bytes[8]) | Int(bytes[9]) << 8
      var at = 13
      if bytes[10] & 0x80 != 0 { at += 3 << (Int(bytes[10] & 7) + 1) }
      func skipSubBlocks() { while at < bytes.count, bytes[at] != 0 { at += Int(bytes[at]) + 1 }; at += 1 }
      while at < bytes.count {
        switch bytes[at] {
        case 0x21:
          let label = bytes[at + 1]
          at += 2
          if label == 0xff, bytes[at] == 11, String(decoding: bytes[(at + 1)..<(at + 12)], as: UTF8.self) == "NETSCAPE2.0" {
            at += 12
            if bytes[at] == 3, bytes[at + 1] == 1 { loopCount = Int(bytes[at + 2]) | Int(bytes[at + 3]) << 8 }
          } else if label == 0xf9, bytes[at] == 4 {
            delays.append(Int(bytes[at + 2]) | Int(bytes[at + 3]) << 8)
            transparentIndexes.append(bytes[at + 1] & 1 != 0 ? Int(bytes[at + 4]) : nil)
          }
          skipSubBlocks()
        case 0x2c:
          images += 1
          let flags = bytes[at + 9]
          at += 10
          if flags & 0x80 != 0 { at += 3 << (Int(flags & 7) + 1) }
          at += 1  // LZW minimum code size
          skipSubBlocks()
        case 0x3b:
          return
        default:
          throw NotAGIF(reason: "unexpected GIF block \(bytes[at]) at \(at)")
        }
      }
    }
  }

  var t29unu: String {
    Fixture.path("sentinel2/S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE/GRANULE/L2A_T29UNU_A038058_20221005T115407/IMG_DATA/R60m")
  }

  func testFramesAreTheQuicklooksOfTheSameInputs() throws {
    let frames = ["B04", "B8A"].map { "\(t29unu)/T29UNU_20221005T115411_\($0)_60m.jp2" }
    let out = dir.file("t29unu.gif")
    let style = ["--band", "1", "--colormap", "viridis", "--stretch", "0,3000", "--width", "1830"]
    let run = try TesseraBinary.run(["timelapse"] + frames + ["-o", out, "--fps", "4", "--labels", "none", "--json"] + style)
    XCTAssertEqual(run.status, 0, run.stderr)
    let gif = try GIFStructure(out)
    XCTAssertEqual(gif.images, 2)
    XCTAssertEqual(gif.loopCount, 0, "loops forever")
    XCTAssertEqual(gif.delays, [25, 25], "1/4 s a frame")
    XCTAssertEqual([gif.width, gif.height], [1830, 1830])
    // GDAL reads the frames of an animated GIF as bands; each must be the quicklook's colours.
    let decoded = try Dataset.open(out)
    XCTAssertEqual(decoded.bandCount, 2)
    for (index, frame) in frames.enumerated() {
      let png = dir.file("frame-\(index).png")
      XCTAssertEqual(try TesseraBinary.run(["quicklook", frame, png, "-q"] + style).status, 0)
      let expanded = dir.file("frame-\(index)-gif.tif")
      try Oracle.tool("gdal_translate", ["-q", "-b", "\(index + 1)", "-expand", "rgba", out, expanded])
      let ours = try Dataset.open(png), theirs = try Dataset.open(expanded)
      let window = Window(x: 0, y: 0, width: 1830, height: 1830)
      let alpha = ours.bandCount == 4 ? try ours.band(4).read(window, as: UInt8.self) : [UInt8](repeating: 255, count: 1830 * 1830)
      var colours = Set<Int>(), worst = 0
      let a = try (1...3).map { try ours.band($0).read(window, as: UInt8.self) }
      let b = try (1...3).map { try theirs.band($0).read(window, as: UInt8.self) }
      for i in 0..<(1830 * 1830) where alpha[i] == 255 {
        colours.insert(Int(a[0][i]) << 16 | Int(a[1][i]) << 8 | Int(a[2][i]))
        for c in 0..<3 { worst = max(worst, abs(Int(a[c][i]) - Int(b[c][i]))) }
      }
      // Exact when the frame's colours fit a GIF palette; within the 5-bit median cut otherwise.
      XCTAssertLessThanOrEqual(worst, colours.count <= 255 ? 0 : 8, "frame \(index + 1) (\(colours.count) colours)")
    }
  }

  func testTwoOrbitsOfSyntheticProductsInDateOrder() throws {
    let products = try SyntheticProducts.make(in: dir.file("s2"), ["--scenario", "orbits", "--size", "240", "--bands", "B02,B03,B04,B08,SCL"])
    let out = dir.file("orbits.gif")
    let run = try TesseraBinary.run(["timelapse"] + products + ["-o", out, "--stretch", "0,3000", "--json"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let dates = try XCTUnwrap(report["dates"] as? [String])
    XCTAssertEqual(dates, dates.sorted(), "date order")
    XCTAssertEqual(report["labels"] as? [String], dates)
    XCTAssertEqual(try GIFStructure(out).images, 2)
    XCTAssertEqual(report["frames"] as? Int, 2)
  }

  func testMP4ThroughFFmpegAndTheErrorWithoutIt() throws {
    let frames = ["B04", "B8A"].map { "\(t29unu)/T29UNU_20221005T115411_\($0)_60m.jp2" }
    let out = dir.file("t29unu.mp4")
    if let ffprobe = Run.which("ffprobe"), Run.which("ffmpeg") != nil {
      let run = try TesseraBinary.run(["timelapse"] + frames + ["-o", out, "--width", "333", "--band", "1"])
      XCTAssertEqual(run.status, 0, run.stderr)
      let probe = try Run.process(ffprobe, ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                                            "stream=nb_read_frames,width,height,codec_name,pix_fmt", "-of", "json", out])
      let stream = try XCTUnwrap(((try JSONSerialization.jsonObject(with: Data(probe.stdout.utf8)) as? [String: Any])?["streams"] as? [[String: Any]])?.first)
      XCTAssertEqual(stream["nb_read_frames"] as? String, "2")
      XCTAssertEqual(stream["codec_name"] as? String, "h264")
      XCTAssertEqual(stream["pix_fmt"] as? String, "yuv420p")
      XCTAssertEqual(stream["width"] as? Int, 334, "padded to even")
    } else {
      print("ffmpeg is not installed: the MP4 half of this test is skipped")
    }
    let missing = try TesseraBinary.run(["timelapse"] + frames + ["-o", dir.file("none.mp4")], environment: ["PATH": "/nonexistent"])
    XCTAssertEqual(missing.status, 69, missing.stderr)
    XCTAssertTrue(missing.stderr.contains("ffmpeg"), missing.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("none.mp4")))
  }

  func testBadInputs() throws {
    let b04 = "\(t29unu)/T29UNU_20221005T115411_B04_60m.jp2"
    let one = dir.file("one-band.tif")
    try Oracle.tool("gdal_translate", ["-q", "-b", "1", Fixture.rgbByte, one])
    let cases: [([String], Int32, String)] = [
      ([b04, Fixture.path("rasterio/rgb1.tif"), "--band", "1"], 65, "rgb1.tif does not intersect"),
      ([Fixture.rgbByte, one], 65, "one-band.tif gives 1 band"),
      ([b04, b04, "--colormap", "rainbow"], 64, "viridis"),
      ([b04, dir.file("missing.tif")], 66, "missing.tif"),
      ([Fixture.rgbByte, one, "--order", "date"], 65, "no date"),
    ]
    for (arguments, code, text) in cases {
      let run = try TesseraBinary.run(["timelapse"] + arguments + ["-o", dir.file("out.gif")])
      XCTAssertEqual(run.status, code, "\(arguments): \(run.stderr)")
      XCTAssertTrue(run.stderr.contains(text), run.stderr)
      XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
    }
    XCTAssertEqual(dir.contents, ["one-band.tif"], "nothing written")
  }
}
