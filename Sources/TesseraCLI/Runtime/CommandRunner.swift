import ArgumentParser
import Foundation
import GDAL
import TesseraCore

/// What a command hands back to the runner.
struct CommandResult {
  /// Printed on stdout with --json: one object, with "command" and "status".
  var json: JSONValue
  /// Chatter (`wrote …`, a run's summary): printed on stderr without --json, unless quiet.
  var text: String = ""
  /// What the user asked for (info's report, a verdict, a list): printed on stdout without
  /// --json, --quiet or not, as gdalinfo prints its report under -q.
  var report: String = ""
  var status: ExitStatus = .ok
  /// The operation's own warnings, shown on stderr like GDAL's.
  var warnings: [String] = []
  /// Notices, printed as lines of the command's on stderr unless quiet.
  var notes: [String] = []
}

/// A failed run on its way to `Tessera.main`, the one place that prints failures: the error,
/// the command it belongs to, and whether JSON was asked for.
struct CommandFailure: Error {
  let command: String
  let error: TesseraError
  let json: Bool
  let quiet: Bool

  /// The failure as 71 when the system refused a descriptor during the run: what failed then
  /// (an input, PROJ's database, the output's temporary file) was not at fault, whatever words
  /// GDAL found for it.
  func blamingSystemLimits() -> CommandFailure {
    let blaming: [ExitStatus] = [.usage, .dataError, .noInput, .internalError, .cannotCreate]
    guard blaming.contains(error.status), let reason = SystemLimits.refusalSeen else { return self }
    let message = error.message.contains(reason) ? error.message : "\(reason): \(error.message)"
    return CommandFailure(command: command, error: TesseraError(.osError, message), json: json, quiet: quiet)
  }
}

/// Runs one subcommand the same way every time: GDAL set up from the global options (once),
/// signals handled, JSON or text printed; a failure is thrown to `Tessera.main` as a
/// `CommandFailure`.
struct CommandRunner {
  let name: String
  let global: GlobalOptions
  let started = Date()

  init(_ name: String, _ global: GlobalOptions) {
    self.name = name
    self.global = global
  }

  func run(_ body: (CommandRunner) throws -> CommandResult) throws {
    Interruption.context = Interruption.Context(command: name, json: global.json)
    let result: CommandResult
    do {
      try global.resources.apply()
      GDALWarnings.shared.reset()
      result = try body(self)
    } catch {
      // A failure the interruption caused (its helper ended, its file removed) is not this
      // run's outcome: the signal's exit is, once the handler has cleaned up.
      if Interruption.requested { Interruption.awaitExit() }
      throw CommandFailure(command: name, error: TesseraError.from(error), json: global.json, quiet: global.quiet)
    }
    if !global.quiet {
      for note in result.notes { Terminal.err("tessera \(name): \(note)") }
      for warning in result.warnings { Terminal.err("warning: \(warning)") }
      CommandRunner.printGDALWarnings()
    }
    try printOutcome(result)
    if result.status != .ok { throw ExitCode(result.status.rawValue) }
  }

  /// stdout gets what was asked for (the JSON object, or the report); stderr the chatter.
  private func printOutcome(_ result: CommandResult) throws {
    let asked = global.json ? (result.json == .null ? "" : result.json.serialized(pretty: true)) : result.report
    if !global.json, !global.quiet, !result.text.isEmpty { Terminal.err(result.text) }
    guard !asked.isEmpty else { return }
    // The output a report describes stays committed. No error object follows on a stdout that
    // just failed.
    do { try Terminal.out(asked) } catch {
      throw CommandFailure(command: name, error: TesseraError.from(error), json: false, quiet: global.quiet)
    }
  }

  /// Prints one error line without stopping (for commands that go on past a bad file).
  func reportError(_ error: TesseraError) {
    Terminal.err("tessera \(name): \(error.message)")
  }

  /// The failure of one item of several (a file info or validate-cog could not read), judged
  /// as a whole run's failure would be, and said on stderr; the run goes on to the next item.
  func itemFailure(_ error: Error) -> TesseraError {
    // A failure the interruption caused is not the file's: the signal's exit is the outcome.
    if Interruption.requested { Interruption.awaitExit() }
    let failure = CommandFailure(command: name, error: TesseraError.from(error), json: global.json, quiet: global.quiet)
      .blamingSystemLimits().error
    // As for a whole run's failure: GDAL's warnings so far first, then the one line.
    if !global.quiet { CommandRunner.printGDALWarnings() }
    GDALWarnings.shared.reset()
    reportError(failure)
    return failure
  }

  static func printGDALWarnings() {
    for warning in GDALWarnings.shared.all { Terminal.err("warning: \(warning)") }
  }

  /// A progress handler for a step, or nil when progress is not shown.
  func progress(_ label: String) -> ProgressBar? {
    guard !global.quiet, global.progress || Terminal.stderrIsTTY else { return nil }
    return ProgressBar(label: label, inPlace: Terminal.stderrIsTTY)
  }

  /// The report envelope of every writing command; command-specific keys follow.
  func report(outputs: [JSONValue], extra: [(String, JSONValue)] = [], warnings: [String] = []) -> JSONValue {
    .object([
      ("command", .string(name)), ("status", .string("ok")),
      ("elapsed_s", .double((Date().timeIntervalSince(started) * 1000).rounded() / 1000)),
      ("warnings", .array((warnings + GDALWarnings.shared.all).map { .string($0) })),
      ("outputs", .array(outputs)),
    ] + extra)
  }

  /// Runs a core operation with a progress bar labelled with the command's name and reports
  /// what it wrote.
  func perform(_ operation: (ProgressHandler?) throws -> OperationReport) throws -> CommandResult {
    let bar = progress(name)
    let report = try operation(bar?.handler)
    bar?.finish()
    return try result(report)
  }

  /// The standard result of a writing command: the report on stdout with --json, a line per
  /// output on stderr otherwise.
  func result(_ report: OperationReport, text: String? = nil) throws -> CommandResult {
    // Describing the outputs costs CRS look-ups; only --json (or a --report file) prints them.
    let json = global.json || report.reportTarget != nil
      ? self.report(outputs: try report.outputInfos(), extra: report.details, warnings: report.warnings) : .null
    if let target = report.reportTarget {
      // Written whole or not at all, never over a file without --overwrite, like the raster,
      // and moved into place together with it: both are replaced, or neither.
      try target.fill { try target.writeContents(Data((json.serialized(pretty: true) + "\n").utf8)) }
    }
    try OutputTarget.finishAll(report.uncommitted + (report.reportTarget.map { [$0] } ?? []))
    return CommandResult(json: global.json ? json : .null,
                         text: text ?? report.outputs.map { "wrote \($0)" }.joined(separator: "\n"),
                         warnings: report.warnings, notes: report.notes)
  }

  /// The object of a command that reports on several items (info's files, validate-cog's):
  /// one shape for one item or many, the items under `key`. The run's status is "ok",
  /// `unsound` (validate-cog's "failed") when an item failed its check, or "error" with the
  /// first item error's exit code and message.
  func itemsJSON(_ key: String, _ items: [JSONValue], failure: TesseraError?, unsound: Bool = false) -> JSONValue {
    var pairs: [(String, JSONValue)] = [("command", .string(name))]
    if let failure {
      pairs += [("status", .string("error")), ("exit_code", .int(Int(failure.status.rawValue))), ("error", .string(failure.message))]
    } else {
      pairs.append(("status", .string(unsound ? "failed" : "ok")))
    }
    return .object(pairs + [(key, .array(items))])
  }

  /// An item that could not be read, in its place in `itemsJSON`'s list.
  static func itemErrorJSON(path: String, _ failure: TesseraError) -> JSONValue {
    .object([
      ("path", .string(path)), ("status", .string("error")),
      ("exit_code", .int(Int(failure.status.rawValue))), ("error", .string(failure.message)),
    ])
  }

  /// An object of what was asked for (a list, a description) with the envelope every --json
  /// object has.
  func okJSON(_ pairs: [(String, JSONValue)]) -> JSONValue {
    .object([("command", .string(name)), ("status", .string("ok"))] + pairs)
  }

  static func errorJSON(command: String, status: ExitStatus, message: String) -> JSONValue {
    .object([
      ("command", .string(command)), ("status", .string("error")),
      ("exit_code", .int(Int(status.rawValue))), ("error", .string(message)),
    ])
  }
}
