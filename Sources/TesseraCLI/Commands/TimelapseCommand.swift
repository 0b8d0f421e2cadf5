import ArgumentParser
import Foundation
import TesseraCore

struct TimelapseCommand: ParsableCommand, HelpExamples {
  static let configuration = CommandConfiguration(
    commandName: "timelapse",
    abstract: "An animation of many dates of one area: GIF, or MP4 through ffmpeg.",
    discussion: """
      Frames come from rasters (files, quoted globs, --input-list; -b N or -b R,G,B picks their \
      bands) or Sentinel-2 products (their bands by name, -b B04,B03,B02 by default, with each \
      product's radiometric offset applied). Dates \
      come from Sentinel-2 or Landsat names, a date in the name, or the raster's metadata; frames are \
      in date order when every one has a date (--order given keeps yours) and labelled with it \
      (--labels name|none). Every frame is put on the first input's grid (or --like's, cut to --bbox) \
      and drawn with quicklook's options and one stretch for the whole series, so colours compare \
      between dates (--stretch-per-frame to stretch each alone). GIF loops, with a palette per frame \
      and nodata transparent; MP4 (H.264, yuv420p) needs ffmpeg on the PATH (exit 69 without it).
      """)

  static let examples = [
    "tessera timelapse 'ndvi/*.tif' -o ndvi.gif -b 1 --colormap rdylgn --stretch -1,1 --fps 2",
    "tessera timelapse S2A_MSIL2A_…SAFE S2B_MSIL2A_…SAFE -o scene.gif -b B04,B03,B02 --stretch 0,3000",
    "tessera timelapse june.tif july.tif -o summer.mp4 --labels name --order given",
  ]

  @OptionGroup var inputs: InputOptions
  @OptionGroup var output: OutputOption
  @OptionGroup var bands: BandOption
  @OptionGroup var render: RenderOptionGroup
  @Option(parsing: .unconditional, help: "Frames per second.") var fps = 2.0
  @Option(parsing: .unconditional, help: ArgumentHelp("What each frame is labelled with: date, name or none (default: date when every frame has one).", valueName: "KIND"))
  var labels: Parsed<TimelapseRequest.Labels>?
  @Option(parsing: .unconditional, help: ArgumentHelp("date (default when every frame has one) or given.", valueName: "ORDER"))
  var order: Parsed<TimelapseRequest.Order>?
  @OptionGroup var bounds: BoundsOptions
  @OptionGroup var datum: DatumOptions
  @Option(parsing: .unconditional, help: ArgumentHelp("Put the frames on this raster's grid instead of the first input's.", valueName: "RASTER"))
  var like: String?
  @Flag(name: .customLong("stretch-per-frame"), help: "Stretch each frame alone instead of one stretch for the series.")
  var stretchPerFrame = false
  @Flag(help: "Replace the output if it exists.") var overwrite = false
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if !(fps > 0 && fps <= 100) { throw ValidationError("--fps takes more than 0 and at most 100 frames a second") }
    _ = try labels.value()
    _ = try order.value()
    if case .numbers(let numbers)? = try bands.list() { try RenderOptionGroup.requireDrawable(numbers) }
  }

  /// `-b` as band numbers of rasters; nil when it names bands of products.
  func bandNumbers() throws -> [Int]? {
    if case .numbers(let numbers)? = try bands.list() { return numbers }
    return nil
  }

  /// `-b` as band names of Sentinel-2 products, upper case.
  func productBands() throws -> [String]? {
    if case .names(let names)? = try bands.list() { return names.map { $0.uppercased() } }
    return nil
  }

  func run() throws {
    try CommandRunner("timelapse", global).run { runner in
      var request = TimelapseRequest(inputs: try inputs.expanded(), output: OutputSpec.ownFile(path: output.path, overwrite: overwrite),
                                     options: try render.options(bands: bandNumbers()), resources: global.resources)
      request.fps = fps
      request.labels = try labels.value()
      request.order = try order.value()
      request.bbox = try bounds.extent()
      request.bboxCRS = bounds.bboxCRS
      request.like = like
      request.datum = try datum.shift()
      request.stretchPerFrame = stretchPerFrame
      request.productBands = try productBands()
      let bar = runner.progress("timelapse")
      let report = try Timelapse.run(request, progress: bar?.handler)
      bar?.finish()
      var result = try runner.result(report, text: "wrote \(output.path)")
      if global.json { result.json = runner.report(outputs: [], extra: report.details, warnings: report.warnings) }
      return result
    }
  }
}

extension TimelapseRequest.Labels: ArgumentValue {
  init(argumentText text: String) throws {
    guard let labels = Self(rawValue: text) else { throw ValidationError("--labels takes date, name or none") }
    self = labels
  }
}

extension TimelapseRequest.Order: ArgumentValue {
  init(argumentText text: String) throws {
    guard let order = Self(rawValue: text) else { throw ValidationError("--order takes date or given") }
    self = order
  }
}
