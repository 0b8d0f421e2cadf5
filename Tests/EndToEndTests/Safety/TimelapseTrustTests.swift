import Foundation
import GDAL
import TestSupport
import XCTest

/// timelapse trusts no child and holds few files: an MP4 ffmpeg could not write whole (full
/// disk, `ulimit -f`) is exit 74 with the old output untouched; a signal at any moment leaves no
/// ffmpeg running and no temporary file; 120 frames fit `ulimit -n 64`.
final class TimelapseTrustTests: TemporaryDirectoryTestCase {
  struct ShellRun { let status: Int32; let stderr: String }

  /// `sh -c 'PREFIX exec tessera ARGS'` in the test folder, stderr kept.
  func shell(_ arguments: [String], prefix: String = "") throws -> ShellRun {
    let err = dir.file("stderr-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: err, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: err) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "\(prefix) exec \"$@\"", "sh", TesseraBinary.path] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: dir.path)
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle(forWritingAtPath: err)
    let exited = process.exitSignal()
    try process.run()
    exited.wait()
    return ShellRun(status: process.terminationStatus, stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
  }

  func ffmpegAvailable() throws {
    guard Run.which("ffmpeg") != nil, Run.which("ffprobe") != nil else { throw XCTSkip("ffmpeg is not installed") }
  }

  /// Frames ffprobe decodes from `path`, or nil when it cannot read it.
  func decodedFrames(_ path: String) throws -> Int? {
    guard let ffprobe = Run.which("ffprobe") else { return nil }
    let probe = try Run.process(ffprobe, ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                                          "stream=nb_read_frames", "-of", "csv=p=0", path])
    return probe.status == 0 ? Int(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) : nil
  }

  func assertRefused(_ run: ShellRun, leaves folder: String, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(run.status, 74, "\(label): \(run.stderr)", file: file, line: line)
    XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, "\(label): one line: \(run.stderr)", file: file, line: line)
    XCTAssertTrue(run.stderr.hasPrefix("tessera timelapse: "), "\(label): \(run.stderr)", file: file, line: line)
    XCTAssertFalse(SignalTrial.temporaryFile(in: folder), "\(label): a temporary file was left", file: file, line: line)
  }

  /// Past `ulimit -f` ffmpeg used to exit 0 with a truncated file that Tessera committed.
  func testMP4PastAFileSizeLimitIs74AndTheOldOutputStays() throws {
    try ffmpegAvailable()
    let frames = [Fixture.rgbByte, Fixture.rgbByte, Fixture.rgbByte]
    let fresh = dir.file("fresh.mp4")
    let limited = try shell(["timelapse"] + frames + ["-o", fresh, "-q"], prefix: "ulimit -f 8;")
    assertRefused(limited, leaves: dir.path, "ulimit -f 8")
    XCTAssertFalse(FileManager.default.fileExists(atPath: fresh), "no output")

    let good = dir.file("good.mp4")
    XCTAssertEqual(try shell(["timelapse"] + frames + ["-o", good, "-q"]).status, 0)
    XCTAssertEqual(try decodedFrames(good), 3, "the unlimited run is whole")
    let before = try Data(contentsOf: URL(fileURLWithPath: good))
    XCTAssertGreaterThan(before.count, 16 * 1024, "the good file is bigger than the limit")
    let overwrite = try shell(["timelapse"] + frames + ["-o", good, "-q", "--overwrite"], prefix: "ulimit -f 8;")
    assertRefused(overwrite, leaves: dir.path, "ulimit -f 8 --overwrite")
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: good)), before, "the old output is untouched")
  }

  /// A nearly full disk (a small tmpfs): ffmpeg 5.1 exits 0 after a short write.
  func testMP4OnAFullDiskIs74AndTheOldOutputStays() throws {
    try ffmpegAvailable()
    let mountPoint = try mountSmallDisk("size=1m", name: "small-disk")
    let frames = [Fixture.rgbByte, Fixture.rgbByte, Fixture.rgbByte]
    let out = mountPoint + "/o.mp4"
    XCTAssertEqual(try shell(["timelapse"] + frames + ["-o", out, "-q"]).status, 0)
    let before = try Data(contentsOf: URL(fileURLWithPath: out))
    // Fill the disk, leaving about 24 KB.
    let filler = mountPoint + "/filler"
    _ = FileManager.default.createFile(atPath: filler, contents: nil)
    let handle = try XCTUnwrap(FileHandle(forWritingAtPath: filler))
    let block = Data(count: 4096)
    while (try? handle.write(contentsOf: block)) != nil {}
    try handle.close()
    let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: filler)[.size] as? Int)
    try FileHandle(forUpdating: URL(fileURLWithPath: filler)).truncate(atOffset: UInt64(max(0, size - 24 * 1024)))
    let run = try shell(["timelapse"] + frames + ["-o", out, "-q", "--overwrite"])
    assertRefused(run, leaves: mountPoint, "full disk --overwrite")
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), before, "the old output is untouched")
  }

  /// ffmpeg processes whose command line names `folder` (the output's temporary file is in it).
  func ffmpegs(writingIn folder: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { pid in
      guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
      let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
      return line.contains("ffmpeg") && line.contains(folder)
    }
  }

  /// SIGTERM at random moments of a 99-frame MP4: every run leaves no ffmpeg and no temporary
  /// file, not even a while after it exited (an orphaned ffmpeg wrote one later).
  func testSignalsAtRandomMomentsLeaveNoFFmpegAndNoTemporaryFile() throws {
    try ffmpegAvailable()
    let small = dir.file("small.tif")
    try Oracle.tool("gdal_translate", ["-q", "-outsize", "50%", "50%", Fixture.rgbByte, small])
    let list = dir.file("l.txt")
    try String(repeating: small + "\n", count: 99).write(toFile: list, atomically: true, encoding: .utf8)
    var generator = SystemRandomNumberGenerator()
    for trial in 0..<6 {
      let folder = dir.file("run-\(trial)")
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      let delay = Double.random(in: 0.05...3.0, using: &generator)
      let start = Date()
      // A fixed stretch: no sampling pass, so ffmpeg runs from the start.
      let outcome = try SignalTrial.run(["timelapse", "--input-list", list, "-o", folder + "/a.mp4", "--order", "given",
                                         "--stretch", "0,255", "-q"],
                                        signal: trial % 3 == 2 ? SIGINT : SIGTERM) { Date().timeIntervalSince(start) >= delay }
      XCTAssertEqual(outcome.reason, .exit, "trial \(trial): exits on its own account")
      XCTAssertEqual(outcome.status, trial % 3 == 2 ? 130 : 143, "trial \(trial) after \(delay) s")
      XCTAssertEqual(ffmpegs(writingIn: folder), [], "trial \(trial) after \(delay) s: ffmpeg outlived tessera")
      usleep(1_500_000)
      XCTAssertEqual(ffmpegs(writingIn: folder), [], "trial \(trial): ffmpeg still running")
      XCTAssertFalse(SignalTrial.temporaryFile(in: folder), "trial \(trial) after \(delay) s: a temporary file is left")
      XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/a.mp4"), "trial \(trial)")
      for pid in ffmpegs(writingIn: folder) { kill(pid, SIGKILL) }
    }
  }

  /// 120 frames under `ulimit -n 64`: opened on demand, the same GIF as without the limit.
  func testManyFramesUnderALowOpenFileLimit() throws {
    let small = dir.file("small.tif")
    try Oracle.tool("gdal_translate", ["-q", "-outsize", "10%", "10%", Fixture.rgbByte, small])
    var names: [String] = []
    for index in 0..<120 {
      let name = dir.file(String(format: "frame-%03d.tif", index))
      try FileManager.default.copyItem(atPath: small, toPath: name)
      names.append(name)
    }
    let list = dir.file("frames.txt")
    try names.joined(separator: "\n").write(toFile: list, atomically: true, encoding: .utf8)
    let common = ["--input-list", list, "--order", "given", "--labels", "name", "--stretch", "0,255", "-q"]
    let free = try shell(["timelapse"] + common + ["-o", dir.file("free.gif")])
    XCTAssertEqual(free.status, 0, free.stderr)
    let limited = try shell(["timelapse"] + common + ["-o", dir.file("limited.gif")], prefix: "ulimit -n 64;")
    XCTAssertEqual(limited.status, 0, limited.stderr)
    XCTAssertEqual(try? Data(contentsOf: URL(fileURLWithPath: dir.file("limited.gif"))),
                   try Data(contentsOf: URL(fileURLWithPath: dir.file("free.gif"))), "the same animation")
  }

  /// A crash while ffmpeg is writing: the crash handler kills and reaps ffmpeg before it unlinks,
  /// so no ffmpeg writes the temporary MP4 again afterwards.
  func testACrashWhileFFmpegWritesLeavesNoFFmpegAndNoTemporaryFile() throws {
    try ffmpegAvailable()
    if dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") != nil || dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_init") != nil {
      throw XCTSkip("sanitizer build: its own crash handlers")
    }
    for (trial, kind) in ["segv", "abort"].enumerated() {
      let folder = dir.file("crash-\(trial)")
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      let run = try TesseraBinary.run(["timelapse", Fixture.rgbByte, Fixture.rgbByte, "-o", folder + "/t.mp4", "--order", "given",
                                       "--stretch", "0,255"],
                                      environment: ["TESSERA_TEST_HOOKS": "1", "TESSERA_TEST_CRASH": "timelapse-frame:\(kind)",
                                                    "SWIFT_BACKTRACE": "enable=no"])
      XCTAssertTrue(run.signalled, "\(kind): a crash stays a crash: \(run.stderr.suffix(300))")
      XCTAssertEqual(ffmpegs(writingIn: folder), [], "\(kind): ffmpeg outlived the crash")
      usleep(1_000_000)
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [], "\(kind): nothing is left")
      for pid in ffmpegs(writingIn: folder) { kill(pid, SIGKILL) }
    }
  }
}
