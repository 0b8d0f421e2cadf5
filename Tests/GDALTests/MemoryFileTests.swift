import Foundation
import GDAL
import TestSupport
import XCTest

final class MemoryFileTests: XCTestCase {
  func testLifetimeIsOwnedBySwift() throws {
    var folder = ""
    do {
      let file = MemoryFile(name: "x.tif")
      folder = (file.path as NSString).deletingLastPathComponent
      let ds = try Dataset.create(driver: "GTiff", path: file.path, width: 5, height: 5, bands: 1, type: .byte)
      try ds.close()
      XCTAssertTrue(file.exists)
      XCTAssertGreaterThan(try file.contents().count, 100)
      XCTAssertFalse(MemoryFile.list(folder).isEmpty)
    }
    XCTAssertEqual(MemoryFile.list(folder), [], "the memory file outlived its owner")
  }

  func testFromBytes() throws {
    let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixture.utmsmall))
    let file = try MemoryFile(name: "copy.tif", data: bytes)
    let ds = try Dataset.open(file.path)
    XCTAssertEqual(ds.width, 100)
    try ds.close()
    file.remove()
    XCTAssertFalse(file.exists)
  }
}
