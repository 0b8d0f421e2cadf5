import Foundation
import TestSupport
import XCTest

/// `make demo` as a fresh checkout runs it (issue #26, item 8), with the binary under test
/// (`TESSERA=`, so nothing is built) and its outputs in a test folder: every step prints one
/// line, the last line names what to open, and the PNG and GIF it names are valid images.
final class DemoTests: TemporaryDirectoryTestCase {
  override var directoryLabel: String { "tessera-demo" }

  func testMakeDemoRunsEveryStepInOneLineAndLeavesThePNGAndGIFItNames() throws {
    let make = try XCTUnwrap(Run.which("make"), "make is not installed")
    let out = dir.file("demo")
    let run = try Run.process(make, ["-s", "demo", "TESSERA=\(TesseraBinary.path)", "DEMO_DIR=\(out)"],
                              currentDirectory: OptionDeclarations.repository)
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    XCTAssertEqual(run.stderr, "", "the demo's steps print nothing on stderr")
    var lines = run.stdout.split(separator: "\n").map(String.init)
    let last = try XCTUnwrap(lines.popLast())
    XCTAssertEqual(lines.count, 11, run.stdout)
    for (index, line) in lines.enumerated() {
      XCTAssertTrue(line.hasPrefix(String(format: "%2d. ", index + 1)), "not one numbered line a step: \(line)")
    }
    let commands = Set(lines.compactMap { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.map(String.init) })
    for command in ["info", "mosaic", "reproject", "clip", "cog-export", "band-stack", "index", "quicklook", "merge-memfile", "timelapse"] {
      XCTAssertTrue(commands.contains(command), "no \(command) step: \(run.stdout)")
    }
    XCTAssertEqual(last, "open \(out)/ndvi.png (and \(out)/timelapse.gif)")

    let png = try Data(contentsOf: URL(fileURLWithPath: out + "/ndvi.png"))
    XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "ndvi.png is not a PNG")
    let pngInfo = try Oracle.gdalinfo(out + "/ndvi.png")
    XCTAssertEqual(pngInfo["driverShortName"] as? String, "PNG")
    XCTAssertGreaterThan((pngInfo["bands"] as? [Any])?.count ?? 0, 2, "a colour PNG")

    let gif = try Data(contentsOf: URL(fileURLWithPath: out + "/timelapse.gif"))
    XCTAssertEqual(String(decoding: gif.prefix(6), as: UTF8.self), "GIF89a")
    XCTAssertEqual(gif.last, 0x3B, "a GIF ends with its trailer")
    XCTAssertEqual(try Oracle.gdalinfo(out + "/timelapse.gif")["driverShortName"] as? String, "GIF")
    if let ffprobe = Run.which("ffprobe") {
      let probe = try Run.process(ffprobe, ["-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames",
                                            "-of", "csv=p=0", out + "/timelapse.gif"])
      XCTAssertEqual(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "2", "two dates, two frames: \(probe.stderr)")
    }
  }
}
