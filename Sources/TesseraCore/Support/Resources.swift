import Foundation
import GDAL

/// How much of the machine a run may use, from --threads, --cache-mb and --config. The CLI
/// applies it to GDAL once, before the operation; operations read `threads` for the thread
/// counts they hand to drivers and the warper, and may only lower the block cache (`limitCache`).
public struct Resources: Sendable {
  /// Worker threads for warping, compression and band math.
  public var threads: Int
  /// GDAL's block cache in MiB; nil keeps GDAL's default (5 % of RAM).
  public var cacheMB: Int?
  /// GDAL configuration options the user set (`--config KEY=VALUE`), applied after Tessera's
  /// own settings so the user's win.
  public var config: [String: String]

  public init(threads: Int? = nil, cacheMB: Int? = nil, config: [String: String] = [:]) {
    self.threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
    self.cacheMB = cacheMB
    self.config = config
  }

  /// Makes GDAL use these settings for the rest of the process. A setting GDAL would reject
  /// (in `--config` or the environment) is refused first: GDAL reports it as a failure of the
  /// first file it reads, which would blame that input.
  public func apply() throws {
    try Resources.checkSettings(config: config, environment: ProcessInfo.processInfo.environment)
    GDALEnvironment.setConfig("GDAL_NUM_THREADS", String(threads))
    if let cacheMB { GDALEnvironment.cacheBytes = cacheMB * 1024 * 1024 }
    // GDAL 3.6's warper gives each extra thread a clone of the coordinate transformer, and the
    // clone loses the round-trip check the original makes for projections with a bounded
    // domain (sinusoidal, orthographic, …): the rows a clone computes fill the area outside the
    // projected world with wrapped pixels, and which rows that is depends on thread timing.
    // With the check asked for explicitly every thread makes it, and the result is the one a
    // single thread gives, every time. Where the check changes nothing (the round trip holds),
    // the pixels are gdalwarp's as they were. A user's own setting (environment or --config) wins.
    if ProcessInfo.processInfo.environment["CHECK_WITH_INVERT_PROJ"] == nil {
      GDALEnvironment.setConfig("CHECK_WITH_INVERT_PROJ", "YES")
    }
    for (key, value) in config.sorted(by: { $0.key < $1.key }) { GDALEnvironment.setConfig(key, value) }
    // VRTs open their sources through GDAL's pool of datasets; its share of the descriptors
    // is set from this process's limit unless the user set one.
    if config["GDAL_MAX_DATASET_POOL_SIZE"] == nil,
      ProcessInfo.processInfo.environment["GDAL_MAX_DATASET_POOL_SIZE"] == nil {
      GDALEnvironment.setConfig("GDAL_MAX_DATASET_POOL_SIZE", String(DescriptorBudget.gdalPoolSize))
    }
  }

  // MARK: - Settings GDAL reads

  /// Refuses (64, naming the variable and where it was set) values of the settings Tessera sets
  /// or reads that GDAL would misread: `--config` wins over the environment, as in GDAL.
  public static func checkSettings(config: [String: String], environment: [String: String]) throws {
    let checks: [(String, (String) -> Bool, String)] = [
      ("GDAL_CACHEMAX", isCacheSize, "a cache size in MiB (512), in bytes (536870912) or a share of memory (10%)"),
      ("GDAL_NUM_THREADS", isThreadCount, "a number of threads from 1 to 1024, or ALL_CPUS"),
      ("GDAL_MAX_DATASET_POOL_SIZE", { Int($0).map { (2...100_000).contains($0) } ?? false }, "a number of datasets from 2 to 100000"),
    ]
    for (key, valid, expected) in checks {
      // The environment's GDAL_NUM_THREADS is never read: Tessera sets it from --threads.
      let sources = key == "GDAL_NUM_THREADS" ? [(config[key], "--config")] : [(config[key], "--config"), (environment[key], "environment")]
      guard let (value, origin) = sources.first(where: { $0.0 != nil }).map({ ($0.0 ?? "", $0.1) }) else { continue }
      guard valid(value.trimmingCharacters(in: .whitespaces)) else {
        throw TesseraError(.usage, "\(key)=\(value) (\(origin)) is not a valid setting: give \(expected)")
      }
    }
  }

  /// GDAL 3.6 reads digits (MiB below 100000, else bytes), or digits and `%` of the memory.
  static func isCacheSize(_ text: String) -> Bool {
    if text.hasSuffix("%") {
      guard let share = Double(text.dropLast()), share.isFinite else { return false }
      return share > 0 && share <= 100
    }
    guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(text) else { return false }
    return value >= 0
  }

  static func isThreadCount(_ text: String) -> Bool {
    text.uppercased() == "ALL_CPUS" || (Int(text).map { (1...1024).contains($0) } ?? false)
  }

  /// Why an operation wants a smaller block cache than GDAL's default.
  public enum CacheUse: Sendable {
    /// Windows streamed through the cache (mosaic, copies, staging): it only has to hold the
    /// windows in flight and the source blocks they share, and a small cache makes GTiff
    /// compress finished blocks while reading goes on instead of all at close.
    case streaming
    /// Every source block read once and every output block written once (clip, band-stack): the
    /// cache only holds the windows in flight, so a small one keeps memory low and makes GTiff
    /// compress as it goes.
    case singlePass
    /// A source of `bytes` read twice (the COG driver's overview pass, then the copy): a cache
    /// that holds a small source whole helps; for a larger one it only adds memory, since such a
    /// source is read from disk on both passes anyway (a 30,000^2 UInt16 COG: the same 31 s with
    /// 512 or 128 MiB, peak RSS 1,070 or 348 MiB; GDAL's resident memory is about twice its cache).
    case rereadSource(bytes: Double)
    /// Rows of source blocks read a few times each (a decimated preview: every output row of a
    /// strip samples the same row of blocks): the cache must hold that many bytes of blocks.
    case blockRows(bytes: Int)
  }

  /// Lowers GDAL's block cache for `use`; never raises it, and never overrides a cache the user
  /// chose (--cache-mb, or GDAL_CACHEMAX in --config or the environment).
  public func limitCache(for use: CacheUse) {
    guard cacheMB == nil, config["GDAL_CACHEMAX"] == nil,
      ProcessInfo.processInfo.environment["GDAL_CACHEMAX"] == nil else { return }
    let mb: Int
    switch use {
    case .streaming: mb = Swift.max(128, 64 * threads)
    case .singlePass: mb = Swift.max(4, 2 * threads)
    case .rereadSource(let bytes): mb = bytes <= 384 * 1024 * 1024 ? 512 : 128
    case .blockRows(let bytes): mb = Swift.max(16, (bytes + (1 << 20) - 1) >> 20)
    }
    GDALEnvironment.cacheBytes = Swift.min(GDALEnvironment.cacheBytes, mb * 1024 * 1024)
  }

  /// Physical memory in bytes.
  public static var physicalMemory: UInt64 { ProcessInfo.processInfo.physicalMemory }
}
