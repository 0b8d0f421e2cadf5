import Foundation
import GDAL

/// What an operation hands back: the files it wrote and what else it wants reported.
public struct OperationReport {
  public var outputs: [String]
  /// Command-specific keys for the JSON report, in order.
  public var details: [(String, JSONValue)]
  /// Warnings of the operation's own (GDAL's are collected apart), for the report's list.
  public var warnings: [String] = []
  /// What the user should know that is not a problem (merge-memfile moving its staging to
  /// disk); the CLI prints each as a line of the command's on stderr, unless quiet.
  public var notes: [String] = []
  /// The side output the JSON report goes to (`--report`), checked before the work like the
  /// main output; the caller writes the report into it and commits it.
  public var reportTarget: OutputTarget?
  /// Outputs written but not yet in place: committed together with `reportTarget`, so the run
  /// replaces both or neither.
  public var uncommitted: [OutputTarget] = []

  public init(outputs: [String], details: [(String, JSONValue)] = []) {
    self.outputs = outputs
    self.details = details
  }

  /// The info object of every output, as the report's `outputs` array carries them.
  public func outputInfos() throws -> [JSONValue] {
    try outputs.map { path in
      let waiting = uncommitted.first { $0.finalPath == URL(fileURLWithPath: path).standardizedFileURL.path }
      var info = try RasterInfo.read(path: waiting?.temporaryPath ?? path)
      info.path = path
      return info.json
    }
  }
}
