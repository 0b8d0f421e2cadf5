import ArgumentParser
import Foundation
import TesseraCore

extension COGExportRequest.Profile: ExpressibleByArgument {}
extension COGExportRequest.Predictor: ExpressibleByArgument {}
extension COGExportRequest.BigTIFF: ExpressibleByArgument {}

struct COGExportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cog-export",
    abstract: "Copy a finished raster to a Cloud Optimized GeoTIFF, validated.",
    discussion: """
      Always GDAL's COG driver through CreateCopy, the last step of a pipeline: IN may be any \
      raster GDAL reads (a VRT or a Sentinel-2 subdataset included). The output is checked with \
      the same rules as validate-cog before it is moved into place.

      --predictor auto uses 2 for integers and 3 for floats with deflate, zstd, lzw and lzma. \
      Overviews are resampled with nearest for categorical data (a colour table, or \
      --categorical) and average otherwise. --bigtiff auto decides from the estimated size.
      """)

  @Argument(help: "The raster to copy.") var input: String
  @Argument(help: "The COG to write.") var output: String

  @Option(help: "Compression: deflate, zstd, lzw, lzma, webp, jpeg, lerc, lerc_deflate, lerc_zstd or raw (default: deflate).")
  var profile: COGExportRequest.Profile = .deflate
  @Option(help: "Compression level.") var level: Int?
  @Option(help: "Quality for jpeg and webp (1-100).") var quality: Int?
  @Option(help: "auto, none, 2 or 3 (default: auto).") var predictor: COGExportRequest.Predictor = .auto
  @Option(help: "Tile size: 256, 512 or 1024 (default: 512).") var blocksize: Int = 512
  @Option(help: ArgumentHelp("auto, none, or how many (default: auto).", valueName: "auto|none|N")) var overviews: String = "auto"
  @Option(name: .customLong("overview-resampling"), help: "Overview resampling (default: nearest if categorical, else average).")
  var overviewResampling: Resampling?
  @Flag(help: "The data are classes: overviews use nearest.") var categorical = false
  @Flag(name: .customLong("web-optimized"), help: "Tile on the GoogleMapsCompatible (web mercator) grid.") var webOptimized = false
  @Flag(name: .customLong("add-mask"), help: "Write an internal mask from band 1's nodata.") var addMask = false
  @Option(help: ArgumentHelp("Set the nodata value of the output.", valueName: "V|none")) var nodata: NodataSetting?
  @Option(help: "auto, yes or no (default: auto, from the estimated size).") var bigtiff: COGExportRequest.BigTIFF = .auto
  @Flag(name: .customLong("no-validate"), help: "Skip the validation of the output.") var noValidate = false

  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    guard [256, 512, 1024].contains(blocksize) else { throw ValidationError("--blocksize takes 256, 512 or 1024") }
    _ = try parsedOverviews()
    if let quality, !(1...100).contains(quality) { throw ValidationError("--quality takes 1 to 100") }
  }

  func parsedOverviews() throws -> COGExportRequest.Overviews {
    switch overviews.lowercased() {
    case "auto": return .auto
    case "none": return .none
    default:
      guard let n = Int(overviews), n >= 0 else { throw ValidationError("--overviews takes auto, none or a count") }
      return .count(n)
    }
  }

  func run() throws {
    try CommandRunner("cog-export", global).run { runner in
      var request = COGExportRequest(input: input, output: output, write: outputOptions.write(global))
      request.profile = profile
      request.level = level
      request.quality = quality
      request.predictor = predictor
      request.blockSize = blocksize
      request.overviews = try parsedOverviews()
      request.overviewResampling = overviewResampling
      request.categorical = categorical
      request.webOptimized = webOptimized
      request.addMask = addMask
      request.nodata = nodata
      request.bigTIFF = bigtiff
      request.validate = !noValidate
      return try runner.perform("cog-export") { try COGExport.run(request, progress: $0) }
    }
  }
}
