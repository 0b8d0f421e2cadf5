import Foundation
import GDAL

/// How band values become display values 0…255.
public enum StretchSpec: Equatable, Sendable, CustomStringConvertible {
  case minmax
  /// Percentiles of the valid values (numpy's linear interpolation).
  case percentiles(Double, Double)
  case values(Double, Double)
  /// Values used as they are (clamped to 0…255).
  case none

  /// `minmax`, `none`, `pLOW,pHIGH` (such as p2,p98) or `LOW,HIGH`.
  public init(parsing text: String) throws {
    let lower = text.lowercased().trimmingCharacters(in: .whitespaces)
    if lower == "minmax" { self = .minmax; return }
    if lower == "none" { self = .none; return }
    let parts = lower.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    let bad = TesseraError(.usage, "--stretch takes minmax, none, pLOW,pHIGH (such as p2,p98) or LOW,HIGH, got '\(text)'")
    guard parts.count == 2 else { throw bad }
    if parts.allSatisfy({ $0.hasPrefix("p") }) {
      guard let a = Double(parts[0].dropFirst()), let b = Double(parts[1].dropFirst()), 0 <= a, a < b, b <= 100 else { throw bad }
      self = .percentiles(a, b)
    } else {
      guard let a = Double(parts[0]), let b = Double(parts[1]), a.isFinite, b.isFinite, a < b else { throw bad }
      self = .values(a, b)
    }
  }

  public var description: String {
    switch self {
    case .minmax: return "minmax"
    case .none: return "none"
    case .percentiles(let a, let b): return "p\(StretchSpec.format(a)),p\(StretchSpec.format(b))"
    case .values(let a, let b): return "\(StretchSpec.format(a)),\(StretchSpec.format(b))"
    }
  }

  static func format(_ value: Double) -> String {
    if abs(value) < 1e15, let whole = Int64(checked: value), Double(whole) == value { return String(whole) }
    return String(value)
  }

  /// The range this stretch gives `values` (the valid ones); nil when there are none.
  /// Infinities are left out as NaN is: an infinite end would map every finite value to one
  /// colour (the callers count and report them).
  public func range(of samples: [Float]) -> StretchRange? {
    switch self {
    case .none: return StretchRange(low: 0, high: 255)
    case .values(let a, let b): return StretchRange(low: a, high: b)
    case .minmax, .percentiles:
      let values = samples.allSatisfy(\.isFinite) ? samples : samples.filter(\.isFinite)
      guard !values.isEmpty else { return nil }
      if case .percentiles(let a, let b) = self {
        var work = values
        return StretchRange(low: StretchSpec.percentile(&work, a), high: StretchSpec.percentile(&work, b))
      }
      var low = values[0], high = values[0]
      for value in values { low = min(low, value); high = max(high, value) }
      return StretchRange(low: Double(low), high: Double(high))
    }
  }

  /// numpy's percentile (linear interpolation between the two order statistics around
  /// p/100·(n−1)), by selection rather than a full sort; reorders `values`.
  static func percentile(_ values: inout [Float], _ p: Double) -> Double {
    let position = p / 100 * Double(values.count - 1)
    let lower = Int(saturating: position, rounding: .down)
    let low = select(&values, lower)
    guard lower + 1 < values.count else { return Double(low) }
    // The next order statistic is the least value after the selected one.
    var next = values[lower + 1]
    for value in values[(lower + 1)...] where value < next { next = value }
    return Double(low) + (Double(next) - Double(low)) * (position - Double(lower))
  }

  /// The k-th smallest value (0-based), leaving smaller ones before it and larger after it
  /// (quickselect with a median-of-three pivot).
  static func select(_ values: inout [Float], _ k: Int) -> Float {
    var low = 0, high = values.count - 1
    while high > low {
      let middle = low + (high - low) / 2
      if values[middle] < values[low] { values.swapAt(middle, low) }
      if values[high] < values[low] { values.swapAt(high, low) }
      if values[high] < values[middle] { values.swapAt(high, middle) }
      let pivot = values[middle]
      var i = low, j = high
      while i <= j {
        while values[i] < pivot { i += 1 }
        while values[j] > pivot { j -= 1 }
        if i <= j { values.swapAt(i, j); i += 1; j -= 1 }
      }
      if k <= j { high = j } else if k >= i { low = i } else { return values[k] }
    }
    return values[k]
  }
}

/// The values mapped to 0 and 255.
public struct StretchRange: Equatable, Sendable {
  public var low: Double
  public var high: Double

  /// round((v − low) / (high − low) · 255), clamped (an infinity to its end); 0 everywhere when
  /// the range is empty.
  @inline(__always)
  func level(_ value: Float) -> UInt8 {
    guard high > low else { return 0 }
    // Halved (exactly), so a range as wide as -1e308,1e308 does not overflow to infinity.
    let fraction = (Double(value) / 2 - low / 2) / (high / 2 - low / 2)
    return UInt8(saturating: fraction * 255, rounding: .toNearestOrAwayFromZero)
  }
}

/// One picture's values at display size: each band's values row by row, and which pixels hold
/// data (not nodata, not NaN, not masked) in every band.
public struct FrameValues {
  public var width: Int
  public var height: Int
  public var bands: [[Float]]
  public var valid: [Bool]

  /// The valid values of band `index` that are infinite: left out of stretches, and reported.
  func infiniteCount(_ index: Int) -> Int {
    var count = 0
    for (offset, ok) in valid.enumerated() where ok && bands[index][offset].isInfinite { count += 1 }
    return count
  }

  /// Band 1's values as classes, which must be whole numbers an Int holds (a class of 1e19 or
  /// an infinity is no class): exit 65 naming `label` otherwise.
  func requireClasses(label: String) throws {
    for (offset, ok) in valid.enumerated() where ok {
      let value = bands[0][offset]
      if Int(checked: value, rounding: .toNearestOrAwayFromZero) == nil {
        throw TesseraError(.dataError, "\(label) holds \(value), which is not a class (a whole number up to ±9.2e18); show it without --categorical or a colour table")
      }
    }
  }

  /// The valid values of band `index`, every `step`-th.
  func validValues(_ index: Int, step: Int = 1) -> [Float] {
    var out: [Float] = []
    out.reserveCapacity(valid.count / max(1, step))
    var seen = 0
    for (offset, ok) in valid.enumerated() where ok {
      if seen % step == 0 { out.append(bands[index][offset]) }
      seen += 1
    }
    return out
  }
}

/// How values become colours.
public enum RenderStyle {
  /// Three bands as red, green, blue, each with its range.
  case rgb([StretchRange])
  /// One band through a colour map.
  case ramp(Colormap, StretchRange)
  /// Classes: each value its colour (a colour table, the SCL colours, or distinct colours).
  case classes([Int: RGBA], source: String)

  /// The JSON of the stretch used.
  func json(bandNames: [String]) -> JSONValue {
    switch self {
    case .rgb(let ranges):
      return .array(zip(bandNames, ranges).map { .object([("band", .string($0)), ("min", .double($1.low)), ("max", .double($1.high))]) })
    case .ramp(_, let range):
      return .array([.object([("band", .string(bandNames.first ?? "")), ("min", .double(range.low)), ("max", .double(range.high))])])
    case .classes:
      return .array([])
    }
  }
}

/// Turns frames into RGBA pixels.
public enum Renderer {
  /// RGBA, row by row; invalid pixels take `nodataColor`.
  public static func render(_ frame: FrameValues, style: RenderStyle, nodataColor: RGBA) -> [UInt8] {
    let count = frame.width * frame.height
    var pixels = [UInt8](repeating: 0, count: count * 4)
    switch style {
    case .rgb(let ranges):
      for i in 0..<count {
        guard frame.valid[i] else { put(nodataColor, at: i, in: &pixels); continue }
        pixels[4 * i] = ranges[0].level(frame.bands[0][i])
        pixels[4 * i + 1] = ranges[1].level(frame.bands[1][i])
        pixels[4 * i + 2] = ranges[2].level(frame.bands[2][i])
        pixels[4 * i + 3] = 255
      }
    case .ramp(let map, let range):
      let table = map.table
      for i in 0..<count {
        put(frame.valid[i] ? table[Int(range.level(frame.bands[0][i]))] : nodataColor, at: i, in: &pixels)
      }
    case .classes(let table, _):
      for i in 0..<count {
        guard frame.valid[i] else { put(nodataColor, at: i, in: &pixels); continue }
        // Frames are checked with requireClasses first; a value no Int holds is drawn as nodata.
        guard let key = Int(checked: frame.bands[0][i], rounding: .toNearestOrAwayFromZero) else {
          put(nodataColor, at: i, in: &pixels)
          continue
        }
        put(table[key] ?? ClassColors.qualitative(key), at: i, in: &pixels)
      }
    }
    return pixels
  }

  @inline(__always)
  static func put(_ color: RGBA, at index: Int, in pixels: inout [UInt8]) {
    pixels[4 * index] = color.r; pixels[4 * index + 1] = color.g; pixels[4 * index + 2] = color.b; pixels[4 * index + 3] = color.a
  }

  /// The legend strip drawn under an image `width` wide: a colour bar with the range's ends, or
  /// the band names and ranges of an RGB image, or the classes' swatches.
  static func legend(for style: RenderStyle, bandNames: [String], width: Int, present: Set<Int> = []) -> (pixels: [UInt8], height: Int) {
    let scale = width >= 600 ? 2 : 1
    let line = (BitmapFont.glyphHeight + 3) * scale
    let margin = 4 * scale
    let background = RGBA(255, 255, 255), ink = RGBA(0, 0, 0)
    var height = 0
    switch style {
    case .ramp: height = margin + 12 * scale + 2 * line + margin
    case .rgb: height = margin + 3 * line + margin
    case .classes: height = margin + max(1, (present.count + 3) / 4) * line + margin
    }
    var pixels = [UInt8](repeating: 255, count: width * height * 4)
    for i in 0..<(width * height) { put(background, at: i, in: &pixels) }
    func text(_ s: String, _ x: Int, _ y: Int) {
      BitmapFont.draw(s, at: (x, y), scale: scale, color: ink, into: &pixels, width: width, height: height)
    }
    switch style {
    case .ramp(let map, let range):
      let table = map.table
      let barWidth = max(1, width - 2 * margin)
      for x in 0..<barWidth {
        let color = table[min(255, x * 256 / barWidth)]
        for y in margin..<(margin + 12 * scale) { put(color, at: y * width + margin + x, in: &pixels) }
      }
      let low = Renderer.number(range.low), high = Renderer.number(range.high)
      let y = margin + 12 * scale + scale * 2
      text(low, margin, y)
      text(high, width - margin - BitmapFont.width(high, scale: scale), y)
      let name = bandNames.first ?? ""
      text(name, (width - BitmapFont.width(name, scale: scale)) / 2, y + line)
    case .rgb(let ranges):
      for (index, (name, range)) in zip(bandNames, ranges).enumerated() {
        let channel = ["R", "G", "B"][index]
        text("\(channel) \(name): \(Renderer.number(range.low)) - \(Renderer.number(range.high))", margin, margin + index * line)
      }
    case .classes(let table, _):
      let columnWidth = max(1, (width - 2 * margin) / 4)
      for (index, value) in present.sorted().enumerated() {
        let x = margin + (index % 4) * columnWidth, y = margin + (index / 4) * line
        let color = table[value] ?? ClassColors.qualitative(value)
        for dy in 0..<(BitmapFont.glyphHeight * scale) {
          for dx in 0..<(BitmapFont.glyphHeight * scale) where x + dx < width { put(color, at: (y + dy) * width + x + dx, in: &pixels) }
        }
        text(String(value), x + (BitmapFont.glyphHeight + 2) * scale, y)
      }
    }
    return (pixels, height)
  }

  /// A short number for a legend: up to 4 significant digits.
  static func number(_ value: Double) -> String {
    if abs(value) < 1e7, let whole = Int64(checked: value), Double(whole) == value { return String(whole) }
    return String(format: "%.4g", value)
  }
}

/// Writes RGBA pixels as a PNG, JPEG or WebP through GDAL's drivers.
enum ImageFile {
  static func driver(for path: String) throws -> String {
    try OutputPlace.check(path)
    switch URL(fileURLWithPath: path).pathExtension.lowercased() {
    case "png": return "PNG"
    case "jpg", "jpeg": return "JPEG"
    case "webp": return "WEBP"
    default: throw TesseraError(.usage, "\(path): a preview is written as .png, .jpg or .webp")
    }
  }

  /// Writes `pixels` (RGBA) to `path` with `driver`; the alpha band only when some pixel is not
  /// opaque and the format keeps it.
  static func write(_ pixels: [UInt8], width: Int, height: Int, driver: String, to path: String) throws {
    let count = width * height
    let keepAlpha = driver != "JPEG" && stride(from: 3, to: pixels.count, by: 4).contains { pixels[$0] != 255 }
    // A gray picture is written as gray (and alpha): a quarter (half) of the bytes to compress.
    var gray = driver != "WEBP"
    var index = 0
    while gray && index < count {
      let r = pixels[4 * index]
      gray = r == pixels[4 * index + 1] && r == pixels[4 * index + 2]
      index += 1
    }
    var channels: [Int] = gray ? [0] : [0, 1, 2]
    if keepAlpha { channels.append(3) }
    let memory = try Dataset.create(driver: "MEM", path: "", width: width, height: height, bands: channels.count, type: .byte)
    var plane = [UInt8](repeating: 0, count: count)
    for (band, channel) in channels.enumerated() {
      for i in 0..<count { plane[i] = pixels[4 * i + channel] }
      try memory.band(band + 1).write(Window(x: 0, y: 0, width: width, height: height), values: plane)
      try memory.band(band + 1).setColorInterpretation(gray && channel == 0 ? "gray" : ["red", "green", "blue", "alpha"][channel])
    }
    // zlib level 3: about a tenth larger than the default 6 and twice as fast to write.
    let options = driver == "JPEG" ? ["QUALITY=90"] : (driver == "WEBP" ? ["LOSSLESS=TRUE"] : ["ZLEVEL=3"])
    let copy = try Dataset.createCopy(of: memory, driver: driver, path: path, options: options)
    try copy.close()
  }
}
