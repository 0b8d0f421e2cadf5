import ArgumentParser
import Foundation
import TesseraCore

struct ValidateCOGCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "validate-cog",
    abstract: "Check that files are laid out as Cloud Optimized GeoTIFFs.",
    discussion: """
      The checks of GDAL's validate_cloud_optimized_geotiff.py, made by reading the TIFF structure: \
      a GeoTIFF, tiled when over 512 px, the main IFD right after the header (or GDAL's ghost \
      area), internal tiled overviews of decreasing size with increasing IFD offsets, image data \
      from the smallest overview to full resolution, and block leaders, trailers and masks where \
      the layout declares them. A missing overview on an image over 512 px is a warning.

      Exit codes: 0 every file is valid; 1 one is not (unlike rio cogeo validate, which exits 0 \
      either way); 65 a file is not a readable TIFF; 66 a file is missing.
      """)

  @Argument(help: ArgumentHelp("Files to check.", valueName: "FILE")) var files: [String]
  @Flag(help: "Treat warnings as errors.") var strict = false
  @OptionGroup var global: GlobalOptions

  func run() throws {
    try CommandRunner("validate-cog", global).run { runner in
      var results: [JSONValue] = []
      var texts: [String] = []
      var firstFailure: TesseraError?
      var invalid = false
      for file in files {
        do {
          let validation = try COGValidator.validate(path: file)
          results.append(validation.json(strict: strict))
          texts.append(validation.text(strict: strict))
          invalid = invalid || !validation.isValid(strict: strict)
        } catch {
          // A file that cannot be read is said on stderr and in its place in the list; its
          // exit code wins over a check that failed.
          let failure = runner.itemFailure(error)
          firstFailure = firstFailure ?? failure
          results.append(CommandRunner.itemErrorJSON(path: file, failure))
        }
      }
      let status = firstFailure?.status ?? (invalid ? .checkFailed : .ok)
      return CommandResult(json: runner.itemsJSON("files", results, failure: firstFailure, unsound: invalid),
                           report: texts.joined(separator: "\n"), status: status)
    }
  }
}
