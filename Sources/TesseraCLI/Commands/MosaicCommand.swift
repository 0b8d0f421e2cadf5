import ArgumentParser
import Foundation
import TesseraCore

struct MosaicCommand: ParsableCommand, HelpExamples {
  static let configuration = CommandConfiguration(
    commandName: "mosaic",
    abstract: "Mosaic many rasters into one, with a stated overlap rule.",
    discussion: """
      Overlap rule: --method last (the default, as GDAL's tools do) lets later inputs win where \
      inputs overlap; --method first lets earlier ones win (rasterio's default). Nodata pixels never \
      win. --method min|max|mean|count combines the valid pixels of every input instead.

      Inputs in different CRSs are an error unless --dst-crs names the output's CRS; then they are \
      reprojected. Band counts must agree (or pick bands with -b); differing data types are \
      promoted to one that holds them all. --resolution also takes a rule: highest (the default), \
      lowest, average or same (every input must have the same pixel size). --resampling applies to inputs that are reprojected or \
      change resolution.
      """)

  static let examples = [
    "tessera mosaic 'tiles/*_B04.tif' -o red.tif --method first",
    "tessera mosaic a.tif b.tif -o out.tif --dst-crs 32633 -r bilinear --res 20",
    "tessera mosaic --input-list scenes.txt -o max.tif --method max -b 1",
  ]

  @OptionGroup var inputs: InputOptions
  @OptionGroup var output: OutputOption

  @Option(parsing: .unconditional, help: SharedHelp.method)
  var method: MosaicRequest.Method = .last
  @OptionGroup var bands: BandOption
  @OptionGroup var crs: CRSOption
  @OptionGroup var datum: DatumOptions
  @OptionGroup var grid: GridOptions
  @OptionGroup var bounds: BoundsOptions
  @OptionGroup var nodata: NodataOptions
  @OptionGroup var resampling: ResamplingOption
  @OptionGroup var format: FormatOption
  @OptionGroup var outputType: OutputTypeOption
  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    _ = try resolutionRule()
    _ = try bands.numbers()
    if grid.size != nil { throw ValidationError("mosaic takes --resolution, not --size") }
  }

  func resolutionRule() throws -> MosaicRequest.ResolutionRule {
    try grid.resolution.value() ?? .highest
  }

  func run() throws {
    try CommandRunner("mosaic", global).run { runner in
      var request = MosaicRequest(inputs: try inputs.expanded(), output: outputOptions.spec(output.path, format: format, type: outputType, allowsVRT: true),
                                  resources: global.resources)
      request.inputList = inputs.inputList
      request.method = method
      request.resolution = try resolutionRule()
      request.bbox = try bounds.extent()
      request.bboxCRS = bounds.bboxCRS
      request.targetAlignedPixels = grid.targetAlignedPixels
      request.srcNodata = nodata.srcNodata
      request.dstNodata = nodata.dstNodata
      request.bands = try bands.numbers()
      request.dstCRS = crs.dstCRS
      request.datum = try datum.shift()
      request.resampling = resampling.resampling
      return try runner.perform { try Mosaic.run(request, progress: $0) }
    }
  }
}
