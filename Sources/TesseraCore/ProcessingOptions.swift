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
  }

  /// Physical memory in bytes.
  public static var physicalMemory: UInt64 { ProcessInfo.processInfo.physicalMemory }
}
