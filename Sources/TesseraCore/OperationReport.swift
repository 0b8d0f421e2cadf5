import Foundation
import GDAL

/// What an operation hands back: the files it wrote and what else it wants reported.
public struct OperationReport {
  public var outputs: [String]
  /// Command-specific keys for the JSON report, in order.
  public var details: [(String, JSONValue)]

  public init(outputs: [String], details: [(String, JSONValue)] = []) {
    self.outputs = outputs
    self.details = details
  }

  /// The info object of every output, as the report's `outputs` array carries them.
  public func outputInfos() throws -> [JSONValue] {
    try outputs.map { try RasterInfo.read(path: $0).json }
  }
}

/// Runs the GDAL step that writes an output and commits it; any failure removes the partial file.
func writing<T>(_ target: OutputTarget, _ body: () throws -> T) throws -> T {
  do {
    let value = try body()
    try target.commit()
    return value
  } catch {
    target.abort()
    throw classify(error, target: target)
  }
}

/// A GDAL failure while writing is a write failure (74) when it concerns the output; otherwise
/// it came from reading an input (65).
func classify(_ error: Error, target: OutputTarget) -> Error {
  guard let gdal = error as? GDALError else { return error }
  if gdal.isUserInterrupt { return TesseraError(.interrupted, "interrupted") }
  let text = gdal.description
  let aboutOutput = text.contains(target.temporaryPath) || text.contains("No space left")
    || text.localizedCaseInsensitiveContains("write") || text.localizedCaseInsensitiveContains("closing")
  let message = text.replacingOccurrences(of: target.temporaryPath, with: target.finalPath)
  return TesseraError(aboutOutput ? .ioError : .dataError, TesseraError.oneLine(message))
}
