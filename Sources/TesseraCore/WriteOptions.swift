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

/// A nodata choice: a value, explicitly none, or (nil where it is used) whatever the input says.
public enum NodataSetting: Equatable, Sendable, CustomStringConvertible {
  case value(Double)
  case none

  /// Parses `none`, `nan` or a number.
  public init?(_ text: String) {
    let lowered = text.lowercased()
    if lowered == "none" { self = .none; return }
    if lowered == "nan" { self = .value(.nan); return }
    guard let number = Double(text) else { return nil }
    self = .value(number)
  }

  /// As gdalwarp and gdalbuildvrt take it.
  public var gdalArgument: String {
    switch self {
    case .none: return "None"
    case .value(let v): return v.isNaN ? "nan" : (v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v))
    }
  }

  public var description: String { gdalArgument }
}

/// How an output is written: driver, creation options and the overwrite rule.
public struct WriteOptions: Sendable {
  public var format: OutputFormat
  /// The user's `--co KEY=VALUE`s; they win over Tessera's defaults key by key.
  public var creationOptions: [String]
  public var overwrite: Bool
  public var processing: ProcessingOptions

  public init(format: OutputFormat = .gtiff, creationOptions: [String] = [], overwrite: Bool = false,
              processing: ProcessingOptions = ProcessingOptions()) {
    self.format = format
    self.creationOptions = creationOptions
    self.overwrite = overwrite
    self.processing = processing
  }

  /// Tessera's GTiff defaults: tiled 512 x 512, DEFLATE with the predictor that suits the type,
  /// BigTIFF when it might be needed, compression on every thread. VRT takes none.
  public func resolvedCreationOptions(for type: DataType) -> [String] {
    guard format == .gtiff else { return creationOptions }
    let predictor = type.isFloatingPoint ? "3" : (type.isComplex ? "1" : "2")
    var options: [(String, String)] = [
      ("TILED", "YES"), ("BLOCKXSIZE", "512"), ("BLOCKYSIZE", "512"), ("COMPRESS", "DEFLATE"),
      ("PREDICTOR", predictor), ("BIGTIFF", "IF_SAFER"), ("NUM_THREADS", String(processing.threads)),
    ]
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

/// Parses `X` or `X,Y` into a positive pixel size.
public func parseResolution(_ text: String) throws -> (x: Double, y: Double) {
  let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
  guard (1...2).contains(parts.count), let x = parts[0], let y = parts.count == 2 ? parts[1] : x, x > 0, y > 0 else {
    throw TesseraError(.usage, "resolution '\(text)' is not X or X,Y with positive numbers")
  }
  return (x, y)
}

/// Parses `W,H` into a positive size.
public func parseSize(_ text: String) throws -> (width: Int, height: Int) {
  let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
  guard parts.count == 2, let w = parts[0], let h = parts[1], w > 0, h > 0 else {
    throw TesseraError(.usage, "size '\(text)' is not W,H with positive whole numbers")
  }
  return (w, h)
}

/// Parses `xmin,ymin,xmax,ymax`.
public func parseBounds(_ text: String) throws -> Extent {
  let parts = text.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
  guard parts.count == 4, parts[0] < parts[2], parts[1] < parts[3] else {
    throw TesseraError(.usage, "bbox '\(text)' is not xmin,ymin,xmax,ymax with min < max")
  }
  return Extent(minX: parts[0], minY: parts[1], maxX: parts[2], maxY: parts[3])
}
