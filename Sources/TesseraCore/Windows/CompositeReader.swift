import Foundation
import GDAL

/// A raster placed on an output grid, as the compositors read it: a file every worker opens on
/// its own, or a MEM dataset (which lives only in its handle) that workers share under a lock.
final class PlacedSource {
  enum Storage {
    case file(String)
    case shared(Dataset)
  }

  let storage: Storage
  /// The source's pixels on the output grid: its first pixel's offset and its size.
  let window: Window
  private let lock = NSLock()

  init(path: String, window: Window) {
    storage = .file(path)
    self.window = window
  }

  init(shared dataset: Dataset, window: Window) {
    storage = .shared(dataset)
    self.window = window
  }

  /// Runs `body` under this source's lock: GDAL handles are not shared between threads unlocked.
  func locked<T>(_ body: () throws -> T) rethrows -> T {
    lock.lock()
    defer { lock.unlock() }
    return try body()
  }
}

/// One worker's reader over placed sources, and reads of the part of an output window each
/// source covers. Every compositor (and band math) reads its inputs through one of these, one
/// per worker of a `WindowedWriter`. File sources are read through handles of the shared
/// `DatasetPool`, by file (the bands of one multi-band file stacked as separate sources share
/// them), so a run holds no more files open than `ulimit -n` allows however many inputs it has.
struct CompositeReader {
  let sources: [PlacedSource]
  private let pool = DatasetPool.shared

  init(_ sources: [PlacedSource]) throws {
    self.sources = sources
  }

  /// Runs `body` on source `k`'s dataset: a pooled handle of its file, or the shared dataset
  /// under its lock.
  private func withSource<T>(_ k: Int, _ body: (Dataset) throws -> T) throws -> T {
    switch sources[k].storage {
    case .file(let path): return try pool.with(path, body)
    case .shared(let dataset): return try sources[k].locked { try body(dataset) }
    }
  }

  /// The part of output window `window` that source `k` covers, in output pixels; nil if none.
  func overlap(_ k: Int, _ window: Window) -> Window? { window.intersection(sources[k].window) }

  /// Reads `part` (output pixels, inside source `k`) of `bands` as `type`, band after band.
  func read(_ k: Int, _ part: Window, bands: [Int], type: DataType, into buffer: UnsafeMutableRawBufferPointer) throws {
    let local = part.relative(to: sources[k].window)
    try withSource(k) { try $0.read(local, bands: bands, type: type, into: buffer) }
  }

  /// Reads what source `k` has of output window `window` into `buffer`, laid out as the whole
  /// window (band after band, `window.pixelCount` pixels each): straight in when the source
  /// covers the window, else through `scratch` row by row. Pixels the source does not reach are
  /// left as they were. Returns the part read, in output pixels (nil: none).
  @discardableResult
  func read(_ k: Int, placedIn window: Window, bands: [Int], type: DataType, into buffer: UnsafeMutableRawBufferPointer,
            scratch: UnsafeMutableRawBufferPointer) throws -> Window? {
    guard let part = overlap(k, window) else { return nil }
    if part == window {
      try read(k, window, bands: bands, type: type, into: buffer)
      return part
    }
    try read(k, part, bands: bands, type: type, into: scratch)
    let bytes = type.byteSize, rowBytes = part.width * bytes, n = window.pixelCount
    for b in bands.indices {
      for row in 0..<part.height {
        let s = (b * part.pixelCount + row * part.width) * bytes
        let d = (b * n + (part.y - window.y + row) * window.width + (part.x - window.x)) * bytes
        UnsafeMutableRawBufferPointer(rebasing: buffer[d..<(d + rowBytes)])
          .copyMemory(from: UnsafeRawBufferPointer(rebasing: scratch[s..<(s + rowBytes)]))
      }
    }
    return part
  }

  /// Reads one band's values and GDAL's validity mask for it (nodata, alpha and footprint alike:
  /// 0 is invalid) over `part`; a band without a mask reads as all valid.
  func readValid(_ k: Int, _ part: Window, band: Int, values: UnsafeMutableBufferPointer<Double>,
                 mask: UnsafeMutableBufferPointer<UInt8>) throws {
    let local = part.relative(to: sources[k].window)
    func read(_ dataset: Dataset) throws {
      let b = try dataset.band(band)
      try b.read(local, into: values)
      if let maskBand = b.maskBand {
        try maskBand.read(local, into: mask)
      } else {
        for i in 0..<local.pixelCount { mask[i] = 255 }
      }
    }
    try withSource(k, read)
  }

  /// Closes the idle handles of these sources' files: the run is done with them (and a file
  /// rewritten later is read afresh).
  func close() {
    var paths = Set<String>()
    for source in sources { if case .file(let path) = source.storage { paths.insert(path) } }
    pool.closeIdle(paths)
  }
}

/// Fills `buffer` with copies of one pixel's bytes (a nodata value in the output type).
func fill(_ buffer: UnsafeMutableRawBufferPointer, with pixel: [UInt8]) {
  if pixel.allSatisfy({ $0 == pixel[0] }) {
    buffer.initializeMemory(as: UInt8.self, repeating: pixel[0])
  } else {
    for i in 0..<(buffer.count / pixel.count) { for k in pixel.indices { buffer[i * pixel.count + k] = pixel[k] } }
  }
}
