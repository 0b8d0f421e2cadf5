import ArgumentParser
import Foundation
import TesseraCore

struct COGExportCommand: ParsableCommand, HelpExamples {
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

  static let examples = [
    "tessera cog-export mosaic.tif mosaic-cog.tif",
    "tessera cog-export ndvi.tif ndvi-cog.tif --profile zstd --level 9",
    "tessera cog-export rgb.tif web.tif --profile webp --quality 90 --web-optimized",
  ]

  @Argument(help: "The raster to copy.") var input: String
  @OptionGroup var output: OutputArgument

  @OptionGroup var cogOptions: COGOptions
  @OptionGroup var nodata: DstNodataOption
  @OptionGroup var outputType: OutputTypeOption
  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var global: GlobalOptions

  func run() throws {
    try CommandRunner("cog-export", global).run { runner in
      var spec = outputOptions.spec(output.path, type: outputType)
      spec.ownDriver = "COG"
      let request = COGExportRequest(input: input, output: spec, cog: try cogOptions.settings(nodata: nodata.dstNodata),
                                     resources: global.resources)
      return try runner.perform { try COGExport.run(request, progress: $0) }
    }
  }
}
