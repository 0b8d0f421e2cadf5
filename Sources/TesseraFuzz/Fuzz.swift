import Foundation
@testable import TesseraCore

/// libFuzzer entry point for `make fuzz`: FUZZ_TARGET picks what the bytes are fed to —
/// `expression` (the band-math parser and evaluator), `tiff` (the TIFF structure reader behind
/// validate-cog and info's cog field), `mtd` (the Sentinel-2 product metadata reader) or
/// `manifest` (the batch manifest reader). A crash, a sanitizer report or a hang is a finding;
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
    fatalError("FUZZ_TARGET is one of expression, tiff, mtd, manifest")
  }
  return 0
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
