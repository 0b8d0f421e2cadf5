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
/// earlier, with --order first), DN 0 never wins, masked scene classes never win, and with
/// --reflectance each product's DN become (DN + offset) / quantification by its own metadata.
struct MergeCompositor {
  let request: MergeMemfileRequest
  let products: [Sentinel2Product]
  let staged: [[StagedBand]]
  let masks: [StagedBand?]
  let outputBands: Int

  /// A worker's reader and buffers.
  struct Worker {
    var reader: CompositeReader
    var input: [UInt16] = []
    var classes: [UInt8] = []
    var output: [Float] = []
    var coverage: [UInt8] = []
    var statistics: MergeStatistics
  }

  func run(into output: Dataset, progress: ProgressHandler?) throws -> MergeStatistics {
    let threads = request.resources.threads
    let windows = try WindowPipeline.rows(of: output, bytesPerPixel: outputBands * 4, wholeRows: true)
    let masked = request.maskClouds
    var cloudy = [Bool](repeating: false, count: 256)
    for c in request.sclClasses where (0..<256).contains(c) { cloudy[c] = true }
    let nodata: Float = request.reflectance ? .nan : 0
    // Products are laid down in turn; the one laid last wins.
    let sequence = request.order == .last ? Array(products.indices) : Array(products.indices.reversed())
    // Per product and output band: the staged band, its component, and DN -> value.
    let scales: [[(stage: Int, component: Int, offset: Float, divisor: Float)]] = products.indices.map { p in
      var entries: [(Int, Int, Float, Float)] = []
      for (s, band) in staged[p].enumerated() {
        for component in 1...band.components {
          var offset: Float = 0, divisor: Float = 1
          if request.reflectance, let q = products[p].quantification(for: band.band) {
            offset = Float(products[p].offset(for: band.band))
            divisor = Float(q)
          }
          entries.append((s, component, offset, divisor))
        }
      }
      return entries
    }
    var total = MergeStatistics(bands: outputBands)
    var hashes = [PixelHash](repeating: PixelHash(), count: outputBands)
    let totalLock = NSLock()
    var workersDone: [MergeStatistics] = []

    // Every staged band and mask as one list of sources on the output grid.
    var placed: [PlacedSource] = []
    let bandSource: [[Int]] = staged.map { bands in
      bands.map { band in placed.append(band.placed); return placed.count - 1 }
    }
    let maskSource: [Int?] = masks.map { mask in mask.map { placed.append($0.placed); return placed.count - 1 } }

    let pipeline = WindowPipeline(windows: windows, workers: threads)
    try pipeline.run(
      makeState: { Worker(reader: try CompositeReader(placed), statistics: MergeStatistics(bands: outputBands)) },
      compute: { worker, window in
        let pixels = window.pixelCount
        if worker.output.count < pixels * outputBands {
          worker.output = [Float](repeating: 0, count: pixels * outputBands)
          worker.coverage = [UInt8](repeating: 0, count: pixels)
        }
        for i in 0..<(pixels * outputBands) { worker.output[i] = nodata }
        for i in 0..<pixels { worker.coverage[i] = 0 }

        let reader = worker.reader
        for p in sequence {
          guard let firstSource = bandSource[p].first, let inter = reader.overlap(firstSource, window) else { continue }
          let n = inter.pixelCount
          var useMask = false
          if masked, let mask = maskSource[p] {
            if worker.classes.count < n { worker.classes = [UInt8](repeating: 0, count: n) }
            try worker.classes.withUnsafeMutableBytes { try reader.read(mask, inter, bands: [1], type: .byte, into: $0) }
            useMask = true
          }
          for (k, entry) in scales[p].enumerated() {
            if worker.input.count < n { worker.input = [UInt16](repeating: 0, count: n) }
            try worker.input.withUnsafeMutableBytes {
              try reader.read(bandSource[p][entry.stage], inter, bands: [entry.component], type: .uint16, into: $0)
            }
            let base = k * pixels
            let offset = entry.offset, divisor = entry.divisor
            let countCoverage = k == 0
            worker.input.withUnsafeBufferPointer { input in
              worker.classes.withUnsafeBufferPointer { classes in
                worker.output.withUnsafeMutableBufferPointer { out in
                  worker.coverage.withUnsafeMutableBufferPointer { coverage in
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
        }
        // Figures for the report, from exactly what is written.
        for k in 0..<outputBands {
          var count = 0, lo = Double.infinity, hi = -Double.infinity, sum = 0.0
          worker.output.withUnsafeBufferPointer { out in
            for i in (k * pixels)..<((k + 1) * pixels) {
              let v = out[i]
              if request.reflectance ? v.isNaN : v == 0 { continue }
              let d = Double(v)
              count += 1
              if d < lo { lo = d }
              if d > hi { hi = d }
              sum += d
            }
          }
          worker.statistics.valid[k] += count
          worker.statistics.minimum[k] = min(worker.statistics.minimum[k], lo)
          worker.statistics.maximum[k] = max(worker.statistics.maximum[k], hi)
          worker.statistics.sum[k] += sum
        }
        var overlap = 0
        for i in 0..<pixels where worker.coverage[i] >= 2 { overlap += 1 }
        worker.statistics.overlapPixels += overlap
      },
      write: { worker, window in
        try worker.output.withUnsafeBytes { buffer in
          try output.write(window, bands: Array(1...outputBands), type: .float32, from: buffer)
        }
        // Windows are whole rows and arrive in raster order: each band's hash runs over its rows in order.
        let pixels = window.pixelCount
        worker.output.withUnsafeBufferPointer { out in
          for k in 0..<outputBands { hashes[k].add(UnsafeBufferPointer(rebasing: out[(k * pixels)..<((k + 1) * pixels)])) }
        }
      },
      progress: progress,
      finish: { worker in
        totalLock.lock()
        workersDone.append(worker.statistics)
        totalLock.unlock()
        worker.reader.close()
      })
    for s in workersDone { total.add(s) }
    total.hashes = hashes
    return total
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
