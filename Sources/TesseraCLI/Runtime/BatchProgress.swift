import Foundation
import GDAL
import TesseraCore

/// Shows a running batch on stderr: its display's lines, and its progress line on a terminal
/// (redrawn in place every 100 ms) or with --progress (a line every 5 s).
final class BatchProgress: @unchecked Sendable {
  private let lock = NSLock()
  private var display: BatchDisplay
  private let quiet: Bool
  private let bar: Bool
  private let inPlace: Bool
  private var lastDraw = Date.distantPast
  private var drawn = false

  init(_ display: BatchDisplay, quiet: Bool, bar: Bool, inPlace: Bool) {
    self.display = display
    self.quiet = quiet
    self.bar = bar
    self.inPlace = inPlace
  }

  func handle(_ event: BatchEvent) {
    lock.lock(); defer { lock.unlock() }
    switch display.record(event) {
    case .none: return
    case .progress: break
    case .line(let line):
      if !quiet || line.evenWhenQuiet {
        clearBar()
        Terminal.err(line.text)
      }
    }
    draw(force: display.isComplete)
  }

  private func clearBar() {
    if inPlace && drawn { StandardStreams.write("\r\u{1B}[K", to: STDERR_FILENO) }
  }

  private func draw(force: Bool) {
    guard bar else { return }
    let now = Date()
    guard force || now.timeIntervalSince(lastDraw) >= (inPlace ? 0.1 : 5) else { return }
    lastDraw = now
    let line = display.progressLine(at: now)
    if inPlace {
      StandardStreams.write("\r" + line + "\u{1B}[K", to: STDERR_FILENO)
      drawn = true
    } else {
      Terminal.err(line)
    }
  }

  func finish() {
    lock.lock(); defer { lock.unlock() }
    if inPlace && drawn { StandardStreams.write("\n", to: STDERR_FILENO); drawn = false }
  }
}
