import Foundation

/// What `tessera batch` is asked to do: where its jobs come from, how they run, where the batch
/// keeps its report, journal and work.
public struct BatchRequest: Sendable {
  /// Where the jobs come from.
  public enum Source: Sendable {
    /// A JSON Lines manifest ('-': stdin).
    case manifest(String)
    /// A command template run once per file: the files, globs, and a list file of paths.
    case each(template: String, files: [String], listFile: String?)
  }

  public var source: Source
  /// The subcommands a job may run.
  public var commands: Set<String>
  /// Jobs at once (nil: the number of cores).
  public var parallelJobs: Int?
  /// The cores the batch may use, shared among its jobs (nil: every core).
  public var threads: Int?
  public var retries = 0
  public var retryDelay = 1.0
  public var jobTimeout: Double?
  /// `I/N`, or `auto` for the shard a Slurm array or a Kubernetes Indexed Job names.
  public var shard: String?
  public var resume = false
  public var verify = false
  public var failFast = false
  /// Start over: replace an existing report and journal.
  public var overwrite = false
  public var report: String?
  public var journal: String?
  public var workDir: String?

  public init(source: Source, commands: Set<String>) {
    self.source = source
    self.commands = commands
  }
}
