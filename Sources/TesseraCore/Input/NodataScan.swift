import Foundation
import GDAL

/// One pass over bands: do any pixels equal the nodata value, and what range do the others span?
struct NodataScan {
  var hasNodataPixel = false
  var min = Double.infinity
  var max = -Double.infinity

  /// The same scan on `threads` workers, each with its own handle on `path`; stops early once any
  /// worker meets a nodata pixel.
  static func scan(path: String, bands: [Int], nodata: Double, threads: Int) throws -> NodataScan {
    let probe = try Dataset.open(path)
    let plan = WindowPlan(band: try probe.band(bands[0]))
    try probe.close()
    let windows = Array(plan)
    let lock = NSLock()
    var merged = NodataScan()
    var failure: Error?
    let workers = Swift.max(1, Swift.min(threads, windows.count))
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      do {
        let dataset = try Dataset.open(path)
        defer { try? dataset.close() }
        var buffer = [Double](repeating: 0, count: plan.windowWidth * plan.windowHeight)
        var local = NodataScan()
        var index = worker
        scanning: while index < windows.count {
          lock.lock(); let stop = merged.hasNodataPixel; lock.unlock()
          if stop { break }
          for b in bands {
            let band = try dataset.band(b)
            try buffer.withUnsafeMutableBufferPointer { try band.read(windows[index], into: $0) }
            for i in 0..<windows[index].pixelCount {
              let v = buffer[i]
              if v == nodata || v.isNaN { local.hasNodataPixel = true; break scanning }
              if v < local.min { local.min = v }
              if v > local.max { local.max = v }
            }
          }
          index += workers
        }
        lock.lock()
        merged.hasNodataPixel = merged.hasNodataPixel || local.hasNodataPixel
        merged.min = Swift.min(merged.min, local.min)
        merged.max = Swift.max(merged.max, local.max)
        lock.unlock()
      } catch {
        lock.lock(); failure = failure ?? error; lock.unlock()
      }
    }
    if let failure { throw failure }
    return merged
  }
}
