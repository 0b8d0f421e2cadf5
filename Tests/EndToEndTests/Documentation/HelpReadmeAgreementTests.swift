import Foundation
import TestSupport
import XCTest

/// `--help` and the README agree (issue #26, item 12). Each subcommand's options, as its `--help`
/// declares them, against the README's `### COMMAND` section:
/// - every option the command takes is named in its section, or, when other commands take it
///   too, the section's **Options** paragraph links to the table of options shared by commands;
/// - the **Options** paragraph, and every `tessera COMMAND …` line of the README's code blocks,
///   name no option the command does not take.
final class HelpReadmeAgreementTests: XCTestCase {
  static let sharedTableLink = "](#options-shared-by-commands)"

  /// The README's `### name` sections (heading to the next heading), by name.
  static func sections(_ text: String) -> [String: String] {
    var found: [String: String] = [:]
    var name: String?
    var body = ""
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("## ") || line.hasPrefix("### ") {
        if let name { found[name] = body }
        name = line.hasPrefix("### ") ? String(line.dropFirst(4)).trimmingCharacters(in: .whitespaces) : nil
        body = ""
      } else {
        body += line + "\n"
      }
    }
    if let name { found[name] = body }
    return found
  }

  /// The paragraph that starts with `**Options**`.
  static func optionsParagraph(_ section: String) -> String? {
    let paragraphs = section.components(separatedBy: "\n\n")
    return paragraphs.first { $0.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("**Options**") }
  }

  /// Option spellings (`-o`, `--bbox-crs`) in text, link targets left out.
  static func spellings(_ text: String) -> Set<String> {
    let unlinked = text.replacingOccurrences(of: #"\]\([^)]*\)"#, with: "]", options: .regularExpression)
    let pattern = try? NSRegularExpression(pattern: #"(?<![A-Za-z0-9_-])--?[a-z][a-z0-9-]*"#)
    let range = NSRange(unlinked.startIndex..., in: unlinked)
    return Set((pattern?.matches(in: unlinked, range: range) ?? []).compactMap { Range($0.range, in: unlinked).map { String(unlinked[$0]) } })
  }

  /// The `tessera …` lines of every code block, continuations joined, comments, quoted words and
  /// pipes cut: what is left are the command's own words.
  static func commandLines(_ text: String) -> [String] {
    var lines: [String] = []
    var inBlock = false
    var pending = ""
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.hasPrefix("```") { inBlock.toggle(); continue }
      guard inBlock else { continue }
      var joined = pending + line
      if joined.hasSuffix("\\") { pending = joined.dropLast().trimmingCharacters(in: .whitespaces) + " "; continue }
      pending = ""
      for cut in [" #", "|"] { if let at = joined.range(of: cut) { joined = String(joined[..<at.lowerBound]) } }
      joined = joined.replacingOccurrences(of: #"'[^']*'|"[^"]*""#, with: "''", options: .regularExpression)
      if joined.hasPrefix("tessera ") { lines.append(joined) }
    }
    return lines
  }

  func testEveryCommandsOptionsAreInItsReadmeSection() throws {
    let declared = try OptionDeclarations.load()
    let readme = try String(contentsOfFile: OptionDeclarations.readme, encoding: .utf8)
    let sections = HelpReadmeAgreementTests.sections(readme)
    let shared = Set(declared.rows.map(\.option))
    for (command, options) in declared.commands.sorted(by: { $0.key < $1.key }) {
      guard let section = sections[command] else { XCTFail("README has no '### \(command)' section"); continue }
      guard let paragraph = HelpReadmeAgreementTests.optionsParagraph(section) else {
        XCTFail("README's \(command) section has no **Options** paragraph"); continue
      }
      let named = HelpReadmeAgreementTests.spellings(section)
      let linked = paragraph.contains(HelpReadmeAgreementTests.sharedTableLink)
      let missing = options.filter { option in
        named.isDisjoint(with: option.names) && !(linked && shared.contains(option.option))
      }
      XCTAssertEqual(missing.map { $0.names.last ?? $0.option }, [],
                     "\(command) takes these options (its --help) that its README section does not name\(linked ? "" : " (nor link to the shared table)")")
      let spelled = Set(options.flatMap(\.names))
      XCTAssertEqual(HelpReadmeAgreementTests.spellings(paragraph).subtracting(spelled).sorted(), [],
                     "README's \(command) **Options** paragraph names options \(command) does not take")
    }
  }

  func testEveryReadmeCommandLineUsesOptionsItsCommandTakes() throws {
    let declared = try OptionDeclarations.load()
    let readme = try String(contentsOfFile: OptionDeclarations.readme, encoding: .utf8)
    var checked = 0
    for line in HelpReadmeAgreementTests.commandLines(readme) {
      let words = line.split(separator: " ").map(String.init)
      guard words.count > 1, let options = declared.commands[words[1]] else { continue }
      let spelled = Set(options.flatMap(\.names)).union(["-h", "--help", "--version"])
      let unknown = words.dropFirst(2).filter { $0.range(of: #"^--?[a-z][a-z0-9-]*$"#, options: .regularExpression) != nil && !spelled.contains($0) }
      XCTAssertEqual(unknown, [], "README: `\(line)` gives \(words[1]) options its --help does not list")
      checked += 1
    }
    XCTAssertGreaterThan(checked, 40, "the README's command lines were not found")
  }

  /// The checks can fail: a section naming an option its command lacks, and one missing an option.
  func testTheChecksSeeAnUnknownAndAMissingOption() {
    let section = "Text about `--bbox`.\n\n**Options**: `--labels`, `--fps`; shared: [table](#options-shared-by-commands).\n"
    XCTAssertEqual(HelpReadmeAgreementTests.spellings(HelpReadmeAgreementTests.optionsParagraph(section) ?? ""), ["--labels", "--fps"])
    XCTAssertFalse(HelpReadmeAgreementTests.spellings(section).contains("--order"))
    XCTAssertEqual(HelpReadmeAgreementTests.commandLines("```sh\ntessera clip a.tif b.tif \\\n  --where 'x = --y' # --z\n```\n"),
                   ["tessera clip a.tif b.tif --where ''"])
  }
}
