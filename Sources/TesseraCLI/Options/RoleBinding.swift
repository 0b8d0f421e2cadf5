import ArgumentParser
import Foundation
import TesseraCore

/// `--band ROLE=FILE[:N]`: a role of index's formulas bound to band N (default 1) of a file.
struct RoleBinding: ArgumentValue {
  var role: String
  /// FILE[:N] as given: the file the job reads.
  var file: String
  var binding: IndexRequest.Binding

  init(argumentText text: String) throws {
    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw ValidationError("--band takes ROLE=FILE[:N], got '\(text)'") }
    if let bad = SourceSet.badPick(parts[1]) { throw ValidationError("--band \(parts[0]): \(bad)") }
    (role, file) = (parts[0], parts[1])
    let pick = SourceSet.pick(file)
    binding = IndexRequest.Binding(path: pick.path, band: pick.band ?? 1)
  }
}

/// `--bands red=3,nir=4`: roles bound to bands of index's one INPUT, each role once.
struct RoleBands: ArgumentValue {
  var bands: [(role: String, band: Int)]

  init(argumentText text: String) throws {
    bands = []
    for item in text.split(separator: ",") {
      let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      guard parts.count == 2, let band = Int(parts[1]), band >= 1 else { throw ValidationError("--bands takes ROLE=N,…, got '\(item)'") }
      guard !bands.contains(where: { $0.role == parts[0] }) else { throw ValidationError("\(parts[0]) is bound twice") }
      bands.append((parts[0], band))
    }
  }
}

/// `--expr`: the band math as given, which the core compiles and whose errors it reports (with a
/// caret under the column), and the variables it reads (none when it does not parse).
struct ExpressionText: ArgumentValue {
  var text: String
  var variables: [String]

  init(argumentText text: String) {
    self.text = text
    variables = (try? BandExpression(text))?.variables ?? []
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
