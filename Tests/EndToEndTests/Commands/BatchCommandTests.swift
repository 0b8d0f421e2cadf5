import Foundation
import GDAL
import TestSupport
import XCTest

/// batch as a pipeline runs it: failures isolated, retries, timeouts, signals and --resume,
/// shards under Slurm's and Kubernetes' variables, multi-step jobs, and paths of every kind.
final class BatchCommandTests: TemporaryDirectoryTestCase {
  override func setUpWithError() throws {
    try super.setUpWithError()
    // The hidden test-job command (fails, crashes, hangs or writes on demand) for the children.
    setenv("TESSERA_TEST_HOOKS", "1", 1)
  }

  func report(_ path: String) throws -> [String: Any] {
    try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
  }

  func jobs(_ report: [String: Any]) -> [String: [String: Any]] {
    Dictionary(uniqueKeysWithValues: ((report["jobs"] as? [[String: Any]]) ?? []).map { ($0["id"] as! String, $0) })
  }

  /// No Tessera temporary file anywhere under the test folder.
  func assertNoTemporaries(file: StaticString = #filePath, line: UInt = #line) {
    let leftovers = FileManager.default.enumerator(atPath: dir.path)?.compactMap { $0 as? String }
      .filter { ($0 as NSString).lastPathComponent.hasPrefix(".tessera-") } ?? []
    XCTAssertEqual(leftovers, [], "temporary files left", file: file, line: line)
  }

  /// Size and modification time in nanoseconds.
  func stamp(_ path: String) -> [Int]? {
    var status = stat()
    guard stat(path, &status) == 0 else { return nil }
    return [Int(status.st_size), Int(status.st_mtim.tv_sec) * 1_000_000_000 + Int(status.st_mtim.tv_nsec)]
  }

  // MARK: - Failures

  /// A job that fails after its output is in place (a signal just after the rename, found under
  /// ThreadSanitizer's slowness by the resume tests) leaves no output of a job that is not done:
  /// it is removed, so a --resume runs the job again instead of failing with 73 on it.
  func testAnOutputOfAFailedJobIsRemovedSoItCanRunAgain() throws {
    let out = dir.file("late.txt")
    let failing = try manifest([job("late", "test-job", ["--write", out, "--fail-after-write", "74"])])
    let run = try TesseraBinary.run(["batch", failing, "--report", dir.file("r.json")])
    XCTAssertEqual(run.status, 1, run.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out), "the failed job's output was left in the way")
    // The same job, now passing, under the same journal.
    XCTAssertEqual(try manifest([job("late", "test-job", ["--write", out])]), failing)
    let resumed = try TesseraBinary.run(["batch", failing, "--report", dir.file("r.json"), "--resume"])
    XCTAssertEqual(resumed.status, 0, resumed.stderr)
    XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "done\n")
  }

  func testAFailingJobACrashAndAHangDoNotStopTheOthers() throws {
    let path = try manifest([
      job("ok-1", "test-job", ["--write", dir.file("ok-1.txt")]),
      job("bad-data", "test-job", ["--exit", "65"]),
      job("crash", "test-job", ["--crash"]),
      job("hang", "test-job", ["--sleep", "60", "--stubborn", "--write", dir.file("hang.txt")]),
      job("ok-2", "test-job", ["--write", dir.file("ok-2.txt")]),
    ])
    // The timeout only has to stop the hang: long enough for a job to start and finish on a busy
    // machine (tests run beside each other; at 1 s a loaded machine timed out the exit-65 job).
    let run = try TesseraBinary.run(["batch", path, "--jobs", "2", "--job-timeout", "5", "--report", dir.file("report.json"), "--json"])
    XCTAssertEqual(run.status, 1, run.stderr)
    let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    XCTAssertEqual(summary["jobs_done"] as? Int, 2)
    XCTAssertEqual(summary["jobs_failed"] as? Int, 3)
    let results = jobs(try report(dir.file("report.json")))
    XCTAssertEqual(results["ok-1"]?["status"] as? String, "done")
    XCTAssertEqual(results["ok-2"]?["status"] as? String, "done")
    XCTAssertEqual(results["bad-data"]?["exit_code"] as? Int, 65)
    XCTAssertTrue((results["bad-data"]?["stderr_tail"] as? String ?? "").contains("failing on purpose with 65"))
    XCTAssertEqual(results["crash"]?["signal"] as? Int, Int(SIGABRT))
    XCTAssertEqual(results["hang"]?["timed_out"] as? Bool, true)
    XCTAssertEqual(results["hang"]?["signal"] as? Int, Int(SIGKILL), "a job that ignores SIGTERM is killed")
    // The killed job's partial output is gone: its ledger named the temporary file.
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("hang.txt")))
    assertNoTemporaries()
    for id in ["bad-data", "crash", "hang"] {
      XCTAssertTrue(run.stderr.contains("job \(id) failed"), "one line per failed job: \(run.stderr)")
    }
  }

  func testTransientFailuresAreRetriedAndDataErrorsAreNot() throws {
    let path = try manifest([
      job("flaky", "test-job", ["--exit", "74", "--times", "2", "--state", dir.file("flaky.count"), "--write", dir.file("flaky.txt")]),
      job("data", "test-job", ["--exit", "65", "--times", "2", "--state", dir.file("data.count")]),
      job("crashy", "test-job", ["--crash", "--log", dir.file("crashy.log")]),
    ])
    let run = try TesseraBinary.run(["batch", path, "--retries", "2", "--retry-delay", "0.05", "--report", dir.file("r.json")])
    XCTAssertEqual(run.status, 1, run.stderr)
    let results = jobs(try report(dir.file("r.json")))
    XCTAssertEqual(results["flaky"]?["status"] as? String, "done")
    XCTAssertEqual(results["flaky"]?["attempts"] as? Int, 3)
    XCTAssertEqual(try String(contentsOfFile: dir.file("flaky.txt"), encoding: .utf8), "done\n")
    XCTAssertEqual(results["data"]?["attempts"] as? Int, 1, "65 is never retried")
    XCTAssertEqual(try String(contentsOfFile: dir.file("data.count"), encoding: .utf8), "1")
    XCTAssertEqual(results["crashy"]?["attempts"] as? Int, 3, "a crash may be transient")
    XCTAssertEqual(try String(contentsOfFile: dir.file("crashy.log"), encoding: .utf8).split(separator: "\n").count, 3)
    XCTAssertTrue(run.stderr.contains("attempt 2 in"), run.stderr)
  }

  // MARK: - Interrupts and resume

  /// Six one-second jobs, two at a time; the batch is stopped after the first two finished.
  func interruptThenResume(signal: Int32, expected: Int32?) throws {
    var lines: [String] = []
    for index in 1...6 {
      lines.append(job("j\(index)", "test-job", ["--sleep", "0.7", "--write", dir.file("out-\(index).txt"), "--log", dir.file("runs-\(index).log")]))
    }
    let path = try manifest(lines)
    let arguments = ["batch", path, "--jobs", "2", "--report", dir.file("r.json")]
    let journal = dir.file("r.journal.jsonl")
    let outcome = try SignalTrial.run(arguments, signal: signal) {
      ((try? String(contentsOfFile: journal, encoding: .utf8)) ?? "").split(separator: "\n").count >= 2
    }
    XCTAssertTrue(outcome.wasReady)
    if let expected {
      XCTAssertEqual(outcome.reason, .exit)
      XCTAssertEqual(outcome.status, expected)
    }
    // Jobs in flight stop too (told by the batch, or by the kernel when the batch was killed).
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline, (try? Run.process("/usr/bin/pgrep", ["-f", "test-job --sleep 0.7 --write \(dir.path)"]))?.status == 0 { usleep(20_000) }
    let finished = (1...6).filter { FileManager.default.fileExists(atPath: dir.file("out-\($0).txt")) }
    XCTAssertGreaterThanOrEqual(finished.count, 2)
    XCTAssertLessThan(finished.count, 6, "the batch was stopped before the end")
    let stamps = Dictionary(uniqueKeysWithValues: finished.map { ($0, stamp(dir.file("out-\($0).txt"))) })
    // Only whole outputs or none; temporaries are gone (or are removed by the resume, below).
    for index in finished { XCTAssertEqual(try String(contentsOfFile: dir.file("out-\(index).txt"), encoding: .utf8), "done\n") }

    let recordedBefore = try String(contentsOfFile: journal, encoding: .utf8)
    let resumed = try TesseraBinary.run(arguments + ["--resume"])
    XCTAssertEqual(resumed.status, 0, resumed.stderr)
    assertNoTemporaries()
    for index in 1...6 {
      XCTAssertEqual(try String(contentsOfFile: dir.file("out-\(index).txt"), encoding: .utf8), "done\n", "job \(index)")
    }
    for (index, before) in stamps where recordedBefore.contains("\"id\":\"j\(index)\"") {
      // A job whose output the journal recorded is not run again (its output is not rewritten).
      XCTAssertEqual(stamp(dir.file("out-\(index).txt")), before, "job \(index) ran twice")
      XCTAssertEqual(try String(contentsOfFile: dir.file("runs-\(index).log"), encoding: .utf8).split(separator: "\n").count, 1)
    }
    let results = jobs(try report(dir.file("r.json")))
    XCTAssertEqual(results.values.filter { $0["status"] as? String == "skipped" }.count + results.values.filter { $0["status"] as? String == "done" }.count, 6)
    XCTAssertGreaterThanOrEqual(results.values.filter { $0["status"] as? String == "skipped" }.count, 2)
    // And a third run has nothing to do.
    let again = try TesseraBinary.run(arguments + ["--resume", "--json"])
    XCTAssertEqual(again.status, 0)
    let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
    XCTAssertEqual(summary["jobs_skipped"] as? Int, 6)
  }

  func testSIGINTThenResume() throws { try interruptThenResume(signal: SIGINT, expected: 130) }

  func testSIGTERMThenResume() throws { try interruptThenResume(signal: SIGTERM, expected: 143) }

  func testSIGKILLThenResume() throws { try interruptThenResume(signal: SIGKILL, expected: nil) }

  func testResumeRerunsAJobWhoseInputOrOutputChanged() throws {
    let input = dir.file("in.txt")
    try "one".write(toFile: input, atomically: true, encoding: .utf8)
    let path = try manifest([
      job("a", "test-job", ["--read", input, "--write", dir.file("a.txt"), "--overwrite"]),
      job("b", "test-job", ["--write", dir.file("b.txt"), "--overwrite"]),
    ])
    let arguments = ["batch", path, "--report", dir.file("r.json"), "--verify"]
    XCTAssertEqual(try TesseraBinary.run(arguments).status, 0)
    let second = try TesseraBinary.run(arguments)
    XCTAssertEqual(second.status, 73, "a journal exists: --resume or --overwrite")
    XCTAssertTrue(second.stderr.contains("--resume"), second.stderr)
    // Same size, same mtime, other contents: only --verify sees it.
    let stamp = try XCTUnwrap(stamp(input))
    try "two".write(toFile: input, atomically: false, encoding: .utf8)
    var times = [timespec(tv_sec: stamp[1] / 1_000_000_000, tv_nsec: stamp[1] % 1_000_000_000)]
    times.append(times[0])
    XCTAssertEqual(utimensat(AT_FDCWD, input, times, 0), 0)
    try FileManager.default.removeItem(atPath: dir.file("b.txt"))
    let resumed = try TesseraBinary.run(arguments + ["--resume", "--json"])
    XCTAssertEqual(resumed.status, 0, resumed.stderr)
    let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(resumed.stdout.utf8)) as? [String: Any])
    XCTAssertEqual(summary["jobs_done"] as? Int, 2, "a: input contents changed; b: output missing")
    XCTAssertEqual(try String(contentsOfFile: dir.file("a.txt"), encoding: .utf8), "done\ntwo")
  }

  func testTwoBatchesOnOneJournalRefuseEachOther() throws {
    let path = try manifest([job("slow", "test-job", ["--sleep", "3"])])
    let first = Process()
    first.executableURL = URL(fileURLWithPath: TesseraBinary.path)
    first.arguments = ["batch", path, "--report", dir.file("r.json")]
    first.standardError = FileHandle.nullDevice
    try first.run()
    defer { first.terminate(); first.waitUntilExit() }
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline, !((try? String(contentsOfFile: dir.file("r.journal.jsonl.lock"), encoding: .utf8)) ?? "").contains("\(first.processIdentifier)") {
      usleep(10_000)
    }
    let second = try TesseraBinary.run(["batch", path, "--report", dir.file("r.json"), "--resume"])
    XCTAssertEqual(second.status, 73)
    XCTAssertTrue(second.stderr.contains("pid \(first.processIdentifier)"), second.stderr)
  }

  // MARK: - Shards

  func dryRunIDs(_ arguments: [String], environment: [String: String] = [:]) throws -> [String] {
    let run = try TesseraBinary.run(arguments + ["--dry-run", "--json"], environment: environment)
    XCTAssertEqual(run.status, 0, run.stderr)
    // One object on stdout, the jobs listed under "jobs".
    let listing = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    XCTAssertEqual(listing["dry_run"] as? Bool, true)
    return try XCTUnwrap(listing["jobs"] as? [[String: Any]]).map { try XCTUnwrap($0["id"] as? String) }
  }

  func testShardsPartitionTheJobsHoweverTheyAreNumbered() throws {
    let ids = (0..<60).map { "scene-\($0)" }
    let path = try manifest(ids.map { job($0, "info", ["x.tif"]) })
    var explicit: [[String]] = []
    for index in 0..<3 { explicit.append(try dryRunIDs(["batch", path, "--shard", "\(index)/3"])) }
    XCTAssertEqual(explicit.flatMap { $0 }.sorted(), ids.sorted(), "every job in exactly one shard")
    XCTAssertTrue(explicit.allSatisfy { !$0.isEmpty })
    // A Slurm array numbered from 1 (--array=1-3) and a Kubernetes Indexed Job give the same split.
    for index in 0..<3 {
      let slurm = ["SLURM_ARRAY_TASK_ID": String(index + 1), "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1"]
      XCTAssertEqual(try dryRunIDs(["batch", path, "--shard", "auto"], environment: slurm), explicit[index])
      let kubernetes = ["JOB_COMPLETION_INDEX": String(index), "TESSERA_SHARD_COUNT": "3"]
      XCTAssertEqual(try dryRunIDs(["batch", path, "--shard", "auto"], environment: kubernetes), explicit[index])
    }
    // Reordering the manifest does not move a job to another shard.
    let reversed = try manifest(ids.reversed().map { job($0, "info", ["x.tif"]) }, name: "reversed.jsonl")
    XCTAssertEqual(Set(try dryRunIDs(["batch", reversed, "--shard", "1/3"])), Set(explicit[1]))
    let missing = try TesseraBinary.run(["batch", path, "--shard", "auto"])
    XCTAssertEqual(missing.status, 64)
    XCTAssertTrue(missing.stderr.contains("SLURM_ARRAY_TASK_ID"), missing.stderr)
    XCTAssertEqual(try TesseraBinary.run(["batch", path, "--shard", "3/3"]).status, 64)
  }

  func testShardReportsMergeWithBatchReport() throws {
    let ids = (0..<12).map { "job-\($0)" }
    let path = try manifest(ids.map { job($0, "test-job", ["--write", dir.file("\($0).txt")]) })
    for index in 0..<3 {
      let run = try TesseraBinary.run(["batch", path, "--shard", "auto", "--report", dir.file("report.json")],
                                      environment: ["JOB_COMPLETION_INDEX": String(index), "TESSERA_SHARD_COUNT": "3"])
      XCTAssertEqual(run.status, 0, run.stderr)
      XCTAssertTrue(FileManager.default.fileExists(atPath: dir.file("report.shard-\(index)-of-3.json")))
    }
    let merged = try TesseraBinary.run(["batch-report", dir.file("report.shard-*-of-3.json"), "--json"])
    XCTAssertEqual(merged.status, 0, merged.stderr)
    let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(merged.stdout.utf8)) as? [String: Any])
    XCTAssertEqual(summary["jobs_total"] as? Int, 12)
    XCTAssertEqual(summary["jobs_done"] as? Int, 12)
    XCTAssertEqual((summary["duplicate_ids"] as? [Any])?.count, 0)
    // A shard with a failed job makes the merge fail.
    let failing = try manifest([job("bad", "test-job", ["--exit", "66"])], name: "bad.jsonl")
    XCTAssertEqual(try TesseraBinary.run(["batch", failing, "--report", dir.file("bad.json")]).status, 1)
    let withFailure = try TesseraBinary.run(["batch-report", dir.file("bad.json")])
    XCTAssertEqual(withFailure.status, 1)
    XCTAssertTrue(withFailure.stdout.contains("failed: bad (exit 66)"), withFailure.stdout)
    XCTAssertEqual(try TesseraBinary.run(["batch-report", path]).status, 65, "a manifest is not a report")
  }

  // MARK: - Steps, templates, paths

  func testMultiStepJobsWriteOnlyTheirLastStepsOutputAndLeaveNoTmp() throws {
    let out = dir.file("out")
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let steps: (String, String) -> String = { id, input in
      let value: [String: Any] = ["id": id, "steps": [
        ["command": "reproject", "args": [input, "{tmp}/warped.tif", "--dst-crs", "EPSG:4326"]],
        ["command": "cog-export", "args": ["{tmp}/warped.tif", "\(out)/{id}.tif"]],
      ]]
      return String(decoding: try! JSONSerialization.data(withJSONObject: value), as: UTF8.self)
    }
    let path = try manifest([steps("rgb", Fixture.rgbByte), steps("broken", dir.file("missing.tif"))])
    let run = try TesseraBinary.run(["batch", path, "--report", dir.file("r.json"), "--work-dir", dir.file("work")])
    XCTAssertEqual(run.status, 1, run.stderr)
    XCTAssertEqual(try TesseraBinary.run(["validate-cog", "\(out)/rgb.tif"]).status, 0)
    XCTAssertFalse(FileManager.default.fileExists(atPath: "\(out)/broken.tif"))
    let results = jobs(try report(dir.file("r.json")))
    XCTAssertEqual(results["broken"]?["exit_code"] as? Int, 66)
    XCTAssertEqual(results["broken"]?["failed_step"] as? Int, 1)
    XCTAssertEqual(results["rgb"]?["outputs"] as? [String], ["\(out)/rgb.tif"])
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("work")), "no {tmp} left, and the work folder goes when empty")
    assertNoTemporaries()
    // A COG is only ever the last step.
    let early = try manifest(["{\"id\":\"x\",\"steps\":[{\"command\":\"cog-export\",\"args\":[\"a\",\"b\"]},{\"command\":\"info\",\"args\":[\"b\"]}]}"], name: "early.jsonl")
    XCTAssertEqual(try TesseraBinary.run(["batch", early]).status, 65)
  }

  func testTemplatesWithUnicodeSpacesAndDashLeadingNames() throws {
    let names = ["-dash.tif", "影像 一.tif", "café.tif"]
    for name in names { try FileManager.default.copyItem(atPath: Fixture.path("rasterio/rgb1.tif"), toPath: dir.file(name)) }
    try FileManager.default.createDirectory(atPath: dir.file("出力"), withIntermediateDirectories: true)
    let before = try FolderSnapshot(dir.path)
    let run = try TesseraBinary.run(["batch", "--each", "reproject {path} '出力/{stem} 4326.tif' --dst-crs EPSG:4326", "--", "-dash.tif", "影像 一.tif", "café.tif"], in: dir.path)
    XCTAssertEqual(run.status, 0, run.stderr)
    for name in names {
      let output = dir.file("出力/\((name as NSString).deletingPathExtension) 4326.tif")
      XCTAssertEqual(try Dataset.open(output).spatialReference?.epsg, 4326, output)
    }
    for (path, data) in before.files { XCTAssertEqual(FileManager.default.contents(atPath: dir.file(path)), data, path) }
    // The same names in a manifest, with '--' ending the options.
    let path = try manifest([job("ü-1", "info", ["--json", "--", "-dash.tif"]), job("ü-2", "info", ["影像 一.tif"])], name: "名单.jsonl")
    XCTAssertEqual(try TesseraBinary.run(["batch", path], in: dir.path).status, 0)
  }

  func testBadManifestsFailBeforeAnyJobRuns() throws {
    let log = dir.file("ran.log")
    let good = job("a", "test-job", ["--log", log])
    let cases: [([String], String)] = [
      ([good, "{\"id\": \"b\", \"command\": \"test-job\", \"args\": [1]}"], "line 2"),
      ([good, "", "{not json"], "line 3"),
      ([good, job("a", "test-job", [])], "duplicate id \"a\""),
      ([good, job("c", "rm", ["-rf", "/"])], "unknown command \"rm\""),
      ([good, "{\"id\": \"d\", \"command\": \"info\", \"arg\": []}"], "unknown key \"arg\""),
      ([good, job("e", "batch", ["x"])], "unknown command \"batch\""),
    ]
    for (lines, text) in cases {
      let path = try manifest(lines)
      let run = try TesseraBinary.run(["batch", path, "--json"])
      XCTAssertEqual(run.status, 65, "\(lines): \(run.stderr)")
      XCTAssertTrue(run.stderr.contains(text), run.stderr)
      XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
      XCTAssertFalse(FileManager.default.fileExists(atPath: log), "a job ran before the manifest was read whole")
    }
    XCTAssertEqual(try TesseraBinary.run(["batch", dir.file("none.jsonl")]).status, 66)
    XCTAssertEqual(try TesseraBinary.run(["batch", try manifest(["# nothing"])]).status, 65)
    XCTAssertEqual(try TesseraBinary.run(["batch", "--each", "nosuch {path}", "a.tif"]).status, 64)
    XCTAssertEqual(try TesseraBinary.run(["batch", "--each", "info '{path}", "a.tif"]).status, 64)
    XCTAssertEqual(try TesseraBinary.run(["test-job"], environment: ["TESSERA_TEST_HOOKS": "0"]).status, 64, "the test hook needs TESSERA_TEST_HOOKS=1")
    // The journal is never the manifest (with --overwrite it would be emptied) nor the report.
    let manifestPath = try manifest([good])
    let before = try Data(contentsOf: URL(fileURLWithPath: manifestPath))
    XCTAssertEqual(try TesseraBinary.run(["batch", manifestPath, "--journal", manifestPath, "--overwrite"]).status, 64)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: manifestPath)), before, "the manifest is untouched")
    XCTAssertEqual(try TesseraBinary.run(["batch", manifestPath, "--journal", dir.file("r.json"), "--report", dir.file("r.json")]).status, 64)
  }

  func testManifestFromStdinAndThreadsPerJob() throws {
    let lines = [job("one", "info", [Fixture.rgbByte, "--threads", "1"]), job("two", "info", [Fixture.rgbByte])].joined(separator: "\n")
    let input = dir.file("stdin.jsonl")
    try lines.write(toFile: input, atomically: true, encoding: .utf8)
    let run = try Run.process("/bin/sh", ["-c", "\"$0\" batch - --dry-run --jobs 2 < \"$1\"", TesseraBinary.path, input])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(run.stdout.contains("one: tessera info"), run.stdout)
    let real = try Run.process("/bin/sh", ["-c", "\"$0\" batch - --jobs 2 --json < \"$1\"", TesseraBinary.path, input])
    XCTAssertEqual(real.status, 0, real.stderr)
  }
}
