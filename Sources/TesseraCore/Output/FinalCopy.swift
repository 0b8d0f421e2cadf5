import Foundation
import GDAL

/// The last step of an output in a format written by copy (every format but GTiff, and drivers
/// that only copy): the command writes a GTiff stage beside the output, and this copies it
/// through `driver` into the output's temporary file.
struct FinalCopy {
  let driver: String
  let options: [String]

  /// Copies the finished GTiff at `stagePath` into `temporaryPath` in the output's format and
  /// drops the stage.
  /// - Parameter unmasked: GDAL's text with the names it was given replaced by the user's path.
  func copy(stage stagePath: String, into temporaryPath: String, for finalPath: String, unmasked: (String) -> String) throws {
    let stage = try Dataset.open(stagePath)
    let hasNodata = try (1...Swift.max(1, stage.bandCount)).contains { try stage.bandCount > 0 && stage.band($0).noDataValue != nil }
    try RasterFormat(driver: driver, canCreate: false).requireHoldsNodata(hasNodata, options: options, path: finalPath)
    let warningsBefore = GDALWarnings.shared.all.count
    // Drivers that create files through their own library, not GDAL's file layer, cannot take
    // the watched path (netCDF claims virtual IO, but only for reading): they write the plain
    // file, and their failures are classified without the watch.
    let ownLibrary: Set<String> = ["netCDF", "KEA", "HDF4Image", "HDF5"]
    let copyPath = ownLibrary.contains(driver) ? temporaryPath : WatchedFiles.path(temporaryPath)
    let output = try Dataset.createCopy(of: stage, driver: driver, path: copyPath, options: options)
    let files = output.fileList.map { WatchedFiles.unwatched($0) }
    try output.close()
    try stage.close()
    TemporaryFiles.shared.remove(stagePath)
    // Companion files named after the temporary file (MFF's .b00, AAIGrid's .prj, a PDS4
    // label's data file) could not be moved into place, or would name the temporary file
    // inside the output: only formats of one file and its known sidecars are written.
    let known = Set(([""] + OutputTarget.sidecarSuffixes).map { OutputTarget.sidecar(temporaryPath, $0) })
    let companions = files.filter { !known.contains($0) }
    if !companions.isEmpty {
      for file in files + OutputTarget.existingFiles(for: temporaryPath).map(\.path) { unlink(file) }
      throw TesseraError(.usage, "the \(driver) driver writes \(finalPath) as several files (a .\(companions.map { ($0 as NSString).pathExtension }.joined(separator: ", .")) file besides it); Tessera writes formats of one file and its sidecars: choose another with --format (GTiff, HFA, JP2OpenJPEG, PNG, …)")
    }
    // A sidecar GDAL could not save (a full disk, no inodes) holds what the format itself does
    // not: a PNG's or JPEG's georeferencing, an .img's band names. The output is incomplete.
    if let lost = GDALWarnings.shared.all.dropFirst(warningsBefore).first(where: { $0.contains("Unable to save auxiliary information") }) {
      throw TesseraError(.ioError, "writing \(finalPath) failed: its sidecar \(finalPath).aux.xml could not be saved (\(unmasked(lost)))")
    }
  }
}
