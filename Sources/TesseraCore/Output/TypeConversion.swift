import Foundation
import GDAL

/// `--ot`: the output's data type when the user chose one, and the count of pixels whose value
/// it could not hold. The values themselves are converted by GDAL (`GDALCopyWords`, as
/// `gdal_translate -ot` and `gdalwarp -ot` convert: no scaling, rounded half away from zero and
/// clamped to the type's range, NaN to the type's 0 or lowest value); Tessera only counts, at the
/// one place each kind of writer converts: `WindowedWriter` for the compositors, `count(in:)` over
/// the natural-typed result GDAL converts (a warp, a copy).
///
/// A reference: every copy of the `OutputSpec` adds to the same count.
public final class TypeConversion: @unchecked Sendable {
  /// The types `--ot` takes: GDAL's, as `gdal_translate -ot` takes them on GDAL 3.6.
  public static let choices: [DataType] = [.byte, .uint16, .int16, .uint32, .int32, .float32, .float64]

  public let type: DataType
  private let lock = NSLock()
  private var clamped = 0

  public init(_ type: DataType) { self.type = type }

  /// Parses an `--ot` value: GDAL's names in any case. Int8 is refused as GDAL 3.6's
  /// gdal_translate refuses it (GDAL 3.7 brings the type).
  public static func parse(_ text: String, option: String = "--ot") throws -> DataType {
    let names = choices.map(\.rawValue).joined(separator: ", ")
    if text.lowercased() == "int8" {
      throw TesseraError(.usage, "\(option) Int8: GDAL 3.6 has no Int8 type (gdal_translate -ot Int8 refuses it too); use \(names)")
    }
    guard let type = DataType(name: text), choices.contains(type) else {
      throw TesseraError(.usage, "\(option) takes \(names); got '\(text)'")
    }
    return type
  }

  /// The pixels counted so far.
  public var clampedPixels: Int {
    lock.lock()
    defer { lock.unlock() }
    return clamped
  }

  func add(_ count: Int) {
    guard count > 0 else { return }
    lock.lock()
    clamped += count
    lock.unlock()
  }

  /// Whether converting `natural` values to the chosen type can change a value beyond rounding.
  public func narrows(from natural: DataType) -> Bool { natural.union(type) != type }

  /// Whether `value` survives conversion to the type (rounded, for an integer type).
  func holds(_ value: Double) -> Bool {
    switch type {
    case .float64: return true
    case .float32: return !value.isFinite || abs(value) <= Double(Float.greatestFiniteMagnitude)
    default: return !value.isNaN && type.integerRange.contains(value.rounded())
    }
  }

  /// Counts the values of `values` (`count` of them, of `natural` type) the type cannot hold,
  /// skipping `nodata` (a nodata pixel stays nodata: its value is converted as the band's is).
  func count(_ values: UnsafeRawBufferPointer, of natural: DataType, count: Int, nodata: Double?) {
    guard narrows(from: natural), count > 0 else { return }
    var doubles = [Double](repeating: 0, count: count)
    doubles.withUnsafeMutableBufferPointer { GDALConvert.doubles(values, of: natural, into: $0) }
    var n = 0
    for v in doubles where !holds(v) {
      if let nodata, v == nodata || (v.isNaN && nodata.isNaN) { continue }
      n += 1
    }
    add(n)
  }

  /// Counts, band by band and window by window, the pixels of `dataset` (the result in its own
  /// type, before GDAL converts it) the type cannot hold; each band's nodata is skipped.
  func count(in dataset: Dataset) throws {
    guard dataset.bandCount > 0 else { return }
    let rows = Swift.max(1, (1 << 20) / Swift.max(1, dataset.width))
    for b in 1...dataset.bandCount {
      let band = try dataset.band(b)
      let natural = band.dataType, nodata = band.noDataValue
      guard narrows(from: natural) else { continue }
      var buffer = [Double](repeating: 0, count: rows * dataset.width)
      for y in stride(from: 0, to: dataset.height, by: rows) {
        let window = Window(x: 0, y: y, width: dataset.width, height: Swift.min(rows, dataset.height - y))
        try buffer.withUnsafeMutableBytes { raw in
          try dataset.read(window, bands: [b], type: .float64, into: raw)
          count(UnsafeRawBufferPointer(raw), of: .float64, count: window.pixelCount, nodata: nodata)
        }
      }
    }
  }

  /// A nodata value as a band of `type` holds it: converted as the pixels are (an inherited
  /// nodata outside the type's range is clamped, as gdal_translate -ot clamps it; a given one that
  /// does not fit was refused before).
  static func nodata(_ value: Double, as type: DataType) -> Double {
    guard !type.isComplex else { return value }
    var back = [0.0]
    let bytes = type.bytes(of: value)
    bytes.withUnsafeBytes { raw in back.withUnsafeMutableBufferPointer { GDALConvert.doubles(raw, of: type, into: $0) } }
    return back[0]
  }

  /// The report's lines on the conversion, and its warning when pixels were clamped.
  func report() -> (details: [(String, JSONValue)], warning: String?) {
    let n = clampedPixels
    let warning = n == 0 ? nil
      : "--ot \(type.rawValue): \(n) pixel\(n == 1 ? "" : "s") held a value \(type.rawValue) cannot hold (outside its range, or NaN) and \(n == 1 ? "was" : "were") clamped, as gdal_translate -ot does"
    return ([("data_type", .string(type.rawValue)), ("clamped_pixels", .int(n))], warning)
  }
}

extension OperationReport {
  /// The output type the user chose and the pixels it clamped (nothing without `--ot`).
  mutating func addConversion(of spec: OutputSpec) {
    guard let conversion = spec.conversion else { return }
    let (lines, warning) = conversion.report()
    // band-stack and index name their output type themselves; one key, one value.
    let named = Set(details.map(\.0))
    details += lines.filter { !named.contains($0.0) }
    if let warning { warnings.append(warning) }
  }
}
