import ArgumentParser
import Foundation
import GDAL
import TesseraCore

struct ClipCommand: ParsableCommand, HelpExamples {
  static let configuration = CommandConfiguration(
    commandName: "clip",
    abstract: "Cut a raster to a box, a drawn region, a vector file's polygons or another raster's bounds.",
    discussion: """
      Give exactly one region: --bbox, --geometry, --cutline or --like. The output is always on the \
      source's own grid (same pixel size, same pixel corners), cropped to the region snapped outward \
      to whole pixels (--no-crop keeps the whole grid); values inside the region are the source's, bit \
      for bit. A pixel is inside a polygon when the polygon covers its centre (--all-touched: when it \
      touches the pixel at all), as GDAL's cutlines and gdal_rasterize decide. A box keeps every pixel \
      it reaches.

      Outside the region pixels hold --dst-nodata; by default each band's own nodata, and when the \
      source has none they become 0 and the output declares nodata 0. With --add-alpha an alpha band \
      marks the region instead (outside pixels 0, no nodata declared unless --dst-nodata).

      GeoJSON is longitude/latitude (WGS 84, EPSG:4326, as RFC 7946 says) unless it has a legacy crs \
      member, in --geometry as in a .geojson --cutline; WKT in --geometry and a --bbox are in the \
      raster's CRS. --geometry-crs and --bbox-crs say otherwise. Regions in another CRS are \
      reprojected (a box with its edges densified). A region reaching past \
      the raster is cut to it with a warning, or padded with nodata with --allow-bbox-outside-source.

      --each-feature -o DIR writes one raster per feature of --cutline, named by --name-field (made \
      safe for file names) or the feature id, all or nothing.
      """)

  static let examples = [
    "tessera clip scene.tif cut.tif --bbox -77.5,24.2,-77.3,24.4 --bbox-crs 4326",
    "tessera clip scene.tif cut.tif --cutline fields.gpkg --all-touched -b 3,2,1",
    "tessera clip B04.jp2 -o fields --cutline fields.gpkg --each-feature --name-field pid",
  ]

  @Argument(help: "The raster to clip.") var input: String
  @OptionGroup var output: OutputArgument

  @OptionGroup var bounds: BoundsOptions
  @Option(parsing: .unconditional, help: ArgumentHelp(
    "A region as WKT or GeoJSON text (a geometry, Feature or FeatureCollection); a file goes to --cutline.", valueName: "WKT|GEOJSON"))
  var geometry: String?
  @Option(name: .customLong("geometry-crs"), parsing: .unconditional, help: ArgumentHelp(
    "The CRS of --geometry (default: EPSG:4326 for GeoJSON without a crs member, the raster's for WKT), or of a --cutline file that has none.",
    valueName: "CRS"))
  var geometryCRS: String?
  @Option(parsing: .unconditional, help: ArgumentHelp("A vector file (GeoJSON, Shapefile, GeoPackage, KML, …) whose polygons are the region.", valueName: "FILE"))
  var cutline: String?
  @Option(parsing: .unconditional, help: ArgumentHelp("The layer of --cutline (default: the first).", valueName: "NAME")) var layer: String?
  @Option(name: .customLong("where"), parsing: .unconditional, help: ArgumentHelp("Keep the --cutline features matching this OGR SQL condition.", valueName: "SQL"))
  var whereClause: String?
  @Option(parsing: .unconditional, help: ArgumentHelp("Clip to the bounds of another raster (in its CRS).", valueName: "RASTER")) var like: String?

  @Flag(name: .customLong("no-crop"), help: "Keep the source's whole grid; pixels outside the region become nodata.") var noCrop = false
  @Flag(name: .customLong("all-touched"), help: "Pixels a polygon touches count as inside (not only those whose centre it covers).")
  var allTouched = false
  @OptionGroup var nodata: NodataOptions
  @Flag(name: .customLong("add-alpha"), help: "Mark the region with an alpha band instead of nodata.") var addAlpha = false
  @Flag(name: .customLong("allow-bbox-outside-source"), help: "Pad a region reaching past the raster with nodata instead of cutting it to the raster.")
  var allowOutside = false
  @Flag(name: .customLong("make-valid"), help: "Repair an invalid polygon (one that crosses itself) instead of refusing it.") var makeValid = false
  @OptionGroup var bands: BandOption
  @OptionGroup var strictDatum: StrictDatumOption
  @Flag(name: .customLong("each-feature"), help: "Write one raster per --cutline feature into the folder given as the output.")
  var eachFeature = false
  @Option(name: .customLong("name-field"), parsing: .unconditional, help: ArgumentHelp("With --each-feature: the field that names each output.", valueName: "FIELD"))
  var nameField: String?
  @OptionGroup var format: FormatOption
  @OptionGroup var outputType: OutputTypeOption
  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    let regions = [bounds.bbox != nil, geometry != nil, cutline != nil, like != nil].filter { $0 }.count
    guard regions == 1 else { throw ValidationError("give exactly one region: --bbox, --geometry, --cutline or --like") }
    if layer != nil || whereClause != nil, cutline == nil { throw ValidationError("--layer and --where go with --cutline") }
    if geometryCRS != nil, geometry == nil && cutline == nil { throw ValidationError("--geometry-crs goes with --geometry or --cutline") }
    if eachFeature { _ = try parsed { try ClipRequest.eachFeatureCutline(region()) } }
    if nameField != nil && !eachFeature { throw ValidationError("--name-field goes with --each-feature") }
    _ = try bands.numbers()
  }

  /// The one region given.
  func region() throws -> ClipRequest.Region {
    if let box = try bounds.extent() { return .bbox(box, crs: bounds.bboxCRS) }
    if let geometry { return .geometry(geometry, crs: geometryCRS) }
    if let cutline { return .cutline(path: cutline, layer: layer, where: whereClause, crs: geometryCRS) }
    return .like(like ?? "")
  }

  func run() throws {
    try CommandRunner("clip", global).run { runner in
      var request = ClipRequest(input: input, output: outputOptions.spec(output.path, format: format, type: outputType), region: try region(), resources: global.resources)
      request.crop = !noCrop
      request.allTouched = allTouched
      request.srcNodata = nodata.srcNodata
      request.dstNodata = nodata.dstNodata
      request.addAlpha = addAlpha
      request.allowOutside = allowOutside
      request.makeValid = makeValid
      request.bands = try bands.numbers()
      request.datum.strict = strictDatum.strictDatum
      let featureField = nameField
      return try runner.perform {
        eachFeature ? try Clip.eachFeature(request, nameField: featureField, progress: $0) : try Clip.run(request, progress: $0)
      }
    }
  }
}
