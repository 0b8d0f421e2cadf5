import Foundation
import Glibc

/// What may stand where an output goes. An output is a new regular file moved into place, so an
/// existing path that is not a regular file (a device, a FIFO, a socket, a directory, a link to
/// one of those, a descriptor under /proc) is no place for one, with or without `--overwrite`:
/// renaming over `/dev/stdout` would replace the system's link, not write to standard output.
public enum OutputPlace {
  /// The name that means standard output where a command supports it.
  public static let standardOutputName = "-"

  /// Refuses (64) a path no output may take: `-`, which no command writes to standard output
  /// today (the one place to let it through for a command that does, on purpose), and any
  /// existing path that is not a regular file or a link to one; a directory itself is 73.
  /// - Parameter allowsStandardOutput: the command writes `-` to standard output by design.
  public static func check(_ path: String, allowsStandardOutput: Bool = false) throws {
    if path == standardOutputName && !allowsStandardOutput {
      throw TesseraError(.usage, "'-' is not a file name here; write to a file")
    }
    var status = stat()
    if lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
      // A folder where the file should go: the output cannot be created there (73).
      throw TesseraError(.cannotCreate, "output \(path) is a directory; give a file name")
    }
    if let problem = specialFileProblem(path) {
      throw TesseraError(.usage, "output \(path) \(problem); give the path of a regular file")
    }
  }

  /// Why `path` cannot be an output, as the rest of a sentence about it ("is a FIFO"), or nil
  /// when it does not exist (outside /proc and /sys), is a regular file, or is a link (even a dangling one) to a regular
  /// file outside /proc: such a link is replaced by the new file, never written through.
  public static func specialFileProblem(_ path: String) -> String? {
    if isSystemView(directoryOf(path)) { return "is in \(systemView(directoryOf(path)))" }
    var status = stat()
    guard lstat(path, &status) == 0 else { return nil }
    let kind = status.st_mode & S_IFMT
    if kind == S_IFREG { return nil }
    guard kind == S_IFLNK else { return "is a \(name(of: kind))" }
    // Each hop of the chain: /dev/stdout -> /proc/self/fd/1 -> a pipe or a terminal.
    var hop = path
    for _ in 0..<40 {
      guard let target = linkTarget(hop) else { break }
      hop = target.hasPrefix("/") ? target : directoryOf(hop) + "/" + target
      if isSystemView(directoryOf(hop)) {
        var followed = stat()
        let what = stat(path, &followed) == 0 && followed.st_mode & S_IFMT != S_IFREG
          ? "a \(name(of: followed.st_mode & S_IFMT))" : "a descriptor of a running process"
        return "is a link to \(target), \(what)"
      }
      var next = stat()
      if lstat(hop, &next) != 0 || next.st_mode & S_IFMT != S_IFLNK { break }
    }
    var followed = stat()
    guard stat(path, &followed) == 0 else { return nil }
    let finalKind = followed.st_mode & S_IFMT
    return finalKind == S_IFREG ? nil : "is a link to \(hop), a \(name(of: finalKind))"
  }

  /// What a folder an operation writes several outputs into may not be (`clip --each-feature`'s
  /// DIR): `-`, or something that exists and is not a directory or a link to one. A regular
  /// file there is 73; anything else 64.
  public static func checkFolder(_ path: String) throws {
    if path == standardOutputName { throw TesseraError(.usage, "'-' is not a folder name here; give a folder") }
    var status = stat()
    guard stat(path, &status) == 0 else { return }
    let kind = status.st_mode & S_IFMT
    if kind == S_IFDIR {
      if isSystemView(path) { throw TesseraError(.usage, "output folder \(path) is in \(systemView(path)), not a folder for files") }
      return
    }
    // A link through /proc (/dev/stdout) is a descriptor, whatever file it reaches today.
    if let problem = specialFileProblem(path) {
      throw TesseraError(.usage, "output folder \(path) \(problem), not a folder")
    }
    if kind == S_IFREG { throw TesseraError(.cannotCreate, "output folder \(path) is a file, not a folder") }
    throw TesseraError(.usage, "output folder \(path) is a \(name(of: kind)), not a folder")
  }

  // MARK: - File system

  static func name(of kind: mode_t) -> String {
    switch kind {
    case S_IFDIR: return "directory"
    case S_IFCHR: return "character device"
    case S_IFBLK: return "block device"
    case S_IFIFO: return "FIFO (named pipe)"
    case S_IFSOCK: return "socket"
    case S_IFLNK: return "symbolic link"
    default: return "special file"
    }
  }

  private static func directoryOf(_ path: String) -> String {
    let directory = (path as NSString).deletingLastPathComponent
    return directory.isEmpty ? "." : directory
  }

  private static func linkTarget(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let count = readlink(path, &buffer, Int(PATH_MAX))
    guard count > 0 else { return nil }
    return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// The kernel's views of processes and settings (/proc, /sys): their entries look like files
  /// but are descriptors and settings of the running system. Told by the device of the file
  /// system, the same as /proc's or /sys's.
  private static func isSystemView(_ directory: String) -> Bool {
    systemViewRoot(directory) != nil
  }

  private static func systemView(_ directory: String) -> String {
    systemViewRoot(directory) == "/sys" ? "/sys, the kernel's settings" : "/proc, the kernel's view of running processes"
  }

  private static func systemViewRoot(_ directory: String) -> String? {
    var status = stat()
    guard stat(directory, &status) == 0 else { return nil }
    return ["/proc", "/sys"].first { root in
      var rootStatus = stat()
      return stat(root, &rootStatus) == 0 && rootStatus.st_dev == status.st_dev
    }
  }
}

/// The operating system's words for a failed file operation, in place of Foundation's
/// "The operation couldn't be completed (NSCocoaErrorDomain error 512)".
public func fileSystemReason(_ error: Error) -> String {
  let ns = error as NSError
  if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
    return String(cString: strerror(Int32(underlying.code)))
  }
  if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
  // Foundation reports a full disk in its own words, without the errno.
  if ns.code == NSFileWriteOutOfSpaceError { return String(cString: strerror(ENOSPC)) }
  return ns.localizedDescription
}

/// The folder for the program's own temporary work: `$TMPDIR`, else /tmp.
/// - Throws: 73 naming TMPDIR when it is set but is not a writable directory.
public func temporaryFolder() throws -> String {
  guard let value = ProcessInfo.processInfo.environment["TMPDIR"], !value.isEmpty else { return "/tmp" }
  var status = stat()
  guard stat(value, &status) == 0 else {
    throw TesseraError(.cannotCreate, "TMPDIR is \(value), which does not exist; set TMPDIR to a writable folder or unset it")
  }
  guard status.st_mode & S_IFMT == S_IFDIR else {
    throw TesseraError(.cannotCreate, "TMPDIR is \(value), which is not a folder; set TMPDIR to a writable folder or unset it")
  }
  guard access(value, W_OK | X_OK) == 0 else {
    throw TesseraError(.cannotCreate, "TMPDIR is \(value), a folder this user cannot write to; set TMPDIR to a writable folder or unset it")
  }
  return value
}
