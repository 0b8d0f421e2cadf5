import Foundation

/// One command a batch job runs: a Tessera subcommand and its arguments, with `{id}` and
/// `{tmp}` still in them.
public struct BatchStep: Equatable, Sendable {
  public var command: String
  public var args: [String]

  public init(command: String, args: [String]) {
    self.command = command
    self.args = args
  }
}

/// One job of a batch: an id unique in its manifest and the steps it runs in order.
public struct BatchJob: Equatable, Sendable {
  public var id: String
  public var steps: [BatchStep]
  /// Where the job came from, for messages: "line 12" or a template's file.
  public var origin: String

  public init(id: String, steps: [BatchStep], origin: String) {
    self.id = id
    self.steps = steps
    self.origin = origin
  }

  /// What the job does, as a stable digest of its steps before `{tmp}` is filled in (the
  /// journal's "args hash": a job whose arguments changed runs again on `--resume`).
  public var argsHash: String {
    SHA256.hex(of: JSONValue.array(steps.map { .array([.string($0.command)] + $0.args.map { .string($0) }) }).serialized())
  }

  /// The steps with `{id}` and `{tmp}` replaced.
  public func expanded(tmp: String) -> [BatchStep] {
    steps.map { step in
      BatchStep(command: step.command, args: step.args.map {
        $0.replacingOccurrences(of: "{id}", with: id).replacingOccurrences(of: "{tmp}", with: tmp)
      })
    }
  }
}

/// Reads a batch manifest (JSON Lines, one job a line) or expands a command template over
/// files. Every fault is found before any job runs.
public enum BatchManifest {
  /// Parses a manifest. `commands` are the subcommands a job may run.
  /// - Throws: exit 65 naming the line for a line that is not a job, a duplicate id or an
  ///   unknown command; 64 for an empty manifest.
  public static func parse(_ data: Data, source: String, commands: Set<String>) throws -> [BatchJob] {
    guard let text = String(data: data, encoding: .utf8) else {
      throw TesseraError(.dataError, "\(source) is not UTF-8 text")
    }
    var jobs: [BatchJob] = []
    var seen: [String: Int] = [:]
    for (offset, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
      let number = offset + 1
      let line = rawLine.trimmingCharacters(in: .whitespaces.union(.init(charactersIn: "\r")))
      if line.isEmpty || line.hasPrefix("#") { continue }
      let fail = { (reason: String) in TesseraError(.dataError, "\(source) line \(number): \(reason)") }
      let value: JSONValue
      do { value = try JSONValue.parse(Data(line.utf8)) } catch { throw fail("not JSON (\(error))") }
      guard case .object(let pairs) = value else { throw fail("a job is a JSON object, got \(value.serialized())") }
      // A NUL ends a C string: a path or id holding one would be cut short where it is used
      // (a file name, an argument), unlike the string every check compared.
      if containsNUL(value) { throw fail("a string holds a NUL character (\\u0000), which no argument, id or file name can hold") }
      if let key = duplicateKey(value) { throw fail("the key \"\(key)\" is given twice") }
      let known: Set<String> = ["id", "command", "args", "steps"]
      if let unknown = pairs.first(where: { !known.contains($0.0) }) {
        throw fail("unknown key \"\(unknown.0)\" (a job has id, and command with args, or steps)")
      }
      guard case .string(let id)? = value["id"], !id.isEmpty else { throw fail("a job needs a non-empty string \"id\"") }
      if let first = seen[id] { throw fail("duplicate id \"\(id)\" (first on line \(first))") }
      seen[id] = number
      var steps: [BatchStep] = []
      if let stepsValue = value["steps"] {
        if value["command"] != nil || value["args"] != nil { throw fail("a job has either command and args or steps, not both") }
        guard case .array(let items) = stepsValue, !items.isEmpty else { throw fail("\"steps\" must be a non-empty array") }
        for (index, item) in items.enumerated() {
          steps.append(try step(item, commands: commands, fail: { fail("step \(index + 1): \($0)") }))
        }
      } else {
        steps.append(try step(value, commands: commands, fail: fail))
      }
      // A COG is only ever the final copy: written by the last step, read by none.
      for step in steps.dropLast() where step.command == "cog-export" || step.args.contains("--cog") {
        throw fail("a COG is written only by a job's last step (cog-export or --cog in an earlier step)")
      }
      jobs.append(BatchJob(id: id, steps: steps, origin: "line \(number)"))
    }
    if jobs.isEmpty { throw TesseraError(.dataError, "\(source) has no jobs") }
    return jobs
  }

  /// Whether any string in the value, keys included, holds a NUL.
  static func containsNUL(_ value: JSONValue) -> Bool {
    switch value {
    case .string(let text): return text.unicodeScalars.contains("\u{0}")
    case .array(let items): return items.contains(where: containsNUL)
    case .object(let pairs): return pairs.contains { $0.0.unicodeScalars.contains("\u{0}") || containsNUL($0.1) }
    default: return false
    }
  }

  /// The first key some object in the value (the job, or a step) holds twice.
  static func duplicateKey(_ value: JSONValue) -> String? {
    switch value {
    case .array(let items): return items.lazy.compactMap(duplicateKey).first
    case .object(let pairs):
      var seen = Set<String>()
      for (key, _) in pairs where !seen.insert(key).inserted { return key }
      return pairs.lazy.compactMap { duplicateKey($0.1) }.first
    default: return nil
    }
  }

  private static func step(_ value: JSONValue, commands: Set<String>, fail: (String) -> TesseraError) throws -> BatchStep {
    if case .object(let pairs) = value, let unknown = pairs.first(where: { !["id", "command", "args", "steps"].contains($0.0) }) {
      throw fail("unknown key \"\(unknown.0)\"")
    }
    guard case .string(let command)? = value["command"] else { throw fail("needs a string \"command\"") }
    guard commands.contains(command) else {
      throw fail("unknown command \"\(command)\" (one of: \(commands.sorted().joined(separator: ", ")))")
    }
    var args: [String] = []
    if let argsValue = value["args"] {
      guard case .array(let items) = argsValue else { throw fail("\"args\" must be an array of strings") }
      for item in items {
        guard case .string(let arg) = item else { throw fail("\"args\" must be an array of strings, got \(item.serialized())") }
        args.append(arg)
      }
    }
    return BatchStep(command: command, args: args)
  }

  // MARK: - Templates

  /// The placeholders of `--each` templates.
  public static let placeholders = ["{path}", "{name}", "{stem}", "{dir}", "{ext}", "{index}"]

  /// One job per file from a template such as `reproject {path} out/{stem}.tif --dst-crs
  /// EPSG:4326`. The template is split into words as a shell would (quotes, backslashes) but
  /// never run by one; placeholders are filled in after splitting, so a path with spaces stays
  /// one argument. The job's id is the file's path as given.
  /// - Throws: 64 for a template that does not parse, names no known command, or a file given twice.
  public static func expand(template: String, files: [String], commands: Set<String>) throws -> [BatchJob] {
    let words = try splitWords(template)
    guard let command = words.first else { throw TesseraError(.usage, "--each needs a command template") }
    guard commands.contains(command) else {
      throw TesseraError(.usage, "--each: unknown command \"\(command)\" (one of: \(commands.sorted().joined(separator: ", ")))")
    }
    try checkPlaceholders(words)
    var seen = Set<String>()
    var jobs: [BatchJob] = []
    for (index, file) in files.enumerated() {
      guard seen.insert(file).inserted else { throw TesseraError(.usage, "--each: \(file) is given twice") }
      let values = placeholderValues(file, index: index)
      let args = words.dropFirst().map { word in
        values.reduce(word) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
      }
      jobs.append(BatchJob(id: file, steps: [BatchStep(command: command, args: Array(args))], origin: file))
    }
    if jobs.isEmpty { throw TesseraError(.usage, "--each needs at least one file") }
    return jobs
  }

  /// Refuses (64) a `{word}` in the template that is no placeholder: left as it is, it would
  /// become a file name with braces in it.
  static func checkPlaceholders(_ words: [String]) throws {
    let known = placeholders + ["{id}", "{tmp}"]
    guard let pattern = try? NSRegularExpression(pattern: "\\{[A-Za-z0-9_]+\\}") else { return }
    for word in words {
      let range = NSRange(word.startIndex..., in: word)
      for match in pattern.matches(in: word, range: range) {
        guard let found = Range(match.range, in: word) else { continue }
        let candidate = String(word[found])
        if !known.contains(candidate) {
          throw TesseraError(.usage, "--each: unknown placeholder \(candidate) in the template (known: \(known.joined(separator: ", ")))")
        }
      }
    }
  }

  static func placeholderValues(_ file: String, index: Int) -> [String: String] {
    let slash = file.lastIndex(of: "/")
    let name = String(slash.map { file[file.index(after: $0)...] } ?? file[...])
    var dir = slash.map { $0 == file.startIndex ? "/" : String(file[..<$0]) } ?? "."
    let dot = name.lastIndex(of: ".").flatMap { $0 == name.startIndex ? nil : $0 }
    let ext = dot.map { String(name[name.index(after: $0)...]) } ?? ""
    let stem = dot.map { String(name[..<$0]) } ?? name
    // A relative path that starts with '-' would read as an option: "./-x.tif" cannot.
    let path = file.hasPrefix("-") ? "./" + file : file
    if dir.hasPrefix("-") { dir = "./" + dir }
    return ["{path}": path, "{name}": name, "{stem}": stem, "{dir}": dir, "{ext}": ext, "{index}": String(index)]
  }

  /// Splits a command line into words the way a POSIX shell does for quotes and backslashes
  /// (no expansion of any kind).
  public static func splitWords(_ text: String) throws -> [String] {
    var words: [String] = []
    var current = ""
    var inWord = false
    var quote: Character?
    var escaped = false
    for character in text {
      if escaped {
        current.append(character); escaped = false; inWord = true; continue
      }
      switch (quote, character) {
      case (nil, "\\"), ("\"", "\\"):
        escaped = true
      case (nil, "'"), (nil, "\""):
        quote = character; inWord = true
      case ("'", "'"), ("\"", "\""):
        quote = nil
      case (nil, _) where character.isWhitespace:
        if inWord { words.append(current); current = ""; inWord = false }
      default:
        current.append(character); inWord = true
      }
    }
    if quote != nil { throw TesseraError(.usage, "--each: unterminated quote in the template") }
    if escaped { throw TesseraError(.usage, "--each: the template ends in a backslash") }
    if inWord { words.append(current) }
    return words
  }
}
