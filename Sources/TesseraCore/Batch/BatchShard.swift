import Foundation

/// One of N shares of a manifest. A job belongs to shard I when a stable hash of its id falls
/// there, so N machines split one manifest with no coordination, and the split never changes
/// when one of them retries or the manifest is reordered.
public struct BatchShard: Equatable, Sendable, CustomStringConvertible {
  public let index: Int
  public let count: Int

  public init(index: Int, count: Int) throws {
    guard count >= 1, (0..<count).contains(index) else {
      throw TesseraError(.usage, "--shard takes I/N with 0 <= I < N, got \(index)/\(count)")
    }
    self.index = index
    self.count = count
  }

  /// `I/N`.
  public init(parsing text: String) throws {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
      throw TesseraError(.usage, "--shard takes I/N (such as 0/4) or auto, got '\(text)'")
    }
    try self.init(index: index, count: count)
  }

  /// The shard a cluster scheduler gives this process: a Slurm array task
  /// (`SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT`) or a
  /// Kubernetes Indexed Job (`JOB_COMPLETION_INDEX` of `TESSERA_SHARD_COUNT`).
  public static func automatic(_ environment: [String: String]) throws -> BatchShard {
    func number(_ key: String) throws -> Int? {
      guard let text = environment[key] else { return nil }
      guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
        throw TesseraError(.usage, "--shard auto: \(key)='\(text)' is not a number")
      }
      return value
    }
    if let task = try number("SLURM_ARRAY_TASK_ID") {
      guard let count = try number("SLURM_ARRAY_TASK_COUNT") else {
        throw TesseraError(.usage, "--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")
      }
      // Arrays may start anywhere (--array=1-8); tasks are numbered from the first. A stepped
      // array (--array=0-9:2) cannot be mapped onto shards and is refused below.
      let first = try number("SLURM_ARRAY_TASK_MIN") ?? 0
      if let step = try number("SLURM_ARRAY_TASK_STEP"), step != 1 {
        throw TesseraError(.usage, "--shard auto: a Slurm array with a step (\(step)) does not number its tasks 0…N-1; use --array=0-\(count - 1)")
      }
      return try BatchShard(index: task - first, count: count)
    }
    if let index = try number("JOB_COMPLETION_INDEX") {
      guard let count = try number("TESSERA_SHARD_COUNT") else {
        throw TesseraError(.usage, "--shard auto: JOB_COMPLETION_INDEX is set but TESSERA_SHARD_COUNT is not (set it to the Job's completions)")
      }
      return try BatchShard(index: index, count: count)
    }
    throw TesseraError(.usage, "--shard auto needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (a Slurm array) or JOB_COMPLETION_INDEX and TESSERA_SHARD_COUNT (a Kubernetes Indexed Job)")
  }

  public func contains(_ id: String) -> Bool {
    BatchShard.bucket(of: id, count: count) == index
  }

  /// The first 8 bytes of the id's SHA-256, modulo the count.
  static func bucket(of id: String, count: Int) -> Int {
    var hash = SHA256()
    hash.update(Array(id.utf8))
    let bytes = hash.finish()
    let value = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    return Int(value % UInt64(count))
  }

  public var description: String { "\(index)/\(count)" }

  /// `report.json` → `report.shard-I-of-N.json`.
  public func suffixed(_ path: String) -> String {
    let url = URL(fileURLWithPath: path)
    let ext = url.pathExtension
    let tag = "shard-\(index)-of-\(count)"
    if ext.isEmpty { return path + "." + tag }
    return String(path.dropLast(ext.count + 1)) + "." + tag + "." + ext
  }
}
