import Foundation
import GDAL
import TestSupport
import XCTest

/// Where outputs may go and how several are put in place: special files are refused by every
/// writing command, a failed run of several outputs leaves every old file as it was,
/// clip --each-feature makes its folder and names that never collide, and messages show the
/// control characters of a path.
final class OutputPlaceTests: TemporaryDirectoryTestCase {
  private let fm = FileManager.default

  /// A cutline over byte.tif (EPSG:26711, 20 x 20 pixels of 60 m) with a square per name.
  private func cutline(_ names: [String]) throws -> String {
    let features = names.enumerated().map { i, name -> [String: Any] in
      let x = 440720.0 + Double(i % 4) * 300, y = 3750120.0 + Double(i / 4) * 300
      let ring = [[x, y], [x + 290, y], [x + 290, y + 290], [x, y + 290], [x, y]]
      return ["type": "Feature", "properties": ["name": name], "geometry": ["type": "Polygon", "coordinates": [ring]]]
    }
    let collection: [String: Any] = ["type": "FeatureCollection", "crs": ["type": "name", "properties": ["name": "EPSG:26711"]],
                                     "features": features]
    let path = dir.file("cut.geojson")
    try JSONSerialization.data(withJSONObject: collection).write(to: URL(fileURLWithPath: path))
    return path
  }

  private func input() throws -> String {
    let path = dir.file("in.tif")
    if !fm.fileExists(atPath: path) { try fm.copyItem(atPath: Fixture.path("gdal_autotest/byte.tif"), toPath: path) }
    return path
  }

  /// Names in `folder`, hidden ones included, without reading them (a FIFO would block).
  private func names(_ folder: String) throws -> [String] {
    try fm.contentsOfDirectory(atPath: folder).sorted()
  }

  private func lastLine(_ text: String) -> String {
    text.split(separator: "\n").last.map(String.init) ?? ""
  }

  /// Makes `path` immutable (chattr +i: not even root can rename it), or skips the test where
  /// the file system or the container does not allow it.
  private func makeImmutable(_ path: String) throws {
    let made = try Run.process("/usr/bin/chattr", ["+i", path])
    if made.status != 0 { throw XCTSkip("chattr +i is not available here: \(made.stderr)") }
    addTeardownBlock { _ = try? Run.process("/usr/bin/chattr", ["-i", path]) }
  }

  // MARK: - Special files

  func testEveryWritingCommandRefusesSpecialFilesAndDash() throws {
    let input = try input()
    let cut = try cutline(["a", "b"])
    let products = try SyntheticProducts.make(in: dir.file("s2"), ["--scenario", "zones", "--size", "240", "--bands", "B04,SCL"])
    let specials = dir.file("specials")
    try fm.createDirectory(atPath: specials + "/folder", withIntermediateDirectories: true)
    for ext in ["tif", "png", "gif", "json"] {
      XCTAssertEqual(mkfifo(specials + "/fifo." + ext, 0o600), 0)
      try fm.createSymbolicLink(atPath: specials + "/null." + ext, withDestinationPath: "/dev/null")
      try fm.createSymbolicLink(atPath: specials + "/folder." + ext, withDestinationPath: specials + "/folder")
    }
    let specialsBefore = try names(specials)
    let inputsBefore = try FolderSnapshot(dir.file("s2"))
    let inputBytes = try Data(contentsOf: URL(fileURLWithPath: input))
    let out = dir.file("ok.tif")
    // (command, output extension, arguments for an output)
    let commands: [(String, String, (String) -> [String])] = [
      ("mosaic", "tif", { ["mosaic", input, "-o", $0] }),
      ("reproject", "tif", { ["reproject", input, $0, "--dst-crs", "EPSG:4326"] }),
      ("resample", "tif", { ["resample", input, $0, "--resolution", "120"] }),
      ("clip", "tif", { ["clip", input, $0, "--bbox", "440720,3750120,441920,3751320"] }),
      ("clip", "", { ["clip", input, "-o", $0, "--cutline", cut, "--each-feature"] }),
      ("band-stack", "tif", { ["band-stack", input, input, "-o", $0] }),
      ("index", "tif", { ["index", "--expr", "b1*2", input, "-o", $0] }),
      ("cog-export", "tif", { ["cog-export", input, $0] }),
      ("merge-memfile", "tif", { ["merge-memfile", products[0], "-o", $0, "-b", "B04"] }),
      ("merge-memfile", "json", { ["merge-memfile", products[0], "-o", out, "-b", "B04", "--report", $0] }),
      ("quicklook", "png", { ["quicklook", input, $0] }),
      ("timelapse", "gif", { ["timelapse", input, input, "-o", $0] }),
      ("batch", "json", { ["batch", "--each", "info {path}", input, "--report", $0] }),
    ]
    for (command, ext, arguments) in commands {
      var outputs = ["/dev/stdout", "/proc/self/fd/1", "-"]
      // A link to a folder is a fine folder for --each-feature's outputs.
      outputs += ext.isEmpty ? [specials + "/fifo.tif", specials + "/null.tif"]
        : [specials + "/fifo." + ext, specials + "/null." + ext, specials + "/folder." + ext]
      for output in outputs {
        for overwrite in [false, true] {
          let args = arguments(output) + (overwrite ? ["--overwrite"] : [])
          let run = try Run.process("/usr/bin/timeout", ["60", TesseraBinary.path] + args, currentDirectory: dir.path)
          XCTAssertEqual(run.status, 64, "\(args): \(run.stderr)")
          let line = lastLine(run.stderr)
          XCTAssertTrue(line.hasPrefix("tessera \(command): "), "\(args): \(run.stderr)")
          XCTAssertTrue(line.contains(output == "-" ? "'-'" : output), "\(args): \(run.stderr)")
          XCTAssertEqual(run.stdout, "", "\(args) wrote to standard output")
        }
      }
    }
    XCTAssertEqual(try names(specials), specialsBefore)
    for ext in ["tif", "png", "gif", "json"] {
      XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: specials + "/null." + ext), "/dev/null")
      var status = stat()
      XCTAssertEqual(lstat(specials + "/fifo." + ext, &status), 0)
      XCTAssertEqual(status.st_mode & S_IFMT, S_IFIFO, "fifo.\(ext) is still a FIFO")
    }
    XCTAssertEqual(try names(specials + "/folder"), [])
    XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: "/dev/stdout"), "/proc/self/fd/1")
    XCTAssertEqual(try FolderSnapshot(dir.file("s2")), inputsBefore)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: input)), inputBytes)
    XCTAssertEqual(try names(dir.path), ["cut.geojson", "in.tif", "s2", "specials"], "nothing written, no temporary file left")
  }

  func testALinkToARegularFileIsReplacedNotWrittenThrough() throws {
    let input = try input()
    try Data("old".utf8).write(to: URL(fileURLWithPath: dir.file("target.tif")))
    try fm.createSymbolicLink(atPath: dir.file("link.tif"), withDestinationPath: dir.file("target.tif"))
    let run = try TesseraBinary.run(["clip", input, dir.file("link.tif"), "--bbox", "440720,3750120,441920,3751320", "--overwrite"])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir.file("target.tif"))), Data("old".utf8))
    XCTAssertEqual(try Dataset.open(dir.file("link.tif")).width, 20)
    XCTAssertNil(try? fm.destinationOfSymbolicLink(atPath: dir.file("link.tif")), "the link itself was replaced")
  }

  // MARK: - Several outputs: a late failure restores every old file

  func testEachFeatureOverwriteWithALateFailureKeepsEveryOldFile() throws {
    let input = try input()
    let cut = try cutline(["f0", "f1", "f2", "f3", "f4"])
    let folder = dir.file("out")
    let first = try TesseraBinary.run(["clip", input, "-o", folder, "--cutline", cut, "--each-feature", "--name-field", "name"])
    XCTAssertEqual(first.status, 0, first.stderr)
    try Data("old sidecar".utf8).write(to: URL(fileURLWithPath: folder + "/f0.tif.aux.xml"))
    let before = try FolderSnapshot(folder)
    XCTAssertEqual(before.files.count, 6)
    let again = ["clip", input, "-o", folder, "--cutline", cut, "--each-feature", "--name-field", "name", "--overwrite", "--all-touched"]

    // The last output cannot be written (a file size limit of 0): nothing replaced.
    let limited = try Run.process("/bin/bash", ["-c", "ulimit -f 0; exec \"$0\" \"$@\"", TesseraBinary.path] + again)
    XCTAssertEqual(limited.status, 74, limited.stderr)
    XCTAssertEqual(try FolderSnapshot(folder), before)
    XCTAssertEqual(try names(folder), before.files.keys.sorted())

    // The last old file cannot be replaced, after the others were moved aside: every one back.
    try makeImmutable(folder + "/f4.tif")
    let refused = try TesseraBinary.run(again)
    XCTAssertEqual(refused.status, 73, refused.stderr)
    XCTAssertTrue(lastLine(refused.stderr).contains("f4.tif"), refused.stderr)
    XCTAssertEqual(try FolderSnapshot(folder), before, "an old file was lost or changed")
    XCTAssertEqual(try names(folder), before.files.keys.sorted(), "something was left beside them")
    _ = try Run.process("/usr/bin/chattr", ["-i", folder + "/f4.tif"])

    // And when all can be replaced, all are, and the old sidecar goes with its raster.
    let replaced = try TesseraBinary.run(again)
    XCTAssertEqual(replaced.status, 0, replaced.stderr)
    XCTAssertEqual(try names(folder), ["f0.tif", "f1.tif", "f2.tif", "f3.tif", "f4.tif"])
  }

  func testARasterAndItsReportAreReplacedTogetherOrNotAtAll() throws {
    let products = try SyntheticProducts.make(in: dir.file("s2"), ["--scenario", "zones", "--size", "240", "--bands", "B04,SCL"])
    let raster = dir.file("m.tif"), report = dir.file("m.json")
    let args = ["merge-memfile", products[0], "-o", raster, "-b", "B04", "--report", report]
    XCTAssertEqual(try TesseraBinary.run(args).status, 0)
    let before = try FolderSnapshot(dir.path)
    try makeImmutable(report)
    let refused = try TesseraBinary.run(args + ["--overwrite"])
    XCTAssertEqual(refused.status, 73, refused.stderr)
    XCTAssertEqual(try FolderSnapshot(dir.path), before, "the raster was replaced though its report was not")
    XCTAssertFalse(try names(dir.path).contains { $0.hasPrefix(".tessera") })
  }

  // MARK: - clip --each-feature's folder and names

  func testEachFeatureMakesItsFolderOnlyWhereItCan() throws {
    let input = try input()
    let cut = try cutline(["a", "b"])
    let made = try TesseraBinary.run(["clip", input, "-o", dir.file("new"), "--cutline", cut, "--each-feature", "--name-field", "name"])
    XCTAssertEqual(made.status, 0, made.stderr)
    XCTAssertEqual(try names(dir.file("new")), ["a.tif", "b.tif"])

    let deep = try TesseraBinary.run(["clip", input, "-o", dir.file("missing/new"), "--cutline", cut, "--each-feature"])
    XCTAssertEqual(deep.status, 73, deep.stderr)
    XCTAssertTrue(lastLine(deep.stderr).contains("missing"), deep.stderr)

    try Data("x".utf8).write(to: URL(fileURLWithPath: dir.file("plain")))
    let file = try TesseraBinary.run(["clip", input, "-o", dir.file("plain"), "--cutline", cut, "--each-feature"])
    XCTAssertEqual(file.status, 73, file.stderr)
    XCTAssertTrue(lastLine(file.stderr).contains("plain is a file"), file.stderr)

    // A failed run removes the folder it made.
    let failed = try Run.process("/bin/bash", ["-c", "ulimit -f 0; exec \"$0\" \"$@\"", TesseraBinary.path, "clip", input, "-o", dir.file("gone"),
                                               "--cutline", cut, "--each-feature"])
    XCTAssertEqual(failed.status, 74, failed.stderr)
    XCTAssertFalse(fm.fileExists(atPath: dir.file("gone")))
    XCTAssertEqual(try names(dir.path), ["cut.geojson", "in.tif", "new", "plain"])
  }

  func testEachFeatureNamesNeverCollideAndCarryNoControlOrBidiCharacters() throws {
    let input = try input()
    let cut = try cutline(["x", "x-2", "x", "a\u{85}b", "r\u{202E}fdp.exe", "l\u{200E}r\u{2066}i", "t\tn\nv\u{7F}"])
    let folder = dir.file("out")
    let run = try TesseraBinary.run(["clip", input, "-o", folder, "--cutline", cut, "--each-feature", "--name-field", "name"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let written = try names(folder)
    XCTAssertEqual(written.count, 7, "\(written)")
    XCTAssertTrue(written.contains("x.tif") && written.contains("x-2.tif"), "\(written)")
    XCTAssertTrue(written.contains("a_b.tif") && written.contains("r_fdp.exe.tif") && written.contains("l_r_i.tif"), "\(written)")
    for name in written {
      XCTAssertFalse(name.unicodeScalars.contains { [.control, .format].contains($0.properties.generalCategory) }, name.debugDescription)
    }
  }

  // MARK: - Messages

  func testMessagesShowControlCharactersOfAPath() throws {
    let run = try TesseraBinary.run(["clip", dir.file("a\nb\t.tif"), dir.file("o.tif"), "--bbox", "1,2,3,4"])
    XCTAssertEqual(run.status, 66, run.stderr)
    XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
    XCTAssertTrue(run.stderr.contains("a\\nb\\t.tif"), run.stderr)
    let bidi = try TesseraBinary.run(["info", dir.file("x\u{202E}fit.exe")])
    XCTAssertTrue(bidi.stderr.contains("x\\u{202E}fit.exe"), bidi.stderr)
  }

  func testATMPDIRThatIsNoFolderIsNamed() throws {
    let input = try input()
    try Data("x".utf8).write(to: URL(fileURLWithPath: dir.file("file")))
    let run = try TesseraBinary.run(["batch", "--each", "info {path}", input], environment: ["TMPDIR": dir.file("file")])
    XCTAssertEqual(run.status, 73, run.stderr)
    XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
    XCTAssertTrue(lastLine(run.stderr).contains("TMPDIR"), run.stderr)
    XCTAssertTrue(lastLine(run.stderr).contains("not a folder"), run.stderr)
    XCTAssertFalse(run.stderr.contains("NSCocoaErrorDomain"), run.stderr)
  }
}
