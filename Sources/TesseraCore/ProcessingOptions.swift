import Foundation
import GDAL

/// How much of the machine an operation may use. Set once per run from --threads and --cache-mb.
public struct ProcessingOptions: Sendable {
  /// Worker threads for warping, compression and band math.
  public var threads: Int
  /// GDAL's block cache in MiB; nil keeps GDAL's default (5 % of RAM).
  public var cacheMB: Int?

  public init(threads: Int? = nil, cacheMB: Int? = nil) {
    self.threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
    self.cacheMB = cacheMB
  }

  /// Makes GDAL use these settings for the rest of the process.
  public func apply() {
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
  }

  /// For operations that stream windows through GDAL's cache (mosaic, copies): the cache only
  /// has to hold the windows in flight and the source blocks they share, and a small cache makes
  /// GTiff compress finished blocks while reading goes on instead of all at close. The user's
  /// --cache-mb always wins.
  public func applyStreamingCache() {
    guard cacheMB == nil else { return }
    GDALEnvironment.cacheBytes = Swift.max(128, 64 * threads) * 1024 * 1024
  }

  /// Caps GDAL's block cache (default: 5 % of RAM) at `mb`, unless the user chose --cache-mb.
  /// For copies whose source is read twice (the COG driver's overview pass, then the final
  /// copy): a cache that holds a small source whole helps, one that grows with a large source
  /// only adds memory, since such a source is read from disk on both passes anyway.
  public func capCache(mb: Int) {
    guard cacheMB == nil else { return }
    GDALEnvironment.cacheBytes = Swift.min(GDALEnvironment.cacheBytes, mb * 1024 * 1024)
  }

  /// Physical memory in bytes.
  public static var physicalMemory: UInt64 { ProcessInfo.processInfo.physicalMemory }
}
