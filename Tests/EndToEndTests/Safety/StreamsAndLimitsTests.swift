import Foundation
import GDAL
import TestSupport
import XCTest

/// The process's footing, tried as a hostile caller would: standard streams closed or full,
/// a low `ulimit -n`, settings GDAL would misread, file names that are not UTF-8.
final class StreamsAndLimitsTests: TemporaryDirectoryTestCase {
  /// A finished run started through /bin/sh (for redirections and ulimit).
  struct ShellRun {
    let status: Int32
    let signalled: Bool
    let stdout: String
    let stderr: String
    let timedOut: Bool
  }

  /// Runs `tessera ARGS` as `sh -c 'PREFIX exec tessera "$@" REDIRECTIONS'`, its streams in files
  /// (so a hung run cannot block the test), killed after `timeout` seconds.
  func shell(_ arguments: [String], redirections: String = "", prefix: String = "", timeout: Double = 120,
             environment: [String: String] = [:]) throws -> ShellRun {
    let out = dir.file("stdout-\(UUID().uuidString)"), err = dir.file("stderr-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: out, contents: nil)
    _ = FileManager.default.createFile(atPath: err, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: out); try? FileManager.default.removeItem(atPath: err) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "\(prefix) exec \"$@\" \(redirections)", "sh", TesseraBinary.path] + arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    process.currentDirectoryURL = URL(fileURLWithPath: dir.path)
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle(forWritingAtPath: out)
    process.standardError = FileHandle(forWritingAtPath: err)
    let exited = process.exitSignal()
    try process.run()
    let timedOut = !exited.wait(seconds: timeout)
    if timedOut { kill(process.processIdentifier, SIGKILL) }
    exited.wait()
    return ShellRun(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                    stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                    stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "", timedOut: timedOut)
  }

  // MARK: - Jobs of every command

  /// A small valid job of every subcommand; OUT is replaced by a fresh output path, and the
  /// job's output (nil: it writes none) must exist after a successful run.
  struct Job {
    let command: String
    let arguments: [String]
    let output: String?
  }

  func jobs() throws -> [Job] {
    let small = dir.file("small.tif")
    if !FileManager.default.fileExists(atPath: small) {
      try Oracle.tool("gdal_translate", ["-q", "-srcwin", "0", "0", "64", "64", Fixture.path("rasterio/rgb1.tif"), small])
      try Oracle.tool("gdal_translate", ["-q", "-srcwin", "40", "40", "64", "64", Fixture.path("rasterio/rgb1.tif"), dir.file("small2.tif")])
    }
    let product = try XCTUnwrap(try SyntheticProducts.make(in: dir.file("s2"), ["--size", "60", "--bands", "B04", "--format", "tif"]).first)
    let merged = dir.file("merged.tif")
    if !FileManager.default.fileExists(atPath: merged) {
      let made = try TesseraBinary.run(["merge-memfile", product, "-o", merged, "-b", "B04"])
      XCTAssertEqual(made.status, 0, made.stderr)
    }
    let manifest = dir.file("jobs.jsonl")
    try "{\"id\":\"a\",\"command\":\"info\",\"args\":[\"\(small)\"]}\n".write(toFile: manifest, atomically: true, encoding: .utf8)
    let report = dir.file("batch-report.json")
    if !FileManager.default.fileExists(atPath: report) {
      let made = try TesseraBinary.run(["batch", manifest, "--report", report])
      XCTAssertEqual(made.status, 0, made.stderr)
    }
    let small2 = dir.file("small2.tif")
    return [
      Job(command: "info", arguments: [small], output: nil),
      Job(command: "mosaic", arguments: [small, small2, "-o", "OUT.tif"], output: "OUT.tif"),
      Job(command: "clip", arguments: [Fixture.rgbByte, "OUT.tif", "--cutline", Fixture.path("rasterio/box.shp")], output: "OUT.tif"),
      Job(command: "band-stack", arguments: [small + ":1", small + ":3", "-o", "OUT.tif"], output: "OUT.tif"),
      Job(command: "index", arguments: ["--expr", "b1 * 2", small, "-o", "OUT.tif"], output: "OUT.tif"),
      Job(command: "reproject", arguments: [small, "OUT.tif", "--dst-crs", "EPSG:4326"], output: "OUT.tif"),
      Job(command: "resample", arguments: [small, "OUT.tif", "--size", "200%"], output: "OUT.tif"),
      Job(command: "cog-export", arguments: [small, "OUT.tif"], output: "OUT.tif"),
      Job(command: "validate-cog", arguments: [Fixture.path("rasterio/cogeo.tif")], output: nil),
      Job(command: "merge-memfile", arguments: [product, "-o", "OUT.tif", "-b", "B04"], output: "OUT.tif"),
      Job(command: "validate-merge", arguments: [merged, "--expect-bands", "1"], output: nil),
      Job(command: "batch", arguments: [manifest], output: nil),
      Job(command: "batch-report", arguments: [report], output: nil),
      Job(command: "quicklook", arguments: [small, "OUT.png"], output: "OUT.png"),
      Job(command: "timelapse", arguments: [small, small2, "-o", "OUT.gif", "--band", "1", "--order", "given"], output: "OUT.gif"),
    ]
  }

  func testEverySubcommandHasAJobHere() throws {
    let names = Set(try jobs().map(\.command))
    let help = try TesseraBinary.run(["--help"]).stdout
    // Every subcommand the help lists is tried by the stream tests.
    let section = try XCTUnwrap(help.components(separatedBy: "SUBCOMMANDS:").last)
    let listed = section.split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
      .compactMap { $0.split(separator: " ").first.map(String.init) }.filter { $0.first?.isLowercase ?? false }
    XCTAssertGreaterThan(listed.count, 10)
    for word in listed { XCTAssertTrue(names.contains(word), "no stream test job for \(word)") }
  }

  /// Runs `job` with `redirections`; returns the run and the output path used.
  func run(_ job: Job, _ label: String, json: Bool, redirections: String) throws -> (ShellRun, String?) {
    let out = job.output.map { dir.file("\(job.command)-\(label).\(($0 as NSString).pathExtension)") }
    let args = job.arguments.map { ($0 == job.output ? out : nil) ?? $0 } + (json ? ["--json"] : [])
    let result = try shell([job.command] + args, redirections: redirections)
    XCTAssertFalse(result.timedOut, "\(job.command) \(redirections): hung")
    XCTAssertFalse(result.signalled, "\(job.command) \(redirections): killed by a signal")
    XCTAssertFalse(SignalTrial.temporaryFile(in: dir.path), "\(job.command) \(redirections): a temporary file is left")
    return (result, out)
  }

  /// The commands whose report is their output, printed on stdout without --json.
  static let reportOnStdout: Set<String> = ["info", "validate-cog", "validate-merge", "batch-report"]

  /// stdin, stdout and stderr closed, alone and together: the job runs as with them open (the
  /// program's own files never take their numbers), and nothing hangs. A command whose output
  /// is its report on stdout cannot deliver it to a closed stdout: 74, as with --json.
  func testClosedStandardStreamsChangeNothingForEveryCommand() throws {
    for job in try jobs() {
      for (label, redirections) in [("in", "<&-"), ("out", ">&-"), ("err", "2>&-"), ("all", "<&- >&- 2>&-")] {
        let (result, out) = try run(job, label, json: false, redirections: redirections)
        let lost = redirections.split(separator: " ").contains(">&-") && StreamsAndLimitsTests.reportOnStdout.contains(job.command)
        XCTAssertEqual(result.status, lost ? 74 : 0, "\(job.command) \(redirections): \(result.stderr)")
        if let out { XCTAssertTrue(FileManager.default.fileExists(atPath: out), "\(job.command) \(redirections): no output") }
      }
      // With stdin closed and --json, the one JSON document still arrives whole.
      let (result, _) = try run(job, "json-in", json: true, redirections: "<&- 2>&-")
      XCTAssertEqual(result.status, 0, "\(job.command) --json <&-: \(result.stderr)")
      XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)), "\(job.command): \(result.stdout)")
    }
  }

  /// What --json asked for cannot be written: stdout closed, or full. Exit 74 with one line on
  /// stderr; a raster already committed stays.
  func testAReportThatCannotBeWrittenIs74ForEveryCommand() throws {
    for job in try jobs() {
      for (label, redirections) in [("closed", ">&-"), ("full", ">/dev/full"), ("closed-all", "<&- >&-")] {
        let (result, out) = try run(job, label, json: true, redirections: redirections)
        XCTAssertEqual(result.status, 74, "\(job.command) --json \(redirections): \(result.stderr)")
        let lines = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("warning:") }
        XCTAssertEqual(lines.count, 1, "\(job.command) --json \(redirections): \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("tessera \(job.command): cannot write to standard output"), result.stderr)
        if let out { XCTAssertTrue(FileManager.default.fileExists(atPath: out), "\(job.command): the committed output is gone") }
      }
      // Progress and messages to a full stderr are dropped; the run is as it was.
      let (result, _) = try run(job, "errfull", json: false, redirections: "2>/dev/full")
      XCTAssertEqual(result.status, 0, "\(job.command) 2>/dev/full")
    }
  }

  /// --help and --version are asked for on stdout like a report.
  func testHelpAndVersionThatCannotBeWrittenAre74() throws {
    for args in [["--help"], ["--version"], ["mosaic", "--help"]] {
      for redirections in [">/dev/full", ">&-"] {
        let run = try shell(args, redirections: redirections)
        XCTAssertEqual(run.status, 74, "\(args) \(redirections): \(run.stderr)")
      }
      XCTAssertEqual(try shell(args).status, 0, "\(args)")
    }
  }

  /// A pipe whose reader has gone (EPIPE; SIGPIPE is ignored): 74, not a signal, not 0.
  func testAReportIntoAClosedPipeIs74() throws {
    for args in [["info", Fixture.rgbByte, "--json"], ["index", "--list"], ["index", "--list", "--json"]] {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: TesseraBinary.path)
      process.arguments = args
      let pipe = Pipe(), errors = Pipe()
      process.standardOutput = pipe
      process.standardError = errors
      try pipe.fileHandleForReading.close()
      try process.run()
      let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      process.waitUntilExit()
      XCTAssertEqual(process.terminationReason, .exit, "\(args)")
      XCTAssertEqual(process.terminationStatus, 74, "\(args): \(stderr)")
      XCTAssertTrue(stderr.contains("broken pipe"), "\(args): \(stderr)")
    }
  }

  /// With stdin closed, `-` reads an empty list: the signal pipe is never read as the manifest
  /// (which hung), and writing progress into closed streams is never a signal's exit (143).
  func testStdinClosedIsAnEmptyListNotAHang() throws {
    let batch = try shell(["batch", "-"], redirections: "<&-", timeout: 60)
    XCTAssertFalse(batch.timedOut, "batch - <&- hung")
    XCTAssertEqual(batch.status, 65, batch.stderr)
    XCTAssertTrue(batch.stderr.contains("no jobs"), batch.stderr)
    let mosaic = try shell(["mosaic", "--input-list", "-", "-o", dir.file("m.tif")], redirections: "<&-", timeout: 60)
    XCTAssertFalse(mosaic.timedOut, "mosaic --input-list - <&- hung")
    XCTAssertEqual(mosaic.status, 66, mosaic.stderr)
    XCTAssertTrue(mosaic.stderr.contains("input list on stdin names no file"), mosaic.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("m.tif")))
    let out = dir.file("r.tif")
    let reproject = try shell(["reproject", Fixture.path("rasterio/rgb1.tif"), out, "--dst-crs", "EPSG:4326", "--progress"],
                              redirections: ">&- 2>&-")
    XCTAssertEqual(reproject.status, 0)
    XCTAssertTrue(try PixelComparison.of(out, try oracleWarp(Fixture.path("rasterio/rgb1.tif"))).identical)
  }

  /// The text files commands read (manifest, input list, colour table, reports) are read one
  /// way: a pipe works like a file, a FIFO nobody writes to is empty at once (never a hang), and
  /// a directory, a socket or a file too large to be one is refused naming what it is.
  func testTextInputsOfEveryKind() throws {
    let fifo = dir.file("fifo"), folder = dir.file("folder"), socketPath = dir.file("sock")
    XCTAssertEqual(mkfifo(fifo, 0o644), 0)
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    // A bound Unix socket's file stays after its process has gone.
    let bound = try Run.process(Oracle.python, ["-c", "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", socketPath])
    XCTAssertEqual(bound.status, 0, bound.stderr)
    let big = dir.file("big.txt")
    XCTAssertTrue(FileManager.default.createFile(atPath: big, contents: Data(repeating: UInt8(ascii: "a"), count: (16 << 20) + 1)))
    let rgb = Fixture.path("rasterio/rgb1.tif")
    let uses: [(args: (String) -> [String], role: String)] = [
      ({ ["batch", $0] }, "manifest"),
      ({ ["mosaic", "--input-list", $0, "-o", self.dir.file("m.tif")] }, "input list"),
      ({ ["quicklook", rgb, self.dir.file("q.png"), "--band", "1", "--color-table", $0] }, "color table"),
      ({ ["batch-report", $0] }, "report"),
    ]
    for (args, role) in uses {
      for (path, status, words) in [(folder, 66, "is a directory"), (socketPath, 66, "is a socket"), (fifo, -1, "")] {
        let run = try shell(args(path), timeout: 30)
        XCTAssertFalse(run.timedOut, "\(role) \(path) hung")
        if status > 0 {
          XCTAssertEqual(run.status, Int32(status), "\(role) \(path): \(run.stderr)")
          XCTAssertTrue(run.stderr.contains("\(role) \(path) \(words)"), run.stderr)
        } else {
          // Empty: each command's own words for nothing given, never a read error or a hang.
          XCTAssertTrue([64, 65, 66].contains(run.status), "\(role) fifo: \(run.status) \(run.stderr)")
          XCTAssertFalse(run.stderr.contains("cannot be read"), run.stderr)
        }
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
      }
    }
    let tooBig = try shell(["quicklook", rgb, dir.file("q.png"), "--band", "1", "--color-table", big])
    XCTAssertEqual(tooBig.status, 65, tooBig.stderr)
    XCTAssertTrue(tooBig.stderr.contains("larger than 16 MiB"), tooBig.stderr)
    // A pipe from the shell is read like a file.
    let table = dir.file("table.txt")
    try "0 0 0 0\n255 255 0 0\n".write(toFile: table, atomically: true, encoding: .utf8)
    let piped = try shell(["quicklook", rgb, dir.file("p.png"), "--band", "1", "--color-table", "/dev/stdin"], prefix: "cat \(table) |")
    XCTAssertEqual(piped.status, 0, piped.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("m.tif")))
  }

  func oracleWarp(_ input: String) throws -> String {
    let path = dir.file("oracle-warp.tif")
    try Oracle.tool("gdalwarp", ["-q", "-overwrite", "-t_srs", "EPSG:4326", input, path])
    return path
  }

  // MARK: - Open-file limits

  /// `count` 16x16 GeoTIFFs: on one grid (a stack) or tiled side by side (a mosaic), each
  /// with its own values.
  func tinyInputs(_ count: Int, tiled: Bool) throws -> String {
    let folder = dir.file(tiled ? "tiles" : "layers")
    let script = """
      import sys, numpy as np
      from osgeo import gdal, osr
      folder, count, tiled = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
      srs = osr.SpatialReference(); srs.ImportFromEPSG(32633)
      names = []
      for i in range(count):
          name = "%s/t%04d.tif" % (folder, i)
          ds = gdal.GetDriverByName("GTiff").Create(name, 16, 16, 1, gdal.GDT_UInt16)
          x, y = ((i % 30) * 160.0, (i // 30) * 160.0) if tiled else (0.0, 0.0)
          ds.SetGeoTransform([500000 + x, 10, 0, 5000000 - y, 0, -10])
          ds.SetProjection(srs.ExportToWkt())
          ds.GetRasterBand(1).WriteArray(((np.arange(256).reshape(16, 16) * 7 + i * 13) % 65000).astype("uint16"))
          ds = None
          names.append(name)
      open(folder + ".txt", "w").write("\\n".join(names) + "\\n")
      """
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let made = try Run.process(Oracle.python, ["-c", script, folder, "\(count)", tiled ? "1" : "0"])
    XCTAssertEqual(made.status, 0, made.stderr)
    return folder + ".txt"
  }

  /// GDAL's own answer: gdalbuildvrt (with `extra`) then gdal_translate.
  func oracle(_ list: String, _ extra: [String], name: String) throws -> String {
    let vrt = dir.file("\(name).vrt"), tif = dir.file("\(name).tif")
    try Oracle.tool("gdalbuildvrt", ["-q"] + extra + ["-input_file_list", list, vrt])
    try Oracle.tool("gdal_translate", ["-q", vrt, tif])
    return tif
  }

  /// 600 inputs under `ulimit -n 256`: every multi-input command finishes with GDAL's pixels.
  func testSixHundredInputsFitALowOpenFileLimit() throws {
    let layers = try tinyInputs(600, tiled: false), tiles = try tinyInputs(600, tiled: true)
    let limit = "ulimit -n 256;"
    let stack = dir.file("stack.tif")
    let stacked = try shell(["band-stack", "--input-list", layers, "-o", stack, "--threads", "4"], prefix: limit)
    XCTAssertEqual(stacked.status, 0, stacked.stderr)
    XCTAssertTrue(try PixelComparison.of(stack, try oracle(layers, ["-separate"], name: "stack-gdal")).identical)

    let mosaic = dir.file("mosaic.tif")
    let mosaicked = try shell(["mosaic", "--input-list", tiles, "-o", mosaic, "--threads", "4"], prefix: limit)
    XCTAssertEqual(mosaicked.status, 0, mosaicked.stderr)
    let gdalMosaic = try oracle(tiles, [], name: "mosaic-gdal")
    XCTAssertTrue(try PixelComparison.of(mosaic, gdalMosaic).identical)

    // Overlapping layers through the computing compositor, and the VRT a mosaic can be.
    let maximum = dir.file("max.tif")
    let maxed = try shell(["mosaic", "--input-list", layers, "-o", maximum, "--method", "max"], prefix: limit)
    XCTAssertEqual(maxed.status, 0, maxed.stderr)
    let expected = try (0..<600).reduce([Double](repeating: 0, count: 256)) { best, i in
      let values = try PixelComparison.values(String(format: "%@/t%04d.tif", dir.file("layers"), i))
      return zip(best, values).map { Swift.max($0, $1) }
    }
    XCTAssertEqual(try PixelComparison.values(maximum), expected)
    let vrt = dir.file("mosaic.vrt")
    let vrtRun = try shell(["mosaic", "--input-list", tiles, "-o", vrt, "--format", "VRT"], prefix: limit)
    XCTAssertEqual(vrtRun.status, 0, vrtRun.stderr)
    XCTAssertTrue(try PixelComparison.of(vrt, gdalMosaic).identical)

    // Index reads its role files through the same readers.
    let index = dir.file("index.tif")
    let first = String(format: "%@/t%04d.tif", dir.file("layers"), 0), second = String(format: "%@/t%04d.tif", dir.file("layers"), 1)
    let indexed = try shell(["index", "ndvi", "-o", index, "-i", "red=" + first, "-i", "nir=" + second], prefix: limit)
    XCTAssertEqual(indexed.status, 0, indexed.stderr)
    let red = try PixelComparison.values(first), nir = try PixelComparison.values(second)
    let ndvi = zip(red, nir).map { r, n in Double(Float((n - r) / (n + r))) }
    XCTAssertTrue(PixelComparison.of(try PixelComparison.values(index), ndvi, tolerance: 1e-6).differing == 0)
    XCTAssertFalse(SignalTrial.temporaryFile(in: dir.path))
  }

  /// merge-memfile under a low limit: one product, and 60 products (180 band files, more than
  /// the limit), each giving the result made without the limit — the band files past the share
  /// held open are reopened through GDAL's bounded pool, never all held at once.
  func testMergeMemfileUnderALowOpenFileLimit() throws {
    let products = try SyntheticProducts.make(in: dir.file("s2"), ["--size", "60", "--bands", "B04,B08,SCL", "--format", "tif"])
    let product = try XCTUnwrap(products.first)
    // Dates of the same tile: copies of one product under other names.
    var many = products
    let name = (product as NSString).lastPathComponent  // S2A_MSIL2A_YYYYMMDDTHHMMSS_…
    for month in 1...12 {
      for day in 10..<15 {
        let date = String(format: "2024%02d%02d", month, day)
        let copy = dir.file("s2/" + name.prefix(11) + date + name.dropFirst(19))
        try FileManager.default.copyItem(atPath: product, toPath: copy)
        many.append(copy)
      }
    }
    for (label, inputs) in [("one", [product]), ("many", many)] {
      let free = dir.file("free-\(label).tif"), limited = dir.file("limited-\(label).tif")
      let reference = try TesseraBinary.run(["merge-memfile"] + inputs + ["-o", free, "-b", "B04,B08,SCL"])
      XCTAssertEqual(reference.status, 0, reference.stderr)
      let run = try shell(["merge-memfile"] + inputs + ["-o", limited, "-b", "B04,B08,SCL", "--threads", "2"], prefix: "ulimit -n 64;")
      XCTAssertEqual(run.status, 0, "\(label): \(run.stderr)")
      XCTAssertTrue(try PixelComparison.of(limited, free).identical, label)
    }
  }

  /// A limit too low for anything to be pooled: 71 naming the limit, never an input blamed
  /// (65, 66), a usage error or a signal.
  func testTooFewDescriptorsIs71NamingTheLimit() throws {
    let layers = try tinyInputs(20, tiled: false)
    var refused = 0
    // quicklook and timelapse start libdispatch's workers, whose event loop needs descriptors of
    // its own (a SIGILL inside libdispatch when refused, before the start-up check).
    for n in 4...12 {
      for args in [["band-stack", "--input-list", layers, "-o", dir.file("s\(n).tif")],
                   ["reproject", Fixture.path("rasterio/rgb1.tif"), dir.file("r\(n).tif"), "--dst-crs", "EPSG:4326"],
                   ["quicklook", Fixture.path("rasterio/RGB.byte.tif"), dir.file("q\(n).png")],
                   ["timelapse", Fixture.path("rasterio/rgb1.tif"), Fixture.path("rasterio/rgb1.tif"), "-o", dir.file("t\(n).gif"), "--order", "given"]] {
        let run = try shell(args, prefix: "ulimit -n \(n);")
        XCTAssertFalse(run.signalled, "ulimit -n \(n) \(args[0])")
        XCTAssertTrue([0, 71].contains(run.status), "ulimit -n \(n) \(args[0]): \(run.status) \(run.stderr)")
        if run.status == 71 {
          refused += 1
          XCTAssertTrue(run.stderr.contains("too many open files (ulimit -n \(n))"), run.stderr)
        }
      }
    }
    XCTAssertGreaterThan(refused, 0, "no run was refused: the limits tried are not low enough")
    XCTAssertFalse(SignalTrial.temporaryFile(in: dir.path))
  }

  // MARK: - Settings and names

  func testSettingsGDALWouldMisreadAre64NamingTheVariable() throws {
    let out = dir.file("o.tif")
    for (environment, args, name) in [
      (["GDAL_CACHEMAX": "-5"], [String](), "GDAL_CACHEMAX=-5 (environment)"),
      (["GDAL_CACHEMAX": "lots"], [], "GDAL_CACHEMAX=lots (environment)"),
      ([:], ["--config", "GDAL_CACHEMAX=-5"], "GDAL_CACHEMAX=-5 (--config)"),
      ([:], ["--config", "GDAL_NUM_THREADS=many"], "GDAL_NUM_THREADS=many (--config)"),
      ([:], ["--config", "GDAL_MAX_DATASET_POOL_SIZE=-1"], "GDAL_MAX_DATASET_POOL_SIZE=-1 (--config)"),
    ] {
      let run = try TesseraBinary.run(["reproject", Fixture.path("rasterio/rgb1.tif"), out, "--dst-crs", "EPSG:4326"] + args,
                                      environment: environment)
      XCTAssertEqual(run.status, 64, "\(name): \(run.stderr)")
      XCTAssertTrue(run.stderr.contains(name), run.stderr)
      XCTAssertFalse(run.stderr.contains("rgb1.tif"), "the input is blamed: \(run.stderr)")
      XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
    for value in ["512", "10%", "1000000000"] {
      let run = try TesseraBinary.run(["info", Fixture.path("rasterio/rgb1.tif")], environment: ["GDAL_CACHEMAX": value])
      XCTAssertEqual(run.status, 0, "GDAL_CACHEMAX=\(value): \(run.stderr)")
    }
  }

  /// Names are bytes: one that is not UTF-8 is refused (64, shown escaped), never read or
  /// written under the name Swift's repair (U+FFFD) makes of it.
  func testANameThatIsNotUTF8Is64AndNothingIsWrittenUnderAnotherName() throws {
    let input = dir.path + "/in\u{FFFD}.tif"
    try FileManager.default.copyItem(atPath: Fixture.path("rasterio/rgb1.tif"), toPath: input)
    // Made with the raw bytes through the shell: Swift's own strings cannot hold them.
    let copied = try Run.process("/bin/sh", ["-c", "cp \"$1\" \"$(printf 'in\\377.tif')\"", "sh", input], currentDirectory: dir.path)
    XCTAssertEqual(copied.status, 0, copied.stderr)
    let before = dir.contents
    let asInput = try shell(["info", "--json"], redirections: "\"$(printf 'in\\377.tif')\"")
    XCTAssertEqual(asInput.status, 64, asInput.stderr)
    XCTAssertTrue(asInput.stderr.contains("in\\xff.tif") && asInput.stderr.contains("not UTF-8"), asInput.stderr)
    XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(asInput.stdout.utf8)) as? [String: Any])?["exit_code"] as? Int, 64)
    let asOutput = try shell(["reproject", Fixture.path("rasterio/rgb1.tif")],
                             redirections: "\"$(printf 'out\\376.tif')\" --dst-crs EPSG:4326")
    XCTAssertEqual(asOutput.status, 64, asOutput.stderr)
    XCTAssertTrue(asOutput.stderr.contains("out\\xfe.tif"), asOutput.stderr)
    // A pattern Tessera expands itself: the match is refused, not repaired.
    for args in [["mosaic", dir.path + "/*.tif", "-o", dir.file("m.tif")],
                 ["batch", "--each", "reproject {path} " + dir.path + "/{stem}-4326.tif --dst-crs EPSG:4326", dir.path + "/*.tif"]] {
      let run = try TesseraBinary.run(args)
      XCTAssertEqual(run.status, 64, "\(args[0]): \(run.stderr)")
      XCTAssertTrue(run.stderr.contains("in\\xff.tif") && run.stderr.contains("not UTF-8"), run.stderr)
    }
    XCTAssertEqual(dir.contents, before, "a file was written")
  }

  /// Names in a list are read as UTF-8 text: bytes that are not are refused, never repaired.
  func testAListNamingAFileInBytesThatAreNotUTF8IsRefused() throws {
    let list = dir.file("list.txt")
    try Data("in".utf8 + [0xFF] + Data(".tif\n".utf8)).write(to: URL(fileURLWithPath: list))
    let run = try TesseraBinary.run(["mosaic", "--input-list", list, "-o", dir.file("m.tif")])
    XCTAssertEqual(run.status, 65, run.stderr)
    XCTAssertTrue(run.stderr.contains("not UTF-8"), run.stderr)
    let manifest = dir.file("jobs.jsonl")
    try Data("{\"id\":\"a\",\"command\":\"info\",\"args\":[\"in".utf8 + [0xFF] + Data(".tif\"]}\n".utf8)).write(to: URL(fileURLWithPath: manifest))
    let batch = try TesseraBinary.run(["batch", manifest])
    XCTAssertEqual(batch.status, 65, batch.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("m.tif")))
  }
}
