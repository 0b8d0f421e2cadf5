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
      var status = ExitStatus.ok
      for file in files {
        do {
          let validation = try COGValidator.validate(path: file)
          results.append(validation.json(strict: strict))
          texts.append(validation.text(strict: strict))
          if !validation.isValid(strict: strict), status == .ok { status = .checkFailed }
        } catch {
          let failure = TesseraError.from(error)
          if files.count == 1 { throw failure }
          runner.reportError(failure)
          results.append(.object([("path", .string(file)), ("status", .string("error")),
                                  ("exit_code", .int(Int(failure.status.rawValue))), ("error", .string(failure.message))]))
          if status == .ok || status == .checkFailed { status = failure.status }
        }
      }
      return CommandResult(json: files.count == 1 ? results[0] : .array(results), text: texts.joined(separator: "\n"), status: status)
    }
  }
}
