import Foundation
import GDAL

/// Where human text goes. stdout belongs to --json.
enum Terminal {
  static let stderrIsTTY = isatty(STDERR_FILENO) != 0

  static func err(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }

  static func out(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
  }
}

/// Keeps GDAL imports out of the option structs.
enum GDALEnvironmentBridge {
  static func setConfig(_ key: String, _ value: String) { GDALEnvironment.setConfig(key, value) }
}
