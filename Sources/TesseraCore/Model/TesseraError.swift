import Foundation
import GDAL

/// Exit statuses, after sysexits.h. Documented in the README; scripts depend on them.
public enum ExitStatus: Int32, Sendable, CaseIterable {
  case ok = 0
  /// A check failed: a validator found problems.
  case checkFailed = 1
  case usage = 64
  /// Input data is bad: corrupt, incompatible, no overlap.
  case dataError = 65
  /// An input is missing or unreadable.
  case noInput = 66
  case internalError = 70
  /// The system refused a resource: open files (`ulimit -n`), memory.
  case osError = 71
  /// The output cannot be created, or exists without --overwrite.
  case cannotCreate = 73
  /// Writing failed (disk full, I/O error).
  case ioError = 74
  /// A program Tessera needs for this job is not installed (ffmpeg for MP4).
  case unavailable = 69
  /// SIGHUP: the terminal went away.
  case hangup = 129
  case interrupted = 130
  case terminated = 143
}

/// An error with a one-line message for the user and the exit status it stands for.
public struct TesseraError: Error, Equatable, CustomStringConvertible {
  public let status: ExitStatus
  public let message: String
  /// A character of the message to mark with a caret on a second line (a syntax error's column
  /// in the quoted expression), counted from the message's start.
  public var mark: Int?

  /// The message is folded to one line: GDAL's own text can span several (an XML parser's
  /// excerpt of the file), and every failure is one line.
  public init(_ status: ExitStatus, _ message: String, mark: Int? = nil) {
    self.status = status
    self.message = TesseraError.oneLine(message)
    // The caret's column counts the escapes that now stand for the characters before it.
    self.mark = mark.map { TesseraError.oneLine(String(message.prefix($0)), trimming: false).count }
  }

  public var description: String { message }

  /// Classifies an error thrown below the CLI outside any output (an output's own failures are
  /// classified by `OutputTarget.classify`, which knows whose fault they are): a GDAL failure
  /// there came from reading an input.
  public static func from(_ error: Error) -> TesseraError {
    switch error {
    case let error as TesseraError:
      return error
    case let error as OpenError:
      switch error {
      case .notFound, .permissionDenied, .unreachable: return TesseraError(.noInput, error.description)
      case .notRegular, .unreadable: return TesseraError(.dataError, error.description)
      case .systemLimit: return TesseraError(.osError, error.description)
      }
    case let error as GDALError:
      if error.isUserInterrupt { return TesseraError(.interrupted, "interrupted") }
      if error.isOutOfMemory { return TesseraError(.osError, oneLine("out of memory: \(error.description)")) }
      // A file GDAL could not open while descriptors ran out: the limit's fault, not the input's.
      if error.isOpenFailure, let reason = SystemLimits.descriptorRefusal() {
        return TesseraError(.osError, oneLine("\(reason): \(WatchedFiles.unwatched(error.description))"))
      }
      // A file an input refers to (a VRT's source) could not be opened: an input is missing.
      let status: ExitStatus = error.isOpenFailure ? .noInput : .dataError
      return TesseraError(status, oneLine(WatchedFiles.unwatched(error.description)))
    default:
      return TesseraError(.internalError, oneLine(String(describing: error)))
    }
  }

  /// The text as one line that shows what it holds: the line breaks, tabs and other control
  /// characters in it (a path's newline, the lines of an excerpt GDAL quotes) and the
  /// bidirectional format characters that would make the rest read backwards are written as
  /// escapes (`\n`, `\t`, `\u{202E}`), so a path `a<newline>b.tif` reads `a\nb.tif`. Line
  /// breaks and spaces at the ends go.
  public static func oneLine(_ text: String, trimming: Bool = true) -> String {
    let body = trimming ? text.trimmingCharacters(in: .whitespacesAndNewlines) : text
    var result = ""
    for scalar in body.unicodeScalars {
      switch scalar {
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      default:
        if scalar.properties.generalCategory == .control || isBidiFormat(scalar) || scalar == "\u{2028}" || scalar == "\u{2029}" {
          result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        } else {
          result.unicodeScalars.append(scalar)
        }
      }
    }
    return result
  }

  /// The marks, embeddings, overrides and isolates of Unicode's bidirectional algorithm.
  static func isBidiFormat(_ scalar: Unicode.Scalar) -> Bool {
    [0x061C, 0x200E, 0x200F].contains(scalar.value) || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
  }
}
