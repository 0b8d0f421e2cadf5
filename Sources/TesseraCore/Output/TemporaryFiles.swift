import CSystem
import Foundation

/// Temporary outputs alive in this process, so a signal handler can remove them.
public final class TemporaryFiles: @unchecked Sendable {
  public static let shared = TemporaryFiles()
  private let lock = NSRecursiveLock()
  private var paths: Set<String> = []
  private var folders: [String] = []
  /// Each path's slot in csystem.c's list, which a crash handler removes.
  private var crashSlots: [String: Int32] = [:]

  public func register(_ path: String) {
    lock.lock(); defer { lock.unlock() }
    paths.insert(path)
    if crashSlots[path] == nil { crashSlots[path] = tessera_crash_cleanup_add(path) }
  }

  func unregisterLocked(_ path: String) {
    lock.lock(); defer { lock.unlock() }
    forget(path)
  }

  private func forget(_ path: String) {
    paths.remove(path)
    if let slot = crashSlots.removeValue(forKey: path) { tessera_crash_cleanup_remove(slot) }
  }

  /// Removes one temporary file with its sidecars.
  public func remove(_ path: String) {
    lock.lock(); defer { lock.unlock() }
    for (_, file) in OutputTarget.existingFiles(for: path) { unlink(file) }
    forget(path)
  }

  /// Removes every registered file, then every folder the run created for its outputs (empty
  /// by then); called on SIGINT/SIGTERM/SIGHUP. Commits cannot interleave with it.
  public func removeAll() {
    lock.lock(); defer { lock.unlock() }
    for path in paths {
      for (_, file) in OutputTarget.existingFiles(for: path) { unlink(file) }
    }
    for path in paths { forget(path) }
    for folder in folders { rmdir(folder) }
    folders.removeAll()
  }

  /// A folder the run created to hold its outputs (`clip --each-feature -o DIR`): removed if
  /// the run fails or is interrupted before its outputs are in it.
  func registerFolder(_ path: String) {
    lock.lock(); defer { lock.unlock() }
    folders.append(path)
  }

  /// Removes a registered folder (rmdir: only if empty).
  func removeFolder(_ path: String) {
    lock.lock(); defer { lock.unlock() }
    rmdir(path)
    folders.removeAll { $0 == path }
  }

  /// The run succeeded: the folder stays.
  func keepFolder(_ path: String) {
    lock.lock(); defer { lock.unlock() }
    folders.removeAll { $0 == path }
  }

  public var registered: [String] {
    lock.lock(); defer { lock.unlock() }
    return Array(paths)
  }

  func whileHeld<T>(_ body: () throws -> T) rethrows -> T {
    lock.lock(); defer { lock.unlock() }
    return try body()
  }
}
