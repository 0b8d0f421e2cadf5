import Foundation
import GDAL

/// Composes inputs that sit on the output grid at whole-pixel offsets, with the same resolution:
/// the common case of tiles cut from one grid (Sentinel-2 MGRS tiles, quadrants of a scene).
///
/// It gives exactly what a VRT from gdalbuildvrt gives — later sources drawn over earlier ones,
/// a source's nodata pixels never drawn, the VRT's nodata where no source reaches — but reads
/// each source window straight from its file and merges rows in Swift, where the VRT's general
/// source machinery costs as much CPU as decompressing the inputs.
struct AlignedComposite {
  struct Placement {
    let source: PlacedSource
    /// Pixels equal to this are not drawn; nil draws everything in the footprint.
    let nodata: Double?
  }

  let placements: [Placement]
  let bands: [Int]
  let type: DataType
  /// What output pixels no source reaches hold.
  let fill: Double

  /// The placements, or nil when any input is not on the grid (then the VRT path is used).
  static func plan(sources: [Dataset], grid: Grid, bands: [Int], srcNodata: NodataSetting) throws -> [Placement]? {
    var placements: [Placement] = []
    for source in sources {
      guard let window = grid.placement(of: source) else { return nil }
      // Only nodata or no mask: per-dataset masks and alpha bands take the VRT path.
      let kinds = try bands.map { try source.band($0).maskKind }
      guard kinds.allSatisfy({ $0 == .allValid || $0 == .nodata }) else { return nil }
      let bandNodata = try bands.map { try source.band($0).noDataValue }
      guard Set(bandNodata.map { $0.map { $0.isNaN ? "nan" : "\($0)" } ?? "none" }).count == 1 else { return nil }
      let nodata = srcNodata.resolved(inherited: bandNodata[0])
      placements.append(Placement(source: PlacedSource(path: source.path, window: window), nodata: nodata))
    }
    return placements
  }

  struct Worker {
    var reader: CompositeReader
    var window: [UInt8]
    var scratch: [UInt8]
  }

  func write(to output: Dataset, threads: Int, progress: ProgressHandler?) throws {
    let bytes = type.byteSize
    let windows = try WindowPipeline.rows(of: output, bytesPerPixel: bands.count * bytes)
    let capacity = (windows.map(\.pixelCount).max() ?? 0) * bands.count * bytes
    let outputBands = Array(1...bands.count)
    var pipeline = WindowPipeline(windows: windows, workers: threads)
    pipeline.ordered = true
    try pipeline.run(
      makeState: {
        Worker(reader: try CompositeReader(placements.map(\.source)),
               window: [UInt8](repeating: 0, count: capacity), scratch: [UInt8](repeating: 0, count: capacity))
      },
      compute: { worker, window in try compose(&worker, window) },
      write: { worker, window in
        try worker.window.withUnsafeBytes { try output.write(window, bands: outputBands, type: type, from: $0) }
      },
      progress: progress,
      finish: { $0.reader.close() })
  }

  private func compose(_ worker: inout Worker, _ window: Window) throws {
    switch type {
    case .byte: try compose(&worker, window, as: UInt8.self)
    case .int8: try compose(&worker, window, as: Int8.self)
    case .uint16: try compose(&worker, window, as: UInt16.self)
    case .int16: try compose(&worker, window, as: Int16.self)
    case .uint32: try compose(&worker, window, as: UInt32.self)
    case .int32: try compose(&worker, window, as: Int32.self)
    case .uint64: try compose(&worker, window, as: UInt64.self)
    case .int64: try compose(&worker, window, as: Int64.self)
    case .float32: try compose(&worker, window, as: Float.self)
    case .float64: try compose(&worker, window, as: Double.self)
    default: throw TesseraError(.internalError, "aligned compositing has no path for \(type.rawValue)")
    }
  }

  private func compose<T: RasterScalar & Comparable>(_ worker: inout Worker, _ window: Window, as: T.Type) throws {
    let n = window.pixelCount
    let bandCount = bands.count
    let fillValue = T(rasterValue: fill)
    worker.window.withUnsafeMutableBytes { raw in
      let out = raw.bindMemory(to: T.self)
      for i in 0..<(n * bandCount) { out[i] = fillValue }
    }
    // In order: later sources are drawn over earlier ones.
    for (index, place) in placements.enumerated() {
      guard let part = worker.reader.overlap(index, window) else { continue }
      let x0 = part.x, y0 = part.y
      let reader = worker.reader
      try worker.scratch.withUnsafeMutableBytes { try reader.read(index, part, bands: bands, type: type, into: $0) }
      let nodata = place.nodata.map { T(rasterValue: $0) }
      let nodataIsNaN = place.nodata?.isNaN ?? false
      worker.scratch.withUnsafeBytes { srcRaw in
        worker.window.withUnsafeMutableBytes { dstRaw in
          let src = srcRaw.bindMemory(to: T.self), dst = dstRaw.bindMemory(to: T.self)
          for b in 0..<bandCount {
            for row in 0..<part.height {
              let s = b * part.pixelCount + row * part.width
              let d = b * n + (y0 - window.y + row) * window.width + (x0 - window.x)
              if let nodata {
                for i in 0..<part.width {
                  let v = src[s + i]
                  if nodataIsNaN ? !v.isNaNValue : v != nodata { dst[d + i] = v }
                }
              } else {
                for i in 0..<part.width { dst[d + i] = src[s + i] }
              }
            }
          }
        }
      }
    }
  }
}
