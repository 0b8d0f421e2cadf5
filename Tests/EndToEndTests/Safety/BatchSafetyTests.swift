import Foundation
import TestSupport
import XCTest

/// A batch is one run: no job, and none of the batch's own files, may land on a file another
/// part of the run reads or writes, all refused before anything is created; shard reports merge
/// only as one batch; a journal that cannot be written stops the batch cleanly.
final class BatchSafetyTests: TemporaryDirectoryTestCase {
  override func setUpWithError() throws {
    try super.setUpWithError()
    setenv("TESSERA_TEST_HOOKS", "1", 1)
  }

  func steps(_ id: String, _ steps: [(String, [String])]) -> String {
    let value: [String: Any] = ["id": id, "steps": steps.map { ["command": $0.0, "args": $0.1] }]
    return String(decoding: try! JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
  }

  /// Every path under the test folder, folders included.
  func listing() -> Set<String> {
    Set((try? FileManager.default.subpathsOfDirectory(atPath: dir.path)) ?? [])
  }

  func json(_ text: String) throws -> [String: Any] {
    try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
  }

  // MARK: - File relations

  /// Each case: the manifest's jobs, the batch's options, and the words the refusal must name.
  /// Every one is 64 with one line, before any job runs, with nothing created and every file
  /// byte-identical — with --overwrite too, which never licenses replacing an input of the run.
  func testFilesOfOneRunThatCollideAreRefusedBeforeAnything() throws {
    let src = dir.file("src.tif")
    try FileManager.default.copyItem(atPath: Fixture.path("rasterio/rgb1.tif"), toPath: src)
    XCTAssertEqual(symlink(src, dir.file("link.tif")), 0)
    XCTAssertEqual(link(src, dir.file("hard.tif")), 0)
    try FileManager.default.createDirectory(atPath: dir.file("product"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: Fixture.path("rasterio/rgb2.tif"), toPath: dir.file("product/band.tif"))
    let warp = { (input: String, output: String) in self.job("a", "reproject", [input, output, "--dst-crs", "EPSG:4326"]) }
    let log = dir.file("ran.log")
    let marker = job("z", "test-job", ["--log", log])
    let cases: [(jobs: [String], options: [String], names: [String])] = [
      ([warp(src, dir.file("out.tif"))], ["--report", src, "--overwrite"], ["src.tif", "report", "job a"]),
      ([warp(src, dir.file("out.tif"))], ["--journal", "link.tif", "--overwrite"], ["src.tif", "journal"]),
      ([warp(src, dir.file("out.tif"))], ["--report", "jobs.jsonl"], ["jobs.jsonl", "manifest", "report"]),
      ([warp(src, dir.file("out.tif"))], ["--report", "./sub/../out.tif"], ["out.tif", "report", "job a"]),
      ([warp(src, dir.file("out.tif"))], ["--journal", dir.file("j.jsonl"), "--report", "j.jsonl.lock"], ["lock", "report"]),
      ([warp(src, dir.file("jobs.jsonl"))], ["--overwrite"], ["jobs.jsonl", "manifest", "job a"]),
      ([job("a", "reproject", [src, "jobs.jsonl", "--dst-crs", "EPSG:4326", "--overwrite"])], [], ["jobs.jsonl", "manifest"]),
      ([warp(src, dir.file("same.tif")), job("b", "resample", [src, "./same.tif", "--size", "50%", "--overwrite"])], [],
       ["job a", "job b", "same.tif", "two jobs write"]),
      ([job("a", "reproject", [dir.file("product/band.tif"), "src.tif", "--dst-crs", "EPSG:4326", "--overwrite"]),
        job("b", "resample", ["link.tif", "b.tif", "--size", "50%"])], ["--overwrite"], ["job a", "job b", "link.tif", "src.tif"]),
      ([job("a", "info", ["product"]), job("b", "resample", [src, "product/new.tif", "--size", "50%"])], [],
       ["job a", "job b", "product"]),
      ([warp(src, "src.tif.aux.xml"), job("b", "info", [src])], [], ["job a", "job b", "src.tif"]),
      // A hard link is the file under another name: device and inode count, not the path.
      ([job("a", "reproject", [dir.file("product/band.tif"), "hard.tif", "--dst-crs", "EPSG:4326", "--overwrite"]),
        job("b", "resample", [src, "b.tif", "--size", "50%"])], [], ["job a", "job b", "hard.tif", "src.tif"]),
      ([warp(src, dir.file("out.tif"))], ["--report", "hard.tif", "--overwrite"], ["hard.tif", "report", "job a"]),
      ([job("a", "reproject", ["hard.tif", "jobs.jsonl.hard", "--dst-crs", "EPSG:4326"])], [], ["jobs.jsonl.hard", "manifest"]),
      ([job("a", "info", [dir.file("r.journal.jsonl")])], ["--report", dir.file("r.json")], ["job a", "journal"]),
      ([warp(src, dir.file("work/job-0123/x.tif"))], ["--report", dir.file("r.json"), "--work-dir", dir.file("work")],
       ["job a", "work folder"]),
      ([steps("a", [("reproject", [src, "mid.tif", "--dst-crs", "EPSG:4326"]), ("resample", ["mid.tif", "src.tif", "--size", "50%", "--overwrite"])])],
       [], ["job a", "src.tif", "earlier step"]),
    ]
    for (jobs, options, names) in cases {
      let path = try manifest(jobs + [marker])
      unlink(dir.file("jobs.jsonl.hard"))
      XCTAssertEqual(link(path, dir.file("jobs.jsonl.hard")), 0)  // the manifest under a second name
      let before = try FolderSnapshot(dir.path)
      let folders = listing()
      let run = try TesseraBinary.run(["batch", path] + options, in: dir.path)
      let label = "\(jobs) \(options)"
      XCTAssertEqual(run.status, 64, "\(label): \(run.stderr)")
      XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
      for name in names { XCTAssertTrue(run.stderr.contains(name), "\(label): '\(name)' not in \(run.stderr)") }
      XCTAssertEqual(try FolderSnapshot(dir.path), before, "\(label): a file changed")
      XCTAssertEqual(listing(), folders, "\(label): something was created (journal, lock, work folder, output)")
      XCTAssertFalse(FileManager.default.fileExists(atPath: log), "\(label): a job ran")
    }
  }

  /// What a batch may do: a step writes what a later step of its own job reads, and jobs read
  /// the manifest and one input together.
  /// A job's id comes from the manifest: a newline or a terminal escape in it is shown escaped
  /// in the failure line, never written to the terminal as it is.
  func testFailureLinesShowControlCharactersOfIdsEscaped() throws {
    let path = try manifest([job("x\u{1B}[2Jy\nz", "info", [dir.file("missing.tif")])])
    let run = try TesseraBinary.run(["batch", path], in: dir.path)
    XCTAssertEqual(run.status, 1, run.stderr)
    XCTAssertFalse(run.stderr.contains("\u{1B}"), run.stderr)
    XCTAssertTrue(run.stderr.contains("job x\\u{1B}[2Jy\\nz failed (exit 66)"), run.stderr)
    XCTAssertEqual(run.stderr.split(separator: "\n").filter { $0.contains("failed (exit") }.count, 1, run.stderr)
  }

  func testAStepMayFeedALaterStepOfItsJob() throws {
    let src = dir.file("src.tif")
    try FileManager.default.copyItem(atPath: Fixture.path("rasterio/rgb1.tif"), toPath: src)
    let path = try manifest([
      steps("a", [("reproject", [src, "mid.tif", "--dst-crs", "EPSG:4326"]), ("resample", ["mid.tif", "half.tif", "--size", "50%"])]),
      job("b", "resample", [src, "b.tif", "--size", "50%"]),
      job("c", "info", ["jobs.jsonl", src]),
    ])
    let run = try TesseraBinary.run(["batch", path, "--report", "r.json"], in: dir.path)
    XCTAssertEqual(run.status, 1, "job c's info fails on the manifest, a JSON file: \(run.stderr)")
    XCTAssertTrue(FileManager.default.fileExists(atPath: dir.file("half.tif")))
    XCTAssertTrue(FileManager.default.fileExists(atPath: dir.file("b.tif")))
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("r.journal.jsonl.work")), "the work folder is gone")
  }

  /// Each writing command a job may run reports its output: one writing the manifest is refused
  /// for every one of them. A new command that does not say what it writes cannot be a job.
  func testEveryWritingCommandsOutputIsChecked() throws {
    let src = dir.file("src.tif")
    try FileManager.default.copyItem(atPath: Fixture.path("rasterio/rgb1.tif"), toPath: src)
    let unknown = try TesseraBinary.run(["batch", try manifest([job("x", "nosuch", [])])])
    let listed = try XCTUnwrap(unknown.stderr.range(of: "one of: ").map { unknown.stderr[$0.upperBound...] })
    let commands = Set(listed.prefix { $0 != ")" }.components(separatedBy: ", "))
    let manifestPath = dir.file("jobs.jsonl")
    let writers: [String: [String]] = [
      "reproject": [src, manifestPath, "--dst-crs", "EPSG:4326", "--overwrite"],
      "resample": [src, manifestPath, "--size", "50%", "--overwrite"],
      "cog-export": [src, manifestPath, "--overwrite"],
      "clip": [src, manifestPath, "--bbox", "0,0,1,1", "--overwrite"],
      "mosaic": [src, "-o", manifestPath, "--overwrite"],
      "band-stack": [src, src, "-o", manifestPath, "--overwrite"],
      "index": ["--expr", "b1", src, "-o", manifestPath, "--overwrite"],
      "quicklook": [src, manifestPath, "--overwrite"],
      "timelapse": [src, "-o", manifestPath, "--overwrite"],
      "merge-memfile": [dir.file("product"), "-o", dir.file("m.tif"), "--report", manifestPath, "--overwrite"],
      "test-job": ["--write", manifestPath, "--overwrite"],
    ]
    let readers: Set<String> = ["info", "validate-cog", "validate-merge"]
    XCTAssertEqual(commands.subtracting(readers).subtracting(writers.keys), [], "a job command this test does not cover")
    for (command, args) in writers {
      let before = try Data(contentsOf: URL(fileURLWithPath: try manifest([job("w", command, args)])))
      let run = try TesseraBinary.run(["batch", manifestPath, "--overwrite"])
      XCTAssertEqual(run.status, 64, "\(command): \(run.stderr)")
      XCTAssertTrue(run.stderr.contains("manifest"), "\(command): \(run.stderr)")
      XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: manifestPath)), before, command)
    }
  }

  /// While a job runs, its command refuses an output the batch protects (a file the manifest
  /// could not name until the job ran), through the list the batch gives each job.
  func testAJobsCommandRefusesTheRunsProtectedFiles() throws {
    let src = dir.file("src.tif")
    try FileManager.default.copyItem(atPath: Fixture.path("rasterio/rgb1.tif"), toPath: src)
    try "keep".write(toFile: dir.file("report.tif"), atomically: true, encoding: .utf8)
    let list = dir.file("protected.jsonl")
    let entries = [
      ["path": dir.file("report.tif"), "job": -1, "role": "the batch's report"],
      ["path": dir.file("theirs"), "job": 3, "role": "an input of job b (line 2)"],
      ["path": dir.file("mine.tif"), "job": 0, "role": "an output of job a (line 1)"],
    ] as [[String: Any]]
    try entries.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }.joined(separator: "\n")
      .write(toFile: list, atomically: true, encoding: .utf8)
    let environment = ["TESSERA_BATCH_PROTECTED": list, "TESSERA_BATCH_JOB": "0"]
    let report = try TesseraBinary.run(["reproject", src, dir.file("report.tif"), "--dst-crs", "EPSG:4326", "--overwrite"], environment: environment)
    XCTAssertEqual(report.status, 64, report.stderr)
    XCTAssertTrue(report.stderr.contains("the batch's report"), report.stderr)
    XCTAssertEqual(try String(contentsOfFile: dir.file("report.tif"), encoding: .utf8), "keep")
    // The same command outside a batch replaces it: the refusal is the batch's.
    XCTAssertEqual(try TesseraBinary.run(["reproject", src, dir.file("report.tif"), "--dst-crs", "EPSG:4326", "--overwrite"]).status, 0)
    let inside = try TesseraBinary.run(["resample", src, dir.file("theirs/x.tif"), "--size", "50%"], environment: environment)
    XCTAssertEqual(inside.status, 64, inside.stderr)
    XCTAssertTrue(inside.stderr.contains("job b"), inside.stderr)
    // The job's own files are its command's to check.
    XCTAssertEqual(try TesseraBinary.run(["resample", src, dir.file("mine.tif"), "--size", "50%"], environment: environment).status, 0)
  }

  /// A file a job turned out to read while it ran (its run ledger names what its arguments could
  /// not: here a hidden read) is no output of the jobs started after it.
  func testWhatAJobReadIsProtectedFromTheJobsAfterIt() throws {
    let source = dir.file("source.txt")
    try "original".write(toFile: source, atomically: true, encoding: .utf8)
    let path = try manifest([
      job("a", "test-job", ["--read-hidden", source, "--write", dir.file("a.txt")]),
      job("b", "test-job", ["--write", source, "--overwrite"]),
    ])
    let run = try TesseraBinary.run(["batch", path, "--jobs", "1", "--report", dir.file("r.json")])
    XCTAssertEqual(run.status, 1, run.stderr)
    XCTAssertTrue(run.stderr.contains("job b failed (exit 64)") && run.stderr.contains("an input of job a"), run.stderr)
    XCTAssertEqual(try String(contentsOfFile: source, encoding: .utf8), "original")
    XCTAssertEqual(try String(contentsOfFile: dir.file("a.txt"), encoding: .utf8), "done\n")
  }

  /// A VRT's sources are inputs of the job that reads it, known before anything runs.
  func testAVRTsSourcesAreInputs() throws {
    let src = dir.file("src.tif")
    try FileManager.default.copyItem(atPath: Fixture.path("rasterio/rgb1.tif"), toPath: src)
    let vrt = dir.file("a.vrt")
    XCTAssertEqual(try TesseraBinary.run(["mosaic", src, "-o", vrt, "--format", "vrt"]).status, 0)
    try FileManager.default.copyItem(atPath: Fixture.path("rasterio/rgb2.tif"), toPath: dir.file("other.tif"))
    let before = try FolderSnapshot(dir.path)
    let path = try manifest([
      job("a", "info", [vrt]),
      job("b", "reproject", [dir.file("other.tif"), src, "--dst-crs", "EPSG:4326", "--overwrite"]),
    ])
    let run = try TesseraBinary.run(["batch", path])
    XCTAssertEqual(run.status, 64, run.stderr)
    XCTAssertTrue(run.stderr.contains("job a") && run.stderr.contains("job b") && run.stderr.contains("src.tif"), run.stderr)
    XCTAssertEqual(try FolderSnapshot(dir.path).files.filter { $0.key != "jobs.jsonl" }, before.files)
  }

  /// A --report refused for any reason leaves no journal, lock or work folder behind.
  func testARefusedReportCreatesNothing() throws {
    try "old".write(toFile: dir.file("r.json"), atomically: true, encoding: .utf8)
    let path = try manifest([job("a", "test-job", ["--log", dir.file("ran.log")])])
    let before = listing()
    let exists = try TesseraBinary.run(["batch", path, "--report", dir.file("r.json")])
    XCTAssertEqual(exists.status, 73, exists.stderr)
    let manifestReport = try TesseraBinary.run(["batch", path, "--report", path])
    XCTAssertEqual(manifestReport.status, 64, manifestReport.stderr)
    XCTAssertEqual(listing(), before)
  }

  // MARK: - Numbers

  func testNumericOptionsMustBeFiniteAndInRange() throws {
    let path = try manifest([job("a", "test-job", ["--log", dir.file("ran.log")])])
    let bad: [[String]] = [
      ["--job-timeout", "inf"], ["--job-timeout", "nan"], ["--job-timeout", "-inf"], ["--job-timeout", "0"], ["--job-timeout", "1e300"],
      ["--retry-delay", "inf"], ["--retry-delay", "nan"], ["--retry-delay", "-1"], ["--jobs", "0"], ["--jobs", "99999999999999999999"],
      ["--retries", "-1"], ["--retries", "101"], ["--shard", "0/0"], ["--shard", "1/99999999999999999999"],
    ]
    for options in bad {
      let run = try TesseraBinary.run(["batch", path] + options)
      XCTAssertEqual(run.status, 64, "\(options): \(run.stderr)")
      XCTAssertTrue(run.stderr.contains(options[0]), "\(options): \(run.stderr)")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("ran.log")))
    XCTAssertEqual(try TesseraBinary.run(["batch", path, "--job-timeout", "30", "--retry-delay", "0"]).status, 0)
  }

  // MARK: - Shard reports

  func shardReports(_ ids: [String], count: Int, name: String, jobs manifestName: String = "jobs.jsonl") throws -> [String] {
    let path = try manifest(ids.map { job($0, "test-job", ["--write", dir.file("\(manifestName)-\($0).txt"), "--overwrite"]) }, name: manifestName)
    return try (0..<count).map { index in
      let run = try TesseraBinary.run(["batch", path, "--shard", "\(index)/\(count)", "--report", dir.file(name), "--overwrite"])
      XCTAssertEqual(run.status, 0, run.stderr)
      return dir.file((name as NSString).deletingPathExtension + ".shard-\(index)-of-\(count).json")
    }
  }

  func testBatchReportMergesOneBatchEachShardOnce() throws {
    let ids = (0..<10).map { "job-\($0)" }
    let shards = try shardReports(ids, count: 2, name: "r.json")
    let whole = try TesseraBinary.run(["batch-report"] + shards + ["--json"])
    XCTAssertEqual(whole.status, 0, whole.stderr)
    XCTAssertEqual(try json(whole.stdout)["jobs_total"] as? Int, 10)

    // One shard alone: incomplete, exit 1, the missing shard named.
    let alone = try TesseraBinary.run(["batch-report", shards[0], "--json"])
    XCTAssertEqual(alone.status, 1, alone.stderr)
    let aloneJSON = try json(alone.stdout)
    XCTAssertEqual(aloneJSON["status"] as? String, "incomplete")
    XCTAssertEqual(aloneJSON["missing_shards"] as? [String], ["1/2"])
    XCTAssertTrue(try TesseraBinary.run(["batch-report", shards[0]]).stdout.contains("shard 1/2"))

    // The same report twice (by another name too) counts once.
    let copy = dir.file("copy.json")
    try FileManager.default.copyItem(atPath: shards[0], toPath: copy)
    let twice = try TesseraBinary.run(["batch-report", shards[0], shards[0], copy, shards[1], "--json"])
    XCTAssertEqual(twice.status, 0, twice.stderr)
    XCTAssertEqual(try json(twice.stdout)["jobs_total"] as? Int, 10, "a repeated report doubled the counts")
    XCTAssertEqual((try json(twice.stdout)["repeated_reports"] as? [Any])?.count, 2)

    // Two different runs of one shard: which one counts is the user's to say.
    let rerun = dir.file("rerun.json")
    let first = try String(contentsOfFile: shards[0], encoding: .utf8)
    try first.replacingOccurrences(of: "\"elapsed_s\"", with: "\"elapsed_s\" ").write(toFile: rerun, atomically: true, encoding: .utf8)
    let differing = try TesseraBinary.run(["batch-report", shards[0], rerun, shards[1]])
    XCTAssertEqual(differing.status, 65, differing.stderr)
    XCTAssertTrue(differing.stderr.contains("rerun.json") && differing.stderr.contains("shard-0-of-2"), differing.stderr)

    // Another batch's report (other jobs), and another split of this batch.
    let other = try shardReports(ids.map { $0 + "-other" }, count: 2, name: "other.json", jobs: "other.jsonl")
    let mixed = try TesseraBinary.run(["batch-report", shards[0], other[1]])
    XCTAssertEqual(mixed.status, 65, mixed.stderr)
    XCTAssertTrue(mixed.stderr.contains("other.shard-1-of-2.json") && mixed.stderr.contains("r.shard-0-of-2.json"), mixed.stderr)
    let three = try shardReports(ids, count: 3, name: "three.json")
    let split = try TesseraBinary.run(["batch-report", shards[0], three[1]])
    XCTAssertEqual(split.status, 65, split.stderr)
    let wholeBatch = dir.file("all.json")
    XCTAssertEqual(try TesseraBinary.run(["batch", dir.file("jobs.jsonl"), "--report", wholeBatch, "--overwrite"]).status, 0)
    XCTAssertEqual(try TesseraBinary.run(["batch-report", wholeBatch]).status, 0)
    XCTAssertEqual(try TesseraBinary.run(["batch-report", wholeBatch, shards[1]]).status, 65, "the whole batch and a shard of it")
  }

  // MARK: - A full disk under the journal

  /// The journal on a small tmpfs that fills: the batch starts no job after the first failed
  /// write, undoes the jobs it could not record, leaves no job folder and no torn line, and
  /// exits 74 naming the journal; once space is freed --resume finishes with nothing left over.
  func fullJournalThenResume(workOnTheFullDisk: Bool) throws {
    let mount = try mountSmallDisk("size=256k", name: "fs")
    // Leave the lock and the journal a few pages, and fill the rest.
    var fs = statvfs()
    XCTAssertEqual(statvfs(mount, &fs), 0)
    let page = Int(fs.f_bsize)
    let filler = mount + "/filler"
    let spare = workOnTheFullDisk ? 3 : 2
    XCTAssertTrue(FileManager.default.createFile(atPath: filler, contents: Data(count: (Int(fs.f_bavail) - spare) * page)))
    try FileManager.default.createDirectory(atPath: dir.file("out"), withIntermediateDirectories: true)
    let outputs = (0..<30).map { dir.file("out/j\($0).txt") }
    // Without --overwrite: a job the journal did not record must not leave its output in the way.
    let path = try manifest(outputs.indices.map { job("j\($0)", "test-job", ["--write", outputs[$0]] + (workOnTheFullDisk ? ["--overwrite"] : [])) })
    var arguments = ["batch", path, "--jobs", "1", "--report", mount + "/r.json"]
    if !workOnTheFullDisk { arguments += ["--work-dir", dir.file("work")] }
    let full = try TesseraBinary.run(arguments)
    XCTAssertEqual(full.status, 74, full.stderr)
    let last = full.stderr.split(separator: "\n").last.map(String.init) ?? ""
    // With the work folder on the full disk too, a job folder that cannot be made stops the batch
    // first, the same way (no job starts after it; it did not run).
    XCTAssertTrue(last.hasPrefix("tessera batch: writing the journal \(mount)/r.journal.jsonl failed")
                  || workOnTheFullDisk && last.hasPrefix("tessera batch: cannot create the job folder \(mount)/"), full.stderr)
    XCTAssertTrue(last.contains("--resume"), last)
    let journal = try String(contentsOfFile: mount + "/r.journal.jsonl", encoding: .utf8)
    XCTAssertTrue(journal.isEmpty || journal.hasSuffix("\n"), "a torn journal line")
    let recorded = journal.split(separator: "\n")
    for line in recorded { XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8)), String(line)) }
    XCTAssertLessThan(recorded.count, 30, "the disk never filled")
    let work = workOnTheFullDisk ? mount + "/r.journal.jsonl.work" : dir.file("work")
    XCTAssertEqual(((try? FileManager.default.contentsOfDirectory(atPath: work)) ?? []).filter { $0.hasPrefix("job-") }, [], "job folders left")
    if !workOnTheFullDisk {
      // Every output in place is one the journal recorded; the rest were undone.
      for (index, output) in outputs.enumerated() where FileManager.default.fileExists(atPath: output) {
        XCTAssertTrue(journal.contains("\"id\":\"j\(index)\""), "j\(index)'s output is there but unrecorded")
      }
      XCTAssertLessThan(outputs.filter { FileManager.default.fileExists(atPath: $0) }.count, 30, "jobs were started after the journal failed")
    }

    try FileManager.default.removeItem(atPath: filler)
    let resumed = try TesseraBinary.run(arguments + ["--resume"])
    XCTAssertEqual(resumed.status, 0, resumed.stderr)
    for output in outputs { XCTAssertEqual(try String(contentsOfFile: output, encoding: .utf8), "done\n", output) }
    XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: mount)), ["r.json", "r.journal.jsonl", "r.journal.jsonl.lock"])
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("work")))
    let leftovers = (FileManager.default.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []).filter { $0.contains(".tessera-") }
    XCTAssertEqual(leftovers, [])
  }

  /// A disk already full when the batch starts: 74 naming the problem, and nothing it made is
  /// left (no lock, no empty journal, no work folder), so the next run starts clean.
  func testAFullDiskAtTheStartLeavesNothing() throws {
    let mount = try mountSmallDisk("size=64k", name: "fs")
    var fs = statvfs()
    XCTAssertEqual(statvfs(mount, &fs), 0)
    XCTAssertTrue(FileManager.default.createFile(atPath: mount + "/filler", contents: Data(count: Int(fs.f_bavail) * Int(fs.f_bsize))))
    let path = try manifest([job("a", "test-job", ["--write", dir.file("a.txt")])])
    let run = try TesseraBinary.run(["batch", path, "--report", mount + "/r.json"])
    XCTAssertEqual(run.status, 74, run.stderr)
    XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
    XCTAssertTrue(run.stderr.contains("No space left on device"), run.stderr)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mount), ["filler"])
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("a.txt")), "the job ran")
  }

  func testAFullJournalStopsTheBatchAndResumeFinishesIt() throws { try fullJournalThenResume(workOnTheFullDisk: false) }

  func testAFullDiskUnderJournalAndWorkFolderLeavesNoJobFolders() throws { try fullJournalThenResume(workOnTheFullDisk: true) }

  // MARK: - The work folder: a batch removes only what a batch made

  func smallJobs(_ count: Int) throws -> String {
    try FileManager.default.copyItem(atPath: Fixture.path("gdal_autotest/byte.tif"), toPath: dir.file("small.tif"))
    return try manifest((1...count).map { job("s\($0)", "reproject", ["small.tif", "s\($0).tif", "--dst-crs", "EPSG:4326"]) })
  }

  /// A --work-dir holding files a batch did not make — even named like the batch's own — is
  /// refused (73, one line naming the folder and what to do) and left byte-identical, nothing
  /// run; an empty folder is used and kept; a new one is made and removed.
  func testAWorkFolderHoldingUserFilesIsRefusedAndLeftAlone() throws {
    let path = try smallJobs(3)
    try FileManager.default.createDirectory(atPath: dir.file("run"), withIntermediateDirectories: true)
    let plant: [(String, (String) throws -> Void)] = [
      ("job-data.tif", { try "precious\n".write(toFile: $0 + "/job-data.tif", atomically: false, encoding: .utf8) }),
      ("job-abc", {
        try FileManager.default.createDirectory(atPath: $0 + "/job-abc", withIntermediateDirectories: true)
        try "mine\n".write(toFile: $0 + "/job-abc/notes.txt", atomically: false, encoding: .utf8)
      }),
      ("batch-files.jsonl", { try "{\"mine\":1}\n".write(toFile: $0 + "/batch-files.jsonl", atomically: false, encoding: .utf8) }),
    ]
    for (name, make) in plant {
      let wd = dir.file("wd-" + name)
      try FileManager.default.createDirectory(atPath: wd, withIntermediateDirectories: true)
      try make(wd)
      let before = try FolderSnapshot(dir.path)
      let folders = listing()
      let run = try TesseraBinary.run(["batch", path, "--report", "run/r.json", "--work-dir", wd, "-q"], in: dir.path)
      XCTAssertEqual(run.status, 73, "\(name): \(run.stderr)")
      XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
      for word in [wd, name, "--work-dir"] { XCTAssertTrue(run.stderr.contains(word), "\(name): '\(word)' not in \(run.stderr)") }
      XCTAssertEqual(try FolderSnapshot(dir.path), before, "\(name): a file changed")
      XCTAssertEqual(listing(), folders, "\(name): something was created or removed")
    }
    // An empty folder is the batch's to use, and stays; a new one is made and removed.
    let empty = dir.file("empty")
    try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
    let adopted = try TesseraBinary.run(["batch", path, "--report", "run/r.json", "--work-dir", empty, "-q"], in: dir.path)
    XCTAssertEqual(adopted.status, 0, adopted.stderr)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: empty), [])
    for index in 1...3 { unlink(dir.file("s\(index).tif")) }
    let made = try TesseraBinary.run(["batch", path, "--report", "run/r2.json", "--work-dir", "new", "-q"], in: dir.path)
    XCTAssertEqual(made.status, 0, made.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("new")))
    for index in 1...3 { XCTAssertTrue(FileManager.default.fileExists(atPath: dir.file("s\(index).tif"))) }
  }

  /// A batch killed with jobs in flight leaves their folders in the --work-dir it made;
  /// --resume cleans them (and the folder) because the batch listed them as its own.
  func testResumeCleansWhatAKilledBatchLeftInItsWorkFolder() throws {
    // j1 ends first and is journaled; the others are asleep when the batch is killed, so what
    // they leave is their folders alone (a job that ends in the instant the batch dies is
    // testResumeAfterADeathBeforeTheJournalRunsTheJobAgain's).
    var lines = [job("j1", "test-job", ["--sleep", "0.1", "--write", dir.file("out-1.txt")])]
    for index in 2...4 {
      lines.append(job("j\(index)", "test-job", ["--sleep", "3", "--write", dir.file("out-\(index).txt")]))
    }
    let path = try manifest(lines)
    let wd = dir.file("wd")
    let arguments = ["batch", path, "--jobs", "2", "--report", dir.file("r.json"), "--work-dir", wd]
    let journal = dir.file("r.journal.jsonl")
    let outcome = try SignalTrial.run(arguments, signal: SIGKILL) {
      ((try? String(contentsOfFile: journal, encoding: .utf8)) ?? "").split(separator: "\n").count >= 1
        && ((try? FileManager.default.contentsOfDirectory(atPath: wd)) ?? []).contains { $0.hasPrefix("job-") }
    }
    XCTAssertTrue(outcome.wasReady)
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline, (try? Run.process("/usr/bin/pgrep", ["-f", "test-job --sleep 3 --write \(dir.path)"]))?.status == 0 { usleep(20_000) }
    let left = try FileManager.default.contentsOfDirectory(atPath: wd)
    XCTAssertTrue(left.contains { $0.hasPrefix("job-") }, "\(left)")
    let resumed = try TesseraBinary.run(arguments + ["--resume"])
    XCTAssertEqual(resumed.status, 0, resumed.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: wd), "the work folder the batch made is removed once empty")
    for index in 1...4 { XCTAssertEqual(try String(contentsOfFile: dir.file("out-\(index).txt"), encoding: .utf8), "done\n") }
  }

  /// A batch that dies after a job put its output in place but before the journal holds the
  /// job: --resume finds the job's ledger in its folder, removes the unrecorded output and runs
  /// the job again. (The folder was removed before the journal was written, so the output was
  /// in the job's way: 73.)
  func testResumeAfterADeathBeforeTheJournalRunsTheJobAgain() throws {
    let path = try manifest([job("j1", "test-job", ["--write", dir.file("out-1.txt")]),
                             job("j2", "test-job", ["--write", dir.file("out-2.txt")])])
    let arguments = ["batch", path, "--jobs", "1", "--report", dir.file("r.json"), "--work-dir", dir.file("wd")]
    let died = try TesseraBinary.run(arguments, environment: ["TESSERA_TEST_HOOKS": "1", "TESSERA_TEST_CRASH": "batch-record:abort"])
    XCTAssertNotEqual(died.status, 0, died.stderr)
    XCTAssertTrue(FileManager.default.fileExists(atPath: dir.file("out-1.txt")), "the job's output was in place")
    let resumed = try TesseraBinary.run(arguments + ["--resume"])
    XCTAssertEqual(resumed.status, 0, resumed.stderr)
    XCTAssertTrue(resumed.stderr.contains("the journal never recorded"), resumed.stderr)
    for index in 1...2 { XCTAssertEqual(try String(contentsOfFile: dir.file("out-\(index).txt"), encoding: .utf8), "done\n") }
  }

  /// Two batches at once on one --work-dir: the second would take the first's job folders for
  /// a killed run's leftovers and remove them, so it is refused (73) while the first runs.
  func testTwoBatchesNeverShareAWorkFolderAtOnce() throws {
    let first = try manifest([job("a", "test-job", ["--sleep", "3", "--write", dir.file("a.txt")])], name: "a.jsonl")
    let second = try manifest([job("b", "test-job", ["--write", dir.file("b.txt")])], name: "b.jsonl")
    let wd = dir.file("wd")
    var refused: ProcessResult?
    let outcome = try SignalTrial.run(["batch", first, "--report", dir.file("a.json"), "--work-dir", wd], signal: SIGTERM) {
      guard ((try? FileManager.default.contentsOfDirectory(atPath: wd)) ?? []).contains(where: { $0.hasPrefix("job-") }) else { return false }
      refused = try? TesseraBinary.run(["batch", second, "--report", dir.file("b.json"), "--work-dir", wd])
      return true
    }
    XCTAssertTrue(outcome.wasReady)
    let run = try XCTUnwrap(refused)
    XCTAssertEqual(run.status, 73, run.stderr)
    XCTAssertTrue(run.stderr.contains(wd) && run.stderr.contains("another batch"), run.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("b.txt")))
  }

  // MARK: - Manifest strings

  /// A NUL in any string of a job (an argument, the id, the command, a step's) cannot reach a
  /// C string intact: 65 naming the line, before anything runs.
  func testAManifestStringWithANULIsRefused() throws {
    try FileManager.default.copyItem(atPath: Fixture.path("gdal_autotest/byte.tif"), toPath: dir.file("in.tif"))
    try FileManager.default.createDirectory(atPath: dir.file("out"), withIntermediateDirectories: true)
    let good = #"{"id":"ok","command":"reproject","args":["in.tif","out/ok.tif","--dst-crs","EPSG:4326"]}"#
    let bad = [
      #"{"id":"a","command":"reproject","args":["in.tif","out/in.tif\u0000.tif","--dst-crs","EPSG:4326"]}"#,
      #"{"id":"a\u0000","command":"reproject","args":["in.tif","out/{id}.tif","--dst-crs","EPSG:4326"]}"#,
      #"{"id":"a","command":"reproject\u0000","args":["in.tif","out/a.tif","--dst-crs","EPSG:4326"]}"#,
      #"{"id":"a","steps":[{"command":"reproject","args":["in.tif\u0000x","out/a.tif","--dst-crs","EPSG:4326"]}]}"#,
    ]
    for line in bad {
      let path = try manifest([good, line])
      let before = listing()
      let run = try TesseraBinary.run(["batch", path, "--report", "r.json"], in: dir.path)
      XCTAssertEqual(run.status, 65, "\(line): \(run.stderr)")
      XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
      XCTAssertTrue(run.stderr.contains("line 2") && run.stderr.contains("NUL"), run.stderr)
      XCTAssertEqual(listing(), before, "\(line): something was created")
    }
  }

  /// A job object with a key given twice is ambiguous (which id?): 65 naming the line and key.
  func testADuplicateKeyInAJobIsRefused() throws {
    for line in [#"{"id":"a","id":"b","command":"info","args":["x.tif"]}"#,
                 #"{"id":"a","command":"info","args":["x.tif"],"args":["y.tif"]}"#,
                 #"{"id":"a","steps":[{"command":"info","command":"validate-cog","args":["x.tif"]}]}"#] {
      let path = try manifest([#"{"id":"z","command":"info","args":["x.tif"]}"#, line])
      let run = try TesseraBinary.run(["batch", path, "--dry-run"], in: dir.path)
      XCTAssertEqual(run.status, 65, "\(line): \(run.stderr)")
      XCTAssertTrue(run.stderr.contains("line 2") && run.stderr.contains("twice"), run.stderr)
    }
  }

  /// `{nope}` in an --each template is no placeholder: 64 naming it and the known ones.
  func testAnUnknownPlaceholderInATemplateIsRefused() throws {
    try FileManager.default.copyItem(atPath: Fixture.path("gdal_autotest/byte.tif"), toPath: dir.file("in.tif"))
    let run = try TesseraBinary.run(["batch", "--each", "reproject {path} out/{nope}.tif --dst-crs EPSG:4326", "in.tif", "--dry-run"], in: dir.path)
    XCTAssertEqual(run.status, 64, run.stderr)
    XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
    for word in ["{nope}", "{stem}", "{path}", "{id}"] { XCTAssertTrue(run.stderr.contains(word), "'\(word)' not in \(run.stderr)") }
    let fine = try TesseraBinary.run(["batch", "--each", "reproject {path} out/{stem}-{index}.tif --dst-crs EPSG:4326", "in.tif", "--dry-run"], in: dir.path)
    XCTAssertEqual(fine.status, 0, fine.stderr)
  }

  /// A job writing the folder that holds the journal is told so, not that it is the journal.
  func testAnOutputOverTheJournalsFolderNamesTheRelation() throws {
    try FileManager.default.copyItem(atPath: Fixture.path("gdal_autotest/byte.tif"), toPath: dir.file("in.tif"))
    try FileManager.default.createDirectory(atPath: dir.file("jd"), withIntermediateDirectories: true)
    let path = try manifest([job("a", "reproject", ["in.tif", "jd", "--dst-crs", "EPSG:4326"])])
    let run = try TesseraBinary.run(["batch", path, "--journal", "jd/j.jsonl"], in: dir.path)
    XCTAssertEqual(run.status, 64, run.stderr)
    XCTAssertTrue(run.stderr.contains("a folder holding the batch's journal"), run.stderr)
    XCTAssertFalse(run.stderr.contains("which is the batch's journal"), run.stderr)
  }
}
