import Foundation
import GDAL

/// Per-band figures of a merged output, gathered while it is written.
struct MergeStatistics {
  var valid: [Int]
  var minimum: [Double]
  var maximum: [Double]
  var sum: [Double]
  var overlapPixels = 0
  var checksums: [Int] = []
  /// A hash of each band's values in raster order (see `PixelHash`), which, unlike GDAL's
  /// checksum, tells float32 reflectance bands apart.
  var hashes: [PixelHash] = []

  init(bands: Int) {
    valid = Array(repeating: 0, count: bands)
    minimum = Array(repeating: .infinity, count: bands)
    maximum = Array(repeating: -.infinity, count: bands)
    sum = Array(repeating: 0, count: bands)
  }

  mutating func add(_ other: MergeStatistics) {
    for b in valid.indices {
      valid[b] += other.valid[b]
      minimum[b] = min(minimum[b], other.minimum[b])
      maximum[b] = max(maximum[b], other.maximum[b])
      sum[b] += other.sum[b]
    }
    overlapPixels += other.overlapPixels
  }

  /// Band `b`'s entry of the report.
  func band(_ b: Int, name: String, pixels: Int) -> MergeReport.Band {
    let count = valid[b]
    return MergeReport.Band(
      name: name, validFraction: pixels == 0 ? 0 : Double(count) / Double(pixels), validPixels: count,
      min: count == 0 ? nil : minimum[b], max: count == 0 ? nil : maximum[b], mean: count == 0 ? nil : sum[b] / Double(count),
      checksum: b < checksums.count ? checksums[b] : nil, contentHash: b < hashes.count ? hashes[b].text : nil)
  }
}

/// Composes the staged products window by window on every thread: later products win (or
/// earlier, with --method first), DN 0 never wins, masked scene classes never win, and with
/// --reflectance each product's DN become (DN + offset) / quantification by its own metadata.
struct MergeCompositor {
  let request: MergeMemfileRequest
  let products: [Sentinel2Product]
  let staged: [[StagedBand]]
  let masks: [StagedBand?]
  let outputBands: Int

  /// One output band of a product: the source it is read from, the component of that source,
  /// and DN -> value.
  struct Layer {
    let source: Int, component: Int
    let offset: Float, divisor: Float
  }

  /// Every staged band and mask as one list of sources on the output grid, and where each
  /// product's layers and mask are in it.
  struct Sources {
    var placed: [PlacedSource] = []
    var layers: [[Layer]] = []
    var masks: [Int?] = []
  }

  /// A worker's buffers and the figures of the window it computed.
  struct Scratch {
    var input: [UInt16]
    var classes: [UInt8]
    var coverage: [UInt8]
    var statistics: MergeStatistics
  }

  func run(into output: Dataset, progress: ProgressHandler?) throws -> MergeStatistics {
    let sources = self.sources()
    var cloudy = [Bool](repeating: false, count: 256)
    for c in request.sclClasses where (0..<256).contains(c) { cloudy[c] = true }
    let fills = (0..<outputBands).map { Float(request.fill(band: $0)) }
    // Products are laid down in turn; the one laid last wins.
    let sequence = request.order == .last ? Array(products.indices) : Array(products.indices.reversed())
    var total = MergeStatistics(bands: outputBands)
    var hashes = [PixelHash](repeating: PixelHash(), count: outputBands)
    var writer = WindowedWriter<Scratch>(bands: outputBands, type: .float32, threads: request.resources.threads,
                                         sources: sources.placed)
    writer.wholeRows = true
    writer.conversion = request.output.conversion
    writer.nodata = fills.map { Double($0) }
    try writer.write(
      to: output, progress: progress,
      makeScratch: { capacity in
        Scratch(input: [UInt16](repeating: 0, count: capacity), classes: [UInt8](repeating: 0, count: capacity),
                coverage: [UInt8](repeating: 0, count: capacity), statistics: MergeStatistics(bands: outputBands))
      },
      compute: { window, reader, scratch, values in
        let out = values.bindMemory(to: Float.self)
        for k in 0..<outputBands { (k * window.pixelCount..<(k + 1) * window.pixelCount).forEach { out[$0] = fills[k] } }
        for i in 0..<window.pixelCount { scratch.coverage[i] = 0 }
        scratch.statistics = MergeStatistics(bands: outputBands)
        for p in sequence {
          try layDown(p, sources, window, reader, cloudy: cloudy, &scratch, into: out)
        }
        measure(window.pixelCount, out, &scratch)
      },
      written: { window, scratch, values in
        // Windows are whole rows and arrive in raster order: each band's hash runs over its rows
        // in order, and the figures add up in the same order whatever the thread count.
        total.add(scratch.statistics)
        let pixels = window.pixelCount, out = values.bindMemory(to: Float.self)
        for k in 0..<outputBands { hashes[k].add(UnsafeBufferPointer(rebasing: out[(k * pixels)..<((k + 1) * pixels)])) }
      })
    total.hashes = hashes
    return total
  }

  private func sources() -> Sources {
    var sources = Sources()
    for p in products.indices {
      var layers: [Layer] = []
      for band in staged[p] {
        sources.placed.append(band.placed)
        for component in 1...band.components {
          var offset: Float = 0, divisor: Float = 1
          if request.reflectance, let q = products[p].quantification(for: band.band) {
            offset = Float(products[p].offset(for: band.band))
            divisor = Float(q)
          }
          layers.append(Layer(source: sources.placed.count - 1, component: component, offset: offset, divisor: divisor))
        }
      }
      sources.layers.append(layers)
    }
    sources.masks = masks.map { mask in mask.map { sources.placed.append($0.placed); return sources.placed.count - 1 } }
    return sources
  }

  /// Draws product `p`'s pixels over `out`: DN 0 and, with --mask-clouds, masked scene classes
  /// are not drawn; coverage counts the products drawn on each pixel.
  private func layDown(
    _ p: Int, _ sources: Sources, _ window: Window, _ reader: CompositeReader, cloudy: [Bool], _ scratch: inout Scratch,
    into out: UnsafeMutableBufferPointer<Float>
  ) throws {
    guard let first = sources.layers[p].first, let inter = reader.overlap(first.source, window) else { return }
    var useMask = false
    if request.maskClouds, let mask = sources.masks[p] {
      try scratch.classes.withUnsafeMutableBytes { try reader.read(mask, inter, bands: [1], type: .byte, into: $0) }
      useMask = true
    }
    for (k, layer) in sources.layers[p].enumerated() {
      try scratch.input.withUnsafeMutableBytes {
        try reader.read(layer.source, inter, bands: [layer.component], type: .uint16, into: $0)
      }
      let base = k * window.pixelCount
      let offset = layer.offset, divisor = layer.divisor
      let countCoverage = k == 0
      scratch.input.withUnsafeBufferPointer { input in
        scratch.classes.withUnsafeBufferPointer { classes in
          scratch.coverage.withUnsafeMutableBufferPointer { coverage in
            for r in 0..<inter.height {
              let src = r * inter.width
              let dst = (inter.y - window.y + r) * window.width + (inter.x - window.x)
              for c in 0..<inter.width {
                let dn = input[src + c]
                if dn == 0 { continue }
                if useMask && cloudy[Int(classes[src + c])] { continue }
                out[base + dst + c] = (Float(dn) + offset) / divisor
                if countCoverage { coverage[dst + c] &+= 1 }
              }
            }
          }
        }
      }
    }
  }

  /// Figures for the report, from exactly what is written; valid is what GDAL reads as valid
  /// (every pixel but the declared nodata, and every pixel when none is declared).
  private func measure(_ pixels: Int, _ out: UnsafeMutableBufferPointer<Float>, _ scratch: inout Scratch) {
    let declared = (0..<outputBands).map { request.declaredNodata(band: $0).map { Float($0) } }
    for k in 0..<outputBands {
      var count = 0, lo = Double.infinity, hi = -Double.infinity, sum = 0.0
      for i in (k * pixels)..<((k + 1) * pixels) {
        let v = out[i]
        if let nodata = declared[k], nodata.isNaN ? v.isNaN : v == nodata { continue }
        let d = Double(v)
        count += 1
        if d < lo { lo = d }
        if d > hi { hi = d }
        sum += d
      }
      scratch.statistics.valid[k] += count
      scratch.statistics.minimum[k] = min(scratch.statistics.minimum[k], lo)
      scratch.statistics.maximum[k] = max(scratch.statistics.maximum[k], hi)
      scratch.statistics.sum[k] += sum
    }
    var overlap = 0
    for i in 0..<pixels where scratch.coverage[i] >= 2 { overlap += 1 }
    scratch.statistics.overlapPixels += overlap
  }
}

/// FNV-1a over a band's values as float32 bit patterns, in raster order, every NaN counted as
/// one canonical NaN. The same for a UInt16 band and its float32 copy, and cheap enough to
/// compute while the merge writes.
public struct PixelHash: Equatable, Sendable {
  public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

  public init() {}

  public mutating func add(_ values: UnsafeBufferPointer<Float>) {
    var h = value
    for v in values {
      let bits = v.isNaN ? 0x7fc0_0000 : v.bitPattern
      h = (h ^ UInt64(bits)) &* 0x0000_0100_0000_01b3
    }
    value = h
  }

  public var text: String {
    let hex = String(value, radix: 16)
    return "fnv1a64-f32:" + String(repeating: "0", count: 16 - hex.count) + hex
  }

  /// The hash of a band of a file, read in whole rows.
  public static func of(_ band: RasterBand) throws -> PixelHash {
    var hash = PixelHash()
    let rows = max(1, (1 << 20) / max(1, band.width))
    var buffer = [Float](repeating: 0, count: rows * band.width)
    for y in stride(from: 0, to: band.height, by: rows) {
      let window = Window(x: 0, y: y, width: band.width, height: min(rows, band.height - y))
      try buffer.withUnsafeMutableBufferPointer { buf in
        try band.read(window, into: UnsafeMutableBufferPointer(rebasing: buf[0..<window.pixelCount]))
        hash.add(UnsafeBufferPointer(rebasing: buf[0..<window.pixelCount]))
      }
    }
    return hash
  }
}
