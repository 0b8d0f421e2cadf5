import Foundation

/// An RGBA colour.
public struct RGBA: Equatable, Hashable, Sendable {
  public var r: UInt8, g: UInt8, b: UInt8, a: UInt8

  public init(_ r: UInt8, _ g: UInt8, _ b: UInt8, _ a: UInt8 = 255) {
    self.r = r; self.g = g; self.b = b; self.a = a
  }

  /// `#RRGGBB` or `RRGGBB`, or `transparent`.
  public init?(parsing text: String) {
    let lower = text.lowercased()
    if lower == "transparent" { self.init(0, 0, 0, 0); return }
    let hex = lower.hasPrefix("#") ? String(lower.dropFirst()) : lower
    guard hex.count == 6, let value = UInt32(hex, radix: 16) else { return nil }
    self.init(UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff))
  }

  public var hex: String { String(format: "#%02x%02x%02x", r, g, b) }
}

/// The continuous colour maps a one-band preview can use: 256 colours, low values first.
/// Each is given by evenly spaced anchor colours and interpolated linearly between them: the
/// anchors are the published colours of each map (ColorBrewer's 11-class RdYlGn and Spectral and
/// 9-class Blues; matplotlib's viridis, magma and terrain, sampled at even steps).
public enum Colormap: String, CaseIterable, Sendable {
  case gray, viridis, magma, rdylgn, spectral, terrain, blues

  private var anchors: [UInt32] {
    switch self {
    case .gray: return [0x000000, 0xffffff]
    case .viridis:
      return [0x440154, 0x482878, 0x3e4989, 0x31688e, 0x26828e, 0x1f9e89, 0x35b779, 0x6ece58, 0xb5de2b, 0xfde725]
    case .magma:
      return [0x000004, 0x180f3d, 0x440f76, 0x721f81, 0x9e2f7f, 0xcd4071, 0xf1605d, 0xfd9668, 0xfeca8d, 0xfcfdbf]
    case .rdylgn:
      return [0xa50026, 0xd73027, 0xf46d43, 0xfdae61, 0xfee08b, 0xffffbf, 0xd9ef8b, 0xa6d96a, 0x66bd63, 0x1a9850, 0x006837]
    case .spectral:
      return [0x9e0142, 0xd53e4f, 0xf46d43, 0xfdae61, 0xfee08b, 0xffffbf, 0xe6f598, 0xabdda4, 0x66c2a5, 0x3288bd, 0x5e4fa2]
    case .terrain:
      // Positioned, not even: see `stops`.
      return [0x333399, 0x0099ff, 0x00cc66, 0xffff99, 0x805c54, 0xffffff]
    case .blues:
      return [0xf7fbff, 0xdeebf7, 0xc6dbef, 0x9ecae1, 0x6baed6, 0x4292c6, 0x2171b5, 0x08519c, 0x08306b]
    }
  }

  /// Where each anchor sits between 0 and 1: evenly, except terrain's segment ends (matplotlib's
  /// 0, 0.15, 0.25, 0.5, 0.75, 1 with (0.2, 0.2, 0.6), (0, 0.6, 1), (0, 0.8, 0.4), (1, 1, 0.6),
  /// (0.5, 0.36, 0.33), (1, 1, 1)).
  private var positions: [Double] {
    if self == .terrain { return [0, 0.15, 0.25, 0.5, 0.75, 1] }
    return (0..<anchors.count).map { Double($0) / Double(anchors.count - 1) }
  }

  /// The 256 colours, index 0 for the low end of the stretch.
  public var table: [RGBA] {
    let stops = anchors.map { (Double($0 >> 16 & 0xff), Double($0 >> 8 & 0xff), Double($0 & 0xff)) }
    let at = positions
    return (0..<256).map { index in
      let position = Double(index) / 255
      var lower = 0
      while lower < at.count - 2 && position > at[lower + 1] { lower += 1 }
      let t = (position - at[lower]) / (at[lower + 1] - at[lower])
      let a = stops[lower], b = stops[lower + 1]
      func mix(_ x: Double, _ y: Double) -> UInt8 { UInt8(saturating: x + (y - x) * t, rounding: .toNearestOrAwayFromZero) }
      return RGBA(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
  }

  public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Colours for classes.
public enum ClassColors {
  /// Sentinel-2 L2A scene classification (SCL), the colours ESA's products and viewers use.
  public static let scl: [Int: RGBA] = [
    0: RGBA(0, 0, 0), 1: RGBA(255, 0, 0), 2: RGBA(47, 47, 47), 3: RGBA(100, 50, 0), 4: RGBA(0, 160, 0),
    5: RGBA(255, 230, 90), 6: RGBA(0, 0, 255), 7: RGBA(128, 128, 128), 8: RGBA(192, 192, 192),
    9: RGBA(255, 255, 255), 10: RGBA(100, 200, 255), 11: RGBA(255, 150, 255),
  ]

  /// Twenty distinct colours for classes without a colour table (value modulo 20).
  private static let qualitativeHex: [UInt32] = [
    0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf,
    0xaec7e8, 0xffbb78, 0x98df8a, 0xff9896, 0xc5b0d5, 0xc49c94, 0xf7b6d2, 0xc7c7c7, 0xdbdb8d, 0x9edae5,
  ]
  static let qualitative: [RGBA] = qualitativeHex.map { (hex: UInt32) -> RGBA in
    RGBA(UInt8(hex >> 16 & 0xff), UInt8(hex >> 8 & 0xff), UInt8(hex & 0xff))
  }

  public static func qualitative(_ value: Int) -> RGBA { qualitative[((value % 20) + 20) % 20] }

  /// A colour table file: one class a line, `VALUE R G B [A]` (gdaldem color-relief's form,
  /// commas or spaces), `#` comments. The file is the user's option: a line that is not a
  /// class and colours (a value no Int holds, such as 1e300 or inf) is exit 64.
  public static func read(_ path: String) throws -> [Int: RGBA] {
    let text = try TextInput.text(path, role: "color table", limit: 16 << 20)
    var table: [Int: RGBA] = [:]
    for (number, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
      // Spaces, tabs and a Windows line end's CR around a line are not part of it.
      let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
        .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
      if line.isEmpty { continue }
      let fields = line.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
      let numbers = fields.compactMap { Double($0) }
      let colours = numbers.dropFirst().compactMap { UInt8(checked: $0) }
      guard numbers.count == fields.count, numbers.count == 4 || numbers.count == 5, colours.count == numbers.count - 1,
            let value = numbers.first.flatMap({ Int(checked: $0) }), Double(value) == numbers[0]
      else {
        throw TesseraError(.usage, "--color-table \(path) line \(number + 1): expected VALUE R G B [A], a whole number up to ±9.2e18 and colours 0-255, got '\(line.prefix(200))'")
      }
      table[value] = RGBA(colours[0], colours[1], colours[2], colours.count == 4 ? colours[3] : 255)
    }
    if table.isEmpty { throw TesseraError(.usage, "--color-table \(path) has no entries") }
    return table
  }
}
