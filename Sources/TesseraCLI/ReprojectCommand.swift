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
      utm (the WGS 84 UTM zone of the raster's centre, north or south).

      Resampling: \(Resampling.spellings). Default: nearest.
      """)

  @Argument(help: "The raster to reproject.") var input: String
  @Argument(help: "The output file.") var output: String

  @Option(name: .customLong("dst-crs"), parsing: .unconditional, help: "The target CRS.") var dstCRS: String
  @Option(name: .customLong("src-crs"), parsing: .unconditional, help: "Override the input's CRS.") var srcCRS: String?
  @Option(parsing: .unconditional, help: "Resampling method (default: nearest).") var resampling: Resampling = .nearest
  @Option(parsing: .unconditional, help: ArgumentHelp("Output pixel size in target units.", valueName: "X[,Y]")) var resolution: String?
  @Option(parsing: .unconditional, help: ArgumentHelp("Output size in pixels.", valueName: "W,H")) var size: String?
  @Option(parsing: .unconditional, help: ArgumentHelp("Output bounds.", valueName: "xmin,ymin,xmax,ymax")) var bbox: String?
  @Option(name: .customLong("bbox-crs"), parsing: .unconditional, help: "The CRS of --bbox (default: the target CRS).") var bboxCRS: String?
  @Flag(name: .customLong("target-aligned-pixels"), help: "Align the output's bounds to multiples of --resolution.")
  var targetAlignedPixels = false
  @Option(name: .customLong("src-nodata"), parsing: .unconditional, help: ArgumentHelp("Input nodata value, or none.", valueName: "V|none"))
  var srcNodata: NodataSetting?
  @Option(name: .customLong("dst-nodata"), parsing: .unconditional, help: ArgumentHelp("Output nodata value, or none.", valueName: "V|none"))
  var dstNodata: NodataSetting?
  @Option(parsing: .unconditional, help: "Output format: GTiff or VRT.") var format: OutputFormat = .gtiff

  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if let resolution { _ = try parsed { try parseResolution(resolution) } }
    if let size { _ = try parsed { try parseSize(size) } }
    if let bbox { _ = try parsed { try parseBounds(bbox) } }
    if resolution != nil && size != nil { throw ValidationError("--resolution and --size are alternatives; give one") }
  }

  func run() throws {
    try CommandRunner("reproject", global).run { runner in
      var request = ReprojectRequest(input: input, output: output, dstCRS: dstCRS, write: outputOptions.write(global, format: format))
      request.srcCRS = srcCRS
      request.resampling = resampling
      request.resolution = try resolution.map(parseResolution)
      request.size = try size.map(parseSize)
      request.bbox = try bbox.map(parseBounds)
      request.bboxCRS = bboxCRS
      request.targetAlignedPixels = targetAlignedPixels
      request.srcNodata = srcNodata
      request.dstNodata = dstNodata
      return try runner.perform("reproject") { try Reproject.run(request, progress: $0) }
    }
  }
}
