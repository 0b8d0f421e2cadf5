import Foundation
import GDAL

/// A nodata choice, three cases the compiler keeps apart: the input's (`inherit`), no nodata at
/// all (`none`), or this value. Never optional: an absent option is `.inherit`, so `.none` can
/// only ever mean "no nodata" and not Swift's `Optional.none`.
public enum NodataSetting: Equatable, Sendable, CustomStringConvertible {
  case inherit
  case none
  case value(Double)

  /// Parses `none`, `nan` or a finite number (`inherit` for the default spelled out).
  public init?(_ text: String) {
    let lowered = text.lowercased().trimmingCharacters(in: .whitespaces)
    if lowered == "none" { self = .none; return }
    if lowered == "inherit" { self = .inherit; return }
    if lowered == "nan" { self = .value(.nan); return }
    guard let number = Double(lowered), number.isFinite else { return nil }
    self = .value(number)
  }

  /// What a band ends up with, given the input's own nodata.
  public func resolved(inherited: Double?) -> Double? {
    switch self {
    case .inherit: return inherited
    case .none: return nil
    case .value(let v): return v
    }
  }

  public var isInherit: Bool { self == .inherit }

  /// The value, when one is given.
  public var givenValue: Double? {
    if case .value(let v) = self { return v }
    return nil
  }

  /// As gdalwarp and gdalbuildvrt take it; nil for `inherit` (no argument at all).
  public var gdalArgument: String? {
    switch self {
    case .inherit: return nil
    case .none: return "None"
    case .value(let v): return Self.text(v)
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
    }
  }

  public static func == (a: NodataSetting, b: NodataSetting) -> Bool {
    switch (a, b) {
    case (.inherit, .inherit), (.none, .none): return true
    case (.value(let x), .value(let y)): return x == y || (x.isNaN && y.isNaN)
    default: return false
    }
  }

  /// Refuses (exit 64, naming `option` and the type) a value `type` cannot hold: outside an
  /// integer type's range or not whole, past Float32's range, NaN for an integer type.
  public func requireFits(_ type: DataType, option: String) throws {
    guard case .value(let v) = self else { return }
    try Self.requireFits(v, type, option: option)
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

