import Foundation

/// A batch's work folder, and what in it the batch made. A batch only ever removes what a batch
/// made, so it marks what it makes: the folder holds a marker file that says whether a batch
/// created the folder or adopted an empty one, and lists every job folder before it is made.
/// A folder that holds anything else is refused rather than cleaned.
public struct BatchWorkFolder: Sendable {
  public static let markerName = ".tessera-batch-work"
  public static let protectedListName = "batch-files.jsonl"

  public let path: String
  /// A batch made the folder (so it may remove it once empty); else it adopted an empty one.
  public let created: Bool
  /// The job folders an earlier run of a batch listed here, left by a run that was killed.
  public let leftovers: [String]
  /// The marker, open and locked for the run: two batches never share a work folder at once
  /// (the second would clean the first's job folders as leftovers).
  let lockDescriptor: Int32

  public var marker: String { path + "/" + BatchWorkFolder.markerName }
  public var protectedList: String { path + "/" + BatchWorkFolder.protectedListName }

  /// Makes the folder, adopts an empty one, or takes over one a batch marked; refuses (73) a
  /// folder holding entries no batch made, naming them, before anything in it is touched.
  public static func open(_ path: String) throws -> BatchWorkFolder {
    var status = stat()
    guard lstat(path, &status) == 0 else {
      guard errno == ENOENT else { throw TesseraError(.cannotCreate, "cannot use the work folder \(path): \(String(cString: strerror(errno)))") }
      return try make(path)
    }
    guard status.st_mode & S_IFMT == S_IFDIR else {
      throw TesseraError(.cannotCreate, "the work folder \(path) exists and is not a folder; give --work-dir a new or empty folder")
    }
    let names = try contents(of: path)
    let marker = path + "/" + markerName
    guard names.contains(markerName) else {
      try refuseForeign(names, in: path)
      do {
        try writeMarker(marker, header: "adopted")
      } catch {
        unlink(marker)
        throw error
      }
      // Not unlinked if locked: the marker is then another batch's, made meanwhile.
      let descriptor = try lock(marker, folder: path)
      return BatchWorkFolder(path: path, created: false, leftovers: [], lockDescriptor: descriptor)
    }
    let descriptor = try lock(marker, folder: path)
    let lines = ((try? String(contentsOfFile: marker, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    let listed = Set(lines.dropFirst().filter(isJobFolderName))
    try refuseForeign(names.filter { $0 != markerName && $0 != protectedListName && !listed.contains($0) }, in: path)
    let created = lines.first != "adopted"
    // Listed folders that exist: the rest were removed when their job ended.
    let leftovers = listed.filter(names.contains).sorted()
    do {
      try writeMarker(marker, header: created ? "created" : "adopted", jobs: leftovers)
    } catch {
      close(descriptor)
      throw error
    }
    return BatchWorkFolder(path: path, created: created, leftovers: leftovers, lockDescriptor: descriptor)
  }

  /// Lists a job folder's name in the marker before the folder is made, in one append, so a
  /// run killed at any point leaves only listed folders.
  public func register(_ folder: String) -> Bool {
    let line = Array(((folder as NSString).lastPathComponent + "\n").utf8)
    let fd = Glibc.open(marker, O_WRONLY | O_APPEND | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return line.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == line.count
  }

  /// After the leftovers were cleaned: the marker lists no job folders.
  public func forgetLeftovers() {
    try? BatchWorkFolder.writeMarker(marker, header: created ? "created" : "adopted")
  }

  /// At the end of a run: the protected list goes; the marker goes once nothing a batch made
  /// is left, and the folder too if a batch created it. A folder it adopted stays.
  public func finish() {
    defer { close(lockDescriptor) }
    unlink(protectedList)
    guard let names = try? BatchWorkFolder.contents(of: path), names == [BatchWorkFolder.markerName] else { return }
    unlink(marker)
    if created { rmdir(path) }
  }

  /// Opens and locks the marker; 73 when another batch holds it.
  static func lock(_ marker: String, folder: String) throws -> Int32 {
    let descriptor = Glibc.open(marker, O_RDWR | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw TesseraError(.cannotCreate, "cannot open \(marker) in the batch's work folder: \(String(cString: strerror(errno)))")
    }
    guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
      close(descriptor)
      throw TesseraError(.cannotCreate, "the work folder \(folder) is in use by another batch running now; give this batch another --work-dir")
    }
    return descriptor
  }

  /// `job-` + 12 hex digits + `-` + attempt: the names a batch gives job folders.
  static func isJobFolderName(_ name: String) -> Bool {
    let parts = name.split(separator: "-", omittingEmptySubsequences: false)
    return parts.count == 3 && parts[0] == "job" && parts[1].count == 12 && parts[1].allSatisfy(\.isHexDigit)
      && !parts[2].isEmpty && parts[2].allSatisfy(\.isNumber)
  }

  private static func make(_ path: String) throws -> BatchWorkFolder {
    do {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
      // A full disk is a write failure (74, worth a retry), not a folder that cannot exist.
      let full = (error as NSError).code == NSFileWriteOutOfSpaceError
      throw TesseraError(full ? .ioError : .cannotCreate, "cannot create the work folder \(path): \(fileSystemReason(error))")
    }
    let descriptor: Int32
    do {
      try writeMarker(path + "/" + markerName, header: "created")
      descriptor = try lock(path + "/" + markerName, folder: path)
    } catch {
      // A full disk may leave the marker made but empty: the folder goes as it came.
      unlink(path + "/" + markerName)
      rmdir(path)
      throw error
    }
    return BatchWorkFolder(path: path, created: true, leftovers: [], lockDescriptor: descriptor)
  }

  private static func contents(of path: String) throws -> [String] {
    do {
      return try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    } catch {
      throw TesseraError(.cannotCreate, "cannot read the work folder \(path): \(fileSystemReason(error))")
    }
  }

  private static func refuseForeign(_ names: [String], in path: String) throws {
    guard !names.isEmpty else { return }
    let shown = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? " and \(names.count - 3) more" : "")
    throw TesseraError(.cannotCreate, "the work folder \(path) holds \(shown), which no batch made; a batch removes what it makes there, so give --work-dir a new or empty folder")
  }

  private static func writeMarker(_ marker: String, header: String, jobs: [String] = []) throws {
    let text = ([header] + jobs).joined(separator: "\n") + "\n"
    do {
      try Data(text.utf8).write(to: URL(fileURLWithPath: marker))
    } catch {
      let full = (error as NSError).code == NSFileWriteOutOfSpaceError
      throw TesseraError(full ? .ioError : .cannotCreate, "cannot write \(marker) in the batch's work folder: \(fileSystemReason(error))")
    }
  }
}
