import Foundation
import GDAL

struct IndexCounts {
  var valid: [Int] = []
  /// Per index: values an integer output type could not hold, clamped.
  var clamped: [Int] = []
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
  }

  func write(to output: Dataset, threads: Int, progress: ProgressHandler?) throws -> IndexCounts {
    let windows = try WindowPipeline.rows(of: output, bytesPerPixel: (sources.count + formulas.count) * 8)
    let capacity = windows.map(\.pixelCount).max() ?? 0
    let lock = NSLock()
    var counts = IndexCounts(valid: Array(repeating: 0, count: formulas.count), clamped: Array(repeating: 0, count: formulas.count))
    var pipeline = WindowPipeline(windows: windows, workers: threads)
    pipeline.ordered = true
    try pipeline.run(
      makeState: {
        Worker(reader: try CompositeReader(sources),
               inputs: sources.map { _ in UnsafeMutableBufferPointer<Double>.allocate(capacity: Swift.max(1, capacity)) },
               scratch: [UInt8](repeating: 0, count: capacity * 8), result: [Double](repeating: 0, count: capacity),
               out: [UInt8](repeating: 0, count: capacity * formulas.count * type.byteSize),
               valid: Array(repeating: 0, count: formulas.count), clamped: Array(repeating: 0, count: formulas.count))
      },
      compute: { worker, window in try compute(&worker, window) },
      write: { worker, window in
        try worker.out.withUnsafeBytes { try output.write(window, bands: Array(1...formulas.count), type: type, from: $0) }
      },
      progress: progress,
      finish: { worker in
        lock.lock()
        for i in worker.valid.indices { counts.valid[i] += worker.valid[i]; counts.clamped[i] += worker.clamped[i] }
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
    for (f, formula) in formulas.enumerated() {
      worker.result.withUnsafeMutableBufferPointer { result in
        formula.program.evaluate(pointers, count: n, stack: &worker.stack, into: result)
        // Any input missing: nodata, even where a formula would not show it (0 * NaN is NaN, but
        // where(…) could pick another branch).
        for k in formula.reads {
          let v = pointers[k]
          for i in 0..<n where v[i].isNaN { result[i] = .nan }
        }
        var valid = 0
        for i in 0..<n {
          if result[i].isFinite { valid += 1 } else { result[i] = fillValue }
        }
        worker.valid[f] += valid
      }
      let bytes = type.byteSize
      worker.out.withUnsafeMutableBytes { out in
        let base = f * n * bytes
        worker.result.withUnsafeBufferPointer { result in
          if type == .float32 {
            let typed = UnsafeMutableRawBufferPointer(rebasing: out[base..<(base + n * 4)]).bindMemory(to: Float.self)
            for i in 0..<n { typed[i] = Float(result[i]) }
          } else if type != .float64 {
            // Scaled integers: rounded, clamped to the type (counted), nodata kept apart.
            let range = WarpJob.integerRange(type)
            var scaled = [Double](repeating: 0, count: n)
            var clamped = 0
            for i in 0..<n {
              if result[i] == fillValue { scaled[i] = fillValue; continue }
              let v = (result[i] * scale).rounded()
              if v < range.lowerBound || v > range.upperBound { clamped += 1 }
              scaled[i] = Swift.min(Swift.max(v, range.lowerBound), range.upperBound)
            }
            worker.clamped[f] += clamped
            let target = UnsafeMutableRawBufferPointer(rebasing: out[base..<(base + n * bytes)])
            scaled.withUnsafeBufferPointer { GDALConvert.doubles($0, to: type, into: target) }
          } else {
            let typed = UnsafeMutableRawBufferPointer(rebasing: out[base..<(base + n * 8)]).bindMemory(to: Double.self)
            for i in 0..<n { typed[i] = result[i] }
          }
        }
      }
    }
  }
}
