import Foundation
import GDAL

struct IndexCounts {
  var valid: [Int] = []
  /// Per index: values an integer output type could not hold, clamped.
  var clamped: [Int] = []
  /// Per index: results that, as stored, equal the nodata value, so GDAL reads them as nodata.
  var collisions: [Int] = []

  init(formulas: Int = 0) {
    valid = Array(repeating: 0, count: formulas)
    clamped = valid
    collisions = valid
  }

  mutating func add(_ other: IndexCounts) {
    for i in valid.indices {
      valid[i] += other.valid[i]
      clamped[i] += other.clamped[i]
      collisions[i] += other.collisions[i]
    }
  }
}

/// How a computed value is stored in the output type: non-finite results (after conversion, so
/// a double past Float32's range too) are nodata; integers are scaled, rounded and clamped to a
/// range that leaves the nodata value out when it lies at the type's edge; a result that lands
/// on the nodata value anyway is counted apart, never as valid.
struct IndexStorage {
  /// The type the user asked for (Int8 is written as GDAL 3.6's signed Byte).
  let type: DataType
  let fill: Double
  /// GDAL's scale and offset of the output: (result − offset) / scale is stored.
  let scale: Double
  let offset: Double
  /// For integer types: the values a result may be clamped to.
  let clampRange: ClosedRange<Double>

  init(type: DataType, fill: Double, scale: Double = 1, offset: Double = 0) {
    self.type = type
    self.fill = fill
    self.scale = scale
    self.offset = offset
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

  /// Stored values (already rounded and clamped for integers) into the output's buffer: Int8 as
  /// the bytes of GDAL 3.6's signed Byte, the others as GDAL converts them.
  static func pack(_ values: UnsafeBufferPointer<Double>, as type: DataType, into out: UnsafeMutableRawBufferPointer) {
    guard type == .int8 else { return GDALConvert.doubles(values, to: type, into: out) }
    for (i, value) in values.enumerated() { out[i] = UInt8(bitPattern: Int8(saturating: value, rounding: .toNearestOrAwayFromZero)) }
  }

  /// The value as the output type holds it (as a double), and what it is.
  func store(_ computed: Double) -> (Double, Outcome) {
    let result = scale == 1 && offset == 0 ? computed : (computed - offset) / scale
    guard result.isFinite else { return (fill, .nodata) }
    switch type {
    case .float64:
      return result == fill ? (fill, .collision) : (result, .valid)
    case .float32:
      let f = Float(result)
      guard f.isFinite else { return (fill, .nodata) }
      return f == Float(fill) ? (fill, .collision) : (Double(f), .valid)
    default:
      // Halves away from zero, as GDAL rounds.
      let v = result.rounded(.toNearestOrAwayFromZero)
      guard v.isFinite else { return (fill, .nodata) }
      let c = Swift.min(Swift.max(v, clampRange.lowerBound), clampRange.upperBound)
      if c == fill { return (fill, .collision) }
      return (c, c == v ? .valid : .clamped)
    }
  }
}

/// The window loop: every input's values as doubles; a pixel that is nodata (or NaN) in an
/// input a formula reads is nodata in its band, and so is a result that is not a finite number.
extension DataType {
  /// The type GDAL 3.6 writes this one as: Int8 is a Byte band with PIXELTYPE=SIGNEDBYTE.
  var stored: DataType { self == .int8 ? .byte : self }
}

struct IndexEngine {
  let sources: [PlacedSource]
  let bands: [Int]
  let nodata: [Double?]
  /// value = (DN + productOffset) / quantification × scale + offset: a Sentinel-2 product's
  /// reflectance conversion (exact where DN + offset is 0), then the user's --input-scale/offset.
  struct Transform {
    let productOffset: Double, quantification: Double, scale: Double, offset: Double
    var isIdentity: Bool { productOffset == 0 && quantification == 1 && scale == 1 && offset == 0 }

    func apply(_ value: Double) -> Double { (value + productOffset) / quantification * scale + offset }
  }

  let transforms: [Transform]
  let formulas: [SpectralIndex.Formula]
  /// How results are stored in the output's type.
  let storage: IndexStorage
  var type: DataType { storage.type }
  /// Scene classes that are nodata (the SCL input, after the formulas' inputs).
  let cloudy: Set<Int>?

  /// Each input's values for a window, as doubles: the formulas read them through pointers.
  final class InputValues {
    let buffers: [UnsafeMutableBufferPointer<Double>]

    init(inputs: Int, capacity: Int) {
      buffers = (0..<inputs).map { _ in UnsafeMutableBufferPointer<Double>.allocate(capacity: Swift.max(1, capacity)) }
    }

    deinit { buffers.forEach { $0.deallocate() } }
  }

  /// A worker's own buffers and counts.
  struct Scratch {
    let inputs: InputValues
    var pixels: [UInt8]
    var result: [Double]
    var stack: [[Double]] = []
    var counts: IndexCounts
  }

  func write(to output: Dataset, threads: Int, progress: ProgressHandler?) throws -> IndexCounts {
    let writer = WindowedWriter<Scratch>(bands: formulas.count, type: type.stored, threads: threads, sources: sources,
                                         bytesPerPixel: (sources.count + formulas.count) * 8)
    let workers = try writer.write(
      to: output, progress: progress,
      makeScratch: { capacity in
        Scratch(inputs: InputValues(inputs: sources.count, capacity: capacity), pixels: [UInt8](repeating: 0, count: capacity * 8),
                result: [Double](repeating: 0, count: capacity), counts: IndexCounts(formulas: formulas.count))
      },
      compute: { window, reader, scratch, values in try compute(window, reader, &scratch, into: values) })
    var counts = IndexCounts(formulas: formulas.count)
    for worker in workers { counts.add(worker.counts) }
    return counts
  }

  private func compute(_ window: Window, _ reader: CompositeReader, _ worker: inout Scratch,
                       into out: UnsafeMutableRawBufferPointer) throws {
    let n = window.pixelCount
    let inputs = worker.inputs.buffers
    for k in sources.indices {
      let values = inputs[k]
      let whole = UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: values[0..<n]))
      if reader.overlap(k, window) != window { fill(whole, with: DataType.float64.bytes(of: .nan)) }
      _ = try worker.pixels.withUnsafeMutableBytes { scratch in
        try reader.read(k, placedIn: window, bands: [bands[k]], type: .float64, into: whole, scratch: scratch)
      }
      // A pixel equal to its input's nodata takes no part: it becomes NaN, which every formula keeps.
      if let value = nodata[k], !value.isNaN {
        for i in 0..<n where values[i] == value { values[i] = .nan }
      }
      if k < transforms.count, !transforms[k].isIdentity {
        let t = transforms[k]
        for i in 0..<n { values[i] = t.apply(values[i]) }
      }
    }
    // Masked scene classes: nodata in every formula's inputs.
    if let cloudy, let scl = inputs.last, sources.count > transforms.count {
      for i in 0..<n where Int(checked: scl[i]).map(cloudy.contains) == true {
        for k in transforms.indices { inputs[k][i] = .nan }
      }
    }
    let pointers = inputs.prefix(transforms.count).map { UnsafeBufferPointer(rebasing: $0[0..<n]) }
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
        worker.counts.valid[f] += valid
        worker.counts.clamped[f] += clamped
        worker.counts.collisions[f] += collisions
      }
      let bytes = type.stored.byteSize
      let target = UnsafeMutableRawBufferPointer(rebasing: out[(f * n * bytes)..<((f + 1) * n * bytes)])
      worker.result.withUnsafeBufferPointer { result in
        IndexStorage.pack(UnsafeBufferPointer(rebasing: result[0..<n]), as: type, into: target)
      }
    }
  }
}
