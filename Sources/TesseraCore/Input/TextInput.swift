import Foundation

/// The small text files a command reads besides rasters — a batch manifest, an input list, a
/// colour table, a report — read one way everywhere: `-` is stdin, and a pipe works as a file
/// does (`--input-list <(find …)`). A FIFO nobody writes to reads as empty at once rather than
/// waiting forever; a directory, a socket or a block device is 66 saying which; a file larger
/// than the limit is 65, never silently cut.
public enum TextInput {
  /// The bytes of `path`; `role` names it in messages ("manifest", "color table").
  public static func read(_ path: String, role: String, limit: Int = 256 << 20) throws -> Data {
    let described = path == "-" ? "\(role) on stdin" : "\(role) \(path)"
    let fd: Int32
    if path == "-" {
      fd = STDIN_FILENO
    } else {
      var status = stat()
      guard stat(path, &status) == 0 else {
        throw TesseraError(.noInput, errno == ENOENT ? "\(described) does not exist" : "\(described) cannot be read: \(reason(errno))")
      }
      switch status.st_mode & S_IFMT {
      case S_IFDIR: throw TesseraError(.noInput, "\(described) is a directory, not a file")
      case S_IFSOCK: throw TesseraError(.noInput, "\(described) is a socket, not a file")
      case S_IFBLK: throw TesseraError(.noInput, "\(described) is a block device, not a file")
      default: break
      }
      // Without O_NONBLOCK, opening a FIFO waits for a writer that may never come.
      fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
      guard fd >= 0 else { throw TesseraError(.noInput, "\(described) cannot be read: \(reason(errno))") }
      let flags = fcntl(fd, F_GETFL)
      if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
    }
    defer { if fd != STDIN_FILENO { close(fd) } }
    var data = Data()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let count = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        // stdin closed (the launcher holds fd 0 on a write-only /dev/null): nothing to read.
        if path == "-" && errno == EBADF { break }
        throw TesseraError(.noInput, "\(described) cannot be read: \(reason(errno))")
      }
      if count == 0 { break }
      guard data.count + count <= limit else {
        throw TesseraError(.dataError, "\(described) is larger than \(limit >> 20) MiB; that is not a \(role)")
      }
      data.append(contentsOf: chunk[0..<count])
    }
    return data
  }

  /// `read` as UTF-8 text (65 when it is not).
  public static func text(_ path: String, role: String, limit: Int = 256 << 20) throws -> String {
    let data = try read(path, role: role, limit: limit)
    guard let text = String(data: data, encoding: .utf8) else {
      throw TesseraError(.dataError, "\(path == "-" ? "\(role) on stdin" : "\(role) \(path)") is not UTF-8 text")
    }
    return text
  }

  private static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }
}
