import ArgumentParser
import Foundation
import GDAL
import TesseraCore

struct BandStackCommand: ParsableCommand, HelpExamples {
  static let configuration = CommandConfiguration(
    commandName: "band-stack",
    abstract: "Stack single-band files (or picked bands) into one multi-band raster, in order.",
    discussion: """
      Each input contributes all its bands, or with FILE:N band N. Band names come from --descriptions, \
      else from Sentinel-2 and Landsat file names (…_B04_10m.jp2 -> B04, LC08_…_B5.TIF -> B5), \
      else from the inputs' own descriptions; three bands named B04, B03, B02 are red, green and \
      blue unless --color-interp says otherwise.

      Inputs must share a CRS. Inputs on different grids (a 10 m band with a 20 m one) are an error \
      naming each pixel size unless --resolution highest, lowest, average or X[,Y] aligns them (with \
      --resampling): nothing is resampled silently. A pixel size --resolution X[,Y] also aligns the \
      grid: its corners fall on multiples of X and Y (as gdalbuildvrt -tr X Y -tap does), so the output \
      can reach up to a pixel past the inputs on each side; highest, lowest and average start the grid \
      at the inputs' corner (gdalbuildvrt -resolution). --extent union pads with nodata where footprints \
      differ; intersection keeps the common area. Types are promoted to one that holds every input \
      (--ot forces one); each band keeps its own nodata where the output type can hold it.

      --src-nodata overrides the inputs' nodata (a list: one value per output band); --dst-nodata V \
      declares V and writes it where an input pixel is nodata (gdalbuildvrt -separate -srcnodata \
      -vrtnodata); none declares none (as gdalwarp -dstnodata None, nodata pixels become 0).

      --resolution same (as giving none) refuses inputs on different grids. The pixels are those of \
      gdalbuildvrt -separate + gdal_translate.
      """)

  static let examples = [
    "tessera band-stack B04.jp2 B03.jp2 B02.jp2 -o true-colour.tif",
    "tessera band-stack scene.tif:3 scene.tif:2 scene.tif:1 -o reordered.tif --descriptions b3,b2,b1",
    "tessera band-stack B04.jp2 B11.jp2 -o mixed.tif --res highest -r bilinear",
  ]

  /// `--color-interp`: interpretation names in band order, each one GDAL knows.
  struct ColorInterpretations: ArgumentValue {
    var names: [String]

    init(argumentText text: String) throws {
      names = commaItems(text, omittingEmpty: true)
      if names.isEmpty { throw ValidationError("--color-interp names no interpretation") }
      for name in names { _ = try BandStackRequest.colorInterpretation(named: name) }
    }
  }

  @OptionGroup var inputs: InputOptions
  @OptionGroup var output: OutputOption
  @Option(parsing: .unconditional, help: ArgumentHelp("The descriptions (names) written on the output's bands, in order.", valueName: "NAME[,NAME…]"))
  var descriptions: Parsed<NameList>?
  @Option(name: .customLong("color-interp"), parsing: .unconditional, help: ArgumentHelp(
    "Colour interpretation of the bands in order: red, green, blue, alpha, gray, nir, …", valueName: "red,green,blue"))
  var colorInterp: Parsed<ColorInterpretations>?
  @OptionGroup var grid: GridOptions
  @OptionGroup var resampling: ResamplingOption
  @Option(name: .customLong("extent"), parsing: .unconditional, help: "Where footprints differ: union (padded with nodata) or intersection.")
  var coverage: BandStackRequest.Coverage = .union
  @Option(parsing: .unconditional, help: "How the output's bands are laid out: band or pixel.") var interleave: BandStackRequest.Interleave = .band
  @OptionGroup var nodata: NodataOptions
  @OptionGroup var format: FormatOption
  @OptionGroup var outputType: OutputTypeOption
  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if grid.size != nil { throw ValidationError("band-stack takes --resolution, not --size") }
    if grid.targetAlignedPixels { throw ValidationError("band-stack aligns a --resolution X to its multiples already; --target-aligned-pixels is not needed") }
    _ = try resolutionRule()
    _ = try colorInterp.value()
  }

  /// The grid rule; `same` is band-stack's own default, inputs on one grid.
  func resolutionRule() throws -> MosaicRequest.ResolutionRule? {
    let rule = try grid.resolution.value()
    return rule == .same ? nil : rule
  }

  func run() throws {
    try CommandRunner("band-stack", global).run { runner in
      var request = BandStackRequest(inputs: inputs.inputs, output: outputOptions.spec(output.path, format: format, type: outputType), resources: global.resources)
      request.inputList = inputs.inputList
      request.descriptions = try descriptions.value()?.names
      request.colorInterpretation = try colorInterp.value()?.names
      request.resolution = try resolutionRule()
      request.resampling = resampling.resampling
      request.coverage = coverage
      request.interleave = interleave
      request.srcNodata = nodata.srcNodata
      request.dstNodata = nodata.dstNodata
      return try runner.perform { try BandStack.run(request, progress: $0) }
    }
  }
}
