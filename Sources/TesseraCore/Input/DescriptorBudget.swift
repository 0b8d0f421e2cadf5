import Foundation
import GDAL

/// How the descriptors `ulimit -n` allows are shared: a reserve for outputs, temporary files
/// and GDAL's own files (PROJ's database, sidecars); of the rest, counted when the process
/// first asks, a quarter for inputs held open while a command plans and a quarter, at most
/// GDAL's default of 100, for GDAL's pool of VRT sources; the readers' pool (`DatasetPool`)
/// gets what is left when it is made, after planning.
public enum DescriptorBudget {
  private static let reserve = 48

  private static func free() -> Int {
    guard let limit = SystemLimits.openFiles else { return 1 << 20 }
    return Swift.max(0, limit - SystemLimits.openDescriptors - reserve)
  }

  private static let start = (open: SystemLimits.openDescriptors, available: free())
  private static var available: Int { start.available }

  /// Inputs a command may keep open while planning; beyond it each is detached
  /// (`Dataset.detachFile`) once described.
  public static var heldInputs: Int { available / 4 }

  /// Whether the inputs opened since the budget was first asked for have used the share of
  /// held inputs: for commands that open inputs as they go (merge-memfile's band files).
  public static var heldShareUsed: Bool {
    _ = start
    return SystemLimits.openDescriptors - start.open >= heldInputs
  }

  /// Datasets the readers of every worker together may keep open: what is free now, less
  /// GDAL's pool.
  public static var readerHandles: Int { Swift.max(1, free() - gdalPoolSize) }

  /// GDAL_MAX_DATASET_POOL_SIZE: GDAL's default (100) unless the limit is lower.
  public static var gdalPoolSize: Int { Swift.min(100, Swift.max(2, available / 4)) }
}

/// Opened datasets of files shared by the workers of one run, at most
/// `DescriptorBudget.readerHandles` of them open at once: a worker takes a handle of a file
/// (an idle one, or a new one), reads, and gives it back; the least recently used idle handles
/// are closed when the pool is full, and a file is opened again when next read. A handle is
/// only ever used by the worker holding it, so none is closed under a read.
final class DatasetPool: @unchecked Sendable {
  static let shared = DatasetPool(capacity: DescriptorBudget.readerHandles)

  private let lock = NSLock()
  private let capacity: Int
  /// Idle handles, least recently used first.
  private var idle: [(path: String, dataset: Dataset)] = []
  private var inUse = 0

  init(capacity: Int) { self.capacity = capacity }

  /// Runs `body` with a handle of `path` that no other thread uses meanwhile.
  func with<T>(_ path: String, _ body: (Dataset) throws -> T) throws -> T {
    let dataset = try take(path)
    defer { giveBack(path, dataset) }
    return try body(dataset)
  }

  private func take(_ path: String) throws -> Dataset {
    lock.lock()
    if let i = idle.lastIndex(where: { $0.path == path }) {
      let dataset = idle.remove(at: i).dataset
      inUse += 1
      lock.unlock()
      return dataset
    }
    // Room for the new one: close idle handles (outside the lock: closing may take time).
    var closing: [Dataset] = []
    while !idle.isEmpty && idle.count + inUse + 1 > capacity { closing.append(idle.removeFirst().dataset) }
    inUse += 1
    lock.unlock()
    for dataset in closing { try? dataset.close() }
    do {
      return try Dataset.open(path)
    } catch {
      lock.lock(); inUse -= 1; lock.unlock()
      throw error
    }
  }

  private func giveBack(_ path: String, _ dataset: Dataset) {
    lock.lock()
    inUse -= 1
    idle.append((path, dataset))
    var closing: [Dataset] = []
    while !idle.isEmpty && idle.count + inUse > capacity { closing.append(idle.removeFirst().dataset) }
    lock.unlock()
    for dataset in closing { try? dataset.close() }
  }

  /// Closes the idle handles of `paths` (a run's readers are done with them).
  func closeIdle(_ paths: Set<String>) {
    lock.lock()
    let closing = idle.filter { paths.contains($0.path) }.map(\.dataset)
    idle.removeAll { paths.contains($0.path) }
    lock.unlock()
    for dataset in closing { try? dataset.close() }
  }
}
