import CGDAL

/// A GDAL pixel type.
public enum DataType: String, CaseIterable, Sendable {
  case byte = "Byte", int8 = "Int8", uint16 = "UInt16", int16 = "Int16"
  case uint32 = "UInt32", int32 = "Int32", uint64 = "UInt64", int64 = "Int64"
  case float32 = "Float32", float64 = "Float64"
  case cint16 = "CInt16", cint32 = "CInt32", cfloat32 = "CFloat32", cfloat64 = "CFloat64"

  public init?(gdal: GDALDataType) {
    guard let name = GDALGetDataTypeName(gdal) else { return nil }
    self.init(rawValue: String(cString: name))
  }

  /// Accepts GDAL's names case-insensitively, and numpy's (`uint16`, `float32`).
  public init?(name: String) {
    let lowered = name.lowercased()
    let aliases: [String: DataType] = ["uint8": .byte, "float": .float32, "double": .float64]
    if let alias = aliases[lowered] { self = alias; return }
    guard let match = DataType.allCases.first(where: { $0.rawValue.lowercased() == lowered }) else { return nil }
    self = match
  }

  public var gdal: GDALDataType { GDALGetDataTypeByName(rawValue) }
  public var byteSize: Int { Int(GDALGetDataTypeSizeBytes(gdal)) }

  /// The bytes of one pixel of this type holding `value`, as GDAL converts it (clamped and
  /// rounded for integers): what a buffer of this type holds for a nodata value.
  public func bytes(of value: Double) -> [UInt8] {
    var source = value
    var out = [UInt8](repeating: 0, count: byteSize)
    out.withUnsafeMutableBytes { GDALCopyWords64(&source, GDT_Float64, 0, $0.baseAddress, gdal, 0, 1) }
    return out
  }
  public var isFloatingPoint: Bool { GDALDataTypeIsFloating(gdal) != 0 }
  public var isComplex: Bool { GDALDataTypeIsComplex(gdal) != 0 }
  public var isInteger: Bool { GDALDataTypeIsInteger(gdal) != 0 }

  /// The values an integer type holds (bounds exact in a Double); for 64-bit integers and other
  /// types, ±9e15, within which every whole number is exact.
  public var integerRange: ClosedRange<Double> {
    switch self {
    case .byte: return 0...255
    case .int8: return -128...127
    case .uint16: return 0...65535
    case .int16: return -32768...32767
    case .uint32: return 0...4_294_967_295
    case .int32: return -2_147_483_648...2_147_483_647
    default: return -9.0e15...9.0e15
    }
  }

  /// The smallest type that holds every value of both.
  public func union(_ other: DataType) -> DataType {
    DataType(gdal: GDALDataTypeUnion(gdal, other.gdal)) ?? .float64
  }
}

/// A Swift type a band can be read into or written from.
public protocol RasterScalar: Numeric, Comparable {
  static var dataType: DataType { get }
  /// A double as this type the way GDAL converts: rounded to nearest and clamped for integers.
  init(rasterValue: Double)
  /// True only for a floating-point NaN.
  var isNaNValue: Bool { get }
}

extension RasterScalar where Self: BinaryInteger {
  public var isNaNValue: Bool { false }
}

extension RasterScalar where Self: FixedWidthInteger {
  public init(rasterValue value: Double) {
    if value.isNaN { self = 0; return }
    let rounded = value.rounded()
    if rounded <= Double(Self.min) { self = Self.min } else if rounded >= Double(Self.max) { self = Self.max } else {
      self = Self(rounded)
    }
  }
}

extension UInt8: RasterScalar { public static var dataType: DataType { .byte } }
extension Int8: RasterScalar { public static var dataType: DataType { .int8 } }
extension UInt16: RasterScalar { public static var dataType: DataType { .uint16 } }
extension Int16: RasterScalar { public static var dataType: DataType { .int16 } }
extension UInt32: RasterScalar { public static var dataType: DataType { .uint32 } }
extension Int32: RasterScalar { public static var dataType: DataType { .int32 } }
extension UInt64: RasterScalar { public static var dataType: DataType { .uint64 } }
extension Int64: RasterScalar { public static var dataType: DataType { .int64 } }
extension Float: RasterScalar {
  public static var dataType: DataType { .float32 }
  public init(rasterValue value: Double) { self = Float(value) }
  public var isNaNValue: Bool { isNaN }
}
extension Double: RasterScalar {
  public static var dataType: DataType { .float64 }
  public init(rasterValue value: Double) { self = value }
  public var isNaNValue: Bool { isNaN }
}

/// A pixel window: offset and size in pixels.
public struct Window: Equatable, Hashable, Sendable, CustomStringConvertible {
  public var x: Int, y: Int, width: Int, height: Int
  public init(x: Int, y: Int, width: Int, height: Int) {
    self.x = x; self.y = y; self.width = width; self.height = height
  }
  public var pixelCount: Int { width * height }
  public var description: String { "\(width)x\(height)@\(x),\(y)" }
}

/// GDAL's conversion of pixel values between types (rounding and clamping as RasterIO does).
public enum GDALConvert {
  /// Doubles into `out` as `type`, packed.
  public static func doubles(_ values: UnsafeBufferPointer<Double>, to type: DataType, into out: UnsafeMutableRawBufferPointer) {
    precondition(out.count >= values.count * type.byteSize, "buffer smaller than the values")
    GDALCopyWords64(values.baseAddress, GDT_Float64, 8, out.baseAddress, type.gdal, Int32(type.byteSize), GIntBig(values.count))
  }

  /// Packed values of `type` into `out` as doubles (exact: a double holds every value of the
  /// types Tessera writes).
  public static func doubles(_ values: UnsafeRawBufferPointer, of type: DataType, into out: UnsafeMutableBufferPointer<Double>) {
    precondition(values.count >= out.count * type.byteSize, "buffer smaller than the values")
    GDALCopyWords64(values.baseAddress, type.gdal, Int32(type.byteSize), out.baseAddress, GDT_Float64, 8, GIntBig(out.count))
  }
}
