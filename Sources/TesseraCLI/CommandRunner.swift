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
}

/// Runs one subcommand the same way every time: GDAL set up from the global options, signals
/// handled, errors turned into one line and an exit status, JSON or text printed.
struct CommandRunner {
  let name: String
  let global: GlobalOptions
  let started = Date()

  init(_ name: String, _ global: GlobalOptions) {
    self.name = name
    self.global = global
  }

  func run(_ body: (CommandRunner) throws -> CommandResult) throws {
    global.applyToGDAL()
    GDALWarnings.shared.reset()
    Interruption.context = Interruption.Context(command: name, json: global.json)
    let result: CommandResult
    do {
      result = try body(self)
    } catch {
      fail(TesseraError.from(error))
    }
    if !global.quiet {
      for warning in result.warnings { Terminal.err("warning: \(warning)") }
      printWarnings()
    }
    if global.json {
      Terminal.out(result.json.serialized(pretty: true))
    } else if !global.quiet, !result.text.isEmpty {
      Terminal.err(result.text)
    }
    if result.status != .ok { throw ExitCode(result.status.rawValue) }
  }

  /// Prints the error as the documented single line (and JSON object) and exits.
  func fail(_ error: TesseraError) -> Never {
    if !global.quiet { printWarnings() }
    Terminal.err("tessera \(name): \(error.message)")
    if global.json {
      Terminal.out(CommandRunner.errorJSON(command: name, status: error.status, message: error.message).serialized(pretty: true))
    }
    exit(error.status.rawValue)
  }

  /// Prints one error line without stopping (for commands that go on past a bad file).
  func reportError(_ error: TesseraError) {
    Terminal.err("tessera \(name): \(error.message)")
  }

  private func printWarnings() {
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

  /// Runs a core operation with a progress bar labelled `label` and reports what it wrote.
  func perform(_ label: String, _ operation: (ProgressHandler?) throws -> OperationReport) throws -> CommandResult {
    let bar = progress(label)
    let report = try operation(bar?.handler)
    bar?.finish()
    return try result(report)
  }

  /// The standard result of a writing command: the report on stdout with --json, a line per
  /// output on stderr otherwise.
  func result(_ report: OperationReport) throws -> CommandResult {
    // Describing the outputs costs CRS look-ups; only --json prints them.
    let json = global.json ? self.report(outputs: try report.outputInfos(), extra: report.details, warnings: report.warnings) : .null
    let text = report.outputs.map { "wrote \($0)" }.joined(separator: "\n")
    return CommandResult(json: json, text: text, warnings: report.warnings)
  }

  static func errorJSON(command: String, status: ExitStatus, message: String) -> JSONValue {
    .object([
      ("command", .string(command)), ("status", .string("error")),
      ("exit_code", .int(Int(status.rawValue))), ("error", .string(message)),
    ])
  }
}
