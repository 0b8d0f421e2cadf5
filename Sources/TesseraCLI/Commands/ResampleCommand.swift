import ArgumentParser
import Foundation
import TesseraCore

struct ResampleCommand: ParsableCommand, HelpExamples {
  static let configuration = CommandConfiguration(
    commandName: "resample",
    abstract: "Change a raster's resolution or size in its own CRS (pixels as gdalwarp -tr/-ts).",
    discussion: """
      Give one of --resolution (a pixel size X or X,Y) or --size (W,H pixels, or P% of the \
      input's size, as gdal_translate -outsize; 0 for one side keeps the aspect ratio, as gdalwarp \
      -ts). The output keeps the input's origin unless --target-aligned-pixels aligns its bounds \
      to the resolution.
      """)

  static let examples = [
    "tessera resample B05_20m.tif B05_60m.tif --res 60 -r average",
    "tessera resample in.tif half.tif --size 50%",
    "tessera resample in.tif out.tif --size 1024,0 -r cubic",
  ]

  @Argument(help: "The raster to resample.") var input: String
  @OptionGroup var output: OutputArgument

  @OptionGroup var grid: GridOptions
  @OptionGroup var resampling: ResamplingOption
  @OptionGroup var nodata: NodataOptions
  @OptionGroup var format: FormatOption
  @OptionGroup var outputType: OutputTypeOption
  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if grid.resolution == nil && grid.size == nil { throw ValidationError("give one of --resolution or --size") }
    _ = try grid.pixelSize()
  }

  func run() throws {
    try CommandRunner("resample", global).run { runner in
      let target: ResampleRequest.Target
      if let r = try grid.pixelSize() {
        target = .resolution(x: r.x, y: r.y)
      } else {
        target = .size(try grid.pixelCount() ?? OutputDimensions(pixels: 0, 0))
      }
      var request = ResampleRequest(input: input, output: outputOptions.spec(output.path, format: format, type: outputType), target: target,
                                    resources: global.resources)
      request.resampling = resampling.resampling
      request.targetAlignedPixels = grid.targetAlignedPixels
      request.srcNodata = nodata.srcNodata
      request.dstNodata = nodata.dstNodata
      return try runner.perform { try Resample.run(request, progress: $0) }
    }
  }
}
