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

      Resampling: \(Resampling.spellings). Default: nearest.
      """)

  @Argument(help: "The raster to resample.") var input: String
  @Argument(help: "The output file.") var output: String

  @Option(parsing: .unconditional, help: ArgumentHelp("Output pixel size in the raster's units.", valueName: "X[,Y]")) var resolution: String?
  @Option(parsing: .unconditional, help: ArgumentHelp("Multiply width and height by F (0.5 halves them).", valueName: "F")) var scale: Double?
  @Option(parsing: .unconditional, help: ArgumentHelp("Output size in pixels.", valueName: "W,H")) var size: String?
  @Option(parsing: .unconditional, help: "Resampling method (default: nearest).") var resampling: Resampling = .nearest
  @Flag(name: .customLong("target-aligned-pixels"), help: "Align the output's bounds to multiples of --resolution.")
  var targetAlignedPixels = false

  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    let given = [resolution != nil, scale != nil, size != nil].filter { $0 }.count
    if given != 1 { throw ValidationError("give exactly one of --resolution, --scale or --size") }
    if let resolution { _ = try parsed { try parseResolution(resolution) } }
    if let size { _ = try parsed { try parseSize(size) } }
    if let scale, !(scale.isFinite && scale > 0) { throw ValidationError("--scale must be a positive number") }
  }

  func run() throws {
    try CommandRunner("resample", global).run { runner in
      let target: ResampleRequest.Target
      if let resolution {
        let r = try parseResolution(resolution)
        target = .resolution(x: r.x, y: r.y)
      } else if let size {
        let s = try parseSize(size)
        target = .size(width: s.width, height: s.height)
      } else {
        target = .scale(scale ?? 1)
      }
      var request = ResampleRequest(input: input, output: output, target: target, write: outputOptions.write(global))
      request.resampling = resampling
      request.targetAlignedPixels = targetAlignedPixels
      return try runner.perform("resample") { try Resample.run(request, progress: $0) }
    }
  }
}
