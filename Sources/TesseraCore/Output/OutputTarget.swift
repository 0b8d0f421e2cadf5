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
  /// The name GDAL writes the output's pixels through: watched, so a failed write is known to be
  /// this output's (see `WatchedFiles`). The temporary file, or for a format written by a final
  /// copy (`copyAtEnd`), the GTiff staged beside it.
  public private(set) var gdalPath: String
  /// The driver and creation options of the final copy from the staged GTiff, if any.
  private var finalCopy: FinalCopy?
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
  /// `.ige` is HFA's spill file of a large `.img`, named by replacing the extension (see `sidecar`).
  static let sidecarSuffixes = [".aux.xml", ".ovr", ".msk", ".ovr.aux.xml", ".ovr.tmp", ".msk.ovr.tmp", ".ige"]

  /// Sidecars named by replacing the raster's extension rather than adding to it, with the
  /// extension of the rasters that have them.
  static let replacingSuffixes: [String: String] = [".ige": "img"]

  /// The path of `base`'s sidecar `suffix` (`base` itself for ""). GDAL's HFA driver finds the
  /// `.ige` beside an `.img` by this name even when the `.img` was renamed after writing. Beside
  /// any other raster a replacing suffix is only appended, so a stranger's `x.ige` is never
  /// taken for `x.tif`'s.
  static func sidecar(_ base: String, _ suffix: String) -> String {
    let ext = (base as NSString).pathExtension
    guard let owner = replacingSuffixes[suffix], ext.lowercased() == owner else { return base + suffix }
    return String(base.dropLast(ext.count + 1)) + suffix
  }

  /// The folder `path` is in, as it was given (`.` for a bare name).
  static func folder(of path: String) -> String {
    let folder = (path as NSString).deletingLastPathComponent
    return folder.isEmpty ? "." : folder
  }

  /// Why the folder `path` is in cannot hold it, naming the folder that is missing as it was
  /// given: the first missing one of its ancestors, or one that is a file.
  static func missingFolder(of path: String) -> String {
    let wanted = folder(of: path)
    var missing = wanted
    while true {
      let parent = folder(of: missing)
      var isDirectory: ObjCBool = false
      if parent == missing || FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory) {
        if parent != missing, !isDirectory.boolValue { return "\(parent) is a file, not a folder" }
        break
      }
      missing = parent
    }
    if FileManager.default.fileExists(atPath: missing) { return "\(missing) is not a folder" }
    return missing == wanted ? "folder \(missing) does not exist" : "folder \(missing) does not exist (nor \(wanted))"
  }

  /// Checks the output before any work starts.
  /// - Parameters:
  ///   - inputs: every file the command reads (see `InputFiles`); the output may be none of them.
  ///   - inputLabel: how messages name the input whose data failed to read (one input's path).
  /// - Throws: exit 64 if the path names a directory (ends in `/`), is `-`, exists and is not a
  ///   regular file or a link to one (see `OutputPlace`), or resolves to one of `inputs` (or a
  ///   sidecar of one); exit 73 if it exists without `overwrite`, or its directory is missing or
  ///   not writable.
  init(path: String, inputs: [String], overwrite: Bool, inputLabel: String? = nil) throws {
    guard !path.isEmpty else { throw TesseraError(.usage, "the output path is empty") }
    if path.hasSuffix("/") {
      throw TesseraError(.usage, "output \(path) ends in '/', which names a directory; give a file name")
    }
    try OutputPlace.check(path)
    let url = URL(fileURLWithPath: path).standardizedFileURL
    finalPath = url.path
    self.overwrite = overwrite
    self.inputLabel = inputLabel
    let directory = url.deletingLastPathComponent().path
    try BatchProtection.refuse(output: finalPath)

    let resolvedOutput = OutputTarget.resolved(finalPath)
    for input in inputs {
      let resolvedInput = OutputTarget.resolved(input)
      if resolvedInput == resolvedOutput
        || OutputTarget.sidecarSuffixes.contains(where: { OutputTarget.sidecar(resolvedInput, $0) == resolvedOutput })
        || OutputTarget.sameFile(input, finalPath)
      {
        throw TesseraError(.usage, "output \(path) is one of the files this command reads (\(input)); choose another output path")
      }
    }
    // A link to a regular file is replaced by the new file, never written through; anything
    // else that is not a regular file was refused above.
    if OutputTarget.exists(finalPath), !overwrite {
      throw TesseraError(.cannotCreate, "output \(path) exists; pass --overwrite to replace it")
    }
    // A sidecar left by an earlier file of that name would be read as the new output's (its CRS,
    // nodata, statistics): it is replaced only with --overwrite, like the raster.
    let destination = finalPath
    if !overwrite, let stale = OutputTarget.sidecarSuffixes.first(where: { OutputTarget.exists(destination + $0) }) {
      throw TesseraError(.cannotCreate, "\(path + stale) exists and GDAL would read it as the new output's; remove it or pass --overwrite")
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw TesseraError(.cannotCreate, "cannot create \(path): \(OutputTarget.missingFolder(of: path))")
    }
    guard access(directory, W_OK | X_OK) == 0 else {
      throw TesseraError(.cannotCreate, "cannot create \(path): folder \(OutputTarget.folder(of: path)) is not writable")
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
      let path = sidecar(base, suffix)
      return FileManager.default.fileExists(atPath: path) ? (suffix, path) : nil
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

  /// Moves the finished file and its sidecars into place, as `commitAll` does for several.
  public func commit() throws {
    try OutputTarget.commitAll([self])
  }

  /// Removes the temporary file and any sidecars; the old output, if any, stays as it was.
  public func abort() {
    guard !finished else { return }
    finished = true
    TemporaryFiles.shared.remove(temporaryPath)
    WatchedFiles.forget(under: temporaryPath)
    removeScratch()
  }

  // MARK: - Formats written by a final copy

  /// Makes the output a final copy through `driver` of a GTiff the command writes at `gdalPath`
  /// beside it (for a driver that only copies, and for every format but GTiff, so all commands
  /// write one way). The stage is a scratch file: it goes with the run either way.
  func copyAtEnd(driver: String, options: [String]) {
    finalCopy = FinalCopy(driver: driver, options: options)
    gdalPath = scratchFile("stage.tif")
  }

  /// Copies the finished stage into the output's format and drops the stage.
  private func copyStage() throws {
    try finalCopy?.copy(stage: WatchedFiles.unwatched(gdalPath), into: temporaryPath, for: finalPath, unmasked: failures.unmasked)
  }

  // MARK: - Whose fault

  /// What a failure while writing this output means for the user (see `FailureClassifier`).
  public func classify(_ error: Error) -> TesseraError {
    failures.classify(error)
  }

  private var failures: FailureClassifier {
    FailureClassifier(finalPath: finalPath, temporaryPath: temporaryPath, scratchPrefix: scratchPrefix, inputLabel: inputLabel)
  }

  /// Finishes one output: runs the work that writes it, fails on any failure GDAL reported
  /// meanwhile (even on a worker thread, where it leaves no other trace), and commits. Any
  /// failure removes the partial file and is classified by `classify`.
  public func write<T>(_ body: () throws -> T) throws -> T {
    let value = try fill(body)
    try OutputTarget.finishAll([self])
    return value
  }

  /// Commits filled outputs together (`commitAll`); on failure every one of them is removed,
  /// and the old files are as they were.
  public static func finishAll(_ targets: [OutputTarget]) throws {
    do {
      try commitAll(targets)
    } catch {
      let classified = targets.first?.classify(error) ?? TesseraError.from(error)
      targets.forEach { $0.abort() }
      throw classified
    }
  }

  /// `write` without the commit, for outputs committed together (all or nothing): the
  /// temporary file is complete when this returns, or gone.
  public func fill<T>(_ body: () throws -> T) throws -> T {
    let mark = GDALFailures.shared.mark
    do {
      let value = try body()
      try GDALFailures.shared.check(since: mark, context: "reading")
      try copyStage()
      return value
    } catch {
      let classified = classify(error)
      abort()
      throw classified
    }
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

// MARK: - Committing

extension OutputTarget {
  /// Moves finished outputs into place together: all of them, or none. With `overwrite` each
  /// old output and its sidecars are first moved aside, under a hidden name in their folder; the
  /// new files are moved in; only then are the old ones dropped. A failure at any point removes
  /// what was moved in and moves every old file back: a rollback removes only what this run
  /// created. Without `overwrite` nothing is ever replaced: a file that appeared under an
  /// output's name meanwhile is exit 73, and it and every other file stay as they were. On
  /// failure the temporary files stay for the caller to abort.
  public static func commitAll(_ targets: [OutputTarget]) throws {
    let pending = targets.filter { !$0.finished }
    guard !pending.isEmpty else { return }
    // Held throughout, so a signal's cleanup never runs between the moves.
    try TemporaryFiles.shared.whileHeld {
      var moves = CommitMoves()
      do {
        let produced = try pending.map { try $0.producedFiles() }
        for target in pending where target.overwrite { try moves.setAside(target.finalPath) }
        for (target, files) in zip(pending, produced) { try moves.moveIn(files, to: target.finalPath) }
      } catch {
        moves.rollBack()
        throw error
      }
      moves.dropSetAside()
      for target in pending {
        target.finished = true
        TemporaryFiles.shared.unregisterLocked(target.temporaryPath)
        RunLedger.committed(target.finalPath)
      }
    }
    for target in pending {
      WatchedFiles.forget(under: target.temporaryPath)
      target.removeScratch()
    }
  }

  /// The files GDAL left for this output, the raster first (its sidecars mean nothing without
  /// it). Without `overwrite`, exit 73 when one of them would replace a file.
  private func producedFiles() throws -> [(suffix: String, path: String)] {
    guard FileManager.default.fileExists(atPath: temporaryPath) else {
      throw TesseraError(.ioError, "writing \(finalPath): GDAL produced no file")
    }
    let produced = OutputTarget.existingFiles(for: temporaryPath).sorted { $0.suffix.count < $1.suffix.count }
    if !overwrite, let taken = produced.first(where: { $0.suffix != "" && OutputTarget.exists(OutputTarget.sidecar(finalPath, $0.suffix)) }) {
      throw TesseraError(.cannotCreate, "\(OutputTarget.sidecar(finalPath, taken.suffix)) exists; pass --overwrite to replace it")
    }
    return produced
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

  /// Whether two existing paths are one file under two names (a hard link): same device and inode.
  static func sameFile(_ a: String, _ b: String) -> Bool {
    var first = stat(), second = stat()
    guard stat(a, &first) == 0, stat(b, &second) == 0 else { return false }
    return first.st_dev == second.st_dev && first.st_ino == second.st_ino
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
