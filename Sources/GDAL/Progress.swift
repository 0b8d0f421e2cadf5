import CGDAL

/// Receives progress from 0 to 1 with GDAL's message; returning false cancels the operation.
public typealias ProgressHandler = (_ fraction: Double, _ message: String?) -> Bool

/// Keeps the Swift closure alive while GDAL holds a raw pointer to it.
private final class ProgressBox {
  let handler: ProgressHandler
  init(_ handler: @escaping ProgressHandler) { self.handler = handler }
}

/// A non-capturing C function GDAL can call; the closure comes back through `data`.
private let progressTrampoline: GDALProgressFunc = { fraction, message, data in
  guard let data else { return 1 }
  let box = Unmanaged<ProgressBox>.fromOpaque(data).takeUnretainedValue()
  let text = message.map { String(cString: $0) }
  return box.handler(fraction, text) ? 1 : 0
}

/// Calls `body` with a GDAL progress function and its argument; both are nil without a handler.
/// The box lives until `body` returns.
func withProgress<T>(
  _ handler: ProgressHandler?, _ body: (GDALProgressFunc?, UnsafeMutableRawPointer?) throws -> T
) rethrows -> T {
  guard let handler else { return try body(nil, nil) }
  let box = Unmanaged.passRetained(ProgressBox(handler))
  defer { box.release() }
  return try body(progressTrampoline, box.toOpaque())
}

public enum Progress {
  /// Splits one handler into consecutive steps weighted by `weights`: step i reports its own 0…1
  /// as its share of the whole. nil handlers for nil.
  public static func steps(_ weights: [Double], _ handler: ProgressHandler?) -> [ProgressHandler?] {
    guard let handler else { return weights.map { _ in nil } }
    let total = weights.reduce(0, +)
    var start = 0.0
    return weights.map { weight in
      let offset = start / total, share = weight / total
      start += weight
      return { fraction, message in handler(offset + share * min(1, max(0, fraction)), message) }
    }
  }
}
