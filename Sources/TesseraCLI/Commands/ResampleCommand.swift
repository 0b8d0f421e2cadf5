import ArgumentParser
import Foundation
import TesseraCore

struct ResampleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "resample",
    abstract: "Change a raster's resolution or size in its own CRS (pixels as gdalwarp -tr/-ts).",
    discussion: """
      Give one of --resolution, --scale or --size. The output keeps the input's origin unless \
      --target-aligned-pixels aligns its bounds to the resolution.
      """)

  @Argument(help: "The raster to resample.") var input: String
  @OptionGroup var output: OutputArgument

  @OptionGroup var grid: GridOptions
  @Option(parsing: .unconditional, help: ArgumentHelp("Multiply width and height by F (0.5 halves them).", valueName: "F")) var scale: Double?
  @OptionGroup var resampling: ResamplingOption
  @OptionGroup var nodata: NodataOptions
  @OptionGroup var format: FormatOption
  @OptionGroup var outputType: OutputTypeOption
  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    let given = [grid.resolution != nil, scale != nil, grid.size != nil].filter { $0 }.count
    if given != 1 { throw ValidationError("give exactly one of --resolution, --scale or --size") }
    _ = try grid.pixelSize()
    if let scale, !(scale.isFinite && scale > 0) { throw ValidationError("--scale must be a positive number") }
  }

  func run() throws {
    try CommandRunner("resample", global).run { runner in
      let target: ResampleRequest.Target
      if let r = try grid.pixelSize() {
        target = .resolution(x: r.x, y: r.y)
      } else if let s = try grid.pixelCount() {
        target = .size(width: s.width, height: s.height)
      } else {
        target = .scale(scale ?? 1)
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
