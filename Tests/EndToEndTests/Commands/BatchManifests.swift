import Foundation
import TestSupport

/// Writing batch manifests, for the batch test classes.
extension TemporaryDirectoryTestCase {
  /// The lines as a manifest file in the test's folder.
  func manifest(_ lines: [String], name: String = "jobs.jsonl") throws -> String {
    let path = dir.file(name)
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// One job as a manifest line.
  func job(_ id: String, _ command: String, _ args: [String]) -> String {
    let value: [String: Any] = ["id": id, "command": command, "args": args]
    return String(decoding: try! JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
  }
}
