import CSystem
import Foundation
import GDAL

/// Where a command writes. Work goes to a hidden temporary file in the output's directory and is
/// moved into place only on success, so a failed or interrupted run never leaves a partial
/// output; without `--overwrite` the move never replaces a file, even one that appeared while
/// the command ran.
public final class OutputTarget {
  /// The path the user asked for.
  public let finalPath: String
  /// The real path of the temporary file; same directory as `finalPath`.
  public let temporaryPath: String
  /// The name GDAL writes the temporary file through: watched, so a failed write is known to be
  /// this output's (see `WatchedFiles`).
  public let gdalPath: String
  public let overwrite: Bool
  /// The inputs as the user named them, for messages about them.
  let inputLabel: String?
  /// Where this output's scratch files go (`scratchFile`): beside the output, sharing the
  /// temporary file's token, so a failed write to one is known to be this output's.
  private let scratchPrefix: String
  private var scratchFiles: [String] = []
  /// Staging threads ask for scratch files at the same time (merge-memfile's disk staging).
  private let scratchLock = NSLock()
  private var finished = false

  /// The sidecars GDAL may write beside a raster; they move and vanish with it.
  /// (The COG driver stages overviews in `.ovr.tmp` and `.msk.ovr.tmp` files beside its output.)
  static let sidecarSuffixes = [".aux.xml", ".ovr", ".msk", ".ovr.aux.xml", ".ovr.tmp", ".msk.ovr.tmp"]

  /// Checks the output before any work starts.
  /// - Parameters:
  ///   - inputs: every file the command reads (see `InputFiles`); the output may be none of them.
  ///   - inputLabel: how messages name the input whose data failed to read (one input's path).
  /// - Throws: exit 64 if the path names a directory (ends in `/`) or resolves to one of
  ///   `inputs` (or a sidecar of one); exit 73 if it exists without `overwrite`, is not a regular
  ///   file, or its directory is missing or not writable.
  init(path: String, inputs: [String], overwrite: Bool, inputLabel: String? = nil) throws {
    guard !path.isEmpty else { throw TesseraError(.usage, "the output path is empty") }
    if path.hasSuffix("/") {
      throw TesseraError(.usage, "output \(path) ends in '/', which names a directory; give a file name")
    }
    let url = URL(fileURLWithPath: path).standardizedFileURL
    finalPath = url.path
    self.overwrite = overwrite
    self.inputLabel = inputLabel
    let directory = url.deletingLastPathComponent().path

    let resolvedOutput = OutputTarget.resolved(finalPath)
    for input in inputs {
      let resolvedInput = OutputTarget.resolved(input)
      if resolvedInput == resolvedOutput
        || OutputTarget.sidecarSuffixes.contains(where: { resolvedInput + $0 == resolvedOutput })
      {
        throw TesseraError(.usage, "output \(path) is one of the files this command reads (\(input)); choose another output path")
      }
    }
    var status = stat()
    if lstat(finalPath, &status) == 0 {
      let kind = status.st_mode & S_IFMT
      if kind == S_IFDIR { throw TesseraError(.cannotCreate, "output \(path) is a directory") }
      if !overwrite { throw TesseraError(.cannotCreate, "output \(path) exists; pass --overwrite to replace it") }
      // A link is replaced by the new file, never written through; anything else that is not a
      // file (a FIFO, a device) is no place for a raster.
      if kind != S_IFREG && kind != S_IFLNK {
        throw TesseraError(.cannotCreate, "output \(path) exists and is not a regular file")
      }
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw TesseraError(.cannotCreate, "cannot create \(path): directory \(directory) does not exist")
    }
    guard access(directory, W_OK | X_OK) == 0 else {
      throw TesseraError(.cannotCreate, "cannot create \(path): directory \(directory) is not writable")
    }
    // A short name of fixed length, whatever the output's: a name near the file system's limit
    // must still leave room for it (and for the sidecars GDAL derives from it).
    let ext = url.pathExtension
    let keptExtension = !ext.isEmpty && ext.utf8.count <= 8 ? "." + ext : ""
    let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    temporaryPath = directory + "/.tessera-" + token + keptExtension
    scratchPrefix = directory + "/.tessera-" + token + "-"
    gdalPath = WatchedFiles.path(temporaryPath)
    TemporaryFiles.shared.register(temporaryPath)
    RunLedger.openedOutput(final: finalPath, temporary: temporaryPath, scratchPrefix: scratchPrefix, inputs: inputs)
  }

  /// A scratch file for work on the way to this output (staged bands, an intermediate raster),
  /// in the output's directory: the name GDAL writes it through (watched), removed with its
  /// sidecars when the output is committed or aborted, or on a signal.
  func scratchFile(_ name: String) -> String {
    let path = scratchPrefix + name
    TemporaryFiles.shared.register(path)
    scratchLock.lock()
    scratchFiles.append(path)
    scratchLock.unlock()
    return WatchedFiles.path(path)
  }

  /// A scratch file as the file system names it, for a program other than GDAL (ffmpeg's log).
  func scratchFilePath(_ name: String) -> String {
    WatchedFiles.unwatched(scratchFile(name))
  }

  private func removeScratch() {
    scratchLock.lock()
    let paths = scratchFiles
    scratchFiles = []
    scratchLock.unlock()
    for path in paths { TemporaryFiles.shared.remove(path) }
    WatchedFiles.forget(under: scratchPrefix)
  }

  deinit { if !finished { abort() } }

  /// The files GDAL actually left for `base`: the raster and whichever sidecars exist.
  static func existingFiles(for base: String) -> [(suffix: String, path: String)] {
    ([""] + sidecarSuffixes).compactMap { suffix in
      FileManager.default.fileExists(atPath: base + suffix) ? (suffix, base + suffix) : nil
    }
  }

  /// Writes `data` as the whole temporary file (for reports and other text outputs).
  public func writeContents(_ data: Data) throws {
    guard let handle = FileHandle(forWritingAtPath: temporaryPath)
      ?? (FileManager.default.createFile(atPath: temporaryPath, contents: nil) ? FileHandle(forWritingAtPath: temporaryPath) : nil)
    else {
      throw TesseraError(.cannotCreate, "cannot create \(finalPath): \(String(cString: strerror(errno)))")
    }
    do {
      try handle.write(contentsOf: data)
      try handle.synchronize()
      try handle.close()
    } catch {
      try? handle.close()
      throw TesseraError(.ioError, "writing \(finalPath) failed: \(error.localizedDescription)")
    }
  }

  /// Moves the finished file and its sidecars into place. With `overwrite` an old output and
  /// its sidecars are replaced; without it nothing is ever replaced: a file that appeared under
  /// the output's name meanwhile is exit 73, and both it and the inputs stay as they are.
  public func commit() throws {
    guard !finished else { return }
    try TemporaryFiles.shared.whileHeld {
      guard FileManager.default.fileExists(atPath: temporaryPath) else {
        throw TesseraError(.ioError, "writing \(finalPath): GDAL produced no file")
      }
      let produced = OutputTarget.existingFiles(for: temporaryPath)
      if overwrite {
        for suffix in OutputTarget.sidecarSuffixes where FileManager.default.fileExists(atPath: finalPath + suffix) {
          try? FileManager.default.removeItem(atPath: finalPath + suffix)
        }
      } else if let taken = produced.first(where: { $0.suffix != "" && OutputTarget.exists(finalPath + $0.suffix) }) {
        throw TesseraError(.cannotCreate, "\(finalPath + taken.suffix) exists; pass --overwrite to replace it")
      }
      // The raster first: its sidecars mean nothing without it.
      for (suffix, path) in produced.sorted(by: { $0.suffix.count < $1.suffix.count }) {
        let destination = finalPath + suffix
        let moved = overwrite ? rename(path, destination) : OutputTarget.renameNoReplace(path, destination)
        if moved != 0 {
          let code = errno
          if suffix != "" {
            // The raster is in place; a sidecar that cannot follow it (one appeared meanwhile)
            // is dropped rather than written over.
            unlink(path)
            continue
          }
          if code == EEXIST {
            throw TesseraError(.cannotCreate, "\(destination) appeared while this command ran; it was left as it is and nothing was written (pass --overwrite to replace it)")
          }
          throw TesseraError(.ioError, "moving the finished file to \(destination): \(String(cString: strerror(code)))")
        }
      }
      finished = true
      TemporaryFiles.shared.unregisterLocked(temporaryPath)
      RunLedger.committed(finalPath)
    }
    WatchedFiles.forget(under: temporaryPath)
    removeScratch()
  }

  /// Removes the temporary file and any sidecars; the old output, if any, stays as it was.
  public func abort() {
    guard !finished else { return }
    finished = true
    TemporaryFiles.shared.remove(temporaryPath)
    WatchedFiles.forget(under: temporaryPath)
    removeScratch()
  }

  // MARK: - Whose fault

  /// What a failure while writing this output means for the user, decided by where it came
  /// from: the operating system's report on the output's own file (73 when it could not be
  /// created, 74 when writing it failed), a call made on the output dataset (74), a user
  /// interrupt (130); anything else failed while reading the inputs (65).
  public func classify(_ error: Error) -> TesseraError {
    if let failure = WatchedFiles.failure(under: scratchPrefix) {
      let code: ExitStatus = failure.isCreation ? .cannotCreate : .ioError
      return TesseraError(code, "writing the temporary file \(failure.path) for \(finalPath) failed: \(failure.reason)")
    }
    if let failure = WatchedFiles.failure(under: temporaryPath) {
      // The failing file may be a sidecar GDAL writes on the way (the COG driver's temporary
      // overviews); to the user it is this output that could not be written.
      if failure.isCreation {
        return TesseraError(.cannotCreate, "cannot create \(finalPath): \(failure.reason)")
      }
      return TesseraError(.ioError, "writing \(finalPath) failed: \(failure.reason)")
    }
    switch error {
    case let error as GDALError:
      if error.isUserInterrupt { return TesseraError(.interrupted, "interrupted") }
      let text = unmasked(error.message)
      if let dataset = error.dataset, WatchedFiles.realPath(dataset) == temporaryPath || dataset == temporaryPath {
        return TesseraError(.ioError, TesseraError.oneLine("writing \(finalPath) failed: \(text)"))
      }
      if error.isOutOfMemory { return TesseraError(.osError, TesseraError.oneLine("out of memory: \(text)")) }
      if error.isOpenFailure, let reason = SystemLimits.descriptorRefusal() {
        return TesseraError(.osError, TesseraError.oneLine("\(reason): \(text)"))
      }
      // A file an input refers to (a VRT's source) could not be opened: an input is missing.
      let status: ExitStatus = error.isOpenFailure ? .noInput : .dataError
      if let dataset = error.dataset {
        return TesseraError(status, TesseraError.oneLine(OutputTarget.naming(dataset, text)))
      }
      return TesseraError(status, TesseraError.oneLine(inputLabel.map { OutputTarget.naming($0, text) } ?? text))
    case let error as TesseraError:
      return TesseraError(error.status, unmasked(error.message))
    default:
      return TesseraError.from(error)
    }
  }

  /// GDAL's text with the names it was given for this output replaced by the user's path.
  private func unmasked(_ text: String) -> String {
    WatchedFiles.unwatched(text).replacingOccurrences(of: temporaryPath, with: finalPath)
  }

  /// `file: message`, unless GDAL's message names the file already.
  static func naming(_ file: String, _ message: String) -> String {
    let name = (file as NSString).lastPathComponent
    return message.contains(name) ? message : "\(file): \(message)"
  }

  /// Finishes one output: runs the work that writes it, fails on any failure GDAL reported
  /// meanwhile (even on a worker thread, where it leaves no other trace), and commits. Any
  /// failure removes the partial file and is classified by `classify`.
  public func write<T>(_ body: () throws -> T) throws -> T {
    let value = try fill(body)
    do {
      try commit()
    } catch {
      let classified = classify(error)
      abort()
      throw classified
    }
    return value
  }

  /// `write` without the commit, for outputs committed together (all or nothing): the
  /// temporary file is complete when this returns, or gone.
  public func fill<T>(_ body: () throws -> T) throws -> T {
    let mark = GDALFailures.shared.mark
    do {
      let value = try body()
      try GDALFailures.shared.check(since: mark, context: "reading")
      return value
    } catch {
      let classified = classify(error)
      abort()
      throw classified
    }
  }

  /// Removes a committed output again (a later output of the same all-or-nothing batch failed).
  func withdraw() {
    for (_, file) in OutputTarget.existingFiles(for: finalPath) { unlink(file) }
  }

  // MARK: - File system

  static func exists(_ path: String) -> Bool {
    var status = stat()
    return lstat(path, &status) == 0
  }

  /// rename(2) that fails with EEXIST instead of replacing.
  static func renameNoReplace(_ from: String, _ to: String) -> Int32 {
    tessera_rename_noreplace(from, to)
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

  /// Removes every registered file; called on SIGINT/SIGTERM/SIGHUP. Commits cannot interleave with it.
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

  /// Refuses two outputs of one run that are the same file (a report over the raster);
  /// `targets` pairs each with how the user named it ("the output", "--report").
  static func requireDistinct(_ targets: [(role: String, target: OutputTarget)]) throws {
    var seen: [String: String] = [:]
    for (role, target) in targets {
      let key = resolved(target.finalPath)
      if let other = seen[key] {
        throw TesseraError(.usage, "\(role) \(target.finalPath) is the same file as \(other); give each output its own path")
      }
      seen[key] = role
    }
  }
}
