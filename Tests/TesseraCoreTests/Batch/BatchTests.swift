import Foundation
import TesseraCore
import XCTest

/// The batch's parts that need no child process: manifests, templates, shards, the journal,
/// the hash they rest on.
final class BatchTests: XCTestCase {
  let commands: Set<String> = ["info", "reproject", "cog-export", "index"]

  func testSHA256KnownAnswers() throws {
    // FIPS 180-4's examples, and a text longer than one block.
    XCTAssertEqual(SHA256.hex(of: ""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    XCTAssertEqual(SHA256.hex(of: "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    XCTAssertEqual(SHA256.hex(of: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    var million = SHA256()
    for _ in 0..<1000 { million.update(Array(repeating: UInt8(ascii: "a"), count: 1000)) }
    XCTAssertEqual(SHA256.hex(million.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  func testAManifestReadsJobsAndStepsAndNamesTheLineOfAFault() throws {
    let text = """
      # a comment, then a blank line

      {"id": "a", "command": "info", "args": ["x.tif"]}
      {"id": "b", "steps": [{"command": "reproject", "args": ["x.tif", "{tmp}/y.tif", "--dst-crs", "EPSG:4326"]}, {"command": "cog-export", "args": ["{tmp}/y.tif", "out/{id}.tif"]}]}
      """
    let jobs = try BatchManifest.parse(Data(text.utf8), source: "m.jsonl", commands: commands)
    XCTAssertEqual(jobs.map(\.id), ["a", "b"])
    XCTAssertEqual(jobs[1].expanded(tmp: "/w/t").map(\.args), [["x.tif", "/w/t/y.tif", "--dst-crs", "EPSG:4326"], ["/w/t/y.tif", "out/b.tif"]])
    XCTAssertNotEqual(jobs[0].argsHash, jobs[1].argsHash)
    XCTAssertEqual(jobs[1].argsHash, try BatchManifest.parse(Data(text.utf8), source: "m", commands: commands)[1].argsHash, "stable")
    // Saved on Windows (CR LF, one Character in Swift): the same jobs, the same hashes.
    let windows = try BatchManifest.parse(Data(text.replacingOccurrences(of: "\n", with: "\r\n").utf8), source: "m", commands: commands)
    XCTAssertEqual(windows.map(\.argsHash), jobs.map(\.argsHash))
    for (bad, line) in [("{\"id\": \"a\", \"command\": \"info\"}\n[1, 2]", 2), ("\n\n{\"id\": \"\", \"command\": \"info\"}", 3),
                        ("{\"id\": \"a\", \"steps\": []}", 1), ("{\"id\": \"a\", \"command\": \"info\", \"steps\": []}", 1)] {
      XCTAssertThrowsError(try BatchManifest.parse(Data(bad.utf8), source: "m.jsonl", commands: commands)) { error in
        XCTAssertEqual((error as? TesseraError)?.status, .dataError)
        XCTAssertTrue((error as? TesseraError)?.message.hasPrefix("m.jsonl line \(line):") == true, "\(error)")
      }
    }
  }

  func testTemplatesSplitLikeAShellAndFillPlaceholdersAfterwards() throws {
    XCTAssertEqual(try BatchManifest.splitWords(#"reproject {path} "out dir/{stem}.tif" --x 'a b' c\ d"#),
                   ["reproject", "{path}", "out dir/{stem}.tif", "--x", "a b", "c d"])
    let jobs = try BatchManifest.expand(template: "reproject {path} out/{stem}_{index}.{ext} --note {dir}/{name}",
                                        files: ["data/a b.tif", "-x.tif"], commands: commands)
    XCTAssertEqual(jobs[0].steps[0].args, ["data/a b.tif", "out/a b_0.tif", "--note", "data/a b.tif"])
    XCTAssertEqual(jobs[1].steps[0].args, ["./-x.tif", "out/-x_1.tif", "--note", "./-x.tif"], "a dash-leading path cannot read as an option")
    XCTAssertEqual(jobs.map(\.id), ["data/a b.tif", "-x.tif"])
    XCTAssertThrowsError(try BatchManifest.expand(template: "info {path}", files: ["a", "a"], commands: commands))
  }

  func testShardsAreStableAndCoverEveryID() throws {
    let ids = (0..<1000).map { "T\($0)" }
    let shards = try (0..<7).map { try BatchShard(index: $0, count: 7) }
    for id in ids { XCTAssertEqual(shards.filter { $0.contains(id) }.count, 1) }
    let sizes = shards.map { shard in ids.filter(shard.contains).count }
    XCTAssertTrue(sizes.allSatisfy { (100...190).contains($0) }, "\(sizes)")
    XCTAssertEqual(try BatchShard(parsing: "2/7"), shards[2])
    XCTAssertEqual(try BatchShard.automatic(["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "2"]), try BatchShard(index: 3, count: 4))
    XCTAssertEqual(try BatchShard.automatic(["JOB_COMPLETION_INDEX": "0", "TESSERA_SHARD_COUNT": "2"]), try BatchShard(index: 0, count: 2))
    for environment in [[:], ["JOB_COMPLETION_INDEX": "1"], ["SLURM_ARRAY_TASK_ID": "9", "SLURM_ARRAY_TASK_COUNT": "3"],
                        ["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_STEP": "2"]] {
      XCTAssertThrowsError(try BatchShard.automatic(environment)) { XCTAssertEqual(($0 as? TesseraError)?.status, .usage) }
    }
    XCTAssertEqual(shards[2].suffixed("out/report.json"), "out/report.shard-2-of-7.json")
  }

  func testTheJournalKeepsItsRecordsAndIgnoresATornLine() throws {
    let folder = NSTemporaryDirectory() + "journal-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let output = folder + "/out.txt"
    try "x".write(toFile: output, atomically: true, encoding: .utf8)
    let job = BatchJob(id: "a", steps: [BatchStep(command: "info", args: [output])], origin: "line 1")
    let path = folder + "/j.jsonl"
    do {
      let journal = try BatchJournal(path: path, fresh: true)
      try journal.append(.init(id: "a", argsHash: job.argsHash, status: "ok", exitCode: 0, inputs: [],
                               outputs: [.now(output, verify: false)]))
    }
    // A kill in the middle of the next record.
    let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
    handle.seekToEndOfFile()
    handle.write(Data("{\"id\":\"b\",\"args_h".utf8))
    try handle.close()
    let reopened = try BatchJournal(path: path, fresh: false)
    XCTAssertEqual(Array(reopened.records.keys), ["a"])
    XCTAssertTrue(reopened.isDone(job, verify: false))
    try reopened.append(.init(id: "c", argsHash: "h", status: "ok", exitCode: 0, inputs: [], outputs: []))
    XCTAssertEqual(Set(try BatchJournal(path: path, fresh: false).records.keys), ["a", "c"], "the torn line did not swallow the next record")
    // Repaired, not kept: every line of the journal is a whole record.
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
    XCTAssertEqual(lines.count, 3, "two records and the final newline")
    XCTAssertFalse(lines.contains { $0.hasPrefix("{\"id\":\"b\"") }, "the torn line is still there")
    try "changed".write(toFile: output, atomically: true, encoding: .utf8)
    XCTAssertFalse(reopened.isDone(job, verify: false))
  }

  func testTheDisplayShowsFailuresEvenWhenQuietAndCountsEveryJob() {
    let start = Date(timeIntervalSince1970: 0)
    var display = BatchDisplay(total: 3, skipped: 1, started: start)
    XCTAssertEqual(display.record(.started(id: "a")), .none)
    XCTAssertEqual(display.record(.finished(BatchJobResult(id: "a", status: .done, exitCode: 0))), .progress)
    guard case .line(let note) = display.record(.note("removed x\ny")) else { return XCTFail("a note is a line") }
    XCTAssertEqual(note.text, "tessera batch: removed x\\ny", "one line, its newline shown")
    XCTAssertFalse(note.evenWhenQuiet)
    XCTAssertFalse(display.isComplete)
    var failed = BatchJobResult(id: "b", status: .failed, exitCode: 65)
    failed.stderrTail = "first\nlast words"
    guard case .line(let failure) = display.record(.finished(failed)) else { return XCTFail("a failure is a line") }
    XCTAssertEqual(failure.text, "tessera batch: job b failed (exit 65): last words")
    XCTAssertTrue(failure.evenWhenQuiet, "failures are shown even with --quiet")
    XCTAssertTrue(display.isComplete)
    XCTAssertEqual(display.progressLine(at: start.addingTimeInterval(4)), "batch: 3/3 (1 done, 1 failed, 1 skipped), 0.5 jobs/s, ETA 0 s")
  }
}
