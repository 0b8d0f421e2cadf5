import ArgumentParser
import Foundation
import GDAL
import TesseraCore

/// What a command hands back to the runner.
struct CommandResult {
  /// Printed on stdout with --json.
  var json: JSONValue
  /// Printed on stderr without --json (and without --quiet).
  var text: String
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
    if global.json, result.json != .null {
      // The report is what --json asked for; the output it describes stays committed. No error
      // object follows on a stdout that just failed.
      do { try Terminal.out(result.json.serialized(pretty: true)) } catch {
        throw CommandFailure(command: name, error: TesseraError.from(error), json: false, quiet: global.quiet)
      }
    } else if !global.quiet, !result.text.isEmpty {
      Terminal.err(result.text)
    }
    if result.status != .ok { throw ExitCode(result.status.rawValue) }
  }

  /// Prints one error line without stopping (for commands that go on past a bad file).
  func reportError(_ error: TesseraError) {
    Terminal.err("tessera \(name): \(error.message)")
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

  static func errorJSON(command: String, status: ExitStatus, message: String) -> JSONValue {
    .object([
      ("command", .string(command)), ("status", .string("error")),
      ("exit_code", .int(Int(status.rawValue))), ("error", .string(message)),
    ])
  }
}
