import Foundation
import GDAL

/// Writes an output window by window on several threads, in raster order: the one scaffold of
/// every compositor. It plans the windows, gives each worker a `CompositeReader` over `sources`,
/// a buffer for a window's values and a scratch of the compositor's own, writes each computed
/// window to bands 1...`bands` of the output, reports progress (a cancelled progress stops the
/// run) and hands back every worker's scratch, in worker order, for the compositor to add up.
///
/// The compositor supplies only what is its own: its scratch, and the computation of a window's
/// values (band after band, `window.pixelCount` pixels each, in `type`).
struct WindowedWriter<Scratch> {
  /// The output bands written from a window's values, and the values' type.
  let bands: Int
  let type: DataType
  let threads: Int
  /// What every worker reads, each through a reader of its own.
  var sources: [PlacedSource] = []
  /// A worker's bytes per output pixel, for sizing windows; nil: the window's values alone.
  var bytesPerPixel: Int?
  var targetBytes = 1 << 22
  /// Whole rows of blocks however wide (see `WindowPipeline.rows`).
  var wholeRows = false
  /// `--ot`: the output's bands are of another type, into which GDAL converts the values as it
  /// writes them; what the type cannot hold is counted here, each band's `nodata` (in the
  /// values' terms) skipped.
  var conversion: TypeConversion?
  var nodata: [Double?] = []

  init(bands: Int, type: DataType, threads: Int, sources: [PlacedSource] = [], bytesPerPixel: Int? = nil) {
    self.bands = bands
    self.type = type
    self.threads = threads
    self.sources = sources
    self.bytesPerPixel = bytesPerPixel
  }

  private struct Worker {
    let reader: CompositeReader
    var values: [UInt8]
    var scratch: Scratch
  }

  /// - Parameters:
  ///   - makeScratch: a worker's own buffers and counts, for windows of at most `capacity` pixels
  ///     (called on the worker's thread).
  ///   - compute: fills `values` with a window's values (runs concurrently with other workers).
  ///   - written: what else a written window needs (runs alone, in window order, after the write).
  /// - Returns: each worker's scratch, in worker order (a worker with no window makes none).
  @discardableResult
  func write(
    to output: Dataset, progress: ProgressHandler?,
    makeScratch: (_ capacity: Int) throws -> Scratch,
    compute: (_ window: Window, _ reader: CompositeReader, _ scratch: inout Scratch,
              _ values: UnsafeMutableRawBufferPointer) throws -> Void,
    written: ((_ window: Window, _ scratch: Scratch, _ values: UnsafeRawBufferPointer) throws -> Void)? = nil
  ) throws -> [Scratch] {
    let pixelBytes = bands * type.byteSize
    let windows = try WindowPipeline.rows(of: output, bytesPerPixel: bytesPerPixel ?? pixelBytes, targetBytes: targetBytes,
                                          wholeRows: wholeRows)
    let capacity = windows.map(\.pixelCount).max() ?? 0
    let outputBands = Array(1...bands)
    let lock = NSLock()
    var finished: [(worker: Int, scratch: Scratch)] = []
    try WindowPipeline(windows: windows, workers: threads).run(
      makeState: {
        Worker(reader: try CompositeReader(sources), values: [UInt8](repeating: 0, count: capacity * pixelBytes),
               scratch: try makeScratch(capacity))
      },
      compute: { worker, window in
        let reader = worker.reader
        try worker.values.withUnsafeMutableBytes { try compute(window, reader, &worker.scratch, $0) }
        countClamped(worker.values, window)
      },
      write: { worker, window in
        try worker.values.withUnsafeBytes { values in
          try output.write(window, bands: outputBands, type: type, from: values)
          try written?(window, worker.scratch, values)
        }
      },
      progress: progress,
      finish: { index, worker in
        worker.reader.close()
        lock.lock()
        finished.append((index, worker.scratch))
        lock.unlock()
      })
    return finished.sorted { $0.worker < $1.worker }.map(\.scratch)
  }

  private func countClamped(_ values: [UInt8], _ window: Window) {
    guard let conversion else { return }
    let n = window.pixelCount, bytes = n * type.byteSize
    values.withUnsafeBytes { all in
      for b in 0..<bands {
        let band = UnsafeRawBufferPointer(rebasing: all[(b * bytes)..<((b + 1) * bytes)])
        conversion.count(band, of: type, count: n, nodata: b < nodata.count ? nodata[b] : nil)
      }
    }
  }
}
