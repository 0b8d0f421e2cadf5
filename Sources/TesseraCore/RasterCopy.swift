import Foundation
import GDAL

/// Copies a raster GDAL can read (typically a VRT that composes many files) into an open output,
/// reading on several threads at once and writing in order.
///
/// GDAL's own translate reads, decompresses and composites on one thread while GTiff compresses on
/// others; here reading is spread over `threads` workers, each with its own handle on `source`,
/// so decompression and compression both use every core.
public enum RasterCopy {
  /// - Parameters:
  ///   - source: a path each worker opens on its own (a `/vsimem/` VRT, closed before this call).
  ///   - output: the dataset written, with `bands.count` bands of `type`.
  public static func copy(
    source: String, bands: [Int], to output: Dataset, type: DataType, threads: Int, progress: ProgressHandler? = nil
  ) throws {
    let windows = try WindowPipeline.rows(of: output, bytesPerPixel: bands.count * type.byteSize)
    let outputBands = Array(1...bands.count)
    let capacity = (windows.map(\.pixelCount).max() ?? 0) * bands.count * type.byteSize
    struct Reader { let dataset: Dataset; var buffer: [UInt8] }
    var pipeline = WindowPipeline(windows: windows, workers: threads)
    pipeline.ordered = false
    try pipeline.run(
      makeState: { Reader(dataset: try Dataset.open(source), buffer: [UInt8](repeating: 0, count: capacity)) },
      compute: { reader, window in
        let dataset = reader.dataset
        try reader.buffer.withUnsafeMutableBytes { try dataset.read(window, bands: bands, type: type, into: $0) }
      },
      write: { reader, window in
        try reader.buffer.withUnsafeBytes { try output.write(window, bands: outputBands, type: type, from: $0) }
      },
      progress: progress)
  }
}
