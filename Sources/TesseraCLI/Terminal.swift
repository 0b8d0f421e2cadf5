import Foundation
import GDAL
import TesseraCore

/// Where human text goes. stdout belongs to --json.
enum Terminal {
  static let stderrIsTTY = isatty(STDERR_FILENO) != 0

  /// Progress, notes, warnings and errors: a closed or broken stderr drops them and changes
  /// nothing else.
  static func err(_ text: String) { StandardStreams.write(text + "\n", to: STDERR_FILENO) }

  /// What the user asked for (a report, a list): not getting it written is the run's failure,
  /// exit 74, whether stdout is closed, full or a pipe nobody reads.
  static func out(_ text: String) throws {
    let error = StandardStreams.write(text + "\n", to: STDOUT_FILENO)
    guard error == 0 else {
      throw TesseraError(.ioError, "cannot write to standard output: \(String(cString: strerror(error)).lowercased())")
    }
  }
}

/// Keeps GDAL imports out of the option structs.
enum GDALEnvironmentBridge {
  static func setConfig(_ key: String, _ value: String) { GDALEnvironment.setConfig(key, value) }
}
