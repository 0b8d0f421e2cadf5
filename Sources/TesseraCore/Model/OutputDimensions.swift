import Foundation
import GDAL

/// `--size`: the output's width and height, each in pixels or as a percentage of the input's
/// (`W,H`, `P%`, `P%,Q%`), as `gdal_translate -outsize` and `gdal raster resize --size` take them.
/// A side of 0 pixels follows the other, keeping the aspect ratio, as `gdalwarp -ts W 0` does.
public struct OutputDimensions: Equatable, Sendable {
  public enum Side: Equatable, Sendable {
    case pixels(Int)
    case percent(Double)
  }

  public var width: Side
  public var height: Side

  public init(width: Side, height: Side) {
    self.width = width
    self.height = height
  }

  public init(pixels width: Int, _ height: Int) { self.init(width: .pixels(width), height: .pixels(height)) }

  /// - Throws: exit 64 naming the text and the grammar.
  public init(parsing text: String) throws {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    let sides = parts.map(Self.side)
    let refusal = TesseraError(.usage, "--size '\(text)' is not W,H in pixels, P% or P%,Q% of the input's size (0 for one side keeps the aspect ratio)")
    switch sides.count {
    case 1:
      guard let side = sides[0], case .percent = side else { throw refusal }
      (width, height) = (side, side)
    case 2:
      guard let w = sides[0], let h = sides[1] else { throw refusal }
      (width, height) = (w, h)
    default: throw refusal
    }
    if width == .pixels(0) && height == .pixels(0) {
      throw TesseraError(.usage, "--size '\(text)' gives neither side; 0 keeps the aspect ratio of one side only")
    }
    for case .pixels(let n) in [width, height] where n > maximumRasterSide {
      throw TesseraError(.usage, "--size '\(text)' is larger than GDAL's limit of \(maximumRasterSide) pixels a side")
    }
  }

  /// A whole number of pixels from 0, or a percentage above 0; nil for anything else.
  static func side(_ text: String) -> Side? {
    if text.hasSuffix("%") {
      guard let p = Double(text.dropLast()), p.isFinite, p > 0 else { return nil }
      return .percent(p)
    }
    guard let n = Int(text), n >= 0 else { return nil }
    return .pixels(n)
  }

  /// Every side in pixels: a percentage of the input's side, whole pixels as
  /// `gdal_translate -outsize` counts them (the whole part). A side of 0 stays 0, for GDAL to
  /// derive from the other.
  /// - Throws: exit 64 when a percentage leaves no whole pixel or passes GDAL's limit.
  public func pixels(ofInput inputWidth: Int, _ inputHeight: Int) throws -> (width: Int, height: Int) {
    func count(_ side: Side, of input: Int) throws -> Int {
      switch side {
      case .pixels(let n): return n
      case .percent(let p):
        let exact = p / 100 * Double(input)
        try OutputSize.requireGrid(width: exact.rounded(.down), height: 1, cause: "--size \(description)")
        return Int(saturating: exact, rounding: .down)
      }
    }
    return (try count(width, of: inputWidth), try count(height, of: inputHeight))
  }

  /// The text as given back: `50%`, `1024,0`.
  public var description: String {
    func text(_ side: Side) -> String {
      switch side {
      case .pixels(let n): return "\(n)"
      case .percent(let p): return "\(p.formatted())%"
      }
    }
    let w = text(width), h = text(height)
    return width == height && w.hasSuffix("%") ? w : "\(w),\(h)"
  }
}
