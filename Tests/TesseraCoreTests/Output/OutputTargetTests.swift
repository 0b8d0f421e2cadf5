import Foundation
import GDAL
import TestSupport
import XCTest
@testable import TesseraCore

final class OutputTargetTests: XCTestCase {
  var dir: TemporaryDirectory!

  override func setUpWithError() throws { dir = try TemporaryDirectory() }
  override func tearDown() { dir.remove() }

  private func write(_ path: String, _ text: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
  }

  private func read(_ path: String) -> String? {
    (try? Data(contentsOf: URL(fileURLWithPath: path))).map { String(decoding: $0, as: UTF8.self) }
  }

  func testTemporaryFileSitsBesideTheOutputWithItsExtension() throws {
    // (A fixed-length name: `.tessera-` and twelve hex digits, then the extension.)
    let target = try OutputTarget(path: dir.file("out.tif"), inputs: [], overwrite: false)
    XCTAssertEqual((target.temporaryPath as NSString).deletingLastPathComponent, (target.finalPath as NSString).deletingLastPathComponent)
    XCTAssertTrue(target.temporaryPath.hasSuffix(".tif"))
    XCTAssertTrue((target.temporaryPath as NSString).lastPathComponent.hasPrefix("."))
    target.abort()
  }

  /// A hard link is the input under another name: refused like the input itself, even with
  /// --overwrite (found by the hostile review: `ln in.tif hard.tif; reproject in.tif hard.tif`).
  func testAHardLinkOfAnInputIsAnInput() throws {
    let input = dir.file("in.tif"), alias = dir.file("hard.tif")
    XCTAssertTrue(FileManager.default.createFile(atPath: input, contents: Data("raster".utf8)))
    XCTAssertEqual(link(input, alias), 0)
    XCTAssertThrowsError(try OutputTarget(path: alias, inputs: [input], overwrite: true)) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .usage)
    }
    XCTAssertEqual(FileManager.default.contents(atPath: input), Data("raster".utf8))
  }

  func testExistingOutputIsRefusedWithoutOverwrite() throws {
    try write(dir.file("out.tif"), "old")
    XCTAssertThrowsError(try OutputTarget(path: dir.file("out.tif"), inputs: [], overwrite: false)) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .cannotCreate)
      XCTAssertTrue("\(error)".contains("--overwrite"))
    }
    XCTAssertEqual(read(dir.file("out.tif")), "old")
  }

  /// A sidecar left by an earlier file of the name (its CRS, nodata) would be read as the new
  /// output's: 73 without --overwrite, and dropped with it (found by the hostile review).
  func testAStaleSidecarOfANewOutputIsAnOutputToo() throws {
    try write(dir.file("new.tif.aux.xml"), "stale")
    XCTAssertThrowsError(try OutputTarget(path: dir.file("new.tif"), inputs: [], overwrite: false)) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .cannotCreate)
      XCTAssertTrue("\(error)".contains("new.tif.aux.xml exists"), "\(error)")
    }
    XCTAssertEqual(read(dir.file("new.tif.aux.xml")), "stale")
    let target = try OutputTarget(path: dir.file("new.tif"), inputs: [], overwrite: true)
    try write(target.temporaryPath, "new")
    try target.commit()
    XCTAssertEqual(dir.contents, ["new.tif"])
  }

  func testCommitReplacesTheOldOutputAndMovesSidecars() throws {
    try write(dir.file("out.tif"), "old")
    try write(dir.file("out.tif.aux.xml"), "old sidecar")
    let target = try OutputTarget(path: dir.file("out.tif"), inputs: [], overwrite: true)
    try write(target.temporaryPath, "new")
    try write(target.temporaryPath + ".ovr", "overviews")
    try target.commit()
    XCTAssertEqual(read(dir.file("out.tif")), "new")
    XCTAssertEqual(read(dir.file("out.tif.ovr")), "overviews")
    // The old output's sidecar described the old pixels; it must not survive.
    XCTAssertNil(read(dir.file("out.tif.aux.xml")))
    XCTAssertEqual(dir.contents, ["out.tif", "out.tif.ovr"])
    XCTAssertFalse(TemporaryFiles.shared.registered.contains(target.temporaryPath))
  }

  func testAbortLeavesNothingAndKeepsTheOldOutput() throws {
    try write(dir.file("out.tif"), "old")
    let target = try OutputTarget(path: dir.file("out.tif"), inputs: [], overwrite: true)
    try write(target.temporaryPath, "partial")
    try write(target.temporaryPath + ".aux.xml", "partial sidecar")
    target.abort()
    XCTAssertEqual(dir.contents, ["out.tif"])
    XCTAssertEqual(read(dir.file("out.tif")), "old")
  }

  func testAnUncommittedTargetCleansUpWhenReleased() throws {
    var temporary = ""
    do {
      let target = try OutputTarget(path: dir.file("out.tif"), inputs: [], overwrite: false)
      temporary = target.temporaryPath
      try write(temporary, "partial")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: temporary))
    XCTAssertEqual(dir.contents, [])
  }

  func testOutputThatIsAnInputIsAUsageError() throws {
    let input = dir.file("in.tif")
    try write(input, "pixels")
    try FileManager.default.createSymbolicLink(atPath: dir.file("link.tif"), withDestinationPath: input)
    let spellings = [input, dir.path + "/./in.tif", dir.path + "/sub/../in.tif", dir.file("link.tif")]
    try FileManager.default.createDirectory(atPath: dir.file("sub"), withIntermediateDirectories: true)
    for spelling in spellings {
      XCTAssertThrowsError(try OutputTarget(path: spelling, inputs: [input], overwrite: true), spelling) { error in
        XCTAssertEqual((error as? TesseraError)?.status, .usage)
      }
    }
    // A sidecar of an input is the input's too.
    XCTAssertThrowsError(try OutputTarget(path: input + ".aux.xml", inputs: [input], overwrite: true))
    XCTAssertEqual(read(input), "pixels")
  }

  func testMissingOrUnwritableDirectoryCannotBeCreated() throws {
    XCTAssertThrowsError(try OutputTarget(path: dir.file("no/such/dir/out.tif"), inputs: [], overwrite: false)) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .cannotCreate)
    }
    try FileManager.default.createDirectory(atPath: dir.file("out.tif"), withIntermediateDirectories: true)
    XCTAssertThrowsError(try OutputTarget(path: dir.file("out.tif"), inputs: [], overwrite: true)) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .cannotCreate)
    }
  }

  /// The classifier the commands use decides by where a failure came from, never by its words.
  func testFailuresAreClassifiedByTheirOrigin() throws {
    let target = try OutputTarget(path: dir.file("out.tif"), inputs: [], overwrite: false, inputLabel: "in.tif")
    defer { target.abort() }
    let onOutput = GDALError(context: "writing", message: "anything at all", dataset: target.gdalPath)
    XCTAssertEqual(target.classify(onOutput).status, .ioError)
    XCTAssertTrue(target.classify(onOutput).message.contains(dir.file("out.tif")), target.classify(onOutput).message)
    // The same words from a read of an input are the input's fault.
    let onInput = GDALError(context: "reading", message: "write error while closing", dataset: dir.file("in.tif"))
    XCTAssertEqual(target.classify(onInput).status, .dataError)
    XCTAssertTrue(target.classify(onInput).message.hasPrefix(dir.file("in.tif")), target.classify(onInput).message)
    let fromUtility = GDALError(context: "warping", message: "IReadBlock failed at X offset 0, Y offset 0")
    XCTAssertEqual(target.classify(fromUtility).message, "in.tif: IReadBlock failed at X offset 0, Y offset 0")
    XCTAssertEqual(target.classify(GDALError.userInterrupt(context: "x")).status, .interrupted)
    XCTAssertEqual(target.classify(OpenError.notFound(path: "in.tif")).status, .noInput)
  }

  /// A disk that fills while GDAL writes: the operating system's ENOSPC, seen on the output's own
  /// file, makes the failure a write failure (74) whatever GDAL's message says.
  func testAFullDiskIsAWriteFailure() throws {
    let target = try OutputTarget(path: dir.file("out.tif"), inputs: [], overwrite: false)
    defer { target.abort() }
    // /dev/full takes the writes and fails every one with ENOSPC.
    try FileManager.default.createSymbolicLink(atPath: target.temporaryPath, withDestinationPath: "/dev/full")
    var thrown: Error?
    do {
      let output = try Dataset.create(driver: "GTiff", path: target.gdalPath, width: 256, height: 256, bands: 1, type: .byte,
                                      options: ["COMPRESS=NONE"])
      try output.band(1).write(Window(x: 0, y: 0, width: 256, height: 256), values: [UInt8](repeating: 7, count: 65536))
      try output.close()
    } catch {
      thrown = error
    }
    let error = try XCTUnwrap(thrown)
    let classified = target.classify(error)
    XCTAssertEqual(classified.status, .ioError, classified.message)
    XCTAssertTrue(classified.message.contains("No space left on device"), classified.message)
    XCTAssertFalse(classified.message.contains("/vsiwatch"), classified.message)
  }

  func testCommitNeverReplacesAFileThatAppearedMeanwhile() throws {
    let target = try OutputTarget(path: dir.file("out.tif"), inputs: [], overwrite: false)
    try write(target.temporaryPath, "new")
    try write(dir.file("out.tif"), "appeared")
    XCTAssertThrowsError(try target.commit()) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .cannotCreate)
    }
    target.abort()
    XCTAssertEqual(read(dir.file("out.tif")), "appeared")
    XCTAssertEqual(dir.contents, ["out.tif"])
  }

  func testTemporaryNamesAreShortWhateverTheOutputName() throws {
    let name = String(repeating: "n", count: 251) + ".tif"
    let target = try OutputTarget(path: dir.file(name), inputs: [], overwrite: false)
    try write(target.temporaryPath, "pixels")
    XCTAssertLessThan((target.temporaryPath as NSString).lastPathComponent.utf8.count, 32)
    try target.commit()
    XCTAssertEqual(dir.contents, [name])
  }

  func testAPathEndingInASlashIsAUsageError() throws {
    XCTAssertThrowsError(try OutputTarget(path: dir.path + "/newdir/", inputs: [], overwrite: false)) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .usage)
    }
    XCTAssertEqual(dir.contents, [])
  }

  func testTwoOutputsOfOneRunMustDiffer() throws {
    let raster = try OutputTarget(path: dir.file("x.tif"), inputs: [], overwrite: false)
    let report = try OutputTarget(path: dir.path + "/./x.tif", inputs: [], overwrite: false)
    XCTAssertThrowsError(try OutputTarget.requireDistinct([("the output", raster), ("--report", report)])) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .usage)
    }
    raster.abort()
    report.abort()
  }

  func testRemoveAllClearsEveryRegisteredFile() throws {
    let a = try OutputTarget(path: dir.file("a.tif"), inputs: [], overwrite: false)
    let b = try OutputTarget(path: dir.file("b.tif"), inputs: [], overwrite: false)
    try write(a.temporaryPath, "a")
    try write(b.temporaryPath, "b")
    try write(b.temporaryPath + ".msk", "mask")
    TemporaryFiles.shared.removeAll()
    XCTAssertEqual(dir.contents, [])
    a.abort()
    b.abort()
  }
}

extension OutputTargetTests {
  /// A scratch file of the output (merge-memfile's staging) that hits a full disk is a write
  /// failure of that output, named as the scratch file, and goes with the output.
  func testAScratchFileOnAFullDiskIsTheOutputsWriteFailure() throws {
    let target = try OutputSpec(path: dir.file("out.tif")).target(inputs: [])
    let scratch = target.scratchFile("stage-P1-B04.tif")
    let real = WatchedFiles.realPath(scratch)
    XCTAssertTrue((real as NSString).lastPathComponent.hasPrefix(".tessera-"), real)
    XCTAssertEqual((real as NSString).deletingLastPathComponent, dir.path, "beside the output")
    try FileManager.default.createSymbolicLink(atPath: real, withDestinationPath: "/dev/full")
    var thrown: Error?
    do {
      let staged = try Dataset.create(driver: "GTiff", path: scratch, width: 256, height: 256, bands: 1, type: .byte,
                                      options: ["COMPRESS=NONE"])
      try staged.band(1).write(Window(x: 0, y: 0, width: 256, height: 256), values: [UInt8](repeating: 7, count: 65536))
      try staged.close()
    } catch {
      thrown = error
    }
    let classified = target.classify(try XCTUnwrap(thrown))
    XCTAssertEqual(classified.status, .ioError, classified.message)
    XCTAssertTrue(classified.message.contains("stage-P1-B04.tif") && classified.message.contains("No space left on device"),
                  classified.message)
    target.abort()
    XCTAssertEqual(dir.contents, [], "the scratch file went with the output")
  }
}

extension OutputTargetTests {
  /// Several outputs move in together: when a late one cannot (a file appeared under its name),
  /// the ones already moved in are removed and the old files they replaced are back, sidecars
  /// included, byte for byte.
  func testALateFailureOfSeveralOutputsRestoresEveryOldFile() throws {
    try write(dir.file("a.tif"), "old a")
    try write(dir.file("a.tif.aux.xml"), "old a sidecar")
    try write(dir.file("b.tif"), "old b")
    let a = try OutputTarget(path: dir.file("a.tif"), inputs: [], overwrite: true)
    let b = try OutputTarget(path: dir.file("b.tif"), inputs: [], overwrite: true)
    let c = try OutputTarget(path: dir.file("c.tif"), inputs: [], overwrite: false)
    for target in [a, b, c] { try write(target.temporaryPath, "new") }
    try write(a.temporaryPath + ".ovr", "new overviews")
    try write(dir.file("c.tif"), "appeared")
    XCTAssertThrowsError(try OutputTarget.finishAll([a, b, c])) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .cannotCreate)
    }
    XCTAssertEqual(read(dir.file("a.tif")), "old a")
    XCTAssertEqual(read(dir.file("a.tif.aux.xml")), "old a sidecar")
    XCTAssertEqual(read(dir.file("b.tif")), "old b")
    XCTAssertEqual(read(dir.file("c.tif")), "appeared")
    XCTAssertEqual(dir.contents, ["a.tif", "a.tif.aux.xml", "b.tif", "c.tif"])
  }

  func testSeveralOutputsReplaceTheirOldFilesAndSidecarsTogether() throws {
    try write(dir.file("a.tif"), "old a")
    try write(dir.file("a.tif.aux.xml"), "old a sidecar")
    let a = try OutputTarget(path: dir.file("a.tif"), inputs: [], overwrite: true)
    let b = try OutputTarget(path: dir.file("b.tif"), inputs: [], overwrite: true)
    for target in [a, b] { try write(target.temporaryPath, "new") }
    try OutputTarget.finishAll([a, b])
    XCTAssertEqual(read(dir.file("a.tif")), "new")
    XCTAssertEqual(read(dir.file("b.tif")), "new")
    XCTAssertEqual(dir.contents, ["a.tif", "b.tif"], "the old sidecar described the old pixels")
  }

  func testSpecialFilesAndDashAreNoOutput() throws {
    XCTAssertEqual(mkfifo(dir.file("fifo.tif"), 0o600), 0)
    try FileManager.default.createSymbolicLink(atPath: dir.file("null.tif"), withDestinationPath: "/dev/null")
    try FileManager.default.createDirectory(atPath: dir.file("folder"), withIntermediateDirectories: false)
    try FileManager.default.createSymbolicLink(atPath: dir.file("folder.tif"), withDestinationPath: dir.file("folder"))
    let cases = [(dir.file("fifo.tif"), "is a FIFO"), (dir.file("null.tif"), "is a link to /dev/null, a character device"),
                 (dir.file("folder.tif"), "a directory"), ("/dev/null", "character device"),
                 ("/dev/stdout", "/proc/self/fd/1"), ("/proc/self/fd/1", "is in /proc"), ("-", "'-' is not a file name here")]
    for (path, words) in cases {
      for overwrite in [false, true] {
        XCTAssertThrowsError(try OutputTarget(path: path, inputs: [], overwrite: overwrite), path) { error in
          XCTAssertEqual((error as? TesseraError)?.status, .usage, path)
          XCTAssertTrue("\(error)".contains(words), "\(path): \(error)")
        }
      }
    }
    XCTAssertEqual(dir.contents, ["fifo.tif", "folder", "folder.tif", "null.tif"])
    XCTAssertTrue(TemporaryFiles.shared.registered.allSatisfy { !$0.hasPrefix(dir.path) })
  }

  func testALinkToAFileIsReplacedNeverWrittenThrough() throws {
    try write(dir.file("real.tif"), "old")
    try FileManager.default.createSymbolicLink(atPath: dir.file("link.tif"), withDestinationPath: dir.file("real.tif"))
    let target = try OutputTarget(path: dir.file("link.tif"), inputs: [], overwrite: true)
    try write(target.temporaryPath, "new")
    try target.commit()
    XCTAssertEqual(read(dir.file("real.tif")), "old")
    XCTAssertEqual(read(dir.file("link.tif")), "new")
    XCTAssertNil(try? FileManager.default.destinationOfSymbolicLink(atPath: dir.file("link.tif")))
  }

  /// Every message is one line that shows what a path holds: a newline is `\n`, a tab `\t`, a
  /// right-to-left override `\u{202E}`; the caret of a syntax error keeps its column.
  func testMessagesEscapeControlAndBidiCharacters() {
    XCTAssertEqual(TesseraError(.usage, "a\nb.tif: no such file").message, "a\\nb.tif: no such file")
    XCTAssertEqual(TesseraError(.usage, "t\tx\u{7}\u{85}\u{202E}y\n").message, "t\\tx\\u{7}\\u{85}\\u{202E}y")
    XCTAssertEqual(TesseraError(.usage, "中文 é ok").message, "中文 é ok")
    let marked = TesseraError(.usage, "a\tb: here", mark: 5)
    XCTAssertEqual(Array(marked.message)[marked.mark ?? 0], "h")
  }
}
