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

  func write(to output: Dataset, threads: Int, conversion: TypeConversion? = nil, progress: ProgressHandler?) throws {
    var writer = WindowedWriter<[UInt8]>(bands: bands.count, type: type, threads: threads, sources: placements.map(\.source))
    writer.conversion = conversion
    writer.nodata = Array(repeating: fill, count: bands.count)
    try writer.write(
      to: output, progress: progress,
      makeScratch: { [UInt8](repeating: 0, count: $0 * bands.count * type.byteSize) },
      compute: { window, reader, scratch, values in try compose(window, reader, &scratch, into: values) })
  }

  private func compose(_ window: Window, _ reader: CompositeReader, _ scratch: inout [UInt8],
                       into values: UnsafeMutableRawBufferPointer) throws {
    switch type {
    case .byte: try compose(window, reader, &scratch, into: values, as: UInt8.self)
    case .int8: try compose(window, reader, &scratch, into: values, as: Int8.self)
    case .uint16: try compose(window, reader, &scratch, into: values, as: UInt16.self)
    case .int16: try compose(window, reader, &scratch, into: values, as: Int16.self)
    case .uint32: try compose(window, reader, &scratch, into: values, as: UInt32.self)
    case .int32: try compose(window, reader, &scratch, into: values, as: Int32.self)
    case .uint64: try compose(window, reader, &scratch, into: values, as: UInt64.self)
    case .int64: try compose(window, reader, &scratch, into: values, as: Int64.self)
    case .float32: try compose(window, reader, &scratch, into: values, as: Float.self)
    case .float64: try compose(window, reader, &scratch, into: values, as: Double.self)
    default: throw TesseraError(.internalError, "aligned compositing has no path for \(type.rawValue)")
    }
  }

  private func compose<T: RasterScalar & Comparable>(
    _ window: Window, _ reader: CompositeReader, _ scratch: inout [UInt8], into values: UnsafeMutableRawBufferPointer,
    as: T.Type
  ) throws {
    let n = window.pixelCount
    let bandCount = bands.count
    let fillValue = T(rasterValue: fill)
    let dst = values.bindMemory(to: T.self)
    for i in 0..<(n * bandCount) { dst[i] = fillValue }
    // In order: later sources are drawn over earlier ones.
    for (index, place) in placements.enumerated() {
      guard let part = reader.overlap(index, window) else { continue }
      let x0 = part.x, y0 = part.y
      try scratch.withUnsafeMutableBytes { try reader.read(index, part, bands: bands, type: type, into: $0) }
      let nodata = place.nodata.map { T(rasterValue: $0) }
      let nodataIsNaN = place.nodata?.isNaN ?? false
      scratch.withUnsafeBytes { srcRaw in
        let src = srcRaw.bindMemory(to: T.self)
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
