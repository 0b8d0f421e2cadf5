import Foundation
@testable import GDAL
import TestSupport
import XCTest

final class ThreadedDecodeCheckTests: XCTestCase {
  func testOnlyLibtiffsExtraSamplesRefusalOnGDALsDecodeHeaderIsASuspect() {
    XCTAssertTrue(ThreadedDecodeCheck.isHeaderFailure(
      "_TIFFVSetField:/vsimem/decompress_0x7fe2b434c678.tif: Bad value 2 for \"ExtraSamples\" tag"))
    XCTAssertTrue(ThreadedDecodeCheck.isHeaderFailure(
      "_TIFFVSetField:/vsimem/decompress_0x55d9d33708e0.tif: Bad value 12 for \"ExtraSamples\" tag"))
    for text in [
      "_TIFFVSetField:/data/x.tif: Bad value 2 for \"ExtraSamples\" tag",
      "_TIFFVSetField:/vsimem/decompress_0x7fe2b434c678.tif: Bad value 2 for \"Predictor\" tag",
      "_TIFFVSetField:/vsimem/decompress_0xZZ.tif: Bad value 2 for \"ExtraSamples\" tag",
      "_TIFFVSetField:/vsimem/decompress_0x7f.tif: Bad value x for \"ExtraSamples\" tag",
      "ZIPDecode:Decoding error at scanline 0",
      "_TIFFVSetField:/vsimem/decompress_0x7f.tif: Bad value 2 for \"ExtraSamples\" tag; and more",
    ] {
      XCTAssertFalse(ThreadedDecodeCheck.isHeaderFailure(text), text)
    }
  }

  func testProofWindowsCoverTheRasterOnceAndSpanSeveralBlocks() {
    let windows = ThreadedDecodeCheck.proofWindows(size: (1000, 700), block: (256, 256), bytesPerPixel: 3)
    XCTAssertEqual(windows.reduce(0) { $0 + $1.pixelCount }, 1000 * 700)
    XCTAssertTrue(windows.allSatisfy { $0.x + $0.width <= 1000 && $0.y + $0.height <= 700 })
    XCTAssertGreaterThan(windows[0].width, 256)
    XCTAssertGreaterThan(windows[0].height, 256)
    let strips = ThreadedDecodeCheck.proofWindows(size: (100_000, 50), block: (100_000, 1), bytesPerPixel: 8)
    XCTAssertEqual(strips.reduce(0) { $0 + $1.pixelCount }, 100_000 * 50)
    XCTAssertTrue(strips.allSatisfy { $0.pixelCount * 8 <= 8 << 20 })
  }

  /// A multi-threaded read of a band-interleaved MINISBLACK file reports the suspect on GDAL's
  /// workers; the check proves it spurious and passes. A damaged tile fails the check.
  func testTheSuspectOfASoundFileIsProvenAndADamagedTileStillFails() throws {
    let folder = try TemporaryDirectory("decode-check")
    defer { folder.remove() }
    let sound = folder.file("sound.tif"), damaged = folder.file("damaged.tif")
    try Oracle.tool("gdal_translate", ["-q", "-co", "COMPRESS=DEFLATE", "-co", "TILED=YES", "-co", "BLOCKXSIZE=256",
                                       "-co", "BLOCKYSIZE=256", "-co", "INTERLEAVE=BAND", "-co", "PHOTOMETRIC=MINISBLACK",
                                       Fixture.rgbByte, sound])
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: sound)))
    let probe = try Dataset.open(sound)
    let band = try probe.band(3)
    let offset = Int(band.metadataItem("BLOCK_OFFSET_2_1", domain: "TIFF") ?? "") ?? 0
    let size = Int(band.metadataItem("BLOCK_SIZE_2_1", domain: "TIFF") ?? "") ?? 0
    try probe.close()
    for i in (offset + 10)..<(offset + size - 10) { bytes[i] = bytes[i] &* 7 &+ 13 }
    try Data(bytes).write(to: URL(fileURLWithPath: damaged))

    try GDALEnvironment.withConfig(["GDAL_NUM_THREADS": "4"]) {
      let mark = GDALFailures.shared.mark
      let dataset = try Dataset.open(sound)
      var buffer = [UInt8](repeating: 0, count: dataset.width * dataset.height * 3)
      try buffer.withUnsafeMutableBytes {
        try dataset.read(Window(x: 0, y: 0, width: dataset.width, height: dataset.height), bands: [1, 2, 3], type: .byte, into: $0)
      }
      try dataset.close()
      XCTAssertNotNil(GDALFailures.shared.suspect(since: mark), "GDAL 3.6 no longer reports the suspect: the check is moot")
      XCTAssertNil(GDALFailures.shared.first(since: mark))
      XCTAssertNoThrow(try GDALFailures.shared.check(since: mark, context: "reading"))

      XCTAssertThrowsError(try ThreadedDecodeCheck.compare(damaged)) { error in
        XCTAssertTrue("\(error)".contains("damaged.tif") && "\(error)".contains("failed"), "\(error)")
      }
    }
  }
}
