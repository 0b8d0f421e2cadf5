import ArgumentParser
import Foundation
import TesseraCore

struct ReprojectCommand: ParsableCommand, HelpExamples {
  static let configuration = CommandConfiguration(
    commandName: "reproject",
    abstract: "Reproject a raster to another CRS (GDAL's warper; pixels as gdalwarp's).",
    discussion: """
      CRS forms: EPSG:n (or the bare number), WKT, a PROJ string, a .prj file, or an alias: \(CRSInput.aliasHelp). \
      --dst-crs is required. --resolution takes a pixel size only (X or X,Y).
      A datum change PROJ knows no transformation for over the raster (Beijing 1954 or Xian 1980 to \
      CGCS2000 or WGS 84, in most places) is a ballpark (null) shift: Tessera warns, or refuses with \
      --strict-datum; give the transformation with --ct or --src-towgs84/--dst-towgs84.
      """)

  static let examples = [
    "tessera reproject in.tif out.tif --dst-crs 4326 -r bilinear",
    "tessera reproject in.tif out.tif --dst-crs cgcs2000 --res 0.001 --bbox 113,22,114,23",
    "tessera reproject dem.tif out.tif --dst-crs utm --size 50%",
  ]

  @Argument(help: "The raster to reproject.") var input: String
  @OptionGroup var output: OutputArgument

  @OptionGroup var crs: CRSOption
  @Option(name: .customLong("src-crs"), parsing: .unconditional, help: ArgumentHelp("Override the input's CRS.", valueName: "CRS"))
  var srcCRS: String?
  @OptionGroup var datum: DatumOptions
  @OptionGroup var resampling: ResamplingOption
  @OptionGroup var grid: GridOptions
  @OptionGroup var bounds: BoundsOptions
  @OptionGroup var nodata: NodataOptions
  @OptionGroup var format: FormatOption
  @OptionGroup var outputType: OutputTypeOption
  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if crs.dstCRS == nil { throw ValidationError("reproject needs --dst-crs") }
    _ = try grid.pixelSize()
  }

  func run() throws {
    try CommandRunner("reproject", global).run { runner in
      var request = ReprojectRequest(input: input, output: outputOptions.spec(output.path, format: format, type: outputType, allowsVRT: true),
                                     dstCRS: crs.dstCRS ?? "", resources: global.resources)
      request.srcCRS = srcCRS
      request.datum = try datum.shift()
      request.resampling = resampling.resampling
      request.resolution = try grid.pixelSize()
      request.size = try grid.pixelCount()
      request.targetAlignedPixels = grid.targetAlignedPixels
      request.bbox = try bounds.extent()
      request.bboxCRS = bounds.bboxCRS
      request.srcNodata = nodata.srcNodata
      request.dstNodata = nodata.dstNodata
      return try runner.perform { try Reproject.run(request, progress: $0) }
    }
  }
}
