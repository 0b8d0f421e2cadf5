import Foundation
import GDAL

/// A progress bar on stderr: percent, elapsed time and ETA. Redraws in place on a terminal;
/// with --progress on a non-terminal, prints a line every 10 %.
final class ProgressBar {
  private let label: String
  private let inPlace: Bool
  private let start = Date()
  private var lastDraw = Date.distantPast
  private var lastDecile = -1
  private var lastFraction = -1.0
  private(set) var finished = false

  init(label: String, inPlace: Bool) {
    self.label = label
    self.inPlace = inPlace
  }

  var handler: ProgressHandler {
    { [self] fraction, _ in
      update(fraction)
      return !Interruption.requested
    }
  }

  func update(_ rawFraction: Double) {
    let fraction = min(1, max(0, rawFraction))
    if inPlace {
      let now = Date()
      // A redraw every 100 ms is smooth enough and costs nothing measurable.
      guard fraction >= 1 || now.timeIntervalSince(lastDraw) >= 0.1, fraction != lastFraction else { return }
      lastDraw = now
      lastFraction = fraction
      StandardStreams.write("\r" + line(fraction) + "\u{1B}[K", to: STDERR_FILENO)
      if fraction >= 1 { finish() }
    } else {
      let decile = Int(saturating: fraction * 10)
      guard decile > lastDecile else { return }
      lastDecile = decile
      Terminal.err(line(fraction))
    }
  }

  func finish() {
    guard !finished else { return }
    finished = true
    if inPlace && lastFraction >= 0 { StandardStreams.write("\n", to: STDERR_FILENO) }
  }

  private func line(_ fraction: Double) -> String {
    let width = 30
    let filled = Int(saturating: fraction * Double(width))
    let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
    let elapsed = Date().timeIntervalSince(start)
    var text = "\(label) [\(bar)] \(String(format: "%3d", Int(saturating: fraction * 100)))% \(ProgressBar.clock(elapsed))"
    if fraction > 0.01 && fraction < 1 {
      text += " ETA " + ProgressBar.clock(elapsed / fraction - elapsed)
    }
    return text
  }

  static func clock(_ seconds: Double) -> String {
    let s = Int(saturating: seconds, rounding: .toNearestOrAwayFromZero)
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
  }
}
