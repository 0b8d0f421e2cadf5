import Foundation
import TestSupport
import XCTest

/// An output in a folder that is not there (issue #26, item 11): every writing command refuses
/// `-o DIR/file` with exit 73 (the output cannot be created) and one line naming the folder that
/// is missing, as given, before any work; nothing is made. `clip --each-feature -o DIR` (item 7)
/// makes DIR when its parent exists, and a failed run never removes a folder the user had.
final class MissingOutputFolderTests: TemporaryDirectoryTestCase {
  override var directoryLabel: String { "tessera-missing-folder" }

  /// Each writing command with its output at `out`, run in the test's folder.
  func writers(_ out: String) -> [[String]] {
    let scene = Fixture.rgbByte
    return [
      ["reproject", scene, out, "--dst-crs", "wgs84"],
      ["resample", scene, out, "--resolution", "600"],
      ["clip", scene, out, "--bbox", "200000,2700000,230000,2730000"],
      ["mosaic", scene, "-o", out],
      ["band-stack", scene, "-o", out],
      ["index", "--expr", "b1", scene, "-o", out],
      ["cog-export", scene, out],
      ["merge-memfile", Fixture.t29unuMetadata, "-o", out, "-b", "B04", "--resolution", "60"],
      ["quicklook", scene, (out as NSString).deletingPathExtension + ".png"],
      ["timelapse", scene, scene, "-o", (out as NSString).deletingPathExtension + ".gif"],
    ]
  }

  func testAMissingFolderIsNamedAsGivenInOneLine() throws {
    for args in writers("nope/deeper/x.tif") {
      let run = try TesseraBinary.run(args, in: dir.path)
      XCTAssertEqual(run.status, 73, "\(args[0]): \(run.stderr)")
      let lines = run.stderr.split(separator: "\n")
      XCTAssertEqual(lines.count, 1, "\(args[0]): \(run.stderr)")
      XCTAssertTrue(run.stderr.contains("folder nope does not exist (nor nope/deeper)"), "\(args[0]): \(run.stderr)")
      XCTAssertTrue(run.stderr.hasPrefix("tessera \(args[0]): cannot create nope/deeper/"), run.stderr)
    }
    XCTAssertEqual(dir.contents, [], "a refused run made something")
    let one = try TesseraBinary.run(writers("nope/x.tif")[0], in: dir.path)
    XCTAssertEqual(one.status, 73, one.stderr)
    XCTAssertEqual(one.stderr, "tessera reproject: cannot create nope/x.tif: folder nope does not exist\n")
  }

  func testAFileWhereAFolderShouldBeIsNamed() throws {
    try Data("x".utf8).write(to: URL(fileURLWithPath: dir.file("plain")))
    let run = try TesseraBinary.run(["reproject", Fixture.rgbByte, "plain/sub/x.tif", "--dst-crs", "wgs84"], in: dir.path)
    XCTAssertEqual(run.status, 73, run.stderr)
    XCTAssertEqual(run.stderr, "tessera reproject: cannot create plain/sub/x.tif: plain is a file, not a folder\n")
  }

  func testEachFeatureMakesItsFolderAndNeverRemovesTheUsers() throws {
    let input = Fixture.path("eo-box/s2l1c/T33UUU_20170216T102101_B04.jp2")
    let cutline = Fixture.path("eo-box/s2l1c/s2l1c_ref.gpkg")
    let clip = ["clip", input, "--cutline", cutline, "--each-feature", "--name-field", "pid"]
    let made = try TesseraBinary.run(clip + ["-o", "fields", "-q"], in: dir.path)
    XCTAssertEqual(made.status, 0, made.stderr)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.file("fields")).count, 29)

    // An empty folder name is a usage error, never a crash (it was exit 132).
    let empty = try TesseraBinary.run(clip + ["-o", ""], in: dir.path)
    XCTAssertEqual(empty.status, 64, empty.stderr)
    XCTAssertTrue(empty.stderr.contains("the output folder is empty"), empty.stderr)

    let missing = try TesseraBinary.run(clip + ["-o", "nope/fields"], in: dir.path)
    XCTAssertEqual(missing.status, 73, missing.stderr)
    XCTAssertEqual(missing.stderr.split(separator: "\n").last.map(String.init),
                   "tessera clip: cannot create the folder nope/fields: folder nope does not exist")

    // A run that fails after the folder is made (no byte may be written) removes what it made,
    // and leaves an empty folder the user had, as it was.
    try FileManager.default.createDirectory(atPath: dir.file("mine"), withIntermediateDirectories: false)
    for folder in ["gone", "mine"] {
      let failed = try Run.process("/bin/bash", ["-c", "ulimit -f 0; exec \"$0\" \"$@\"", TesseraBinary.path] + clip + ["-o", folder],
                                   currentDirectory: dir.path)
      XCTAssertEqual(failed.status, 74, failed.stderr)
    }
    XCTAssertEqual(dir.contents, ["fields", "mine"])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.file("mine")), [])
  }
}
