import Foundation

/// What a batch shows as it runs, as text: a line per note, retry and failure, and a progress
/// line (done / failed / skipped / total with throughput and ETA). Where the text goes, and how
/// often the progress line is drawn, is the caller's.
public struct BatchDisplay: Sendable {
  /// A line for the log.
  public struct Line: Sendable, Equatable {
    public var text: String
    /// Failures are shown even with --quiet: they are what a script's log is for.
    public var evenWhenQuiet: Bool
  }

  /// What an event changes on screen.
  public enum Change: Sendable, Equatable {
    /// Nothing (a job started).
    case none
    /// The counts of the progress line.
    case progress
    /// A line for the log, and the counts.
    case line(Line)
  }

  private let total: Int
  private let skipped: Int
  private let started: Date
  private var done = 0, failed = 0

  public init(total: Int, skipped: Int, started: Date = Date()) {
    self.total = total
    self.skipped = skipped
    self.started = started
  }

  /// Every job is accounted for: the last progress line is due.
  public var isComplete: Bool { done + failed + skipped == total }

  /// Counts `event` and says what it changes. Ids and paths come from the manifest: a newline or
  /// an escape sequence in one is shown, not obeyed.
  public mutating func record(_ event: BatchEvent) -> Change {
    switch event {
    case .started:
      return .none
    case .note(let text):
      return .line(Line(text: TesseraError.oneLine("tessera batch: \(text)"), evenWhenQuiet: false))
    case .retrying(let id, let attempt, let delay, let reason):
      let text = "tessera batch: job \(id): \(reason); attempt \(attempt) in \(String(format: "%.1f", delay)) s"
      return .line(Line(text: TesseraError.oneLine(text), evenWhenQuiet: false))
    case .finished(let result):
      if result.status == .done { done += 1 }
      guard result.status == .failed else { return .progress }
      failed += 1
      let last = result.stderrTail.split(separator: "\n").last.map(String.init) ?? ""
      let text = "tessera batch: job \(result.id) failed (\(result.summary))\(last.isEmpty ? "" : ": " + last)"
      return .line(Line(text: TesseraError.oneLine(text), evenWhenQuiet: true))
    }
  }

  /// `batch: 7/20 (6 done, 1 failed, 0 skipped), 0.5 jobs/s, ETA 26 s`.
  public func progressLine(at now: Date = Date()) -> String {
    let finished = done + failed
    let elapsed = now.timeIntervalSince(started)
    let rate = elapsed > 0 ? Double(finished) / elapsed : 0
    let left = total - finished - skipped
    let eta = rate > 0 ? String(format: "ETA %.0f s", Double(left) / rate) : "ETA --"
    return "batch: \(finished + skipped)/\(total) (\(done) done, \(failed) failed, \(skipped) skipped), \(String(format: "%.1f", rate)) jobs/s, \(eta)"
  }
}
