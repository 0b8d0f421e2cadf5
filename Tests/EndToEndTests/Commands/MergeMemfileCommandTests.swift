import Foundation
import TestSupport
import XCTest

/// merge-memfile and validate-merge as a CI job runs them.
final class MergeMemfileCommandTests: TemporaryDirectoryTestCase {

  let t29unu = Fixture.path("sentinel2/S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE")
  var r60m: String { t29unu + "/GRANULE/L2A_T29UNU_A038058_20221005T115407/IMG_DATA/R60m" }

  func json(_ text: String) throws -> [String: Any] {
    try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
  }

  func testMergeToCOGWithReportThenValidateMerge() throws {
    let before = try FolderSnapshot(r60m)
    let out = dir.file("t29.tif"), report = dir.file("t29.json")
    let run = try TesseraBinary.run(["merge-memfile", t29unu, "-o", out, "-b", "B04,B8A,SCL", "--resolution", "60",
                                     "--cog", "--profile", "zstd", "--report", report, "--json"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let printed = try json(run.stdout)
    XCTAssertEqual(printed["status"] as? String, "ok")
    XCTAssertEqual(((printed["staging"] as? [String: Any])?["mode"]) as? String, "mem")
    XCTAssertEqual((printed["bands"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["B04", "B8A", "SCL"])
    XCTAssertNotNil((printed["bands"] as? [[String: Any]])?.first?["checksum"] as? Int)
    XCTAssertEqual(((printed["outputs"] as? [[String: Any]])?.first?["cog"]) as? Bool, true)
    XCTAssertEqual(try json(String(contentsOfFile: report, encoding: .utf8))["command"] as? String, "merge-memfile")
    XCTAssertEqual(dir.contents, ["t29.json", "t29.tif"])
    XCTAssertEqual(try TesseraBinary.run(["validate-cog", out]).status, 0)
    XCTAssertEqual(try FolderSnapshot(r60m), before, "the product is untouched")

    let pass = try TesseraBinary.run(["validate-merge", out, "--expect-bands", "B04,B8A,SCL", "--expect-crs", "EPSG:32629",
                                      "--expect-resolution", "60", "--min-valid-fraction", "0.5", "--against", report])
    XCTAssertEqual(pass.status, 0, pass.stderr)
    XCTAssertTrue(pass.stdout.contains("every check passed"), pass.stdout)

    let fail = try TesseraBinary.run(["validate-merge", out, "--expect-bands", "4", "--expect-crs", "EPSG:32630",
                                      "--min-valid-fraction", "0.9", "--json"])
    XCTAssertEqual(fail.status, 1)
    let failed = try json(fail.stdout)["failed"] as? [String] ?? []
    XCTAssertTrue(failed.contains("band count") && failed.contains("crs"), "\(failed)")
    XCTAssertTrue(failed.contains { $0.hasPrefix("valid fraction of band 1") }, "\(failed)")
    let text = try TesseraBinary.run(["validate-merge", out, "--expect-bands", "4"])
    XCTAssertEqual(text.status, 1)
    XCTAssertTrue(text.stdout.contains("FAILED band count: expected 4, found 3"), text.stdout)
    XCTAssertEqual(try TesseraBinary.run(["validate-merge", dir.file("none.tif")]).status, 66)
  }

  /// --mem-limit bounds what staging holds in memory. The same merge to a COG of two products at
  /// two sizes (1,200^2 and 3,600^2 px a band, 9x the pixels): staged in memory, the process's
  /// peak resident memory (getrusage of the child, from Python) grows with the staged bands, as
  /// it must; with --mem-limit 16 the staging and the merge go to disk, and the larger merge
  /// peaks at least 60 MB lower, with the same pixels.
  func testMemLimitBoundsTheResidentMemoryOfStaging() throws {
    func peak(_ args: [String]) throws -> (kib: Int, stdout: String) {
      let script = """
        import json, resource, subprocess, sys
        r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
        print(json.dumps({"status": r.returncode, "kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "stdout": r.stdout, "stderr": r.stderr}))
        """
      let result = try Run.process(Oracle.python, ["-c", script, TesseraBinary.path] + args)
      let object = try json(result.stdout)
      XCTAssertEqual(object["status"] as? Int, 0, object["stderr"] as? String ?? "")
      return (object["kib"] as? Int ?? 0, object["stdout"] as? String ?? "")
    }
    var inMemory: [Int] = [], limited: [Int] = []
    for size in [1200, 3600] {
      let products = try SyntheticProducts.make(in: dir.file("p\(size)"), ["--size", "\(size)", "--format", "tif", "--bands", "B04,B08"])
      let common = ["merge-memfile"] + products + ["-b", "B04,B08", "--cog", "--threads", "2", "--json"]
      let memory = try peak(common + ["-o", dir.file("mem-\(size).tif"), "--stage", "mem"])
      // With a small block cache, so that what stays is GDAL's fixed working memory (the cache
      // and the warper's buffers fill up to their own limits on the larger image).
      let disk = try peak(common + ["-o", dir.file("limited-\(size).tif"), "--stage", "mem", "--mem-limit", "16", "--cache-mb", "16"])
      XCTAssertEqual(((try json(memory.stdout)["staging"] as? [String: Any])?["mode"]) as? String, "mem")
      // 1200 px stages 11.5 MB: under the limit, still in memory.
      XCTAssertEqual(((try json(disk.stdout)["staging"] as? [String: Any])?["mode"]) as? String, size == 3600 ? "disk" : "mem")
      let bands = { (text: String) in try self.json(text)["bands"] as? [[String: Any]] ?? [] }
      XCTAssertEqual(try bands(disk.stdout).map { $0["checksum"] as? Int }, try bands(memory.stdout).map { $0["checksum"] as? Int })
      inMemory.append(memory.kib)
      limited.append(disk.kib)
    }
    print("merge-memfile peak RSS (KiB) at 1200 and 3600 px: staged in memory \(inMemory), with --mem-limit 16 \(limited)")
    // 2 products x 2 bands x (3600^2 - 1200^2) x 2 bytes = 92 MB more staged, and the merged bands.
    XCTAssertGreaterThan(inMemory[1] - inMemory[0], 60_000, "in-memory staging should grow with the image: \(inMemory)")
    XCTAssertLessThan(limited[1] + 60_000, inMemory[1], "with --mem-limit the staged bands must leave memory: \(limited) vs \(inMemory)")
  }

  func testMissingBandFileFailsWith65AndWritesNothing() throws {
    let run = try TesseraBinary.run(["merge-memfile", t29unu, "-o", dir.file("t29.tif"), "-b", "B04", "--resolution", "10",
                                     "--report", dir.file("r.json")])
    XCTAssertEqual(run.status, 65)
    let line = run.stderr.split(separator: "\n").last.map(String.init) ?? ""
    XCTAssertTrue(line.hasPrefix("tessera merge-memfile: "), line)
    XCTAssertTrue(line.contains("T29UNU_20221005T115411_B04_10m.jp2"), line)
    XCTAssertEqual(dir.contents, [])
  }

  func testUsageAndMissingInputs() throws {
    XCTAssertEqual(try TesseraBinary.run(["merge-memfile", t29unu, "-o", dir.file("a.tif"), "-b", "B13"]).status, 64)
    XCTAssertEqual(try TesseraBinary.run(["merge-memfile", t29unu, "-o", dir.file("a.tif"), "--scl-classes", "99"]).status, 64)
    let missing = try TesseraBinary.run(["merge-memfile", dir.file("none.SAFE"), "-o", dir.file("a.tif"), "--json"])
    XCTAssertEqual(missing.status, 66)
    XCTAssertEqual(try json(missing.stdout)["exit_code"] as? Int, 66)
    try Data("x".utf8).write(to: URL(fileURLWithPath: dir.file("a.tif")))
    let exists = try TesseraBinary.run(["merge-memfile", t29unu, "-o", dir.file("a.tif"), "-b", "B04", "--resolution", "60"])
    XCTAssertEqual(exists.status, 73)
    let badReport = try TesseraBinary.run(["merge-memfile", t29unu, "-o", dir.file("c.tif"), "-b", "B04", "--resolution", "60",
                                           "--report", dir.file("no/such/folder/r.json")])
    XCTAssertEqual(badReport.status, 73, badReport.stderr)
    let notProduct = try TesseraBinary.run(["merge-memfile", Fixture.rgbByte, "-o", dir.file("b.tif")])
    XCTAssertEqual(notProduct.status, 65)
    XCTAssertEqual(dir.contents, ["a.tif"])
  }

  func testSIGINTRemovesStagingFilesFromDisk() throws {
    // Products big enough that staging (a reprojection, on one thread) takes seconds.
    let products = try SyntheticProducts.make(in: dir.file("products"), ["--size", "2400", "--format", "tif", "--bands", "B04,B08"])
    let out = dir.file("out")
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let arguments = ["merge-memfile"] + products + ["-o", out + "/m.tif", "-b", "B04,B08", "--dst-crs", "EPSG:4326",
                                                    "--resampling", "lanczos", "--stage", "disk", "--threads", "1"]
    let contents = { (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? [] }
    let trial = try SignalTrial.run(arguments, signal: SIGINT) { SignalTrial.temporaryFile(in: out) { $0.contains("-stage-") } }
    XCTAssertTrue(trial.wasReady, "never saw a staging file: \(contents())")
    XCTAssertEqual(trial.status, 130)
    XCTAssertEqual(contents(), [], "staging files left after SIGINT")
  }

  /// --dst-nodata is the merged raster's nodata and the value where no product has data, with
  /// and without --cog; by default 0 (DN) and NaN (--reflectance); none declares none.
  func testDstNodataWithAndWithoutCOG() throws {
    let count = """
      import sys, json, numpy as np
      from osgeo import gdal
      d = gdal.Open(sys.argv[1]); b = d.GetRasterBand(1); a = b.ReadAsArray().astype('float64')
      v = b.GetNoDataValue()
      print(json.dumps({'nodata': 'nan' if v is not None and v != v else v, 'zero': int((a == 0).sum()), 'max': int((a == 65535).sum()),
                        'minus': int((a == -9999).sum()), 'nan': int(np.isnan(a).sum())}))
      """
    func figures(_ path: String) throws -> [String: Any] {
      let run = try Run.process(Oracle.python, ["-c", count, path], environment: ["GDAL_PAM_ENABLED": "NO"])
      XCTAssertEqual(run.status, 0, run.stderr)
      return try json(run.stdout)
    }
    let base = ["merge-memfile", t29unu, "-b", "B04", "--resolution", "60", "--quiet"]
    let plain = try TesseraBinary.run(base + ["-o", dir.file("default.tif")])
    XCTAssertEqual(plain.status, 0, plain.stderr)
    let byDefault = try figures(dir.file("default.tif"))
    XCTAssertEqual(byDefault["nodata"] as? Double, 0)
    let empty = try XCTUnwrap(byDefault["zero"] as? Int)
    XCTAssertGreaterThan(empty, 0, "the tile has pixels no product covers")
    for (name, extra) in [("plain.tif", [String]()), ("cog.tif", ["--cog"])] {
      let run = try TesseraBinary.run(base + ["-o", dir.file(name), "--dst-nodata", "65535"] + extra)
      XCTAssertEqual(run.status, 0, run.stderr)
      let given = try figures(dir.file(name))
      XCTAssertEqual(given["nodata"] as? Double, 65535, name)
      XCTAssertEqual(given["max"] as? Int, empty, name)
      XCTAssertEqual(given["zero"] as? Int, 0, name)
    }
    let reflectance = try TesseraBinary.run(base + ["-o", dir.file("r.tif"), "--reflectance", "--cog", "--dst-nodata", "-9999"])
    XCTAssertEqual(reflectance.status, 0, reflectance.stderr)
    let r = try figures(dir.file("r.tif"))
    XCTAssertEqual(r["nodata"] as? Double, -9999)
    XCTAssertEqual(r["minus"] as? Int, empty)
    XCTAssertEqual(r["nan"] as? Int, 0)
    XCTAssertEqual(try TesseraBinary.run(base + ["-o", dir.file("nan.tif"), "--reflectance"]).status, 0)
    let nan = try figures(dir.file("nan.tif"))
    XCTAssertEqual(nan["nan"] as? Int, empty)
    XCTAssertEqual(nan["nodata"] as? String, "nan")
    XCTAssertEqual(try TesseraBinary.run(base + ["-o", dir.file("none.tif"), "--dst-nodata", "none"]).status, 0)
    let none = try figures(dir.file("none.tif"))
    XCTAssertTrue(none["nodata"] is NSNull, "\(none)")
    XCTAssertEqual(none["zero"] as? Int, empty)
    for given in ["-1", "1,2"] {
      let run = try TesseraBinary.run(base + ["-o", dir.file("refused.tif"), "--dst-nodata", given])
      XCTAssertEqual(run.status, 64, run.stderr)
      XCTAssertTrue(run.stderr.contains("--dst-nodata"), run.stderr)
    }
  }
}
