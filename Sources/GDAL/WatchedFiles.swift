import CVSIWatch
import Foundation

/// Files GDAL writes through `/vsiwatch`: the real file, with every failed write, flush, seek,
/// truncate or close remembered with the operating system's reason. A failure on a watched
/// path is the writer's fault by the system's own account (disk full, file too large, I/O
/// error), not by the wording of a driver's message.
public enum WatchedFiles {
  /// The failure remembered for a watched file.
  public struct Failure: Equatable, Sendable, CustomStringConvertible {
    public let errorNumber: Int32
    /// open, write, flush, seek, truncate, close or read.
    public let operation: String
    /// The real path.
    public let path: String

    public var reason: String { String(cString: strerror(errorNumber)) }
    /// The file could not be created at all (as opposed to failing part way).
    public var isCreation: Bool { operation == "open" }
    public var description: String { "\(operation) \(path): \(reason)" }
  }

  /// The name GDAL is given for the absolute path `path`.
  public static func path(_ path: String) -> String {
    GDALEnvironment.bootstrap()
    precondition(path.hasPrefix("/"), "watched paths are absolute")
    return VSI_WATCH_PREFIX + path
  }

  /// The real path behind a watched name (other names come back unchanged).
  public static func realPath(_ name: String) -> String {
    name.hasPrefix(VSI_WATCH_PREFIX + "/") ? String(name.dropFirst(VSI_WATCH_PREFIX.count)) : name
  }

  /// Replaces watched names in GDAL's messages with the real paths.
  public static func unwatched(_ text: String) -> String {
    text.replacingOccurrences(of: VSI_WATCH_PREFIX + "/", with: "/")
  }

  /// The first failure on a real path that starts with `prefix` (a file and its sidecars).
  public static func failure(under prefix: String) -> Failure? {
    var record = vsi_watch_failure()
    guard vsi_watch_failure_under(prefix, &record) != 0 else { return nil }
    let operation = withUnsafeBytes(of: record.operation) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    let path = withUnsafeBytes(of: record.path) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    return Failure(errorNumber: record.error_number, operation: operation, path: path)
  }

  /// Forgets the failures under `prefix` (when its file is given up).
  public static func forget(under prefix: String) {
    vsi_watch_forget(prefix)
  }

  static func install() { vsi_watch_install() }
}
