import Dispatch
import Foundation
import TesseraCore

/// SIGINT and SIGTERM: remove every temporary output, say so, and exit 130 or 143.
enum Interruption {
  private static var sources: [DispatchSourceSignal] = []
  private static let flag = NSLock()
  nonisolated(unsafe) private static var _requested = false

  static var requested: Bool {
    flag.lock(); defer { flag.unlock() }
    return _requested
  }

  /// Installs the handlers once. `onSignal` prints the error in the command's own format.
  static func install(onSignal: @escaping (ExitStatus) -> Void) {
    guard sources.isEmpty else { return }
    for (number, status) in [(SIGINT, ExitStatus.interrupted), (SIGTERM, ExitStatus.terminated)] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler {
        flag.lock(); _requested = true; flag.unlock()
        // GDAL may be mid-write on the main thread; unlinking the temporary file is safe
        // under it, and the commit lock keeps a rename from slipping past.
        TemporaryFiles.shared.removeAll()
        onSignal(status)
        _exit(status.rawValue)
      }
      source.resume()
      sources.append(source)
    }
  }
}
