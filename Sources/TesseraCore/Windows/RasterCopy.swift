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
  ///   - conversion: `--ot`, when `output`'s bands are of another type than `type`.
  public static func copy(
    source: String, bands: [Int], to output: Dataset, type: DataType, threads: Int, decimation: Decimation? = nil,
    conversion: TypeConversion? = nil, progress: ProgressHandler? = nil
  ) throws {
    let factor = (decimation?.factorX ?? 1) * (decimation?.factorY ?? 1)
    var writer = WindowedWriter<Dataset>(bands: bands.count, type: type, threads: threads,
                                         bytesPerPixel: bands.count * type.byteSize * factor)
    if let conversion {
      writer.conversion = conversion
      let opened = try Dataset.open(source)
      defer { try? opened.close() }
      writer.nodata = try bands.map { try opened.band($0).noDataValue }
    }
    try writer.write(
      to: output, progress: progress,
      makeScratch: { _ in try Dataset.open(source) },
      compute: { window, _, dataset, buffer in
        guard let d = decimation else { return try dataset.read(window, bands: bands, type: type, into: buffer) }
        let footprint = Window(x: window.x * d.factorX, y: window.y * d.factorY,
                               width: window.width * d.factorX, height: window.height * d.factorY)
        try dataset.read(footprint, resampledTo: (window.width, window.height), resampling: d.method, bands: bands,
                         type: type, into: buffer)
      })
  }
}
