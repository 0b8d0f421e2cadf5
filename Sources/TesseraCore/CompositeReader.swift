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

  /// Runs `body` on a shared dataset under its lock: GDAL handles are not shared between
  /// threads unlocked.
  func withShared<T>(_ body: (Dataset) throws -> T) rethrows -> T? {
    guard case .shared(let dataset) = storage else { return nil }
    lock.lock()
    defer { lock.unlock() }
    return try body(dataset)
  }
}

/// One worker's reader over placed sources: its own handle on each file source, and reads of
/// the part of an output window each source covers. Every compositor (and band math) reads its
/// inputs through one of these, one per worker of a `WindowPipeline`.
struct CompositeReader {
  let sources: [PlacedSource]
  private var handles: [Dataset?]

  init(_ sources: [PlacedSource]) throws {
    self.sources = sources
    // One handle per file, shared by every source that reads it (the bands of one multi-band
    // file stacked as separate sources): a handle per source would open an N-band file N
    // times, memory and time growing with the square of N.
    var opened: [String: Dataset] = [:]
    handles = try sources.map { source in
      guard case .file(let path) = source.storage else { return nil }
      if let dataset = opened[path] { return dataset }
      let dataset = try Dataset.open(path)
      opened[path] = dataset
      return dataset
    }
  }

  /// The part of output window `window` that source `k` covers, in output pixels; nil if none.
  func overlap(_ k: Int, _ window: Window) -> Window? { window.intersection(sources[k].window) }

  /// Reads `part` (output pixels, inside source `k`) of `bands` as `type`, band after band.
  func read(_ k: Int, _ part: Window, bands: [Int], type: DataType, into buffer: UnsafeMutableRawBufferPointer) throws {
    let local = part.relative(to: sources[k].window)
    if let handle = handles[k] {
      try handle.read(local, bands: bands, type: type, into: buffer)
    } else {
      try sources[k].withShared { try $0.read(local, bands: bands, type: type, into: buffer) }
    }
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
    if let handle = handles[k] { try read(handle) } else { try sources[k].withShared(read) }
  }

  /// Closes this worker's handles.
  func close() {
    for handle in handles { try? handle?.close() }
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
