import Foundation
import GDAL

/// Many rasters into one, with a stated overlap rule.
public struct MosaicRequest {
  /// Which input wins where inputs overlap. GDAL's tools let the last win; rasterio the first.
  public enum Order: String, CaseIterable, Sendable { case first, last }

  /// How overlapping valid pixels combine: first or last lets one input win (GDAL's tools let
  /// the last win, rasterio the first); the others are computed over the valid pixels of each
  /// output pixel.
  public enum Method: String, CaseIterable, Sendable { case first, last, min, max, mean, count }

  public enum ResolutionRule: Equatable, Sendable {
    case highest, lowest, average, same
    case explicit(x: Double, y: Double)

    /// A pixel size the user gave, as opposed to a rule Tessera applies.
    public var isExplicit: Bool {
      if case .explicit = self { return true }
      return false
    }

    /// The pixel size of an explicit resolution; nil for a rule.
    public var pixelSize: (x: Double, y: Double)? {
      if case .explicit(let x, let y) = self { return (x, y) }
      return nil
    }

    public init(_ text: String) throws {
      switch text.lowercased() {
      case "highest": self = .highest
      case "lowest": self = .lowest
      case "average": self = .average
      case "same": self = .same
      default:
        let r = try parseResolution(text)
        self = .explicit(x: r.x, y: r.y)
      }
    }
  }

  public var inputs: [String]
  /// The file the inputs were listed in (`--input-list`), read like any input.
  public var inputList: String?
  public var output: OutputSpec
  public var method: Method = .last
  public var resolution: ResolutionRule = .highest
  public var bbox: Extent?
  /// The CRS of `bbox`; the output CRS when nil.
  public var bboxCRS: String?
  public var targetAlignedPixels = false
  public var srcNodata: NodataSetting = .inherit
  public var dstNodata: NodataSetting = .inherit
  public var bands: [Int]?
  public var dstCRS: String?
  /// The datum transformation (--ct, --src-towgs84, --dst-towgs84) and --strict-datum.
  public var datum = DatumShift()
  /// For inputs that are reprojected or change resolution.
  public var resampling: Resampling = .nearest
  public var resources: Resources

  public init(inputs: [String], output: OutputSpec, resources: Resources = Resources()) {
    self.inputs = inputs
    self.output = output
    self.resources = resources
  }

  /// The rules between the request's fields; `Mosaic.run` checks them before opening anything.
  public func validate() throws {
    guard !inputs.isEmpty else { throw TesseraError(.usage, "mosaic needs at least one input") }
    try OptionRule.requireBBox(forCRS: bboxCRS, bbox: bbox)
  }
}

public enum Mosaic {
  public static func run(_ request: MosaicRequest, progress: ProgressHandler? = nil) throws -> OperationReport {
    try request.validate()
    // Everything is opened and checked before anything is written.
    let sources = try SourceSet(paths: request.inputs, listFile: request.inputList, bands: request.bands)
    let plan = try MosaicPlan(request, sources: sources)
    let outputType = MosaicCompositor(request: request, plan: plan).outputType
    let bandCount = plan.sources.bands.count
    try request.output.requireNodata(src: request.srcNodata, dst: request.dstNodata, inputBands: bandCount, outputBands: bandCount,
                                     type: outputType)
    let method = request.method
    let ordered = method == .first ? Array(sources.datasets.reversed()) : sources.datasets
    switch method {
    case .first, .last:
      // Inputs at another resolution than the output's are resampled by GDAL's warper: a VRT
      // resamples each read on its own, so its averages (and its edges) depend on the windows
      // it is read in, and no two programs reading it would agree. The warper's do not.
      // A per-band --src-nodata takes gdalwarp's rule (a pixel is nodata when every band holds
      // its band's value), which gdalbuildvrt's VRT does not follow: the warper composes.
      if plan.crossesCRS || (plan.changesResolution(ordered) && request.output.format == .gtiff)
        || (request.srcNodata.isPerBand && request.output.format == .gtiff) {
        try warpMosaic(request, plan, ordered, progress: progress)
      } else {
        try vrtMosaic(request, plan, ordered, progress: progress)
      }
    case .min, .max, .mean, .count:
      try MosaicCompositor(request: request, plan: plan).run(progress: progress)
    }
    var report = OperationReport(outputs: [request.output.path], details: [
      ("inputs", .array(request.inputs.map { .string($0) })),
      ("method", .string(method.rawValue)),
      ("resolution", .array([.double(plan.resolution.x), .double(plan.resolution.y)])),
      ("crs", try CRSDescription.json(plan.crs)),
    ])
    report.warnings = plan.datumWarnings
    report.addConversion(of: request.output)
    return report
  }

  /// The output of a mosaic Tessera composes itself: its checks made on the mosaic's grid, the
  /// block cache streaming.
  static func output(_ request: MosaicRequest, _ plan: MosaicPlan) throws -> RasterWrite {
    try RasterWrite(request.output, inputs: plan.sources.inputFiles, inputLabel: plan.sources.label, resources: request.resources,
                    cache: .streaming) {
      RasterWrite.Layout(width: plan.size.width, height: plan.size.height, bands: plan.sources.bands.count,
                         type: request.output.outputType ?? plan.sources.type)
    }
  }

  // MARK: - first / last

  /// Same CRS: a VRT composes the inputs (later sources on top), and the output is written from it
  /// in one pass by the parallel copy. No full-size intermediate exists.
  static func vrtMosaic(_ request: MosaicRequest, _ plan: MosaicPlan, _ ordered: [Dataset], progress: ProgressHandler?) throws {
    let bands = plan.sources.bands, type = plan.sources.type
    var args = plan.gridArguments(targetAlignedPixels: request.targetAlignedPixels) + ["-r", request.resampling.gdalName]
    for b in bands { args += ["-b", "\(b)"] }
    if let src = request.srcNodata.gdalArgument { args += ["-srcnodata", src] }
    if let dst = request.dstNodata.gdalArgument { args += ["-vrtnodata", dst] }
    let writer = try output(request, plan)
    if request.output.format == .vrt {
      guard !plan.sources.hasPicks else {
        throw TesseraError(.usage, "--format VRT names whole input files; FILE:N band picks need GTiff output")
      }
      return try vrtFile(request, ordered, arguments: args, type: type, writer: writer)
    }
    let composed = MemoryFile(name: "mosaic.vrt")
    defer { composed.remove() }
    let (sameType, wrappers) = try SourceSet.homogeneous(ordered, type: type)
    defer { wrappers.forEach { $0.remove() } }
    try writer.write {
      // Written and closed before anything reads it.
      try GDALUtilities.buildVRT(sameType, to: composed.path, arguments: args).close()
      let vrt = try Dataset.open(composed.path)
      defer { try? vrt.close() }
      let output = try writer.createRaster(RasterWrite.Frame(like: vrt), RasterWrite.Bands(
        count: vrt.bandCount, type: request.output.outputType ?? type, template: vrt))
      let threads = request.resources.threads, conversion = request.output.conversion
      // Composed in a type that holds the inputs' values and the output's nodata both (--ot).
      let type = type.union(request.output.outputType ?? type)
      if let grid = Grid(of: vrt),
        let placements = try AlignedComposite.plan(sources: ordered, grid: grid, bands: bands, srcNodata: request.srcNodata) {
        let fill = try vrt.band(1).noDataValue ?? 0
        try AlignedComposite(placements: placements, bands: bands, type: type, fill: fill)
          .write(to: output, threads: threads, conversion: conversion, progress: progress)
      } else {
        try RasterCopy.copy(source: composed.path, bands: Array(1...vrt.bandCount), to: output, type: type,
                            threads: threads, conversion: conversion, progress: progress)
      }
      try output.close()
    }
  }

  /// A VRT output is the mosaic itself, for other programs to read: it names the input files
  /// (absolute, or relative to the VRT's folder when they sit below it), never Tessera's
  /// in-memory files. It composes inputs of one data type only, as gdalbuildvrt does.
  static func vrtFile(_ request: MosaicRequest, _ ordered: [Dataset], arguments: [String], type: DataType,
                      writer: RasterWrite) throws {
    if let type = request.output.outputType {
      throw TesseraError(.usage, "--ot \(type.rawValue) converts pixels, and a VRT mosaic names its inputs as they are (gdalbuildvrt has no -ot); write GTiff")
    }
    let types = try Set(ordered.flatMap { ds in try (1...Swift.max(1, ds.bandCount)).map { try ds.band($0).dataType } })
    guard types.count == 1 else {
      throw TesseraError(.usage, "a VRT mosaic takes inputs of one data type (these are \(types.map(\.rawValue).sorted().joined(separator: ", "))); write GTiff, which promotes them to \(type.rawValue)")
    }
    // Opened again by absolute path, so the VRT can be read from any folder.
    // Named, not handed over open: GDAL opens one at a time, so any number fits `ulimit -n`.
    let absolute = ordered.map { URL(fileURLWithPath: $0.path).standardizedFileURL.path }
    try writer.write {
      // A VRT names its sources relative to its own folder: it is written under its real name.
      try GDALUtilities.buildVRT(names: absolute, to: writer.temporaryPath, arguments: arguments).close()
    }
  }

  /// CRSs differ: GDAL's warper reprojects and composes every input in one pass (later on top).
  static func warpMosaic(_ request: MosaicRequest, _ plan: MosaicPlan, _ ordered: [Dataset], progress: ProgressHandler?) throws {
    let resolution = plan.resolution
    // gdalwarp's VRT output holds one source: a VRT of several reprojected inputs would drop all
    // but the first.
    if request.output.format == .vrt, ordered.count > 1 {
      throw TesseraError(.usage, "--format VRT with inputs to reproject takes one input (a warped VRT holds one source); write GTiff, or reproject each input to a VRT and mosaic those")
    }
    var args = try plan.crsArguments(request.datum) + ["-r", request.resampling.gdalName, "-ot", plan.sources.type.rawValue]
    if let bbox = plan.bbox, !request.targetAlignedPixels, !request.resolution.isExplicit {
      // The box is the box: with a resolution Tessera chose (not one the user gave), the grid
      // takes whole pixels of about that size that end exactly on the box, as gdalwarp -te does
      // when it picks the resolution itself.
      let width = Swift.max(1, Int(saturating: (bbox.maxX - bbox.minX) / resolution.x, rounding: .toNearestOrAwayFromZero))
      let height = Swift.max(1, Int(saturating: (bbox.maxY - bbox.minY) / resolution.y, rounding: .toNearestOrAwayFromZero))
      args += ["-ts", "\(width)", "\(height)", "-te", "\(bbox.minX)", "\(bbox.minY)", "\(bbox.maxX)", "\(bbox.maxY)"]
    } else {
      args += plan.gridArguments(targetAlignedPixels: request.targetAlignedPixels)
    }
    args += Reproject.nodataArguments(src: request.srcNodata, dst: request.dstNodata)
    let selected = try ordered.map { try request.datum.wrap(try SourceSet.bandSubset($0, plan.sources.bands)) }
    var job = WarpJob(sources: selected, output: request.output, resources: request.resources, arguments: args,
                      outputType: plan.sources.type)
    job.inputPaths = plan.sources.inputFiles
    job.inputLabel = plan.sources.label
    job.cache = .streaming
    try job.run(progress: progress)
  }
}
