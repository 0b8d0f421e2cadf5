import Foundation
import GDAL

/// Where human text goes. stdout belongs to --json.
enum Terminal {
  static let stderrIsTTY = isatty(STDERR_FILENO) != 0

  static func err(_ text: String) { StandardStreams.write(text + "\n", to: STDERR_FILENO) }

  static func out(_ text: String) { StandardStreams.write(text + "\n", to: STDOUT_FILENO) }
}

/// Keeps GDAL imports out of the option structs.
enum GDALEnvironmentBridge {
  static func setConfig(_ key: String, _ value: String) { GDALEnvironment.setConfig(key, value) }
}
