import Foundation
import GDAL

/// The stack of inputs that share one grid, window by window on every thread: each output band
/// is its input's band where the input reaches, and the input's nodata (else 0) elsewhere, as
/// a VRT of gdalbuildvrt -separate reads.
struct StackCopy {
  /// Each output band's source, the band read from it, and its fill.
  let sources: [(source: PlacedSource, band: Int, fill: Double)]
  let type: DataType

  func write(to output: Dataset, threads: Int, conversion: TypeConversion? = nil, progress: ProgressHandler?) throws {
    let bytes = type.byteSize
    let fills = sources.map { type.bytes(of: $0.fill) }
    var writer = WindowedWriter<[UInt8]>(bands: sources.count, type: type, threads: threads, sources: sources.map(\.source))
    writer.conversion = conversion
    writer.nodata = sources.map(\.fill)
    try writer.write(
      to: output, progress: progress,
      makeScratch: { [UInt8](repeating: 0, count: $0 * bytes) },
      compute: { window, reader, scratch, values in
        let n = window.pixelCount
        for (k, entry) in sources.enumerated() {
          let band = UnsafeMutableRawBufferPointer(rebasing: values[(k * n * bytes)..<((k + 1) * n * bytes)])
          if reader.overlap(k, window) != window { fill(band, with: fills[k]) }
          _ = try scratch.withUnsafeMutableBytes { scratch in
            try reader.read(k, placedIn: window, bands: [entry.band], type: type, into: band, scratch: scratch)
          }
        }
      },
      written: { _, _, _ in
        // The window's blocks go to the file now, band after band: left to the cache, their
        // order in the file (and so the file's bytes) would depend on GDAL's compression threads.
        try output.flush()
      })
  }
}
