import Foundation

/// What a batch tells each job it runs about the rest of the run: the files no job output may
/// be (the batch's manifest, journal, lock and report, and every other job's inputs and
/// outputs), in a file named by `TESSERA_BATCH_PROTECTED`, with the job's own index in
/// `TESSERA_BATCH_JOB` (its own files are its command's to check). The batch checks the
/// manifest's files before it starts; this catches what only the run shows (a glob, a list
/// file, a name the manifest could not tell).
public enum BatchProtection {
  public static let fileKey = "TESSERA_BATCH_PROTECTED"
  public static let jobKey = "TESSERA_BATCH_JOB"

  /// A protected file: its resolved path, the job it belongs to (-1: the batch's own) and what it is.
  public struct Entry: Sendable {
    public var path: String
    public var job: Int
    public var role: String
  }

  /// Writes the list for the jobs (one JSON object a line).
  public static func write(_ entries: [Entry], to path: String) throws {
    var text = ""
    for entry in entries {
      text += JSONValue.object([
        ("path", .string(BatchFileRelations.resolve(entry.path))), ("job", .int(entry.job)), ("role", .string(entry.role)),
      ]).serialized() + "\n"
    }
    do {
      try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    } catch {
      let full = (error as NSError).code == NSFileWriteOutOfSpaceError
      throw TesseraError(full ? .ioError : .cannotCreate, "cannot write \(path) in the batch's work folder: \(fileSystemReason(error))")
    }
  }

  /// Adds files a job was found to read while the batch runs (its run ledger names every file
  /// behind its inputs: a VRT's sources, a product's band files), for the jobs started later.
  /// One write(2) with O_APPEND, so a job reading the list meanwhile sees whole lines or skips
  /// the last one.
  public static func append(_ entries: [Entry], to path: String) {
    guard !entries.isEmpty else { return }
    let text = entries.map {
      JSONValue.object([("path", .string(BatchFileRelations.resolve($0.path))), ("job", .int($0.job)), ("role", .string($0.role))]).serialized() + "\n"
    }.joined()
    let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
    guard fd >= 0 else { return }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
  }

  /// The entries that concern this process (nil outside a batch).
  private static let entries: [Entry]? = {
    let environment = ProcessInfo.processInfo.environment
    guard let path = environment[fileKey] else { return nil }
    let own = environment[jobKey].flatMap { Int($0) } ?? -2
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { line in
      guard let value = try? JSONValue.parse(Data(line.utf8)), case .string(let file)? = value["path"],
            case .int(let job)? = value["job"], case .string(let role)? = value["role"], job != own else { return nil }
      return Entry(path: file, job: job, role: role)
    }
  }()

  /// Refuses (64) an output of a batch job that is one of the run's protected files, a sidecar
  /// of one, or inside a protected folder (a product another job reads).
  public static func refuse(output: String) throws {
    guard let entries, !entries.isEmpty else { return }
    let key = BatchFileRelations.key(BatchFileRelations.resolve(output))
    for entry in entries {
      let other = BatchFileRelations.key(entry.path)
      if key == other || key.hasPrefix(other + "/") {
        throw TesseraError(.usage, "output \(output) is \(entry.role) in the batch that runs this job; a job may not replace it")
      }
    }
  }
}
