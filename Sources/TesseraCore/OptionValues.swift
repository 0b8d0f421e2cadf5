import Foundation
import GDAL

/// A nodata choice: a value, explicitly none, or (nil where it is used) whatever the input says.
public enum NodataSetting: Equatable, Sendable, CustomStringConvertible {
  case value(Double)
  case none

  /// Parses `none`, `nan` or a finite number.
  public init?(_ text: String) {
    let lowered = text.lowercased().trimmingCharacters(in: .whitespaces)
    if lowered == "none" { self = .none; return }
    if lowered == "nan" { self = .value(.nan); return }
    guard let number = Double(lowered), number.isFinite else { return nil }
    self = .value(number)
  }

  /// As gdalwarp and gdalbuildvrt take it.
  public var gdalArgument: String {
    switch self {
    case .none: return "None"
    case .value(let v): return v.isNaN ? "nan" : (abs(v) < 1e15 ? Int(exactly: v).map { String($0) } ?? String(v) : String(v))
    }
  }

  public var description: String { gdalArgument }
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
    throw TesseraError(.usage, "resolution '\(text)' is not X or X,Y with positive numbers")
  }
  return (x, y)
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

