import Foundation
import GDAL
import TestSupport
import XCTest

/// No data-derived value kills the process: constant and enormous expressions, infinite and
/// huge values through every rendering path, colour tables no Int holds, and a crash in the
/// middle of a write leaving no temporary file behind.
final class CrashSafetyTests: TemporaryDirectoryTestCase {
  /// A 60 x 40 north-up raster of `type` in UTM 33N whose pixels repeat `values` row by row.
  func raster(_ name: String, _ values: [String], type: String = "Float32") throws -> String {
    let path = dir.file(name)
    _ = try Oracle.python("""
      import numpy as np
      from osgeo import gdal, osr
      ds = gdal.GetDriverByName('GTiff').Create('\(path)', 60, 40, 1, gdal.GDT_\(type))
      ds.SetGeoTransform([500000, 10, 0, 4000000, 0, -10])
      s = osr.SpatialReference(); s.ImportFromEPSG(32633); ds.SetProjection(s.ExportToWkt())
      ds.GetRasterBand(1).WriteArray(np.resize(np.array([\(values.joined(separator: ", "))], dtype='float64'), (40, 60)))
      ds = None
      print('null')
      """)
    return path
  }

  /// Leftovers of a run: temporary files and anything not in `keep`.
  func leftovers(keeping keep: Set<String>) -> [String] { dir.contents.filter { !keep.contains($0) } }

  /// `tessera ARGS` under a 1 MiB stack, as `ulimit -s 1024` gives it.
  func runWithSmallStack(_ arguments: [String]) throws -> ProcessResult {
    try Run.process("/bin/sh", ["-c", "ulimit -s 1024; exec \"$0\" \"$@\"", TesseraBinary.path] + arguments)
  }

  // MARK: - index

  func testConstantExpressionsFillTheInputsGrid() throws {
    let input = try raster("in.tif", ["1", "2", "3", "4", "5"])
    let source = try Dataset.open(input)
    let cases: [(String, Double?, String?)] = [
      ("1", 1, nil), ("2+3", 5, nil), ("-1", -1, nil), ("0/0", nil, "not a number"), ("1/0", nil, "+infinity"), ("2^10 - 24", 1000, nil),
    ]
    for (index, (expression, expected, warning)) in cases.enumerated() {
      let out = dir.file("c\(index).tif")
      let run = try TesseraBinary.run(["index", "--expr=\(expression)", input, "-o", out])
      XCTAssertEqual(run.status, 0, "\(expression): \(run.stderr)")
      XCTAssertFalse(run.signalled)
      let result = try Dataset.open(out)
      XCTAssertEqual([result.width, result.height], [source.width, source.height], expression)
      XCTAssertEqual(result.geoTransform, source.geoTransform, expression)
      let values = try PixelComparison.values(out)
      XCTAssertEqual(values.count, 60 * 40)
      if let expected {
        XCTAssertTrue(values.allSatisfy { $0 == expected }, "\(expression): every pixel \(expected), got \(Set(values))")
      } else {
        XCTAssertTrue(values.allSatisfy(\.isNaN), "\(expression): every pixel nodata")
        XCTAssertTrue(run.stderr.contains(warning ?? "") && run.stderr.contains("every pixel is nodata"), run.stderr)
      }
    }
    // Without INPUT there is no grid to fill: a usage error saying so.
    let alone = try TesseraBinary.run(["index", "--expr", "1", "-o", dir.file("alone.tif")])
    XCTAssertEqual(alone.status, 64, alone.stderr)
    XCTAssertTrue(alone.stderr.contains("constant expression needs INPUT"), alone.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("alone.tif")))
  }

  /// An error quoting a 100,000-character name is one line a terminal holds: its start and
  /// end, and how much was left out (the hostile review's unknown --expr name filled a screen).
  func testAnErrorQuotingAHugeNameIsShortened() throws {
    let input = try raster("in.tif", ["1", "2", "3"])
    let run = try TesseraBinary.run(["index", "--expr", String(repeating: "x", count: 100_000), input, "-o", dir.file("o.tif")])
    XCTAssertEqual(run.status, 64, String(run.stderr.prefix(300)))
    XCTAssertEqual(run.stderr.split(separator: "\n").count, 1)
    XCTAssertLessThan(run.stderr.utf8.count, 4_200)
    XCTAssertTrue(run.stderr.contains("characters left out"), String(run.stderr.prefix(300)))
    XCTAssertTrue(run.stderr.hasPrefix("tessera index: "), String(run.stderr.prefix(300)))
  }

  func testLongAndDeepExpressionsAreBoundedUnderASmallStack() throws {
    let input = try raster("in.tif", ["1", "2", "3"])
    let keep: Set<String> = ["in.tif"]
    let refused: [(String, String)] = [
      ("b1" + String(repeating: "+1", count: 50_000), "10000 tokens (the limit)"),
      ("b1" + String(repeating: "+1", count: 8_000), "10000 tokens (the limit)"),
      (String(repeating: "(", count: 150) + "b1" + String(repeating: ")", count: 150), "100 levels deep (the limit)"),
      (String(repeating: "abs(", count: 150) + "b1" + String(repeating: ")", count: 150), "100 levels deep (the limit)"),
      ("b1" + String(repeating: "^b1", count: 3_000), "100 levels deep (the limit)"),
    ]
    for (expression, limit) in refused {
      for small in [false, true] {
        let arguments = ["index", "--expr=\(expression)", input, "-o", dir.file("out.tif")]
        let run = small ? try runWithSmallStack(arguments) : try TesseraBinary.run(arguments)
        XCTAssertEqual(run.status, 64, "\(expression.prefix(12))… small stack \(small): \(run.stderr.prefix(300))")
        XCTAssertFalse(run.signalled)
        XCTAssertTrue(run.stderr.contains(limit), String(run.stderr.prefix(300)))
        XCTAssertEqual(leftovers(keeping: keep), [])
      }
    }
    // Within the limits a 1 MiB stack is enough, and the values are right.
    let accepted: [(String, Double)] = [
      ("b1" + String(repeating: "+1", count: 4_000), 4_000),
      (String(repeating: "(", count: 100) + "b1" + String(repeating: ")", count: 100), 0),
      (String(repeating: "-", count: 4_000) + "b1", 0),
    ]
    for (expression, added) in accepted {
      let out = dir.file("ok.tif")
      let run = try runWithSmallStack(["index", "--expr=\(expression)", input, "-o", out, "--overwrite"])
      XCTAssertEqual(run.status, 0, "\(expression.prefix(12))…: \(run.stderr.prefix(300))")
      XCTAssertEqual(try PixelComparison.values(out).prefix(3).map { $0 }, [1 + added, 2 + added, 3 + added])
    }
  }

  // MARK: - rendering

  /// ±inf, 1e308 and classes beyond Int through quicklook's and timelapse's every style: exit 0
  /// (a warning counting the infinities) or a clear 65, never a signal, and nothing left over.
  func testInfiniteAndHugeValuesThroughEveryRenderingPath() throws {
    let infinite = try raster("inf.tif", ["float('inf')", "-float('inf')", "1", "2", "3", "float('nan')"])
    let huge = try raster("huge.tif", ["1e308", "-1e308", "1", "2", "3", "0"], type: "Float64")
    let classes = try raster("classes.tif", ["1e19", "1", "2", "3"])
    let table = dir.file("table.txt")
    try "1 255 0 0\n2 0 255 0\n3 0 0 255\n".write(toFile: table, atomically: true, encoding: .utf8)
    let keep: Set<String> = ["inf.tif", "huge.tif", "classes.tif", "table.txt"]
    let continuous: [[String]] = [
      ["--stretch", "minmax"], ["--stretch", "p2,p98"], ["--stretch=-1e308,1e308"], ["--stretch", "none"], ["--stretch", "minmax", "--legend"],
      ["--stretch=-1e308,1e308", "--legend", "--colormap", "viridis"],
    ]
    let asClasses: [[String]] = [["--categorical"], ["--categorical", "--legend"], ["--color-table", table], ["--color-table", table, "--legend"]]
    for input in [infinite, huge, classes] {
      let name = URL(fileURLWithPath: input).lastPathComponent
      for options in continuous + asClasses {
        for command in ["quicklook", "timelapse"] {
          let out = dir.file(command == "quicklook" ? "out.png" : "out.gif")
          let arguments = command == "quicklook" ? ["quicklook", input, out] : ["timelapse", input, input, "-o", out, "--order", "given"]
          let run = try TesseraBinary.run(arguments + options + ["--overwrite"])
          let label = "\(command) \(name) \(options.joined(separator: " "))"
          XCTAssertFalse(run.signalled, "\(label): killed by signal \(run.status)")
          if asClasses.contains(options) {
            // ±inf (and 1e308, infinite once read as Float32) and 1e19 are no classes.
            XCTAssertEqual(run.status, 65, "\(label): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(name) && run.stderr.contains("not a class"), "\(label): \(run.stderr)")
            XCTAssertEqual(leftovers(keeping: keep), [], label)
          } else {
            XCTAssertEqual(run.status, 0, "\(label): \(run.stderr)")
            XCTAssertNoThrow(try Dataset.open(out), label)
            if input != classes { XCTAssertTrue(run.stderr.contains("infinite"), "\(label): the infinities are reported: \(run.stderr)") }
            XCTAssertEqual(leftovers(keeping: keep).filter { $0.hasPrefix(".") }, [], label)
            try FileManager.default.removeItem(atPath: out)
          }
        }
      }
    }
  }

  /// minmax over ±inf and 1..3 is 1..3: the infinities are left out of the stretch and drawn at
  /// its ends (white and black in gray).
  func testInfinitiesAreLeftOutOfTheStretchAndDrawnAtItsEnds() throws {
    let input = try raster("inf.tif", ["float('inf')", "-float('inf')", "1", "2", "3"])
    let out = dir.file("q.png")
    let run = try TesseraBinary.run(["quicklook", input, out, "--stretch", "minmax", "--json"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let range = try XCTUnwrap((report["stretch_values"] as? [[String: Any]])?.first)
    XCTAssertEqual(range["min"] as? Double, 1)
    XCTAssertEqual(range["max"] as? Double, 3)
    XCTAssertTrue((report["warnings"] as? [String] ?? []).contains { $0.contains("960 infinite values") }, "\(report["warnings"] ?? "")")
    let png = try Dataset.open(out)
    let gray = try png.band(1).read(Window(x: 0, y: 0, width: 5, height: 1), as: UInt8.self)
    XCTAssertEqual(gray, [255, 0, 0, 128, 255])
  }

  func testColourTableValuesNoIntHoldsAreUsageErrors() throws {
    let input = try raster("classes.tif", ["1", "2", "3"])
    for value in ["1e300", "inf", "-inf", "9223372036854775807", "nan"] {
      let table = dir.file("t.txt")
      try "1 0 0 0\n\(value) 255 0 0\n".write(toFile: table, atomically: true, encoding: .utf8)
      for command in ["quicklook", "timelapse"] {
        let out = dir.file(command == "quicklook" ? "out.png" : "out.gif")
        let arguments = command == "quicklook" ? ["quicklook", input, out] : ["timelapse", input, "-o", out]
        let run = try TesseraBinary.run(arguments + ["--color-table", table])
        XCTAssertEqual(run.status, 64, "\(command) \(value): \(run.stderr)")
        XCTAssertTrue(run.stderr.contains("--color-table") && run.stderr.contains("line 2"), run.stderr)
        XCTAssertEqual(leftovers(keeping: ["classes.tif", "t.txt"]), [])
      }
    }
  }

  func testAGIFDelayBeyondSixteenBitsIsAUsageError() throws {
    let input = try raster("in.tif", ["1", "2", "3"])
    let run = try TesseraBinary.run(["timelapse", input, "-o", dir.file("t.gif"), "--fps", "0.0001"])
    XCTAssertEqual(run.status, 64, run.stderr)
    XCTAssertTrue(run.stderr.contains("--fps"), run.stderr)
    XCTAssertEqual(leftovers(keeping: ["in.tif"]), [])
  }

  // MARK: - crashes

  /// A crash in the middle of writing (a fault, a trap, an abort, a stack overflow) still dies by
  /// its signal, and the handler has removed the half-written temporary GIF.
  func testACrashWhileWritingLeavesNoTemporaryFile() throws {
    // A sanitizer build keeps the sanitizer's crash handlers (and their reports) instead.
    if dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") != nil || dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_init") != nil {
      throw XCTSkip("sanitizer build: its own crash handlers")
    }
    let input = try raster("in.tif", ["1", "2", "3"])
    let signals: [(String, Int32)] = [("segv", SIGSEGV), ("bus", SIGBUS), ("fpe", SIGFPE), ("abort", SIGABRT), ("trap", SIGILL), ("stack", SIGSEGV)]
    for (kind, number) in signals {
      let run = try TesseraBinary.run(["timelapse", input, input, "-o", dir.file("t.gif"), "--order", "given"],
                                      environment: ["TESSERA_TEST_HOOKS": "1", "TESSERA_TEST_CRASH": "timelapse-frame:\(kind)",
                                                    "SWIFT_BACKTRACE": "enable=no"])
      XCTAssertTrue(run.signalled, "\(kind): a crash stays a crash (status \(run.status)): \(run.stderr.suffix(300))")
      XCTAssertEqual(run.status, number, kind)
      XCTAssertEqual(leftovers(keeping: ["in.tif"]), [], "\(kind): the temporary GIF was removed")
    }
  }
}
