import ArgumentParser
import Foundation
import TesseraCore

struct ReprojectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "reproject",
    abstract: "Reproject a raster to another CRS (GDAL's warper; pixels as gdalwarp's).",
    discussion: """
      CRS forms: EPSG:n, WKT, a PROJ string, a .prj file, or an alias: wgs84 (EPSG:4326), \
      cgcs2000 (EPSG:4490), xian1980 (EPSG:4610), beijing1954 (EPSG:4214), webmercator (EPSG:3857), \
      utm (the WGS 84 UTM zone of the raster's centre, north or south). --dst-crs is required.
      """)

  @Argument(help: "The raster to reproject.") var input: String
  @OptionGroup var output: OutputArgument

  @OptionGroup var crs: CRSOption
  @Option(name: .customLong("src-crs"), parsing: .unconditional, help: ArgumentHelp("Override the input's CRS.", valueName: "CRS"))
  var srcCRS: String?
  @OptionGroup var resampling: ResamplingOption
  @OptionGroup var grid: GridOptions
  @OptionGroup var bounds: BoundsOptions
  @OptionGroup var nodata: NodataOptions
  @OptionGroup var format: FormatOption
  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if crs.dstCRS == nil { throw ValidationError("reproject needs --dst-crs") }
    _ = try grid.pixelSize()
  }

  func run() throws {
    try CommandRunner("reproject", global).run { runner in
      var request = ReprojectRequest(input: input, output: outputOptions.spec(output.path, format: format, allowsVRT: true),
                                     dstCRS: crs.dstCRS ?? "", resources: global.resources)
      request.srcCRS = srcCRS
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
