import ArgumentParser
import Foundation
import TesseraCore

/// Options every subcommand takes.
public struct GlobalOptions: ParsableArguments {
  @Flag(name: [.short, .long], help: "Print nothing on stderr but errors.")
  public var quiet = false

  @Flag(help: "Print one JSON object on stdout and nothing else there; human text goes to stderr.")
  public var json = false

  @Flag(help: "Show progress on stderr even when it is not a terminal.")
  public var progress = false

  @Option(name: [.customShort("j"), .customLong("threads")], parsing: .unconditional, help: "Worker threads for warping, compression and band math (default: all cores).")
  public var threads: Int?

  @Option(name: .customLong("cache-mb"), parsing: .unconditional, help: "GDAL's block cache in MiB (GDAL_CACHEMAX).")
  public var cacheMB: Int?

  @Option(
    name: .customLong("config"), parsing: .unconditionalSingleValue,
    help: ArgumentHelp("Set a GDAL configuration option; repeatable.", valueName: "KEY=VALUE"))
  var config: [Parsed<KeyValue>] = []

  public init() {}

  public func validate() throws {
    if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads takes 1 to 1024") }
    let memoryMB = Int(ProcessInfo.processInfo.physicalMemory >> 20)
    if let cacheMB, !(1...memoryMB).contains(cacheMB) {
      throw ValidationError("--cache-mb takes 1 to \(memoryMB) (this machine's memory in MiB)")
    }
    _ = try config.keyValues("--config")
  }

  /// The machine's share this run may use, applied to GDAL once by the runner.
  var resources: Resources {
    var config: [String: String] = [:]
    for setting in self.config.compactMap(\.valid) { config[setting.key] = setting.value }
    return Resources(threads: threads, cacheMB: cacheMB, config: config)
  }
}
