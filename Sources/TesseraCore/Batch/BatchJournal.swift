import Foundation

/// A batch's memory between runs: an append-only JSON Lines file with one record per finished
/// job, each flushed to disk (fsync) before the batch goes on, so a batch killed at any moment
/// keeps every record it wrote. A torn last line (killed mid-write) is ignored when read.
public final class BatchJournal {
  /// A finished job as the journal keeps it.
  public struct Record: Sendable {
    public var id: String
    public var argsHash: String
    public var status: String
    public var exitCode: Int
    public var inputs: [FileRecord]
    public var outputs: [FileRecord]

    public init(id: String, argsHash: String, status: String, exitCode: Int, inputs: [FileRecord], outputs: [FileRecord]) {
      self.id = id
      self.argsHash = argsHash
      self.status = status
      self.exitCode = exitCode
      self.inputs = inputs
      self.outputs = outputs
    }
  }

  /// A file the job read or wrote, as it was when the job ended.
  public struct FileRecord: Sendable, Equatable {
    public var path: String
    public var stamp: FileStamp?
    public var sha256: String?

    /// Records `path` now; its content hash too with `verify`.
    public static func now(_ path: String, verify: Bool) -> FileRecord {
      let stamp = FileStamp(path: path)
      let hash = verify && stamp != nil ? try? SHA256.hex(ofFile: path) : nil
      return FileRecord(path: path, stamp: stamp, sha256: hash)
    }

    var json: JSONValue {
      var pairs: [(String, JSONValue)] = [("path", .string(path))]
      pairs.append(("size", stamp.map { .int($0.size) } ?? .null))
      pairs.append(("mtime_ns", stamp.map { .int($0.mtimeNanoseconds) } ?? .null))
      if let sha256 { pairs.append(("sha256", .string(sha256))) }
      return .object(pairs)
    }

    init(path: String, stamp: FileStamp?, sha256: String?) {
      self.path = path
      self.stamp = stamp
      self.sha256 = sha256
    }

    init?(_ value: JSONValue) {
      guard case .string(let path)? = value["path"] else { return nil }
      self.path = path
      if case .int(let size)? = value["size"], case .int(let mtime)? = value["mtime_ns"] {
        stamp = FileStamp(size: size, mtimeNanoseconds: mtime)
      } else {
        stamp = nil
      }
      if case .string(let hash)? = value["sha256"] { sha256 = hash } else { sha256 = nil }
    }

    /// Whether the file is still as recorded: same size and modification time, and with
    /// `verify` the same content (a record without a hash then does not match).
    func unchanged(verify: Bool) -> Bool {
      let current = FileStamp(path: path)
      guard current == stamp else { return false }
      guard verify, current != nil else { return true }
      guard let sha256 else { return false }
      return (try? SHA256.hex(ofFile: path)) == sha256
    }
  }

  public let path: String
  private let fd: Int32
  private let lock = NSLock()
  /// The latest record of each job id.
  public private(set) var records: [String: Record] = [:]

  /// Opens (creating) the journal for appending and reads what it holds. `fresh` empties it
  /// first (a new batch over an old journal, with `--overwrite`).
  public init(path: String, fresh: Bool) throws {
    self.path = path
    let flags = O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | (fresh ? O_TRUNC : 0)
    fd = open(path, flags, 0o644)
    guard fd >= 0 else {
      throw TesseraError(.cannotCreate, "cannot open the journal \(path): \(String(cString: strerror(errno)))")
    }
    if !fresh, let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) {
      for line in text.split(separator: "\n") {
        guard let value = try? JSONValue.parse(Data(line.utf8)), let record = BatchJournal.record(value) else { continue }
        records[record.id] = record
      }
      // A line torn by a kill or a full disk would glue itself to the next record: cut it off.
      if let last = data.last, last != UInt8(ascii: "\n") {
        let whole = data.lastIndex(of: UInt8(ascii: "\n")).map { $0 - data.startIndex + 1 } ?? 0
        if ftruncate(fd, off_t(whole)) != 0 {
          let reason = String(cString: strerror(errno))
          close(fd)
          throw TesseraError(.ioError, "repairing the torn last line of the journal \(path) failed: \(reason)")
        }
      }
    }
  }

  deinit { close(fd) }

  /// Appends a record and flushes it to disk before returning.
  public func append(_ record: Record) throws {
    let value = JSONValue.object([
      ("id", .string(record.id)), ("args_hash", .string(record.argsHash)), ("status", .string(record.status)),
      ("exit_code", .int(record.exitCode)),
      ("finished", .string(ISO8601DateFormatter().string(from: Date()))),
      ("inputs", .array(record.inputs.map(\.json))), ("outputs", .array(record.outputs.map(\.json))),
    ])
    let bytes = Array((value.serialized() + "\n").utf8)
    lock.lock(); defer { lock.unlock() }
    let end = lseek(fd, 0, SEEK_END)
    var written = 0
    while written < bytes.count {
      // A short write is followed by one that says why (ENOSPC, EFBIG).
      let count = bytes.withUnsafeBufferPointer { write(fd, $0.baseAddress.map { UnsafeRawPointer($0 + written) }, $0.count - written) }
      if count <= 0 { break }
      written += count
    }
    guard written == bytes.count, fsync(fd) == 0 else {
      let reason = String(cString: strerror(errno))
      // No torn record stays behind: the journal ends with its last whole line.
      if end >= 0 { _ = ftruncate(fd, end) }
      throw TesseraError(.ioError, "writing the journal \(path) failed: \(reason)")
    }
    records[record.id] = record
  }

  /// Whether `job` finished before and nothing it touched changed: same arguments, inputs
  /// unchanged, every output still there unchanged.
  public func isDone(_ job: BatchJob, verify: Bool) -> Bool {
    lock.lock(); let record = records[job.id]; lock.unlock()
    guard let record, record.status == "ok", record.argsHash == job.argsHash else { return false }
    return record.inputs.allSatisfy { $0.unchanged(verify: verify) }
      && record.outputs.allSatisfy { $0.stamp != nil && $0.unchanged(verify: false) }
  }

  static func record(_ value: JSONValue) -> Record? {
    guard case .string(let id)? = value["id"], case .string(let hash)? = value["args_hash"],
          case .string(let status)? = value["status"] else { return nil }
    var code = 0
    if case .int(let value)? = value["exit_code"] { code = value }
    func files(_ key: String) -> [FileRecord] {
      guard case .array(let items)? = value[key] else { return [] }
      return items.compactMap(FileRecord.init)
    }
    return Record(id: id, argsHash: hash, status: status, exitCode: code, inputs: files("inputs"), outputs: files("outputs"))
  }
}

/// Keeps two batches off one journal: an exclusive flock(2) on `JOURNAL.lock`, which holds the
/// owner's pid for the message. The kernel drops the lock when its process dies, however it dies.
public final class BatchLock {
  public let path: String
  private let fd: Int32

  public init(journal: String) throws {
    path = journal + ".lock"
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw TesseraError(.cannotCreate, "cannot create the lock file \(path): \(String(cString: strerror(errno)))")
    }
    if flock(fd, LOCK_EX | LOCK_NB) != 0 {
      var buffer = [UInt8](repeating: 0, count: 32)
      let count = pread(fd, &buffer, 31, 0)
      let holder = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
      close(fd)
      throw TesseraError(.cannotCreate, "the journal \(journal) is in use by another batch (pid \(holder)); wait for it or stop it")
    }
    let pid = Array("\(getpid())\n".utf8)
    _ = ftruncate(fd, 0)
    _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
  }

  deinit {
    // The file stays: removing it would let a third batch lock a new inode while a second
    // still waits on the old one.
    close(fd)
  }
}
