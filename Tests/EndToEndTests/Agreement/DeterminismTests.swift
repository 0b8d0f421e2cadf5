import Foundation
import TestSupport
import XCTest

/// The same command with 1, 2 and 8 threads writes the same bytes: windows computed on any
/// thread land in the same places, compression on several threads writes blocks in one order.
final class DeterminismTests: TemporaryDirectoryTestCase {
  func assertSameBytes(_ name: String, _ arguments: (String) -> [String], file: StaticString = #filePath, line: UInt = #line) throws {
    var outputs: [Data] = []
    for threads in [1, 2, 8] {
      let out = dir.file("\(name)-\(threads).tif")
      let run = try TesseraBinary.run(arguments(out) + ["--threads", String(threads), "-q"])
      XCTAssertEqual(run.status, 0, "\(name) with \(threads) threads: \(run.stderr)", file: file, line: line)
      outputs.append(try Data(contentsOf: URL(fileURLWithPath: out)))
    }
    XCTAssertEqual(outputs[0], outputs[1], "\(name): 1 and 2 threads", file: file, line: line)
    XCTAssertEqual(outputs[0], outputs[2], "\(name): 1 and 8 threads", file: file, line: line)
  }

  func testOneTwoAndEightThreadsWriteTheSameBytes() throws {
    let s2 = { (band: String) in Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_\(band).jp2") }
    let quadrants = (1...4).map { Fixture.path("rasterio/rgb\($0).tif") }
    try assertSameBytes("mosaic") { ["mosaic"] + quadrants + ["-o", $0] }
    try assertSameBytes("mosaic-reprojected") { ["mosaic"] + quadrants + ["-o", $0, "--dst-crs", "EPSG:4326"] }
    try assertSameBytes("index") { ["index", "ndvi,ndwi", "-i", "red=\(s2("B04"))", "-i", "nir=\(s2("B08"))", "-i", "green=\(s2("B03"))", "-o", $0] }
    try assertSameBytes("band-stack") { ["band-stack", s2("B02"), s2("B03"), s2("B04"), s2("B08"), "-o", $0] }
    try assertSameBytes("cog-export") { ["cog-export", Fixture.rgbByte, $0] }
    let products = try SyntheticProducts.make(in: dir.file("s2"), ["--scenario", "zones", "--size", "240", "--bands", "B02,B04,B08,SCL"])
    try assertSameBytes("merge-memfile") { ["merge-memfile"] + products + ["-o", $0, "-b", "B02,B04,B08", "--reflectance", "--mask-clouds", "--cog"] }
  }
}
