import ArgumentParser
import Foundation
import TesseraCore

/// `-i ROLE=FILE[:N]` or `-i ROLE=N`: a role of index's formulas bound to band N (default 1) of a
/// file, or to band N of the command's INPUT. One value may hold several bindings separated by
/// commas; a comma separates only where the text after it (spaces aside) starts `ROLE=` (a name
/// of letters, digits and `_`, then `=`), so a file name holding a comma stays whole.
struct RoleBinding: ArgumentValue {
  /// Where a role's pixels come from, as the user wrote it.
  enum Source: Equatable {
    /// A file's band (1 unless FILE:N).
    case file(IndexRequest.Binding)
    /// Band N of INPUT: all digits after `=` (a file named like a number is written ./3).
    case inputBand(Int)
  }

  var role: String
  var source: Source
  /// `ROLE=…` as given, for messages.
  var text: String
  /// FILE[:N] as given: the file the job reads (nil for a band of INPUT).
  var file: String? {
    guard case .file = source else { return nil }
    return String(text.drop { $0 != "=" }.dropFirst())
  }

  init(argumentText text: String) throws {
    let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 2, RoleBinding.isRoleName(parts[0]), !parts[1].isEmpty else {
      throw ValidationError("-i takes ROLE=FILE[:N] or ROLE=N, got '\(text)'")
    }
    (role, self.text) = (parts[0], text)
    let value = parts[1]
    if value.allSatisfy({ ("0"..."9").contains($0) }) {
      guard let band = Int(value), band >= 1 else { throw ValidationError("-i \(text): bands are numbered from 1") }
      source = .inputBand(band)
      return
    }
    if let bad = SourceSet.badPick(value) { throw ValidationError("-i \(role): \(bad)") }
    let pick = SourceSet.pick(value)
    source = .file(IndexRequest.Binding(path: pick.path, band: pick.band ?? 1))
  }

  /// A role's name: letters, digits and `_`, not starting with a digit.
  static func isRoleName<S: StringProtocol>(_ text: S) -> Bool {
    guard let first = text.first, first.isASCII, first.isLetter || first == "_" else { return false }
    return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
  }

  /// The bindings of one `-i` value: split at each comma followed by `ROLE=`.
  static func split(_ text: String) -> [String] {
    var items: [String] = []
    var current = ""
    var rest = Substring(text)
    while let comma = rest.firstIndex(of: ",") {
      let after = rest[rest.index(after: comma)...]
      current += rest[..<comma]
      let next = after.drop { $0 == " " }
      if let equals = next.firstIndex(of: "="), isRoleName(next[..<equals]) {
        items.append(current)
        current = ""
      } else {
        current += ","
      }
      rest = after
    }
    return items + [current + rest]
  }
}

/// One `-i` value: one binding or several (`-i red=3,nir=4`).
struct RoleBindings: ArgumentValue {
  var bindings: [RoleBinding]

  init(argumentText text: String) throws {
    bindings = try RoleBinding.split(text).map { try RoleBinding(argumentText: $0.trimmingCharacters(in: .whitespaces)) }
  }
}

/// `--expr [NAME=]EXPR`: the band math as given, which the core compiles and whose errors it
/// reports (with a caret under the column), the band's name, and the variables it reads (none
/// when it does not parse). The expression's grammar has no lone `=`, so text before the first
/// lone `=` that is a name (letters, digits, `_`, `.`, `-`, starting with a letter) names the band.
struct ExpressionText: ArgumentValue {
  var name: String?
  var text: String
  var variables: [String]

  init(argumentText text: String) {
    (name, self.text) = ExpressionText.named(text)
    variables = (try? BandExpression(self.text))?.variables ?? []
  }

  static func named(_ text: String) -> (String?, String) {
    let characters = Array(text)
    for (i, c) in characters.enumerated() where c == "=" {
      let before = i > 0 ? characters[i - 1] : " ", after = i + 1 < characters.count ? characters[i + 1] : " "
      if "<>=!".contains(before) || after == "=" { continue }
      let name = String(characters[..<i]).trimmingCharacters(in: .whitespaces)
      guard let first = name.first, first.isLetter, name.allSatisfy({ $0.isLetter || $0.isNumber || "_.-".contains($0) }) else { break }
      return (name, String(characters[(i + 1)...]))
    }
    return (nil, text)
  }
}

/// `--param NAME=V`: a formula constant, a finite number.
struct FormulaConstant: ArgumentValue {
  var name: String, value: Double

  init(argumentText text: String) throws {
    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
    guard parts.count == 2, let value = Double(parts[1]), value.isFinite else { throw ValidationError("--param takes NAME=V, got '\(text)'") }
    (name, self.value) = (parts[0], value)
  }
}

/// `[ROLE=]NUMBER` of `--input-scale` and `--input-offset`: a finite number for one role, or for
/// every role (`*`) without ROLE=.
struct RoleNumber: ArgumentValue {
  var role: String, value: Double

  init(argumentText text: String) throws {
    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
    let (role, number) = parts.count == 2 ? (parts[0], parts[1]) : ("*", parts.first ?? "")
    guard let value = Double(number), value.isFinite else { throw ValidationError("takes [ROLE=]NUMBER") }
    (self.role, self.value) = (role, value)
  }
}

extension Array {
  /// `--input-scale` or `--input-offset` as a number per role, or the usage error naming the
  /// first bad item.
  func perRole(_ option: String) throws -> [String: Double] where Element == Parsed<RoleNumber> {
    var result: [String: Double] = [:]
    for item in self {
      guard let number = item.valid else { throw ValidationError("\(option) takes [ROLE=]NUMBER, got '\(item.text)'") }
      result[number.role] = number.value
    }
    return result
  }
}

/// index's dropped spellings, each refused (64) naming the one that replaced it.
struct IndexRetiredOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: .hidden) var bands: String?
  @Option(name: [.customShort("b"), .customLong("band")], parsing: .unconditionalSingleValue, help: .hidden) var band: [String] = []
  @Option(parsing: .unconditional, help: .hidden) var precision: String?
  @Option(parsing: .unconditional, help: .hidden) var scale: String?

  func refuse() throws {
    if let bands { throw ValidationError("--bands is now -i: write -i \(bands)") }
    if let band = band.first {
      throw ValidationError(band.contains("=") ? "--band ROLE=FILE is now -i: write -i \(band)"
                                               : "index binds roles, not band numbers: write -i ROLE=\(band) (-i red=\(band))")
    }
    if let precision {
      throw ValidationError("--precision is now --ot: write --ot \(precision.lowercased() == "double" ? "Float64" : "Float32")")
    }
    if let scale {
      let inverse = Double(scale).flatMap { $0 != 0 && $0.isFinite ? 1 / $0 : nil }
      throw ValidationError("--scale is now --output-scale, in GDAL's direction (value = stored × scale): write --output-scale \(inverse.map { "\($0)" } ?? "1/\(scale)")")
    }
  }
}
