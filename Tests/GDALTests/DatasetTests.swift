import Foundation
import GDAL
import TestSupport
import XCTest

final class DatasetTests: XCTestCase {
  func testOpensReadOnlyAndReadsGeoreferencing() throws {
    let ds = try Dataset.open(Fixture.utmsmall)
    XCTAssertEqual(ds.access, .readOnly)
    XCTAssertEqual(ds.driverName, "GTiff")
    XCTAssertEqual(ds.width, 100)
    XCTAssertEqual(ds.height, 100)
    XCTAssertEqual(ds.bandCount, 1)
    XCTAssertEqual(ds.geoTransform, [440720, 60, 0, 3751320, 0, -60])
    XCTAssertEqual(ds.spatialReference?.epsg, 26711)
    try ds.close()
  }

  func testCloseIsSafeTwiceAndMarksClosed() throws {
    let ds = try Dataset.open(Fixture.utmsmall)
    XCTAssertFalse(ds.isClosed)
    try ds.close()
    XCTAssertTrue(ds.isClosed)
    XCTAssertNoThrow(try ds.close())
    XCTAssertThrowsError(try ds.flush())
  }

  func testMissingFileNamesThePath() {
    let path = "/nonexistent/dir/missing.tif"
    XCTAssertThrowsError(try Dataset.open(path)) { error in
      XCTAssertEqual(error as? OpenError, .notFound(path: path))
      XCTAssertTrue("\(error)".contains(path))
    }
  }

  func testCorruptFilesAreUnreadableWithThePathAndGDALsWords() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let original = try Data(contentsOf: URL(fileURLWithPath: Fixture.rgbByte))
    let cases: [(String, Data)] = [
      ("truncated.tif", original.prefix(200)),
      ("random.tif", Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) })),
      ("empty.tif", Data()),
    ]
    for (name, bytes) in cases {
      let path = dir.file(name)
      try bytes.write(to: URL(fileURLWithPath: path))
      XCTAssertThrowsError(try Dataset.open(path), name) { error in
        guard case .unreadable(let p, _) = error as? OpenError else {
          return XCTFail("\(name): expected unreadable, got \(error)")
        }
        XCTAssertEqual(p, path)
        XCTAssertTrue("\(error)".contains(name), "\(error)")
      }
    }
  }

  func testDirectoryIsNotARaster() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    XCTAssertThrowsError(try Dataset.open(dir.path)) { error in
      guard case .unreachable(let p, let reason) = error as? OpenError else { return XCTFail("\(error)") }
      XCTAssertEqual(p, dir.path)
      XCTAssertTrue(reason.contains("is a directory"), reason)
    }
  }

  func testCPLErrorTextReachesTheSwiftError() throws {
    let src = try Dataset.open(Fixture.utmsmall)
    let out = MemoryFile(name: "bad.tif")
    XCTAssertThrowsError(try GDALUtilities.translate(src, to: out.path, arguments: ["-b", "9"])) { error in
      let gdal = error as? GDALError
      XCTAssertNotNil(gdal)
      // GDAL's own sentence about the band, not a generic failure.
      XCTAssertTrue(gdal?.message.contains("Band 9") ?? false, "\(error)")
    }
  }

  func testWarningsAreCollected() throws {
    GDALWarnings.shared.reset()
    let out = MemoryFile(name: "w.tif")
    let ds = try Dataset.create(
      driver: "GTiff", path: out.path, width: 4, height: 4, bands: 1, type: .byte, options: ["NOT_AN_OPTION=1"])
    try ds.close()
    XCTAssertTrue(GDALWarnings.shared.all.contains { $0.contains("NOT_AN_OPTION") }, "\(GDALWarnings.shared.all)")
  }

  func testProgressReachesTheClosureAndFalseCancels() throws {
    let src = try Dataset.open(Fixture.rgbByte)
    var fractions: [Double] = []
    let out = MemoryFile(name: "p.tif")
    let copy = try GDALUtilities.translate(src, to: out.path, arguments: ["-of", "GTiff"]) { fraction, _ in
      fractions.append(fraction)
      return true
    }
    try copy.close()
    XCTAssertGreaterThan(fractions.count, 2)
    XCTAssertEqual(fractions.last ?? 0, 1, accuracy: 1e-9)
    XCTAssertEqual(fractions, fractions.sorted())

    let cancelled = MemoryFile(name: "c.tif")
    var calls = 0
    XCTAssertThrowsError(try GDALUtilities.translate(src, to: cancelled.path, arguments: ["-of", "GTiff"]) { fraction, _ in
      calls += 1
      return fraction < 0.3
    }) { error in
      XCTAssertTrue((error as? GDALError)?.isUserInterrupt ?? false, "\(error)")
    }
    XCTAssertGreaterThan(calls, 0)
  }

  func testCreateWriteReadWindowRoundTrip() throws {
    let ds = try Dataset.create(driver: "MEM", path: "", width: 8, height: 6, bands: 2, type: .uint16)
    let band = try ds.band(2)
    let window = Window(x: 2, y: 1, width: 3, height: 2)
    try band.write(window, values: [UInt16](arrayLiteral: 1, 2, 3, 4, 5, 65535))
    XCTAssertEqual(try band.read(window, as: UInt16.self), [1, 2, 3, 4, 5, 65535])
    // Reads convert types as GDAL does.
    XCTAssertEqual(try band.read(window, as: Double.self), [1, 2, 3, 4, 5, 65535])
    XCTAssertEqual(try band.read(Window(x: 0, y: 0, width: 2, height: 1), as: UInt16.self), [0, 0])
    try band.setNoDataValue(7)
    XCTAssertEqual(band.noDataValue, 7)
    try band.setNoDataValue(nil)
    XCTAssertNil(band.noDataValue)
    XCTAssertThrowsError(try ds.band(3))
  }

  func testBandPropertiesOfARealFile() throws {
    let ds = try Dataset.open(Fixture.rgbByte)
    let band = try ds.band(1)
    XCTAssertEqual(band.dataType, .byte)
    XCTAssertEqual(band.noDataValue, 0)
    XCTAssertEqual(band.blockSize.width, 791)
    XCTAssertEqual(band.blockSize.height, 3)
    XCTAssertEqual(band.colorInterpretation, "Red")
    XCTAssertNil(band.offset)
    let n43 = try Dataset.open(Fixture.n43).band(1)
    XCTAssertEqual(n43.dataType, .int16)
    XCTAssertEqual(n43.noDataValue, -32767)
  }

  func testOpeningAndClosing10000TimesKeepsMemoryFlat() throws {
    // AddressSanitizer keeps freed memory in quarantine, so resident memory grows by design
    // there; its leak checker covers the same ground in `make sanitize`.
    if dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") != nil {
      throw XCTSkip("resident memory is not a measure of leaks under AddressSanitizer")
    }
    // Warm up: GDAL's driver and PROJ state are allocated once.
    for _ in 0..<200 { try Dataset.open(Fixture.utmsmall).close() }
    let before = residentBytes()
    for _ in 0..<10_000 {
      let ds = try Dataset.open(Fixture.utmsmall)
      _ = try ds.band(1).blockSize
      try ds.close()
    }
    let grown = residentBytes() - before
    // A leak of one small object per open would be megabytes here.
    XCTAssertLessThan(grown, 4 * 1024 * 1024, "resident memory grew by \(grown) bytes over 10,000 opens")
  }

  func testDeinitClosesAnUnclosedDataset() throws {
    let file = MemoryFile(name: "d.tif")
    do {
      let ds = try Dataset.create(driver: "GTiff", path: file.path, width: 3, height: 3, bands: 1, type: .byte)
      try ds.band(1).write(Window(x: 0, y: 0, width: 1, height: 1), values: [UInt8(42)])
    }
    // Only a real close flushes the pixel to the file.
    let reopened = try Dataset.open(file.path)
    XCTAssertEqual(try reopened.band(1).read(Window(x: 0, y: 0, width: 1, height: 1), as: UInt8.self), [42])
  }

  func testConfigScopeRestoresThePreviousValue() {
    XCTAssertNil(GDALEnvironment.config("TESSERA_TEST_OPTION"))
    GDALEnvironment.withConfig(["TESSERA_TEST_OPTION": "inner"]) {
      XCTAssertEqual(GDALEnvironment.config("TESSERA_TEST_OPTION"), "inner")
    }
    XCTAssertNil(GDALEnvironment.config("TESSERA_TEST_OPTION"))
  }

  func testSubdatasetsOfASentinel2Product() throws {
    let ds = try Dataset.open(Fixture.t29unuMetadata)
    XCTAssertEqual(ds.driverName, "SENTINEL2")
    let names = ds.subdatasets.map(\.name)
    XCTAssertEqual(names.count, 4)
    XCTAssertTrue(names[0].hasPrefix("SENTINEL2_L2A:"))
    XCTAssertTrue(names.contains { $0.hasSuffix(":60m:EPSG_32629") })
  }
}
