import Foundation
import GDAL

/// Copies a raster GDAL can read (typically a VRT that composes many files) into an open output,
/// reading on several threads at once and writing in order.
///
/// GDAL's own translate reads, decompresses and composites on one thread while GTiff compresses on
/// others; here reading is spread over `threads` workers, each with its own handle on `source`,
/// so decompression and compression both use every core.
public enum RasterCopy {
  /// Whole-factor downsampling on the way: each output pixel is a `factorX` x `factorY` footprint
  /// of the source, combined by GDAL's RasterIO resampling (`method`: average, mode, ...).
  public struct Decimation: Sendable {
    public let factorX: Int, factorY: Int
    public let method: String
  }

  /// - Parameters:
  ///   - source: a path each worker opens on its own (a `/vsimem/` VRT, closed before this call).
  ///   - output: the dataset written, with `bands.count` bands of `type`.
  ///   - decimation: when set, the output is the source downsampled by whole factors.
  public static func copy(
    source: String, bands: [Int], to output: Dataset, type: DataType, threads: Int, decimation: Decimation? = nil,
    progress: ProgressHandler? = nil
  ) throws {
    let factor = (decimation?.factorX ?? 1) * (decimation?.factorY ?? 1)
    let windows = try WindowPipeline.rows(of: output, bytesPerPixel: bands.count * type.byteSize * factor)
    let outputBands = Array(1...bands.count)
    let capacity = (windows.map(\.pixelCount).max() ?? 0) * bands.count * type.byteSize
    struct Reader { let dataset: Dataset; var buffer: [UInt8] }
    var pipeline = WindowPipeline(windows: windows, workers: threads)
    pipeline.ordered = true
    try pipeline.run(
      makeState: { Reader(dataset: try Dataset.open(source), buffer: [UInt8](repeating: 0, count: capacity)) },
      compute: { reader, window in
        let dataset = reader.dataset
        try reader.buffer.withUnsafeMutableBytes { buffer in
          guard let d = decimation else { return try dataset.read(window, bands: bands, type: type, into: buffer) }
          let footprint = Window(x: window.x * d.factorX, y: window.y * d.factorY,
                                 width: window.width * d.factorX, height: window.height * d.factorY)
          try dataset.read(footprint, resampledTo: (window.width, window.height), resampling: d.method, bands: bands,
                           type: type, into: buffer)
        }
      },
      write: { reader, window in
        try reader.buffer.withUnsafeBytes { try output.write(window, bands: outputBands, type: type, from: $0) }
      },
      progress: progress)
  }
}
