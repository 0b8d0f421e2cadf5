/// How many jobs of a batch were done, failed, skipped and not run.
struct BatchSummary: Sendable {
  var done = 0, failed = 0, skipped = 0, notRun = 0

  init(_ results: [BatchJobResult]) {
    for result in results {
      switch result.status {
      case .done: done += 1
      case .failed: failed += 1
      case .skipped: skipped += 1
      case .notRun: notRun += 1
      }
    }
  }
}
