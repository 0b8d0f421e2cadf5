import Foundation
import GDAL
import TesseraCore

/// Where text goes: stdout holds what was asked for (a report, a list, the --json object),
/// stderr the rest.
enum Terminal {
  static let stderrIsTTY = isatty(STDERR_FILENO) != 0

  /// Progress, notes, warnings and errors: a closed or broken stderr drops them and changes
  /// nothing else.
  static func err(_ text: String) {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { shortened(String($0)) }
    StandardStreams.write(lines.joined(separator: "\n") + "\n", to: STDERR_FILENO)
  }

  /// A line a terminal and a log can hold: a message quoting a 100,000-character name keeps its
  /// start (what failed) and its end (why), and says how much it left out.
  static func shortened(_ line: String, limit: Int = 4000) -> String {
    guard line.utf8.count > limit else { return line }
    let characters = Array(line)
    guard characters.count > limit else { return line }
    let head = String(characters.prefix(limit / 2)), tail = String(characters.suffix(limit / 4))
    return head + " …(\(characters.count - limit / 2 - limit / 4) characters left out)… " + tail
  }

  /// What the user asked for (a report, a list): not getting it written is the run's failure,
  /// exit 74, whether stdout is closed, full or a pipe nobody reads.
  static func out(_ text: String) throws {
    let error = StandardStreams.write(text + "\n", to: STDOUT_FILENO)
    guard error == 0 else {
      throw TesseraError(.ioError, "cannot write to standard output: \(String(cString: strerror(error)).lowercased())")
    }
  }
}
