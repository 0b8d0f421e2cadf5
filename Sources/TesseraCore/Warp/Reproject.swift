import Foundation
import GDAL

/// Reprojects one raster to another CRS through GDAL's warper.
public struct ReprojectRequest {
  public var input: String
  public var output: OutputSpec
  /// EPSG:n, WKT, PROJ, a .prj path, or an alias (wgs84, cgcs2000, xian1980, beijing1954, webmercator, utm).
  public var dstCRS: String
  /// Overrides the input's CRS (for files that lack or misstate one).
  public var srcCRS: String?
  public var resampling: Resampling = .nearest
  public var resolution: (x: Double, y: Double)?
  /// `--size`: pixels or a percentage of the input's size.
  public var size: OutputDimensions?
  public var bbox: Extent?
  /// The CRS of `bbox`; the destination CRS when nil.
  public var bboxCRS: String?
  public var targetAlignedPixels = false
  public var srcNodata: NodataSetting = .inherit
  public var dstNodata: NodataSetting = .inherit
  /// The datum transformation (--ct, --src-towgs84, --dst-towgs84) and --strict-datum.
  public var datum = DatumShift()
  public var resources: Resources

  public init(input: String, output: OutputSpec, dstCRS: String, resources: Resources = Resources()) {
    self.input = input
    self.output = output
    self.dstCRS = dstCRS
    self.resources = resources
  }

  /// The rules between the request's fields; `Reproject.run` checks them before opening anything.
  public func validate() throws {
    try OptionRule.requireOne(resolution: resolution != nil, size: size != nil)
    try OptionRule.requireResolution(forTargetAlignedPixels: targetAlignedPixels, resolution: resolution != nil)
    try OptionRule.requireBBox(forCRS: bboxCRS, bbox: bbox)
  }
}

public enum Reproject {
  public static func run(_ request: ReprojectRequest, progress: ProgressHandler? = nil) throws -> OperationReport {
    try request.validate()
    let source = try Dataset.open(request.input)
    let sourceCRS = try request.srcCRS.map { try CRSInput.resolve($0) } ?? source.spatialReference
    guard let sourceCRS else {
      throw TesseraError(.dataError, "\(request.input) has no CRS; pass --src-crs")
    }
    let centre = try? source.centreLonLat()
    let target = try CRSInput.resolve(request.dstCRS, centre: centre)
    try request.datum.requireReadableOperation()
    let warpSource = try request.datum.source(sourceCRS), warpTarget = try request.datum.target(target)
    var args = ["-t_srs", try warpTarget.wkt(.wkt2, multiline: false), "-r", request.resampling.gdalName]
    if request.srcCRS != nil || request.datum.sourceTOWGS84 != nil {
      args += ["-s_srs", try warpSource.wkt(.wkt2, multiline: false)]
    }
    args += request.datum.warpArguments
    args += try boundsArguments(request.bbox, request.bboxCRS, target: target, sources: [source], centre: centre)
    var warnings: [String] = []
    if let extent = source.extent,
      let warning = try request.datum.check(from: warpSource, to: warpTarget, footprint: extent, what: request.input)
    {
      warnings.append(warning)
    }
    args += nodataArguments(src: request.srcNodata, dst: request.dstNodata)
    let band = try source.band(1)
    let outputType = request.output.outputType ?? band.dataType
    try request.output.requireNodata(src: request.srcNodata, dst: request.dstNodata, inputBands: source.bandCount,
                                     outputBands: source.bandCount, type: outputType)
    var job = WarpJob(sources: [source], output: request.output, resources: request.resources, arguments: args,
                      outputType: band.dataType)
    job.resolution = request.resolution
    job.size = try request.size?.pixels(ofInput: source.width, source.height)
    job.targetAlignedPixels = request.targetAlignedPixels
    job.resampling = request.resampling
    return try job.run(progress: progress).report([
      ("input", .string(request.input)), ("dst_crs", try CRSDescription.json(target)),
      ("resampling", .string(request.resampling.rawValue)),
    ], warnings: warnings)
  }

  /// -te in the target CRS, after checking the box overlaps the data. A box in another CRS is
  /// transformed with its edges densified (GDAL 3.11's gdalwarp does the same; 3.6's transforms
  /// two corners only, which can cut off part of the box).
  static func boundsArguments(
    _ bbox: Extent?, _ bboxCRSText: String?, target: SpatialReference, sources: [Dataset], centre: (lon: Double, lat: Double)?
  ) throws -> [String] {
    guard var box = bbox else { return [] }
    let bboxCRS = try bboxCRSText.map { try CRSInput.resolve($0, centre: centre) } ?? target
    try requireOverlap(bbox: box, bboxCRS: bboxCRS, sources: sources)
    if !bboxCRS.isSame(as: target) { box = try CoordinateTransformation(from: bboxCRS, to: target).transformBounds(box) }
    return ["-te", "\(box.minX)", "\(box.minY)", "\(box.maxX)", "\(box.maxY)"]
  }

  static func nodataArguments(src: NodataSetting, dst: NodataSetting) -> [String] {
    var args: [String] = []
    if let src = src.gdalArgument { args += ["-srcnodata", src] }
    if let dst = dst.gdalArgument { args += ["-dstnodata", dst] }
    return args
  }
}
