import CGDAL
import Foundation

/// Process-wide GDAL state: driver registration, version, cache and config options.
public enum GDALEnvironment {
  private static let once: Void = {
    GDALAllRegister()
    installStrayErrorHandler()
    WatchedFiles.install()
  }()

  /// Registers the drivers and the error handler once; every entry point calls it.
  public static func bootstrap() { _ = once }

  /// GDAL's release name, e.g. "3.6.2".
  public static var version: String {
    bootstrap()
    return String(cString: GDALVersionInfo("RELEASE_NAME"))
  }

  /// GDAL_CACHEMAX in bytes.
  public static var cacheBytes: Int {
    get { bootstrap(); return Int(GDALGetCacheMax64()) }
    set { bootstrap(); GDALSetCacheMax64(GIntBig(newValue)) }
  }

  /// Sets a configuration option for the whole process (`--config KEY=VALUE`).
  public static func setConfig(_ key: String, _ value: String?) {
    bootstrap()
    CPLSetConfigOption(key, value)
  }

  public static func config(_ key: String) -> String? {
    bootstrap()
    guard let value = CPLGetConfigOption(key, nil) else { return nil }
    return String(cString: value)
  }

  /// Runs `body` with configuration options set on this thread only, restoring the old values after.
  public static func withConfig<T>(_ options: [String: String], _ body: () throws -> T) rethrows -> T {
    bootstrap()
    var previous: [(String, String?)] = []
    for (key, value) in options {
      let old = CPLGetThreadLocalConfigOption(key, nil).map { String(cString: $0) }
      previous.append((key, old))
      CPLSetThreadLocalConfigOption(key, value)
    }
    defer {
      for (key, old) in previous.reversed() { CPLSetThreadLocalConfigOption(key, old) }
    }
    return try body()
  }
}

/// Writes to stdout and stderr that survive a reader going away: a closed pipe (`| head`) is
/// EPIPE, never a crash (SIGPIPE is ignored from the start; see CSystem).
public enum StandardStreams {
  /// Writes all of `text`; returns 0, or the errno of the write that failed (EPIPE, ENOSPC,
  /// EBADF for a closed stream), for callers to whom the text matters.
  @discardableResult
  public static func write(_ text: String, to descriptor: Int32) -> Int32 {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      let written = bytes.withUnsafeBytes { raw -> Int in
        guard let base = raw.baseAddress else { return 0 }
        return Glibc.write(descriptor, base + offset, raw.count - offset)
      }
      if written > 0 { offset += written; continue }
      if written < 0 && errno == EINTR { continue }
      return written < 0 ? errno : EIO
    }
    return 0
  }
}
