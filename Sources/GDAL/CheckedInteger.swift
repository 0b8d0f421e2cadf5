// The one way a floating-point value becomes an integer in Tessera.
//
// Swift's `Int(someDouble)` traps (SIGILL) on NaN, an infinity or a value outside the type, and
// the values converted here come from pixels, metadata and options: a Float32 raster holding
// +inf, a class value of 1e19 or a colour table line of 1e300 must be an error or a clamp, never
// a signal. Every conversion of a Double or Float to an integer type goes through one of these
// two initialisers (a lint test in CheckedIntegerTests keeps it so).

extension FixedWidthInteger {
  /// `value` rounded by `rule`, or nil when it is NaN, infinite or outside the type.
  @inlinable
  public init?<F: BinaryFloatingPoint>(checked value: F, rounding rule: FloatingPointRoundingRule = .towardZero) {
    // `init(exactly:)` returns nil, and never traps, for anything it cannot represent.
    guard let exact = Self(exactly: value.rounded(rule)) else { return nil }
    self = exact
  }

  /// `value` rounded by `rule` and clamped to the type: an infinity or a value beyond the type
  /// becomes its nearest bound; NaN becomes `nanValue` (0 unless given).
  @inlinable
  public init<F: BinaryFloatingPoint>(saturating value: F, rounding rule: FloatingPointRoundingRule = .towardZero,
                                      nan nanValue: Self = 0) {
    if value.isNaN { self = nanValue; return }
    let rounded = value.rounded(rule)
    if rounded <= F(Self.min) { self = Self.min; return }
    // F(Self.max) may round up to 2^bits (Int64 in a Double): anything at or above it is max.
    if rounded >= F(Self.max) { self = Self.max; return }
    self = Self(exactly: rounded) ?? Self.max
  }
}
