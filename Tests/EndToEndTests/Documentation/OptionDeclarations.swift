import Foundation
import TestSupport
import XCTest

/// The options every subcommand declares, as `Tools/options_table.py --json` reads them from the
/// built binary's `--experimental-dump-help` (what `--help` is made from): one source for the
/// README's generated table and for the tests that hold the README and the help to each other.
struct OptionDeclarations {
  /// One row of the shared-options table: one spelling, help text and grammar of an option name,
  /// and the commands that declare it so.
  struct Row: Equatable {
    let option: String
    let names: [String]
    let meaning: String
    let commands: [String]
  }

  /// Every visible subcommand's options: the preferred (long) name and every spelling.
  let commands: [String: [(option: String, names: [String])]]
  /// The table's rows: options two or more commands take.
  let rows: [Row]

  struct ScriptFailed: Error { let message: String }

  static let repository = Fixture.root.deletingLastPathComponent().path
  static let script = repository + "/Tools/options_table.py"
  static let readme = repository + "/README.md"

  /// Runs the table script against the built binary.
  static func script(_ arguments: [String]) throws -> ProcessResult {
    try Run.process(Oracle.python, [script, "--tessera", TesseraBinary.path] + arguments, currentDirectory: repository)
  }

  static func load() throws -> OptionDeclarations {
    let run = try script(["--json"])
    guard run.status == 0 else { throw ScriptFailed(message: "options_table.py --json: \(run.stderr)") }
    let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let rows = try XCTUnwrap(object["rows"] as? [[String: Any]]).map {
      Row(option: $0["option"] as? String ?? "", names: $0["names"] as? [String] ?? [], meaning: $0["meaning"] as? String ?? "", commands: $0["commands"] as? [String] ?? [])
    }
    let perCommand = try XCTUnwrap(object["commands"] as? [String: [[String: Any]]])
    let commands = perCommand.mapValues { options in
      options.map { (option: $0["option"] as? String ?? "", names: $0["names"] as? [String] ?? []) }
    }
    return OptionDeclarations(commands: commands, rows: rows)
  }

  /// The options every visible subcommand takes (`--json`, `--quiet`, `--threads`, …), which the
  /// README documents once, under "Options every subcommand takes".
  var everyCommandsOptions: Set<String> {
    commands.values.map { Set($0.map(\.option)) }.reduce(nil) { (all: Set<String>?, next) in all.map { $0.intersection(next) } ?? next } ?? []
  }
}
