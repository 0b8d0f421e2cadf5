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

  func json(band b: Int, name: String, pixels: Int) -> JSONValue {
    let count = valid[b]
    return .object([
      ("name", .string(name)),
      ("valid_fraction", .double(pixels == 0 ? 0 : Double(count) / Double(pixels))),
      ("valid_pixels", .int(count)),
      ("min", count == 0 ? .null : .double(minimum[b])),
      ("max", count == 0 ? .null : .double(maximum[b])),
      ("mean", count == 0 ? .null : .double(sum[b] / Double(count))),
      ("checksum", b < checksums.count ? .int(checksums[b]) : .null),
      ("content_hash", b < hashes.count ? .string(hashes[b].text) : .null),
    ])
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

  /// A worker's handles and buffers.
  struct Worker {
    var handles: [[Dataset?]]
    var maskHandles: [Dataset?]
    var input: [UInt16] = []
    var classes: [UInt8] = []
    var output: [Float] = []
    var coverage: [UInt8] = []
    var statistics: MergeStatistics
  }

  func run(into output: Dataset, progress: ProgressHandler?) throws -> MergeStatistics {
    let threads = request.write.processing.threads
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

    let pipeline = WindowPipeline(windows: windows, workers: threads)
    try pipeline.run(
      makeState: { () -> Worker in
        let handles = try staged.map { bands in try bands.map { band in try band.path.map { try Dataset.open($0) } } }
        let maskHandles = try masks.map { mask in try mask?.path.map { try Dataset.open($0) } }
        return Worker(handles: handles, maskHandles: maskHandles, statistics: MergeStatistics(bands: outputBands))
      },
      compute: { worker, window in
        let pixels = window.pixelCount
        if worker.output.count < pixels * outputBands {
          worker.output = [Float](repeating: 0, count: pixels * outputBands)
          worker.coverage = [UInt8](repeating: 0, count: pixels)
        }
        for i in 0..<(pixels * outputBands) { worker.output[i] = nodata }
        for i in 0..<pixels { worker.coverage[i] = 0 }

        for p in sequence {
          guard let first = staged[p].first, let inter = intersection(window, first.window) else { continue }
          let local = Window(x: inter.x - first.window.x, y: inter.y - first.window.y, width: inter.width, height: inter.height)
          let n = inter.pixelCount
          var useMask = false
          if masked, let mask = masks[p] {
            if worker.classes.count < n { worker.classes = [UInt8](repeating: 0, count: n) }
            try worker.classes.withUnsafeMutableBytes { buffer in
              try read(mask, handle: worker.maskHandles[p], window: local, bands: [1], type: .byte, into: buffer)
            }
            useMask = true
          }
          for (k, entry) in scales[p].enumerated() {
            let stage = staged[p][entry.stage]
            if worker.input.count < n { worker.input = [UInt16](repeating: 0, count: n) }
            try worker.input.withUnsafeMutableBytes { buffer in
              try read(stage, handle: worker.handles[p][entry.stage], window: local, bands: [entry.component], type: .uint16, into: buffer)
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
        for row in worker.handles { for handle in row { try? handle?.close() } }
        for handle in worker.maskHandles { try? handle?.close() }
      })
    for s in workersDone { total.add(s) }
    total.hashes = hashes
    return total
  }

  private func read(_ stage: StagedBand, handle: Dataset?, window: Window, bands: [Int], type: DataType,
                    into buffer: UnsafeMutableRawBufferPointer) throws {
    if let handle {
      try handle.read(window, bands: bands, type: type, into: buffer)
    } else if let mem = stage.memDataset {
      // One MEM dataset serves every worker; GDAL handles are not shared between threads unlocked.
      stage.lock.lock()
      defer { stage.lock.unlock() }
      try mem.read(window, bands: bands, type: type, into: buffer)
    }
  }

  private func intersection(_ a: Window, _ b: Window) -> Window? {
    let x0 = max(a.x, b.x), y0 = max(a.y, b.y)
    let x1 = min(a.x + a.width, b.x + b.width), y1 = min(a.y + a.height, b.y + b.height)
    guard x1 > x0, y1 > y0 else { return nil }
    return Window(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
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
