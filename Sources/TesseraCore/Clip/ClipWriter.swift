import Foundation
import GDAL

/// Writes a clip window by window on every thread: the source's values where the window
/// overlaps it, then the fill value wherever a pixel is outside the region or the source.
struct ClipWriter {
  let job: ClipJob

  /// A worker's own buffers, besides the window's values.
  struct Scratch {
    var pixels: [UInt8]
    /// 1 where the region covers the pixel (before the source's footprint is considered).
    var region: [UInt8]
    var alpha: [UInt8]
    /// This worker's copy of the polygons: GDAL's geometries are not shared between threads.
    let shape: Geometry?
    var inside = 0
  }

  func write(into dataset: Dataset, progress: ProgressHandler?) throws -> Int {
    let n = job.bands.count, bytes = job.type.byteSize
    let fills = job.fill.map { job.type.bytes(of: $0) }
    var writer = WindowedWriter<Scratch>(
      bands: n, type: job.type, threads: job.request.resources.threads,
      sources: [PlacedSource(path: job.source.path, window: job.sourceWindow)], bytesPerPixel: n * bytes * 2 + 2)
    writer.conversion = job.request.output.conversion
    writer.nodata = job.fill
    let workers = try writer.write(
      to: dataset, progress: progress,
      makeScratch: { capacity in
        Scratch(pixels: [UInt8](repeating: 0, count: capacity * n * bytes), region: [UInt8](repeating: 0, count: capacity),
                alpha: [UInt8](repeating: 0, count: capacity), shape: try job.shape?.clone())
      },
      compute: { window, reader, scratch, values in try compose(window, reader, &scratch, into: values, fills: fills) },
      written: { window, scratch, _ in
        if job.request.addAlpha {
          try scratch.alpha.withUnsafeBytes { try dataset.write(window, bands: [n + 1], type: .byte, from: $0) }
        }
      })
    return workers.reduce(0) { $0 + $1.inside }
  }

  private func compose(_ window: Window, _ reader: CompositeReader, _ worker: inout Scratch,
                       into values: UnsafeMutableRawBufferPointer, fills: [[UInt8]]) throws {
    let n = window.pixelCount, bytes = job.type.byteSize, bandCount = job.bands.count
    // A window wholly inside the source and the box (every window of a cropped --bbox clip) is
    // the source's pixels as they are: read straight into place.
    if reader.overlap(0, window) == window, let box = job.boxWindow, window.intersection(box) == window {
      try reader.read(0, window, bands: job.bands, type: job.type, into: values)
      if job.request.addAlpha { for i in 0..<n { worker.alpha[i] = 255 } }
      worker.inside += n
      return
    }
    // Every pixel starts as the fill; the source's pixels are copied over it.
    for b in 0..<bandCount {
      fill(UnsafeMutableRawBufferPointer(rebasing: values[(b * n * bytes)..<((b + 1) * n * bytes)]), with: fills[b])
    }
    let part = try worker.pixels.withUnsafeMutableBytes { scratch in
      try reader.read(0, placedIn: window, bands: job.bands, type: job.type, into: values, scratch: scratch)
    }
    try regionMask(&worker, window)
    // Outside the region or the source: the fill, and transparent under an alpha band.
    var inside = 0
    for y in 0..<window.height {
      for x in 0..<window.width {
        let i = y * window.width + x
        let inSource = part.map { x + window.x >= $0.x && x + window.x < $0.x + $0.width && y + window.y >= $0.y && y + window.y < $0.y + $0.height } ?? false
        let keep = inSource && worker.region[i] != 0
        worker.alpha[i] = keep ? 255 : 0
        if keep { inside += 1; continue }
        for b in 0..<bandCount { for k in 0..<bytes { values[(b * n + i) * bytes + k] = fills[b][k] } }
      }
    }
    worker.inside += inside
  }

  /// 1 where the region covers each pixel of `window`: a box's pixels, or the polygons burnt
  /// into a MEM raster of the window by GDAL's rasterizer (pixel centres, or all touched).
  private func regionMask(_ worker: inout Scratch, _ window: Window) throws {
    let n = window.pixelCount
    if let box = job.boxWindow {
      for y in 0..<window.height {
        for x in 0..<window.width {
          let gx = x + window.x, gy = y + window.y
          worker.region[y * window.width + x] = gx >= box.x && gx < box.x + box.width && gy >= box.y && gy < box.y + box.height ? 1 : 0
        }
      }
      return
    }
    guard let shape = worker.shape else {
      for i in 0..<n { worker.region[i] = 1 }
      return
    }
    let grid = job.output, touched = job.request.allTouched
    try worker.region.withUnsafeMutableBytes { try ClipJob.burn(shape, grid: grid, window: window, allTouched: touched, into: $0) }
  }
}
