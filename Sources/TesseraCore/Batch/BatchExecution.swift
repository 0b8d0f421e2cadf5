import Foundation

/// A batch under way: from its start, which takes the journal's lock, cleans what a killed run
/// left and makes the work folder, to its end (`finish`, or `interrupt` on a signal), which
/// writes the report and removes the work folder. Holds the journal's lock all that time, so no
/// other batch touches the journal or the work folder.
public final class BatchExecution: @unchecked Sendable {
  public let plan: BatchPlan
  /// What the start removed that a killed run had left, for the user.
  public let notes: [String]
  /// The jobs `--resume` skips: the journal records them as done and nothing they touched changed.
  public let skipped: [BatchJobResult]
  private let pending: [BatchJob]
  private let lock: BatchLock?
  private let work: BatchWorkFolder
  private let runner: BatchRunner
  private let startTime = Date()

  /// Refuses what would fail before anything exists, then takes the journal's lock, cleans what
  /// a killed run left and makes the work folder with the run's protected files (`protected`,
  /// from `BatchPlan.checkFiles`).
  public init(plan: BatchPlan, protected: [BatchProtection.Entry]) throws {
    try BatchExecution.refuseEarlierRun(plan)
    let (lock, madeLock, previous) = try BatchExecution.takeLock(plan)
    let protectedList = plan.workDirectory + "/" + BatchWorkFolder.protectedListName
    let opened: (work: BatchWorkFolder, notes: [String], journal: BatchJournal?)
    do {
      opened = try BatchExecution.openWork(plan, previous: previous, protected: protected, protectedList: protectedList)
    } catch {
      // A start that fails (a full disk) leaves nothing it made: not the lock, not an empty
      // journal, and an earlier run's journal untouched, so --resume still finds it. The lock
      // is unlinked while still held: a batch that opened the old file finds it locked and stops.
      if madeLock, let journalPath = plan.journalPath { unlink(journalPath + ".lock") }
      throw error
    }
    var skipped: [BatchJobResult] = []
    var pending: [BatchJob] = []
    for job in plan.jobs {
      if plan.request.resume, let journal = opened.journal, journal.isDone(job, verify: plan.request.verify) {
        skipped.append(BatchJobResult(id: job.id, status: .skipped, exitCode: 0))
      } else {
        pending.append(job)
      }
    }
    self.plan = plan
    self.lock = lock
    self.work = opened.work
    self.notes = opened.notes
    self.skipped = skipped
    self.pending = pending
    runner = BatchRunner(settings: plan.settings(work: opened.work, protectedList: protectedList), journal: opened.journal)
  }

  /// Refuses an earlier run's journal (without --resume or --overwrite) and a report that could
  /// not be written: now, not after hours of work, and before the journal and its lock exist.
  static func refuseEarlierRun(_ plan: BatchPlan) throws {
    let request = plan.request
    if let journalPath = plan.journalPath, journalExists(journalPath), !request.resume, !request.overwrite {
      throw earlierJournal(journalPath)
    }
    if let reportPath = plan.reportPath, !request.resume {
      _ = try OutputSpec.ownFile(path: reportPath, overwrite: request.overwrite).target(inputs: [plan.source]).abort()
    }
  }

  static func journalExists(_ path: String) -> Bool { (FileStamp(path: path)?.size ?? 0) > 0 }

  static func earlierJournal(_ path: String) -> TesseraError {
    TesseraError(.cannotCreate, "the journal \(path) of an earlier run exists; pass --resume to continue that batch or --overwrite to start over")
  }

  /// The journal's lock first: from then on no other batch touches it or its work folder. Returns
  /// the lock, whether it was made now, and the journal of an earlier run.
  static func takeLock(_ plan: BatchPlan) throws -> (lock: BatchLock?, made: Bool, previous: BatchJournal?) {
    guard let journalPath = plan.journalPath else { return (nil, false, nil) }
    let made = !FileManager.default.fileExists(atPath: journalPath + ".lock")
    let lock = try BatchLock(journal: journalPath)
    // Again under the lock: another batch may have written it meanwhile.
    let exists = journalExists(journalPath)
    if exists && !plan.request.resume && !plan.request.overwrite { throw earlierJournal(journalPath) }
    return (lock, made, exists ? try BatchJournal(path: journalPath, fresh: false) : nil)
  }

  /// Opens the work folder, cleans what a killed batch left in it (partial outputs of its jobs,
  /// unrecorded outputs), writes the protected list and opens the journal; on a failure removes
  /// what it made.
  static func openWork(_ plan: BatchPlan, previous: BatchJournal?, protected: [BatchProtection.Entry],
                       protectedList: String) throws -> (work: BatchWorkFolder, notes: [String], journal: BatchJournal?) {
    // Refuses a folder holding what no batch made, before anything in it is touched.
    let work = try BatchWorkFolder.open(plan.workDirectory)
    do {
      let notes = plan.journalPath == nil ? [] : BatchRunner.cleanLeftovers(in: work, journal: previous)
      try BatchProtection.write(protected, to: protectedList)
      let journal = try plan.journalPath.map { try openJournal($0, fresh: !plan.request.resume) }
      return (work, notes, journal)
    } catch {
      removeWork(work, temporary: plan.temporaryWork)
      throw error
    }
  }

  /// The journal, removed again when it was made now and could not be opened.
  static func openJournal(_ path: String, fresh: Bool) throws -> BatchJournal {
    let made = !FileManager.default.fileExists(atPath: path)
    do {
      return try BatchJournal(path: path, fresh: fresh)
    } catch {
      if made { unlink(path) }
      throw error
    }
  }

  /// Removes what the batch made in its work folder: a temporary one whole (this run's alone,
  /// made new under a unique name); else the protected list, then the marker and the folder once
  /// nothing a batch made is left (a folder it adopted stays; a job folder left in it is what
  /// the next run cleans up).
  static func removeWork(_ work: BatchWorkFolder, temporary: Bool) {
    if temporary && work.created { try? FileManager.default.removeItem(atPath: work.path) } else { work.finish() }
  }

  // MARK: - The run

  /// Runs the jobs not skipped; `events` hears of each as it goes, on the runner's threads.
  public func run(events: @escaping @Sendable (BatchEvent) -> Void) -> [BatchJobResult] {
    runner.run(pending, events: events)
  }

  /// Stops the jobs on a signal, writes the report of what finished (the journal is already on
  /// disk) and removes the work folder: the process exits next, without running defers.
  public func interrupt(signal: Int32) {
    runner.interrupt(signal: signal)
    let results = plan.order(skipped + runner.finishedResults)
    try? BatchReport(plan: plan, results: results, status: "interrupted", elapsed: Date().timeIntervalSince(startTime)).write(overwrite: true)
    BatchExecution.removeWork(work, temporary: plan.temporaryWork)
  }

  /// Ends a run that was not interrupted: writes the report and removes the work folder.
  public func finish(_ ran: [BatchJobResult]) throws -> BatchReport {
    defer { BatchExecution.removeWork(work, temporary: plan.temporaryWork) }
    let results = plan.order(skipped + ran)
    let elapsed = Date().timeIntervalSince(startTime)
    if let failure = runner.journalFailure {
      // The journal is the batch's memory: without it nothing more may run. The jobs it could
      // not record were undone, so --resume finds the batch as the journal says it is.
      try? BatchReport(plan: plan, results: results, status: "failed", elapsed: elapsed).write(overwrite: true)
      throw TesseraError(.ioError, "\(failure.message); no job was started after it and the jobs it could not record were undone; free space and continue with --resume")
    }
    let ok = results.allSatisfy { $0.status != .failed && $0.status != .notRun }
    let report = BatchReport(plan: plan, results: results, status: ok ? "ok" : "failed", elapsed: elapsed)
    try report.write(overwrite: true)
    return report
  }
}
