import Foundation

/// Where a command writes. Work goes to a hidden temporary file in the output's directory and is
/// renamed into place only on success, so a failed or interrupted run never leaves a partial output.
public final class OutputTarget {
  /// The path the user asked for.
  public let finalPath: String
  /// The path GDAL writes to; same directory and extension as `finalPath`.
  public let temporaryPath: String
  private var finished = false

  /// The sidecars GDAL may write beside a raster; they move and vanish with it.
  /// (The COG driver stages overviews in `.ovr.tmp` and `.msk.ovr.tmp` files beside its output.)
  static let sidecarSuffixes = [".aux.xml", ".ovr", ".msk", ".ovr.aux.xml", ".ovr.tmp", ".msk.ovr.tmp"]

  /// Checks the output before any work starts.
  /// - Throws: exit 73 if it exists without `overwrite` or its directory is not writable;
  ///   exit 64 if it resolves to one of `inputs` (or a sidecar of one).
  public init(path: String, inputs: [String], overwrite: Bool) throws {
    let url = URL(fileURLWithPath: path).standardizedFileURL
    finalPath = url.path
    let directory = url.deletingLastPathComponent().path
    let fm = FileManager.default

    let resolvedOutput = OutputTarget.resolved(finalPath)
    for input in inputs {
      let resolvedInput = OutputTarget.resolved(input)
      if resolvedInput == resolvedOutput
        || OutputTarget.sidecarSuffixes.contains(where: { resolvedInput + $0 == resolvedOutput })
      {
        throw TesseraError(.usage, "output \(path) is one of the inputs; choose another output path")
      }
    }
    var isDirectory: ObjCBool = false
    if fm.fileExists(atPath: finalPath, isDirectory: &isDirectory) {
      if isDirectory.boolValue { throw TesseraError(.cannotCreate, "output \(path) is a directory") }
      if !overwrite { throw TesseraError(.cannotCreate, "output \(path) exists; pass --overwrite to replace it") }
    }
    guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw TesseraError(.cannotCreate, "cannot create \(path): directory \(directory) does not exist")
    }
    guard fm.isWritableFile(atPath: directory) else {
      throw TesseraError(.cannotCreate, "cannot create \(path): directory \(directory) is not writable")
    }
    let name = url.lastPathComponent
    let ext = url.pathExtension
    let stem = ext.isEmpty ? name : String(name.dropLast(ext.count + 1))
    let token = UUID().uuidString.prefix(8).lowercased()
    temporaryPath = directory + "/." + stem + ".tessera-" + token + (ext.isEmpty ? "" : "." + ext)
    TemporaryFiles.shared.register(temporaryPath)
  }

  deinit { if !finished { abort() } }

  /// The files GDAL actually left for `base`: the raster and whichever sidecars exist.
  static func existingFiles(for base: String) -> [(suffix: String, path: String)] {
    ([""] + sidecarSuffixes).compactMap { suffix in
      FileManager.default.fileExists(atPath: base + suffix) ? (suffix, base + suffix) : nil
    }
  }

  /// Moves the finished file and its sidecars into place, replacing an old output's sidecars too.
  public func commit() throws {
    guard !finished else { return }
    try TemporaryFiles.shared.whileHeld {
      guard FileManager.default.fileExists(atPath: temporaryPath) else {
        throw TesseraError(.ioError, "writing \(finalPath): GDAL produced no file")
      }
      for suffix in OutputTarget.sidecarSuffixes where FileManager.default.fileExists(atPath: finalPath + suffix) {
        try? FileManager.default.removeItem(atPath: finalPath + suffix)
      }
      for (suffix, path) in OutputTarget.existingFiles(for: temporaryPath) {
        // rename(2) replaces atomically within one directory.
        if rename(path, finalPath + suffix) != 0 {
          let reason = String(cString: strerror(errno))
          throw TesseraError(.ioError, "moving the finished file to \(finalPath + suffix): \(reason)")
        }
      }
      finished = true
      TemporaryFiles.shared.unregisterLocked(temporaryPath)
    }
  }

  /// Removes the temporary file and any sidecars; the old output, if any, stays as it was.
  public func abort() {
    guard !finished else { return }
    finished = true
    TemporaryFiles.shared.remove(temporaryPath)
  }
}

/// Temporary outputs alive in this process, so a signal handler can remove them.
public final class TemporaryFiles: @unchecked Sendable {
  public static let shared = TemporaryFiles()
  private let lock = NSRecursiveLock()
  private var paths: Set<String> = []

  public func register(_ path: String) {
    lock.lock(); defer { lock.unlock() }
    paths.insert(path)
  }

  func unregisterLocked(_ path: String) {
    lock.lock(); defer { lock.unlock() }
    paths.remove(path)
  }

  /// Removes one temporary file with its sidecars.
  public func remove(_ path: String) {
    lock.lock(); defer { lock.unlock() }
    for (_, file) in OutputTarget.existingFiles(for: path) { unlink(file) }
    paths.remove(path)
  }

  /// Removes every registered file; called on SIGINT/SIGTERM. Commits cannot interleave with it.
  public func removeAll() {
    lock.lock(); defer { lock.unlock() }
    for path in paths {
      for (_, file) in OutputTarget.existingFiles(for: path) { unlink(file) }
    }
    paths.removeAll()
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

extension OutputTarget {
  /// The real path, following symlinks, so `./a.tif`, `a.tif` and a link to it compare equal.
  static func resolved(_ path: String) -> String {
    let standardized = URL(fileURLWithPath: path).standardizedFileURL.path
    guard let real = realpath(standardized, nil) else {
      // Not there yet: resolve the directory, keep the name.
      let url = URL(fileURLWithPath: standardized)
      let dir = url.deletingLastPathComponent().path
      guard let realDir = realpath(dir, nil) else { return standardized }
      defer { free(realDir) }
      return String(cString: realDir) + "/" + url.lastPathComponent
    }
    defer { free(real) }
    return String(cString: real)
  }
}
