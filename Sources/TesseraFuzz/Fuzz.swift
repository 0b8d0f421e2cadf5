import Foundation
import GDAL
@testable import TesseraCore

/// libFuzzer entry point for `make fuzz`: FUZZ_TARGET picks what the bytes are fed to —
/// `expression` (the band-math parser and evaluator), `expression-deep` (the same on long and
/// deeply nested expressions built from a repeated fragment), `tiff` (the TIFF structure reader
/// behind validate-cog and info's cog field), `mtd` (the Sentinel-2 product metadata reader),
/// `manifest` (the batch manifest reader), `stretch` (--stretch parsing and the stretch of
/// values holding infinities and extremes), `color-table` (--color-table files) or
/// `categorical` (raw Float32 values drawn as classes, with a legend). A crash, a sanitizer report or a hang is a finding;
/// a thrown error is the right answer to bad input.
private let target = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "expression"
private let scratch = NSTemporaryDirectory() + "/tessera-fuzz-\(getpid())"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
  let data = Data(bytes: bytes, count: count)
  switch target {
  case "expression":
    guard let text = String(data: data, encoding: .utf8), text.count < 4096 else { return 0 }
    if let expression = try? BandExpression(text) {
      _ = try? expression.evaluate(["nir": 0.4, "red": 0.1, "green": 0.2, "b1": 3, "b2": -1, "swir1": 0.25])
    }
  case "expression-deep":
    guard let text = deepExpression(data) else { return 0 }
    if let expression = try? BandExpression(text) {
      _ = try? expression.evaluate(["b1": 3, "nir": 0.4, "red": 0.1])
    }
  case "stretch":
    fuzzStretch(data)
  case "color-table":
    // An empty file is left out: Foundation leaks its read buffer for one (Tools/lsan.supp).
    let path = scratch + ".txt"
    guard !data.isEmpty, FileManager.default.createFile(atPath: path, contents: data), let table = try? ClassColors.read(path) else { return 0 }
    renderClasses(FrameValues(width: 4, height: 1, bands: [[1, -1, 1e19, .infinity]], valid: [true, true, true, true]), table: table)
  case "categorical":
    let values = floats(data)
    guard !values.isEmpty, values.count <= 65_536 else { return 0 }
    let frame = FrameValues(width: values.count, height: 1, bands: [values], valid: values.map { !$0.isNaN })
    if (try? frame.requireClasses(label: "fuzz")) != nil { renderClasses(frame, table: [:]) }
    _ = Renderer.render(frame, style: .classes([:], source: "fuzz"), nodataColor: RGBA(0, 0, 0, 0))
  case "tiff":
    let path = scratch + ".tif"
    guard FileManager.default.createFile(atPath: path, contents: data) else { return 0 }
    _ = try? TIFFStructure.read(path: path)
  case "mtd":
    let folder = scratch + ".SAFE"
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let path = folder + "/MTD_MSIL2A.xml"
    guard FileManager.default.createFile(atPath: path, contents: data) else { return 0 }
    _ = try? Sentinel2Product.openSAFE(metadata: path, source: folder)
  case "manifest":
    _ = try? BatchManifest.parse(data, source: "fuzz.jsonl", commands: ["info", "reproject", "cog-export", "index"])
  default:
    fatalError("FUZZ_TARGET is one of expression, expression-deep, tiff, mtd, manifest, stretch, color-table, categorical")
  }
  return 0
}

/// `PREFIX|MIDDLE|SUFFIX` after a two-byte count n: PREFIX n times, MIDDLE, SUFFIX n times (such
/// as `(`, `b1`, `)`, or `-`, `b1`, ``, or ``, `b1`, `+1`): deep and long expressions from short
/// inputs.
private func deepExpression(_ data: Data) -> String? {
  guard data.count >= 2, let text = String(data: data.dropFirst(2), encoding: .utf8) else { return nil }
  // Up to 16383 repeats: past both of the parser's limits, cheap enough for many runs a second.
  let count = Int(data[data.startIndex] & 0x3f) << 8 | Int(data[data.startIndex + 1])
  let parts = text.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
  guard parts.count == 3, parts[0].count + parts[2].count <= 8 else { return nil }
  return String(repeating: parts[0], count: count) + parts[1] + String(repeating: parts[2], count: count)
}

/// The bytes as little-endian Float32 values: NaN, infinities, subnormals and extremes alike.
private func floats(_ data: Data) -> [Float] {
  stride(from: 0, to: data.count - 3, by: 4).map { offset in
    let b = data.dropFirst(offset).prefix(4).map(UInt32.init)
    return Float(bitPattern: b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24)
  }
}

/// A --stretch text on the first line, then Float32 values: the stretch's range, the levels of
/// the values, and the legend's numbers.
private func fuzzStretch(_ data: Data) {
  let newline = data.firstIndex(of: 10) ?? data.endIndex
  guard let text = String(data: data[data.startIndex..<newline], encoding: .utf8), text.count < 200,
        let spec = try? StretchSpec(parsing: text) else { return }
  let values = floats(Data(data[newline...].dropFirst()))
  guard values.count <= 65_536 else { return }
  _ = spec.description
  let range = spec.range(of: values) ?? StretchRange(low: 0, high: 0)
  let frame = FrameValues(width: max(1, values.count), height: 1, bands: [values.isEmpty ? [0] : values],
                          valid: values.isEmpty ? [true] : values.map { !$0.isNaN })
  _ = Renderer.render(frame, style: .ramp(.viridis, range), nodataColor: RGBA(0, 0, 0, 0))
  _ = Renderer.legend(for: .ramp(.gray, range), bandNames: ["fuzz"], width: 64)
  _ = Renderer.legend(for: .rgb([range, range, range]), bandNames: ["r", "g", "b"], width: 64)
}

private func renderClasses(_ frame: FrameValues, table: [Int: RGBA]) {
  let style = RenderStyle.classes(table, source: "fuzz")
  _ = Renderer.render(frame, style: style, nodataColor: RGBA(0, 0, 0, 0))
  let present = Set(frame.bands[0].compactMap { Int(checked: $0, rounding: .toNearestOrAwayFromZero) }.prefix(24))
  _ = Renderer.legend(for: style, bandNames: ["fuzz"], width: 64, present: present)
}

// SwiftPM links an executable target's entry point as `<Module>_main`; it hands over to
// libFuzzer's driver, which then calls `fuzzOne` for each input.
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
  _ argc: UnsafeMutablePointer<Int32>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
  _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

@_cdecl("TesseraFuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  var count = argc
  var vector = argv
  return runDriver(&count, &vector, fuzzOne)
}
