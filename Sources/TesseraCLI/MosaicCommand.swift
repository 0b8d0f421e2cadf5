import ArgumentParser
import Foundation
import TesseraCore

extension MosaicRequest.Order: ExpressibleByArgument {}
extension MosaicRequest.Method: ExpressibleByArgument {}

struct MosaicCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mosaic",
    abstract: "Mosaic many rasters into one, with a stated overlap rule.",
    discussion: """
      Overlap rule: --order last (the default, as GDAL's tools do) lets later inputs win where \
      inputs overlap; --order first lets earlier ones win (rasterio's default). Nodata pixels never \
      win. --method min|max|mean|count combines the valid pixels of every input instead.

      Inputs in different CRSs are an error unless --dst-crs names the output's CRS; then they are \
      reprojected. Band counts must agree (or pick bands with --bands); differing data types are \
      promoted to one that holds them all.
      """)

  @Argument(help: ArgumentHelp("Input rasters; quoted glob patterns are expanded (sorted).", valueName: "INPUT"))
  var inputs: [String] = []

  @Option(name: [.short, .customLong("output")], parsing: .unconditional, help: "The output file.") var output: String
  @Option(name: .customLong("input-list"), parsing: .unconditional, help: ArgumentHelp("A file of input paths, one a line.", valueName: "FILE"))
  var inputList: String?
  @Option(parsing: .unconditional, help: "Which input wins where inputs overlap: first or last (default: last).")
  var order: MosaicRequest.Order = .last
  @Option(parsing: .unconditional, help: "How overlapping pixels combine: first, last, min, max, mean or count (default: the --order rule).")
  var method: MosaicRequest.Method?
  @Option(parsing: .unconditional, help: ArgumentHelp("highest, lowest, average, same, or a pixel size (default: highest).", valueName: "RULE|X[,Y]"))
  var resolution: String = "highest"
  @Option(parsing: .unconditional, help: ArgumentHelp("Output bounds in the output CRS.", valueName: "xmin,ymin,xmax,ymax")) var bbox: String?
  @Flag(name: .customLong("target-aligned-pixels"), help: "Align the output's bounds to multiples of the resolution.")
  var targetAlignedPixels = false
  @Option(name: .customLong("src-nodata"), parsing: .unconditional, help: ArgumentHelp("Input nodata value, or none.", valueName: "V|none"))
  var srcNodata: NodataSetting?
  @Option(name: .customLong("dst-nodata"), parsing: .unconditional, help: ArgumentHelp("Output nodata value, or none.", valueName: "V|none"))
  var dstNodata: NodataSetting?
  @Option(parsing: .unconditional, help: ArgumentHelp("Bands to mosaic.", valueName: "1,2,3")) var bands: String?
  @Option(name: .customLong("dst-crs"), parsing: .unconditional, help: "Output CRS; inputs in other CRSs are reprojected.") var dstCRS: String?
  @Option(parsing: .unconditional, help: "Resampling for reprojected or rescaled inputs (default: nearest).") var resampling: Resampling = .nearest
  @Option(parsing: .unconditional, help: "Output format: GTiff or VRT.") var format: OutputFormat = .gtiff

  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if inputs.isEmpty && inputList == nil { throw ValidationError("give input rasters or --input-list") }
    _ = try parsed { try MosaicRequest.ResolutionRule(resolution) }
    if let bbox { _ = try parsed { try parseBounds(bbox) } }
    if let bands { _ = try parsedBands(bands) }
  }

  func parsedBands(_ text: String) throws -> [Int] {
    let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
      throw ValidationError("--bands takes band numbers from 1, like 1,2,3")
    }
    return values.compactMap { $0 }
  }

  func run() throws {
    try CommandRunner("mosaic", global).run { runner in
      var request = MosaicRequest(
        inputs: try MosaicInputs.expand(inputs, listFile: inputList), output: output,
        write: outputOptions.write(global, format: format))
      request.inputList = inputList
      request.order = order
      request.method = method
      request.resolution = try MosaicRequest.ResolutionRule(resolution)
      request.bbox = try bbox.map(parseBounds)
      request.targetAlignedPixels = targetAlignedPixels
      request.srcNodata = srcNodata
      request.dstNodata = dstNodata
      request.bands = try bands.map(parsedBands)
      request.dstCRS = dstCRS
      request.resampling = resampling
      return try runner.perform("mosaic") { try Mosaic.run(request, progress: $0) }
    }
  }
}
