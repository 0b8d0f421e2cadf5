import Foundation
import GDAL
import TestSupport
import XCTest
@testable import TesseraCore

/// Inputs read together: band picks, band selection, the common type, the files read.
final class SourceSetTests: TemporaryDirectoryTestCase {
  func testABandPickIsBandNOfAFileThatExists() throws {
    XCTAssertEqual(SourceSet.pick(Fixture.rgbByte + ":2"), SourceSet.Pick(path: Fixture.rgbByte, band: 2))
    XCTAssertEqual(SourceSet.pick(Fixture.rgbByte), SourceSet.Pick(path: Fixture.rgbByte, band: nil))
    XCTAssertEqual(SourceSet.pick("missing.tif:2").band, nil, "no such file: the whole argument is a path")
    XCTAssertEqual(SourceSet.pick(Fixture.rgbByte + ":0").band, nil, "bands count from 1")
    let subdataset = "SENTINEL2_L2A:/x/MTD_MSIL2A.xml:10m:EPSG_32633"
    XCTAssertEqual(SourceSet.pick(subdataset).path, subdataset)
    // A file whose name really ends in :N is that file.
    let odd = dir.file("odd.tif:3")
    try FileManager.default.copyItem(atPath: Fixture.utmsmall, toPath: odd)
    XCTAssertEqual(SourceSet.pick(odd), SourceSet.Pick(path: odd, band: nil))
  }

  func testPicksReadTheBandTheyName() throws {
    let set = try SourceSet(paths: [Fixture.rgbByte + ":3", Fixture.rgbByte + ":1"])
    XCTAssertEqual(set.bands, [1])
    XCTAssertEqual(set.datasets.map(\.bandCount), [1, 1])
    let whole = try Dataset.open(Fixture.rgbByte)
    let window = Window(x: 300, y: 300, width: 64, height: 64)
    XCTAssertEqual(try set.datasets[0].band(1).read(window, as: UInt8.self), try whole.band(3).read(window, as: UInt8.self))
    XCTAssertEqual(try set.datasets[1].band(1).read(window, as: UInt8.self), try whole.band(1).read(window, as: UInt8.self))
    XCTAssertTrue(set.hasPicks)
    XCTAssertTrue(set.inputFiles.contains(Fixture.rgbByte), "the file read, not the pick's spelling")
    XCTAssertFalse(set.inputFiles.contains { $0.hasSuffix(":3") || $0.hasSuffix(":1") })
    XCTAssertFalse(set.inputFiles.contains { $0.hasPrefix("/vsimem/") })
  }

  func testPicksAndTheirErrors() throws {
    XCTAssertThrowsError(try SourceSet(paths: [Fixture.rgbByte + ":4"])) { error in
      let e = TesseraError.from(error)
      XCTAssertEqual(e.status, .dataError)
      XCTAssertTrue(e.message.contains("asks for band 4") && e.message.contains("has 3"), e.message)
    }
    XCTAssertThrowsError(try SourceSet(paths: [Fixture.rgbByte + ":1"], bands: [1])) { error in
      XCTAssertEqual(TesseraError.from(error).status, .usage)
    }
    XCTAssertThrowsError(try SourceSet(paths: [Fixture.rgbByte, Fixture.utmsmall])) { error in
      let e = TesseraError.from(error)
      XCTAssertTrue(e.message.contains("input 2 (utmsmall.tif) has 1"), e.message)
    }
  }

  func testTheCommonTypeHoldsEveryInput() throws {
    XCTAssertEqual(try SourceSet(paths: [Fixture.rgbByte + ":1", Fixture.utmsmall]).type, .byte)
    XCTAssertEqual(try SourceSet(paths: [Fixture.rgbByte + ":1", Fixture.n43]).type, .int16)
    XCTAssertEqual(try SourceSet(paths: [Fixture.float32, Fixture.n43]).type, .float32)
  }
}
