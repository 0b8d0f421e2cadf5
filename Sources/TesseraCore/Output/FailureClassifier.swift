import Foundation
import GDAL

/// Decides whose fault a failure while writing one output is, by where it came from, never by
/// the message text: the output's own files (its temporary file, sidecars GDAL writes beside
/// it, its scratch files), the disk under them, the system's limits, or an input.
struct FailureClassifier {
  /// The path the user asked for, which messages name.
  let finalPath: String
  /// The output's temporary file, and the prefix of its scratch files.
  let temporaryPath: String
  let scratchPrefix: String
  /// How messages name the input whose data failed to read (one input's path).
  let inputLabel: String?

  /// What a failure while writing this output means for the user, decided by where it came
  /// from: the operating system's report on the output's own file (73 when it could not be
  /// created, 74 when writing it failed), a call made on the output dataset (74), a user
  /// interrupt (130); anything else failed while reading the inputs (65).
  func classify(_ error: Error) -> TesseraError {
    if let failure = WatchedFiles.failure(under: scratchPrefix) {
      let code: ExitStatus = failure.isCreation ? .cannotCreate : .ioError
      return TesseraError(code, "writing the temporary file \(failure.path) for \(finalPath) failed: \(failure.reason)")
    }
    if let failure = WatchedFiles.failure(under: temporaryPath) {
      // The failing file may be a sidecar GDAL writes on the way (the COG driver's temporary
      // overviews); to the user it is this output that could not be written.
      if failure.isCreation {
        return TesseraError(.cannotCreate, "cannot create \(finalPath): \(failure.reason)")
      }
      return TesseraError(.ioError, "writing \(finalPath) failed: \(failure.reason)")
    }
    switch error {
    case let error as GDALError:
      if error.isUserInterrupt { return TesseraError(.interrupted, "interrupted") }
      let text = unmasked(error.message)
      if let dataset = error.dataset, WatchedFiles.realPath(dataset) == temporaryPath || dataset == temporaryPath {
        return TesseraError(.ioError, TesseraError.oneLine("writing \(finalPath) failed: \(text)"))
      }
      if error.isOutOfMemory { return TesseraError(.osError, TesseraError.oneLine("out of memory: \(text)")) }
      if error.isOpenFailure, let reason = SystemLimits.descriptorRefusal() {
        return TesseraError(.osError, TesseraError.oneLine("\(reason): \(text)"))
      }
      // A file an input refers to (a VRT's source) could not be opened: an input is missing.
      let status: ExitStatus = error.isOpenFailure ? .noInput : .dataError
      if let dataset = error.dataset {
        return TesseraError(status, TesseraError.oneLine(FailureClassifier.naming(dataset, text)))
      }
      return TesseraError(status, TesseraError.oneLine(inputLabel.map { FailureClassifier.naming($0, text) } ?? text))
    case let error as TesseraError:
      return TesseraError(error.status, unmasked(error.message))
    default:
      return TesseraError.from(error)
    }
  }

  /// GDAL's text with the names it was given for this output replaced by the user's path.
  func unmasked(_ text: String) -> String {
    WatchedFiles.unwatched(text).replacingOccurrences(of: temporaryPath, with: finalPath)
  }

  /// `file: message`, unless GDAL's message names the file already.
  static func naming(_ file: String, _ message: String) -> String {
    let name = (file as NSString).lastPathComponent
    return message.contains(name) ? message : "\(file): \(message)"
  }
}
