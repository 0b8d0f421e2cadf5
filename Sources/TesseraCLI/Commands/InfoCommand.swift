import ArgumentParser
import Foundation
import GDAL
import TesseraCore

struct InfoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info",
    abstract: "Describe rasters: size, CRS, bounds, bands, layout, subdatasets.",
    discussion: """
      Prints a summary of each file on stdout (--quiet silences only stderr), or with --json \
      one object whose "files" array holds one entry per file, for one file or many. Inputs are only read: nothing is written beside them, \
      not even an .aux.xml for --stats.
      --crs TEXT says which CRS a CRS text or alias stands for (its EPSG code and name); the zone \
      of utm and the Gauss-Krüger aliases is that of the FILE's centre. Aliases: \(CRSInput.aliasHelp).
      """)

  @Argument(help: ArgumentHelp("Rasters, subdataset names or /vsi paths.", valueName: "FILE"))
  var files: [String] = []

  @Option(parsing: .unconditional, help: ArgumentHelp("Say which CRS this text or alias stands for (EPSG code and name).", valueName: "CRS"))
  var crs: String?

  @Flag(help: "Compute exact min, max, mean and standard deviation of every band.")
  var stats = false

  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if files.isEmpty && crs == nil { throw ValidationError("give a raster to describe, or --crs TEXT") }
  }

  func run() throws {
    if let crs { return try describeCRS(crs) }
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
          // A file that cannot be read is said on stderr and in its place in the list; the
          // others still get described.
          let failure = runner.itemFailure(error)
          firstFailure = firstFailure ?? failure
          infos.append(CommandRunner.itemErrorJSON(path: file, failure))
        }
      }
      return CommandResult(json: runner.itemsJSON("files", infos, failure: firstFailure),
                           report: texts.joined(separator: "\n"), status: firstFailure?.status ?? .ok)
    }
  }

  /// `--crs TEXT`: the EPSG code and name it resolves to, the zone aliases placed at the first
  /// file's centre.
  func describeCRS(_ text: String) throws {
    try CommandRunner("info", global).run { runner in
      let centre = try files.first.map { try CRSInput.centre(ofRaster: $0) }
      let srs = try CRSInput.resolve(text, centre: centre)
      let alias = try CRSInput.aliasCode(text, centre: centre)
      var described = try CRSDescription(srs)
      described.epsg = alias ?? described.epsg
      let json = runner.okJSON([("crs_input", .string(text)), ("alias", .bool(alias != nil)), ("crs", described.json)])
      let name = described.name.isEmpty ? "unnamed" : described.name
      let line = "\(text): " + (described.epsg.map { "EPSG:\($0) " } ?? "") + "(\(name))"
      return CommandResult(json: json, report: line)
    }
  }
}
