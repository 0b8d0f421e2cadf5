import Foundation
import GDAL

/// A nodata choice, four cases the compiler keeps apart: the input's (`inherit`), no nodata at
/// all (`none`), this value for every band, or one value per band (GDAL's `-srcnodata "0 0 255"`,
/// given as `0,0,255`). Never optional: an absent option is `.inherit`, so `.none` can only ever
/// mean "no nodata" and not Swift's `Optional.none`.
public enum NodataSetting: Equatable, Sendable, CustomStringConvertible {
  case inherit
  case none
  case value(Double)
  case perBand([Double])

  /// Parses `none`, `inherit`, `nan` or a finite number, or a comma-separated list of numbers
  /// (and `nan`), one per band.
  public init?(_ text: String) {
    let lowered = text.lowercased().trimmingCharacters(in: .whitespaces)
    if lowered == "none" { self = .none; return }
    if lowered == "inherit" { self = .inherit; return }
    let items = lowered.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    var values: [Double] = []
    for item in items {
      if item == "nan" { values.append(.nan); continue }
      guard let number = Double(item), number.isFinite else { return nil }
      values.append(number)
    }
    self = values.count == 1 ? .value(values[0]) : .perBand(values)
  }

  /// What a band ends up with, given the input's own nodata. A per-band list gives its first
  /// value here: per-band callers take `forBand` first.
  public func resolved(inherited: Double?) -> Double? {
    switch self {
    case .inherit: return inherited
    case .none: return nil
    case .value(let v): return v
    case .perBand(let values): return values.first
    }
  }

  /// The setting of band `index` (from 0): a list's own value for it, else the setting itself.
  public func forBand(_ index: Int) -> NodataSetting {
    guard case .perBand(let values) = self, !values.isEmpty else { return self }
    return .value(values[Swift.min(index, values.count - 1)])
  }

  public var isPerBand: Bool {
    if case .perBand = self { return true }
    return false
  }

  /// The values given, one per band for a list.
  var givenValues: [Double] {
    switch self {
    case .value(let v): return [v]
    case .perBand(let values): return values
    default: return []
    }
  }

  /// Refuses (64) a per-band list whose count is not the band count it applies to.
  /// - Parameter what: the bands counted ("the output", "the input").
  public func requireBandCount(_ bands: Int, option: String, what: String) throws {
    guard case .perBand(let values) = self, values.count != bands else { return }
    throw TesseraError(.usage, "\(option) \(description) gives \(values.count) values; \(what) has \(bands) band\(bands == 1 ? "" : "s") (give one value for all, or one per band)")
  }

  /// Whether a list holds more than one distinct value.
  var differsByBand: Bool {
    guard case .perBand(let values) = self, let first = values.first else { return false }
    return values.contains { !($0 == first || ($0.isNaN && first.isNaN)) }
  }

  public var isInherit: Bool { self == .inherit }

  /// The value, when one is given.
  public var givenValue: Double? {
    if case .value(let v) = self { return v }
    return nil
  }

  /// As gdalwarp and gdalbuildvrt take it (a list space-separated); nil for `inherit` (no
  /// argument at all).
  public var gdalArgument: String? {
    switch self {
    case .inherit: return nil
    case .none: return "None"
    case .value(let v): return Self.text(v)
    case .perBand(let values): return values.map(Self.text).joined(separator: " ")
    }
  }

  static func text(_ v: Double) -> String {
    v.isNaN ? "nan" : (abs(v) < 1e15 ? Int(exactly: v).map { String($0) } ?? String(v) : String(v))
  }

  public var description: String {
    switch self {
    case .inherit: return "inherit"
    case .none: return "none"
    case .value(let v): return Self.text(v)
    case .perBand(let values): return values.map(Self.text).joined(separator: ",")
    }
  }

  public static func == (a: NodataSetting, b: NodataSetting) -> Bool {
    switch (a, b) {
    case (.inherit, .inherit), (.none, .none): return true
    case (.value(let x), .value(let y)): return x == y || (x.isNaN && y.isNaN)
    case (.perBand(let x), .perBand(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
    default: return false
    }
  }

  /// Refuses (exit 64, naming `option` and the type) a value `type` cannot hold: outside an
  /// integer type's range or not whole, past Float32's range, NaN for an integer type.
  public func requireFits(_ type: DataType, option: String) throws {
    for v in givenValues { try Self.requireFits(v, type, option: option) }
  }

  public static func requireFits(_ v: Double, _ type: DataType, option: String) throws {
    if fits(v, type) { return }
    throw TesseraError(.usage, "\(option) \(text(v)) does not fit the output's data type \(type.rawValue)"
      + (type.isFloatingPoint ? "" : " (whole numbers \(text(type.integerRange.lowerBound))…\(text(type.integerRange.upperBound)))"))
  }

  public static func fits(_ v: Double, _ type: DataType) -> Bool {
    switch type {
    case .float64: return true
    // A value Float32 rounds to 0 (1e-50) would make every real 0 nodata.
    case .float32: return v.isNaN || v.isInfinite || (Float(v).isFinite && (v == 0 || Float(v) != 0))
    default:
      if type.isComplex { return true }
      return !v.isNaN && v == v.rounded() && type.integerRange.contains(v)
    }
  }
}

/// Numbers as options take them: finite, or the option is refused.
func finiteNumber(_ text: Substring) -> Double? {
  guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else { return nil }
  return value
}

/// Parses `X` or `X,Y` into a positive, finite pixel size.
public func parseResolution(_ text: String) throws -> (x: Double, y: Double) {
  let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(finiteNumber)
  guard (1...2).contains(parts.count), let x = parts[0], let y = parts.count == 2 ? parts[1] : x, x > 0, y > 0 else {
    throw notAPixelSize(text)
  }
  return (x, y)
}

/// The usage error of a resolution that is no pixel size (a rule word where only a size will do).
public func notAPixelSize(_ text: String) -> TesseraError {
  TesseraError(.usage, "resolution '\(text)' is not X or X,Y with positive numbers")
}

/// The most pixels a side can have: GDAL counts them in 32-bit integers.
public let maximumRasterSide = Int(Int32.max)

/// Parses `W,H` into a positive size GDAL can hold.
public func parseSize(_ text: String) throws -> (width: Int, height: Int) {
  let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
  guard parts.count == 2, let w = parts[0], let h = parts[1], w > 0, h > 0 else {
    throw TesseraError(.usage, "size '\(text)' is not W,H with positive whole numbers")
  }
  guard w <= maximumRasterSide, h <= maximumRasterSide else {
    throw TesseraError(.usage, "size '\(text)' is larger than GDAL's limit of \(maximumRasterSide) pixels a side")
  }
  return (w, h)
}

/// Parses `xmin,ymin,xmax,ymax` of finite numbers.
public func parseBounds(_ text: String) throws -> Extent {
  let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(finiteNumber)
  guard parts.count == 4, let x0 = parts[0], let y0 = parts[1], let x1 = parts[2], let y1 = parts[3], x0 < x1, y0 < y1 else {
    throw TesseraError(.usage, "bbox '\(text)' is not xmin,ymin,xmax,ymax with finite numbers and min < max")
  }
  return Extent(minX: x0, minY: y0, maxX: x1, maxY: y1)
}

