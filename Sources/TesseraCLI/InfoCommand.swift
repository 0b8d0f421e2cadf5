import ArgumentParser
import Foundation
import GDAL
import TesseraCore

struct InfoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info",
    abstract: "Describe rasters: size, CRS, bounds, bands, layout, subdatasets.",
    discussion: """
      Prints a summary on stderr, or with --json one JSON object per file on stdout \
      (an array for several files). Inputs are only read: nothing is written beside them, \
      not even an .aux.xml for --stats.
      """)

  @Argument(help: ArgumentHelp("Rasters, subdataset names or /vsi paths.", valueName: "FILE"))
  var files: [String]

  @Flag(help: "Compute exact min, max, mean and standard deviation of every band.")
  var stats = false

  @OptionGroup var global: GlobalOptions

  func run() throws {
    try CommandRunner("info", global).run { runner in
      var infos: [JSONValue] = []
      var texts: [String] = []
      var firstFailure: TesseraError?
      for file in files {
        do {
          let bar = stats ? runner.progress("stats \((file as NSString).lastPathComponent)") : nil
          let info = try RasterInfo.read(path: file, statistics: stats, progress: bar?.handler)
          bar?.finish()
          infos.append(info.json)
          texts.append(info.text)
        } catch {
          let failure = TesseraError.from(error)
          // One file: the standard error object. Several: the others still get described.
          if files.count == 1 { throw failure }
          runner.reportError(failure)
          firstFailure = firstFailure ?? failure
          infos.append(.object([
            ("path", .string(file)), ("status", .string("error")),
            ("exit_code", .int(Int(failure.status.rawValue))), ("error", .string(failure.message)),
          ]))
        }
      }
      let json: JSONValue = files.count == 1 ? infos[0] : .array(infos)
      return CommandResult(json: json, text: texts.joined(separator: "\n"), status: firstFailure?.status ?? .ok)
    }
  }
}
