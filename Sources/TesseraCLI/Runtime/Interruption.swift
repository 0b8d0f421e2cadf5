import CSystem
import Foundation
import TesseraCore

/// SIGINT, SIGTERM and SIGHUP: remove every temporary output, say so, and exit 130, 143 or 129
/// instead of dying by the signal. SIGXFSZ is ignored, so a write past the file size limit
/// fails with EFBIG and becomes exit 74 with the same cleanup.
enum Interruption {
  /// The command running, for the message; set by the runner once the arguments are parsed.
  struct Context {
    var command: String
    var json: Bool
  }

  private static let lock = NSLock()
  nonisolated(unsafe) private static var installed = false
  nonisolated(unsafe) private static var _context = Context(command: "tessera", json: false)
  nonisolated(unsafe) private static var _requested = false
  nonisolated(unsafe) private static var _beforeExit: ((ExitStatus) -> Void)?

  /// Work a command must finish before the process exits on a signal (batch: stop its jobs and
  /// write its report). Runs on the signal's thread after the temporary files are gone.
  static var beforeExit: ((ExitStatus) -> Void)? {
    get { lock.lock(); defer { lock.unlock() }; return _beforeExit }
    set { lock.lock(); _beforeExit = newValue; lock.unlock() }
  }

  static var requested: Bool {
    lock.lock(); defer { lock.unlock() }
    return _requested
  }

  static var context: Context {
    get { lock.lock(); defer { lock.unlock() }; return _context }
    set { lock.lock(); _context = newValue; lock.unlock() }
  }

  /// Installs the handlers; the first thing `main` does, before GDAL loads, so no signal finds
  /// the process without them.
  static func install() {
    lock.lock(); defer { lock.unlock() }
    guard !installed else { return }
    installed = true
    signal(SIGXFSZ, SIG_IGN)
    signal(SIGPIPE, SIG_IGN)
    // The handler (csystem.c) is already in place in the executable; this only adds the reader.
    // A signal that came before it is a byte waiting in the pipe.
    let fd = tessera_install_signal_handlers()
    guard fd >= 0 else { return }
    let reader = Thread {
      var byte: UInt8 = 0
      while true {
        let n = read(fd, &byte, 1)
        if n == 1 {
          let number = Int32(byte)
          handle(number == SIGINT ? .interrupted : (number == SIGHUP ? .hangup : .terminated))
        } else if n < 0 && errno == EINTR {
          continue
        } else {
          return
        }
      }
    }
    reader.name = "tessera-signals"
    reader.start()
  }

  /// Waits for the signal's handler to end the process (after an interruption was requested).
  static func awaitExit() -> Never {
    while true { sleep(60) }
  }

  private static func handle(_ status: ExitStatus) {
    lock.lock(); _requested = true; let context = _context; lock.unlock()
    // A helper (ffmpeg) still running would write its temporary file again after it is
    // removed, and outlive the process: it is ended and reaped first.
    ChildProcess.stopAll()
    // GDAL may be mid-write on another thread; unlinking the temporary file is safe under it,
    // and the commit lock keeps a rename from slipping past.
    TemporaryFiles.shared.removeAll()
    beforeExit?(status)
    let text: String
    switch status {
    case .interrupted: text = "interrupted"
    case .hangup: text = "hung up"
    default: text = "terminated"
    }
    let prefix = context.command == "tessera" ? "tessera" : "tessera \(context.command)"
    Terminal.err("\(prefix): \(text); temporary files removed")
    if context.json {
      try? Terminal.out(CommandRunner.errorJSON(command: context.command, status: status, message: text).serialized())
    }
    _exit(status.rawValue)
  }
}
