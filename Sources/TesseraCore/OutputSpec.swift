import Foundation
import GDAL

/// Formats a processing command can write. COG is not one: it is only ever a final copy (cog-export).
public enum OutputFormat: String, CaseIterable, Sendable {
  case gtiff = "GTiff"
  case vrt = "VRT"

  public init?(name: String) {
    guard let match = OutputFormat.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else { return nil }
    self = match
  }
}

/// One output as the user described it: where, in which format, with which creation options,
/// and whether an existing file may be replaced. Made once from the CLI's output options; the
/// only way an operation gets an `OutputTarget` is `target(inputs:inputLabel:)`.
public struct OutputSpec: Sendable {
  public var path: String
  public var format: OutputFormat
  /// The user's `--co KEY=VALUE`s; they win over Tessera's defaults key by key.
  public var creationOptions: [String]
  public var overwrite: Bool
  /// Write even when the output's estimated size does not fit the free space (`--force-size`).
  public var forceSize: Bool

  public init(path: String, format: OutputFormat = .gtiff, creationOptions: [String] = [], overwrite: Bool = false,
              forceSize: Bool = false) {
    self.path = path
    self.format = format
    self.creationOptions = creationOptions
    self.overwrite = overwrite
    self.forceSize = forceSize
  }

  /// Checks the output against every file the run reads and reserves its temporary file.
  /// - Parameter inputLabel: how messages name the input whose data failed to read.
  public func target(inputs: [String], inputLabel: String? = nil) throws -> OutputTarget {
    try OutputTarget(path: path, inputs: inputs, overwrite: overwrite, inputLabel: inputLabel)
  }

  /// Refuses (73, unless `forceSize`) an output whose estimated size does not fit the free
  /// space of its file system.
  func requireSpace(width: Int, height: Int, bands: Int, type: DataType) throws {
    guard format == .gtiff else { return }
    try OutputSize.requireSpace(bytes: OutputSize.bytes(width: width, height: height, bands: bands, type: type),
                                compressed: compresses(type), for: path, force: forceSize)
  }

  /// Whether the creation options in force compress (for the free-space guard).
  func compresses(_ type: DataType) -> Bool {
    let compress = gtiffOptions(for: type, threads: 1).first { $0.uppercased().hasPrefix("COMPRESS=") }
    return compress.map { !$0.uppercased().hasSuffix("=NONE") } ?? false
  }

  /// Tessera's GTiff defaults: tiled 512 x 512 (no larger than the image needs), DEFLATE with
  /// the predictor that suits the type, BigTIFF when it might be needed, compression on
  /// `threads`, and one block per band where a block of every band would pass 64 MiB (a pixel-
  /// interleaved block holds all bands at once, which hundreds of bands make huge). VRT takes none.
  public func gtiffOptions(for type: DataType, threads: Int, width: Int? = nil, height: Int? = nil, bands: Int = 1) -> [String] {
    guard format == .gtiff else { return creationOptions }
    let predictor = type.isFloatingPoint ? "3" : (type.isComplex ? "1" : "2")
    func blockSide(_ size: Int?) -> Int { size.map { Swift.min(512, Swift.max(16, ($0 + 15) / 16 * 16)) } ?? 512 }
    let blockX = blockSide(width), blockY = blockSide(height)
    var options: [(String, String)] = [
      ("TILED", "YES"), ("BLOCKXSIZE", String(blockX)), ("BLOCKYSIZE", String(blockY)), ("COMPRESS", "DEFLATE"),
      ("PREDICTOR", predictor), ("BIGTIFF", "IF_SAFER"), ("NUM_THREADS", String(threads)),
    ]
    if blockX * blockY * bands * type.byteSize > 64 << 20 { options.append(("INTERLEAVE", "BAND")) }
    for item in creationOptions {
      guard let eq = item.firstIndex(of: "=") else { continue }
      let key = item[..<eq].uppercased(), value = String(item[item.index(after: eq)...])
      if let i = options.firstIndex(where: { $0.0 == key }) { options[i].1 = value } else { options.append((key, value)) }
    }
    // A predictor only means something with a compressor that uses it.
    let compress = options.first(where: { $0.0 == "COMPRESS" })?.1.uppercased() ?? "NONE"
    if !["DEFLATE", "LZW", "ZSTD", "LERC_DEFLATE", "LERC_ZSTD"].contains(compress),
      !creationOptions.contains(where: { $0.uppercased().hasPrefix("PREDICTOR=") })
    {
      options.removeAll { $0.0 == "PREDICTOR" }
    }
    return options.map { "\($0.0)=\($0.1)" }
  }
}

/// Checks the creation options Tessera itself reads or that decide how much memory a write
/// takes; the rest go to GDAL as given (GDAL warns about options a driver does not know).
public enum CreationOptionCheck {
  /// - Throws: exit 64 naming the option and what it takes.
  public static func validate(_ options: [String]) throws {
    for item in options {
      guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
        throw TesseraError(.usage, "--co takes KEY=VALUE, got '\(item)'")
      }
      let key = item[..<eq].uppercased(), value = String(item[item.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
      let upper = value.uppercased()
      func integer(_ range: ClosedRange<Int>, _ what: String) throws {
        guard let n = Int(value), range.contains(n) else { throw TesseraError(.usage, "--co \(key)=\(value): \(key) takes \(what)") }
      }
      func oneOf(_ choices: [String]) throws {
        guard choices.contains(upper) else {
          throw TesseraError(.usage, "--co \(key)=\(value): \(key) takes \(choices.joined(separator: ", "))")
        }
      }
      switch key {
      case "BLOCKXSIZE", "BLOCKYSIZE":
        // Tiles are multiples of 16 (the TIFF rule); past 4096 a block alone costs hundreds of MB.
        try integer(16...4096, "a multiple of 16 from 16 to 4096")
        if let n = Int(value), n % 16 != 0 { throw TesseraError(.usage, "--co \(key)=\(value): \(key) takes a multiple of 16 from 16 to 4096") }
      case "BLOCKSIZE":
        try integer(16...4096, "a multiple of 16 from 16 to 4096")
        if let n = Int(value), n % 16 != 0 { throw TesseraError(.usage, "--co \(key)=\(value): \(key) takes a multiple of 16 from 16 to 4096") }
      case "TILED", "SPARSE_OK", "COPY_SRC_OVERVIEWS": try oneOf(["YES", "NO", "TRUE", "FALSE", "ON", "OFF", "1", "0"])
      case "COMPRESS":
        try oneOf(["NONE", "DEFLATE", "LZW", "ZSTD", "LZMA", "PACKBITS", "JPEG", "WEBP", "LERC", "LERC_DEFLATE", "LERC_ZSTD", "JXL"])
      case "PREDICTOR": try oneOf(["1", "2", "3", "YES", "NO", "STANDARD", "FLOATING_POINT"])
      case "BIGTIFF": try oneOf(["YES", "NO", "IF_NEEDED", "IF_SAFER"])
      case "INTERLEAVE": try oneOf(["PIXEL", "BAND"])
      case "NUM_THREADS":
        if upper != "ALL_CPUS" { try integer(1...1024, "a number of threads from 1 to 1024, or ALL_CPUS") }
      case "ZLEVEL": try integer(1...12, "1 to 12")
      case "ZSTD_LEVEL": try integer(1...22, "1 to 22")
      case "JPEG_QUALITY", "WEBP_LEVEL", "QUALITY": try integer(1...100, "1 to 100")
      case "OVERVIEW_COUNT": try integer(0...30, "0 to 30")
      case "NBITS": try integer(1...64, "1 to 64")
      default: break
      }
    }
  }
}
