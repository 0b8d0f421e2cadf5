import Foundation
import GDAL

struct IndexCounts {
  var valid: [Int] = []
  /// Per index: values an integer output type could not hold, clamped.
  var clamped: [Int] = []
  /// Per index: results that, as stored, equal the nodata value, so GDAL reads them as nodata.
  var collisions: [Int] = []
}

/// How a computed value is stored in the output type: non-finite results (after conversion, so
/// a double past Float32's range too) are nodata; integers are scaled, rounded and clamped to a
/// range that leaves the nodata value out when it lies at the type's edge; a result that lands
/// on the nodata value anyway is counted apart, never as valid.
struct IndexStorage {
  let type: DataType
  let fill: Double
  let scale: Double
  /// For integer types: the values a result may be clamped to.
  let clampRange: ClosedRange<Double>

  init(type: DataType, fill: Double, scale: Double) {
    self.type = type
    self.fill = fill
    self.scale = scale
    let full = type.integerRange
    if type.isFloatingPoint {
      clampRange = full
    } else if fill == full.lowerBound {
      clampRange = (full.lowerBound + 1)...full.upperBound
    } else if fill == full.upperBound {
      clampRange = full.lowerBound...(full.upperBound - 1)
    } else {
      clampRange = full
    }
  }

  enum Outcome { case valid, nodata, clamped, collision }

  /// The value as the output type holds it (as a double), and what it is.
  func store(_ result: Double) -> (Double, Outcome) {
    guard result.isFinite else { return (fill, .nodata) }
    switch type {
    case .float64:
      return result == fill ? (fill, .collision) : (result, .valid)
    case .float32:
      let f = Float(result)
      guard f.isFinite else { return (fill, .nodata) }
      return f == Float(fill) ? (fill, .collision) : (Double(f), .valid)
    default:
      let v = (result * scale).rounded()
      guard v.isFinite else { return (fill, .nodata) }
      let c = Swift.min(Swift.max(v, clampRange.lowerBound), clampRange.upperBound)
      if c == fill { return (fill, .collision) }
      return (c, c == v ? .valid : .clamped)
    }
  }
}

/// The window loop: every input's values as doubles; a pixel that is nodata (or NaN) in an
/// input a formula reads is nodata in its band, and so is a result that is not a finite number.
struct IndexEngine {
  let sources: [PlacedSource]
  let bands: [Int]
  let nodata: [Double?]
  /// value = (DN + productOffset) / quantification × scale + offset: a Sentinel-2 product's
  /// reflectance conversion (exact where DN + offset is 0), then the user's --input-scale/offset.
  struct Transform {
    let productOffset: Double, quantification: Double, scale: Double, offset: Double
    var isIdentity: Bool { productOffset == 0 && quantification == 1 && scale == 1 && offset == 0 }
  }

  let transforms: [Transform]
  let formulas: [SpectralIndex.Formula]
  let type: DataType
  /// The output's nodata.
  let fillValue: Double
  /// An integer output's multiplier.
  let scale: Double
  var storage: IndexStorage { IndexStorage(type: type, fill: fillValue, scale: scale) }
  /// Scene classes that are nodata (the SCL input, after the formulas' inputs).
  let cloudy: Set<Int>?

  struct Worker {
    var reader: CompositeReader
    /// Each input's values for the window, as doubles (allocated per worker, freed in `finish`).
    var inputs: [UnsafeMutableBufferPointer<Double>]
    var scratch: [UInt8]
    var result: [Double]
    var out: [UInt8]
    var stack: [[Double]] = []
    var valid: [Int]
    var clamped: [Int]
    var collisions: [Int]
  }

  func write(to output: Dataset, threads: Int, progress: ProgressHandler?) throws -> IndexCounts {
    let windows = try WindowPipeline.rows(of: output, bytesPerPixel: (sources.count + formulas.count) * 8)
    let capacity = windows.map(\.pixelCount).max() ?? 0
    let lock = NSLock()
    let zeros = Array(repeating: 0, count: formulas.count)
    var counts = IndexCounts(valid: zeros, clamped: zeros, collisions: zeros)
    var pipeline = WindowPipeline(windows: windows, workers: threads)
    pipeline.ordered = true
    try pipeline.run(
      makeState: {
        Worker(reader: try CompositeReader(sources),
               inputs: sources.map { _ in UnsafeMutableBufferPointer<Double>.allocate(capacity: Swift.max(1, capacity)) },
               scratch: [UInt8](repeating: 0, count: capacity * 8), result: [Double](repeating: 0, count: capacity),
               out: [UInt8](repeating: 0, count: capacity * formulas.count * type.byteSize),
               valid: zeros, clamped: zeros, collisions: zeros)
      },
      compute: { worker, window in try compute(&worker, window) },
      write: { worker, window in
        try worker.out.withUnsafeBytes { try output.write(window, bands: Array(1...formulas.count), type: type, from: $0) }
      },
      progress: progress,
      finish: { worker in
        lock.lock()
        for i in worker.valid.indices {
          counts.valid[i] += worker.valid[i]
          counts.clamped[i] += worker.clamped[i]
          counts.collisions[i] += worker.collisions[i]
        }
        lock.unlock()
        worker.reader.close()
        worker.inputs.forEach { $0.deallocate() }
      })
    return counts
  }

  private func compute(_ worker: inout Worker, _ window: Window) throws {
    let n = window.pixelCount
    let reader = worker.reader
    for k in sources.indices {
      let values = worker.inputs[k]
      let whole = UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: values[0..<n]))
      if reader.overlap(k, window) != window { fill(whole, with: DataType.float64.bytes(of: .nan)) }
      _ = try worker.scratch.withUnsafeMutableBytes { scratch in
        try reader.read(k, placedIn: window, bands: [bands[k]], type: .float64, into: whole, scratch: scratch)
      }
      // A pixel equal to its input's nodata takes no part: it becomes NaN, which every formula keeps.
      if let value = nodata[k], !value.isNaN {
        for i in 0..<n where values[i] == value { values[i] = .nan }
      }
      if k < transforms.count, !transforms[k].isIdentity {
        let t = transforms[k]
        for i in 0..<n { values[i] = (values[i] + t.productOffset) / t.quantification * t.scale + t.offset }
      }
    }
    // Masked scene classes: nodata in every formula's inputs.
    if let cloudy, let scl = worker.inputs.last, sources.count > transforms.count {
      for i in 0..<n where Int(checked: scl[i]).map(cloudy.contains) == true {
        for k in transforms.indices { worker.inputs[k][i] = .nan }
      }
    }
    let pointers = worker.inputs.prefix(transforms.count).map { UnsafeBufferPointer(rebasing: $0[0..<n]) }
    let storage = self.storage
    for (f, formula) in formulas.enumerated() {
      worker.result.withUnsafeMutableBufferPointer { result in
        formula.program.evaluate(pointers, count: n, stack: &worker.stack, into: result)
        // Any input missing: nodata, even where a formula would not show it (0 * NaN is NaN, but
        // where(…) could pick another branch).
        for k in formula.reads {
          let v = pointers[k]
          for i in 0..<n where v[i].isNaN { result[i] = .nan }
        }
        // Stored as the output type holds it; valid counts only what GDAL will read as valid.
        var valid = 0, clamped = 0, collisions = 0
        for i in 0..<n {
          let (value, outcome) = storage.store(result[i])
          result[i] = value
          switch outcome {
          case .valid: valid += 1
          case .clamped: valid += 1; clamped += 1
          case .collision: collisions += 1
          case .nodata: break
          }
        }
        worker.valid[f] += valid
        worker.clamped[f] += clamped
        worker.collisions[f] += collisions
      }
      let bytes = type.byteSize
      worker.out.withUnsafeMutableBytes { out in
        let target = UnsafeMutableRawBufferPointer(rebasing: out[(f * n * bytes)..<((f + 1) * n * bytes)])
        worker.result.withUnsafeBufferPointer { result in
          GDALConvert.doubles(UnsafeBufferPointer(rebasing: result[0..<n]), to: type, into: target)
        }
      }
    }
  }
}
