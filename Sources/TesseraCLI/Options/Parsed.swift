import ArgumentParser
import Foundation
import TesseraCore

/// A value an option's text stands for, made once, when the command line is read.
protocol ArgumentValue {
  /// - Throws: `ValidationError` or a usage `TesseraError` with the message Tessera prints for
  ///   text that is no such value.
  init(argumentText text: String) throws
}

/// An option's typed value, parsed from its text when the command line is read.
///
/// ArgumentParser refuses text its `init?(argument:)` rejects with words of its own ("The value
/// 'x' is invalid for '--bbox <…>'") and before any other check. Tessera's usage errors are its
/// own sentences, in the order its `validate()` methods check, so the parse result is kept here
/// and a refusal is thrown by `value()`, which the option's group calls from `validate()`.
/// `run()` reads the value and never sees the text again.
struct Parsed<Value: ArgumentValue>: ExpressibleByArgument {
  /// The text as given: shown in help as the default, and in messages a group words itself.
  let text: String
  private let result: Result<Value, ValidationError>

  init(_ text: String) {
    self.text = text
    do { result = .success(try Value(argumentText: text)) } catch let error as ValidationError {
      result = .failure(error)
    } catch {
      result = .failure(ValidationError(TesseraError.from(error).message))
    }
  }

  init?(argument: String) { self.init(argument) }

  var defaultValueDescription: String { text }

  /// The value, or the usage error its text earns.
  func value() throws -> Value { try result.get() }

  /// The value; nil when the text did not parse (for a group that words the refusal itself).
  var valid: Value? { try? result.get() }
}

extension Optional {
  /// The value of an option that may be absent, or the usage error of its text.
  func value<Value>() throws -> Value? where Wrapped == Parsed<Value> {
    try self?.value()
  }
}

extension Array {
  /// The values of a repeatable option, or the usage error of the first bad one.
  func values<Value>() throws -> [Value] where Element == Parsed<Value> {
    try map { try $0.value() }
  }
}

// MARK: - Lists

/// Splits comma-separated text into trimmed items, keeping empty ones (`1,,2` has three).
func commaItems(_ text: String, omittingEmpty: Bool = false) -> [String] {
  text.split(separator: ",", omittingEmptySubsequences: omittingEmpty).map { $0.trimmingCharacters(in: .whitespaces) }
}
