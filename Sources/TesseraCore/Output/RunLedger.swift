import Foundation

/// What a run of Tessera tells the batch that started it, through a file named by
/// `TESSERA_RUN_LEDGER`: each output's inputs and temporary file as the output is opened, and
/// the output once it is in place. The batch learns from it what a job read and wrote (for its
/// journal), and which temporary files to remove when a job dies by SIGKILL or a timeout and
/// cannot remove them itself. One JSON object a line, each appended with one write(2).
public enum RunLedger {
  public static let environmentKey = "TESSERA_RUN_LEDGER"

  private static let path = ProcessInfo.processInfo.environment[environmentKey]
  private static let lock = NSLock()

  static func openedOutput(final: String, temporary: String, scratchPrefix: String, inputs: [String]) {
    guard path != nil else { return }
    record(.object([
      ("output_opened", .string(absolute(final))), ("temporary", .string(temporary)),
      ("scratch_prefix", .string(scratchPrefix)), ("inputs", .array(inputs.map { .string(absolute($0)) })),
    ]))
  }

  static func committed(_ final: String) {
    guard path != nil else { return }
    let stamp = FileStamp(path: final)
    record(.object([("output", .string(absolute(final))), ("size", .int(stamp?.size ?? -1)), ("mtime_ns", .int(stamp?.mtimeNanoseconds ?? -1))]))
  }

  private static func record(_ value: JSONValue) {
    guard let path else { return }
    lock.lock(); defer { lock.unlock() }
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return }
    defer { close(fd) }
    let line = Array((value.serialized() + "\n").utf8)
    _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
  }

  static func absolute(_ path: String) -> String {
    // GDAL's virtual paths and subdataset names are not files of this file system.
    if path.hasPrefix("/vsi") || path.contains(":") && !FileManager.default.fileExists(atPath: path) { return path }
    return URL(fileURLWithPath: path).standardizedFileURL.path
  }

  // MARK: - Reading (the batch's side)

  /// A ledger as the batch reads it back.
  public struct Contents: Sendable {
    public var inputs: [String] = []
    /// Temporary files and scratch prefixes of outputs that were opened.
    public var temporaries: [(file: String, scratchPrefix: String)] = []
    /// Outputs moved into place, with their size and modification time then.
    public var outputs: [(path: String, stamp: FileStamp?)] = []
  }

  /// Reads a ledger; a torn last line (the writer was killed mid-write) is ignored.
  public static func read(_ path: String) -> Contents {
    var contents = Contents()
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return contents }
    for line in text.split(separator: "\n") {
      guard let value = try? JSONValue.parse(Data(line.utf8)) else { continue }
      if value["output_opened"] != nil {
        if case .string(let temporary)? = value["temporary"], case .string(let prefix)? = value["scratch_prefix"] {
          contents.temporaries.append((temporary, prefix))
        }
        if case .array(let inputs)? = value["inputs"] {
          for case .string(let input) in inputs where !contents.inputs.contains(input) { contents.inputs.append(input) }
        }
      } else if case .string(let output)? = value["output"] {
        var stamp: FileStamp?
        if case .int(let size)? = value["size"], case .int(let mtime)? = value["mtime_ns"], size >= 0 {
          stamp = FileStamp(size: size, mtimeNanoseconds: mtime)
        }
        contents.outputs.removeAll { $0.path == output }
        contents.outputs.append((output, stamp))
      }
    }
    return contents
  }

  /// Removes what a killed run left: each temporary file with its sidecars, and its scratch
  /// files. Returns the files removed.
  @discardableResult
  public static func removeLeftovers(_ contents: Contents) -> [String] {
    var removed: [String] = []
    for (file, prefix) in contents.temporaries {
      for (_, path) in OutputTarget.existingFiles(for: file) where unlink(path) == 0 { removed.append(path) }
      let directory = (prefix as NSString).deletingLastPathComponent
      let stem = (prefix as NSString).lastPathComponent
      for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(stem) {
        let path = directory + "/" + name
        if unlink(path) == 0 { removed.append(path) }
      }
    }
    return removed
  }
}

/// A file's size and modification time, to the nanosecond: what the batch journal compares to
/// decide that a file is unchanged.
public struct FileStamp: Equatable, Sendable {
  public let size: Int
  public let mtimeNanoseconds: Int
}

extension FileStamp {
  /// nil when the path is not a regular file (or a link to one) that can be stat'ed.
  public init?(path: String) {
    var status = stat()
    guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
    size = Int(status.st_size)
    mtimeNanoseconds = Int(status.st_mtim.tv_sec) * 1_000_000_000 + Int(status.st_mtim.tv_nsec)
  }
}
