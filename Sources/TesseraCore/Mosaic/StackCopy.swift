import Foundation
import GDAL

/// The stack of inputs that share one grid, window by window on every thread: each output band
/// is its input's band where the input reaches, and the input's nodata (else 0) elsewhere, as
/// a VRT of gdalbuildvrt -separate reads.
struct StackCopy {
  /// Each output band's source, the band read from it, and its fill.
  let sources: [(source: PlacedSource, band: Int, fill: Double)]
  let type: DataType

  struct Worker {
    var reader: CompositeReader
    var values: [UInt8]
    var scratch: [UInt8]
  }

  func write(to output: Dataset, threads: Int, progress: ProgressHandler?) throws {
    let bytes = type.byteSize, count = sources.count
    let windows = try WindowPipeline.rows(of: output, bytesPerPixel: count * bytes)
    let capacity = windows.map(\.pixelCount).max() ?? 0
    let fills = sources.map { type.bytes(of: $0.fill) }
    var pipeline = WindowPipeline(windows: windows, workers: threads)
    pipeline.ordered = true
    try pipeline.run(
      makeState: {
        Worker(reader: try CompositeReader(sources.map(\.source)), values: [UInt8](repeating: 0, count: capacity * count * bytes),
               scratch: [UInt8](repeating: 0, count: capacity * bytes))
      },
      compute: { worker, window in
        let n = window.pixelCount
        let reader = worker.reader
        for (k, entry) in sources.enumerated() {
          try worker.values.withUnsafeMutableBytes { all in
            let band = UnsafeMutableRawBufferPointer(rebasing: all[(k * n * bytes)..<((k + 1) * n * bytes)])
            if reader.overlap(k, window) != window { fill(band, with: fills[k]) }
            _ = try worker.scratch.withUnsafeMutableBytes { scratch in
              try reader.read(k, placedIn: window, bands: [entry.band], type: type, into: band, scratch: scratch)
            }
          }
        }
      },
      write: { worker, window in
        try worker.values.withUnsafeBytes { try output.write(window, bands: Array(1...count), type: type, from: $0) }
        // The window's blocks go to the file now, band after band: left to the cache, their
        // order in the file (and so the file's bytes) would depend on GDAL's compression threads.
        try output.flush()
      },
      progress: progress,
      finish: { $0.reader.close() })
  }
}
