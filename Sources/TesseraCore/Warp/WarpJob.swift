import Foundation
import GDAL

/// One gdalwarp run over open sources into a safe output: the shared engine of reproject,
/// resample, and mosaics that cross CRSs.
struct WarpJob {
  var sources: [Dataset]
  var output: OutputSpec
  var resources: Resources
  /// gdalwarp arguments for the CRS, bounds, nodata and resampling; the grid's pixel size or
  /// dimensions and the output options are added here.
  var arguments: [String]
  /// The output's pixel size (-tr), or its dimensions (-ts); neither: gdalwarp's choice.
  var resolution: (x: Double, y: Double)?
  var size: (width: Int, height: Int)?
  var targetAlignedPixels = false
  /// The output's type: the user's `--ot`, else the command's own (`naturalType`).
  var outputType: DataType
  /// The type the warp has without `--ot`: what the clamped pixels are counted from.
  var naturalType: DataType
  /// The user's input paths, when `sources` are wrappers (band-subset VRTs) of them.
  var inputPaths: [String]?
  /// How messages name the input whose data failed to read (default: the one source's path).
  var inputLabel: String?
  /// How the warp uses GDAL's block cache (nil: as the user set it).
  var cache: Resources.CacheUse?
  /// Set when the caller left nodata to the input, so the warp may run without masks if the data
  /// allows (see `masklessArguments`).
  var resampling: Resampling?

  init(sources: [Dataset], output: OutputSpec, resources: Resources, arguments: [String], outputType: DataType) {
    self.sources = sources
    self.output = output
    self.resources = resources
    self.arguments = arguments
    self.outputType = output.outputType ?? outputType
    naturalType = outputType
  }

  /// Warps the sources into the output and commits it; returns the finished write, for the report.
  @discardableResult
  func run(progress: ProgressHandler?) throws -> RasterWrite {
    let bands = sources.first.map { $0.bandCount } ?? 1
    var planned = (width: 0, height: 0)
    let writer = try RasterWrite(output, inputs: (inputPaths ?? []) + InputFiles.of(sources),
                                inputLabel: inputLabel ?? (sources.count == 1 ? sources[0].path : nil), resources: resources,
                                cache: cache) {
      planned = try plannedSize()
      return RasterWrite.Layout(width: planned.width, height: planned.height, bands: bands, type: outputType,
                                declaresNodata: try declaresNodata())
    }
    var args = arguments + gridArguments + ["-of", output.format.rawValue]
    // gdalwarp -ot converts as gdal_translate -ot does; a later -ot wins over the command's own.
    if let type = output.outputType { args += ["-ot", type.rawValue] }
    // Several sources are warped one after the other over the same blocks; compressing on
    // several threads flushes a block after each pass, and a rewritten compressed block goes to
    // the end of the file with the old one left as dead space (a 4-input mosaic came out 3x
    // larger, and its bytes depended on the thread count). Compressed once, on one thread, it
    // is written once.
    let compressionThreads = sources.count > 1 ? 1 : resources.threads
    for option in output.gtiffOptions(for: outputType, threads: compressionThreads, width: planned.width, height: planned.height,
                                      bands: bands) {
      args += ["-co", option]
    }
    args += WarpJob.performanceArguments(threads: resources.threads, format: output.format)
    let maskless = try masklessArguments()
    if let maskless { args += maskless.arguments }
    try countClamped()
    try writer.write {
      // A VRT names its sources relative to its own folder: it is written under its real name.
      let path = output.format == .vrt ? writer.temporaryPath : writer.gdalPath
      let dataset = try GDALUtilities.warp(sources, to: path, arguments: args, progress: progress)
      if let maskless {
        for i in 1...Swift.max(1, dataset.bandCount) { try dataset.band(i).setNoDataValue(maskless.nodata) }
      }
      try dataset.close()
    }
    return writer
  }

  /// Whether gdalwarp will declare nodata on the output: -dstnodata, else the sources' own
  /// (-srcnodata or theirs), which it carries over.
  func declaresNodata() throws -> Bool {
    func given(_ flag: String) -> Bool? {
      guard let i = arguments.lastIndex(of: flag), i + 1 < arguments.count else { return nil }
      return arguments[i + 1].lowercased() != "none"
    }
    if let destination = given("-dstnodata") { return destination }
    if let source = given("-srcnodata") { return source }
    return try sources.contains { source in
      guard source.bandCount > 0 else { return false }
      return try source.band(1).noDataValue != nil
    }
  }

  /// With a narrowing `--ot`, counts the pixels the type cannot hold in the warp's result in its
  /// own type (a warped VRT, read window by window: GDAL's warper, nothing in memory). Several
  /// sources are counted each on its own, so a pixel where they overlap counts once per source.
  func countClamped() throws {
    guard let conversion = output.conversion, conversion.narrows(from: naturalType) else { return }
    for source in sources {
      let probe = try GDALUtilities.probeWarp([source], arguments: arguments + gridArguments + ["-ot", naturalType.rawValue])
      defer { try? probe.close() }
      try conversion.count(in: probe)
    }
  }

  var gridArguments: [String] {
    var args: [String] = []
    if let resolution { args += ["-tr", "\(resolution.x)", "\(resolution.y)"] }
    if let size { args += ["-ts", "\(size.width)", "\(size.height)"] }
    if targetAlignedPixels { args.append("-tap") }
    return args
  }

  /// The output's dimensions, refused (64) when the requested grid is one GDAL cannot make. The
  /// bounds come from GDAL itself (a warped VRT without the pixel size, cheap to make), so a
  /// pixel size too small for them is caught before GDAL's own size arithmetic overflows.
  func plannedSize() throws -> (width: Int, height: Int) {
    if let size, size.width > 0, size.height > 0 { return size }
    let probe = try GDALUtilities.probeWarp(sources, arguments: arguments)
    defer { try? probe.close() }
    guard let gt = probe.geoTransform else { return size ?? (probe.width, probe.height) }
    let extent = RasterInfo.bounds(geoTransform: gt, width: probe.width, height: probe.height)
    if let size { return Self.keepingAspect(size, of: extent) }
    guard let resolution else { return (probe.width, probe.height) }
    // -tap may add a pixel on each side.
    let extra = targetAlignedPixels ? 2.0 : 0.0
    let width = (extent.maxX - extent.minX) / resolution.x + extra
    let height = (extent.maxY - extent.minY) / resolution.y + extra
    let cause = resolution.x == resolution.y ? "--resolution \(resolution.x)" : "--resolution \(resolution.x),\(resolution.y)"
    try OutputSize.requireGrid(width: width, height: height, cause: cause)
    return (Swift.max(1, Int(saturating: width, rounding: .toNearestOrAwayFromZero)),
            Swift.max(1, Int(saturating: height, rounding: .toNearestOrAwayFromZero)))
  }

  /// `-ts W 0` or `-ts 0 H`: the side given 0 follows the output's aspect ratio, with square
  /// pixels, as gdalwarp derives it.
  static func keepingAspect(_ size: (width: Int, height: Int), of extent: Extent) -> (width: Int, height: Int) {
    let ratio = (extent.maxY - extent.minY) / (extent.maxX - extent.minX)
    guard ratio.isFinite, ratio > 0 else { return (Swift.max(1, size.width), Swift.max(1, size.height)) }
    if size.width == 0 {
      return (Swift.max(1, Int(saturating: Double(size.height) / ratio, rounding: .toNearestOrAwayFromZero)), size.height)
    }
    return (size.width, Swift.max(1, Int(saturating: Double(size.width) * ratio, rounding: .toNearestOrAwayFromZero)))
  }

  /// Methods whose result lies between the smallest and largest source value they combine.
  static let convexMethods: Set<Resampling> = [.nearest, .bilinear, .average, .mode, .min, .max, .med, .q1, .q3]

  /// The warper's per-pixel validity masks roughly double its kernel time. They change nothing
  /// when the source has no nodata pixel and no result can equal the nodata value, which a scan
  /// proves: no pixel equals it, it lies outside the data's range, and the method is convex.
  /// Then the warp runs without masks, the output initialised to nodata and marked with it, and
  /// the warp memory scaled by b/(b+1) so GDAL cuts exactly the chunks it cuts with the one-bit
  /// masks (the approximate transformer works per chunk, so the chunks must not change).
  func masklessArguments() throws -> (arguments: [String], nodata: Double)? {
    guard let resampling, WarpJob.convexMethods.contains(resampling), sources.count == 1, output.format == .gtiff,
      !arguments.contains("-srcnodata"), !arguments.contains("-dstnodata"), !arguments.contains("-wm")
    else { return nil }
    let source = sources[0]
    let bands = Array(1...Swift.max(1, source.bandCount))
    let types = Set(try bands.map { try source.band($0).dataType })
    let nodatas = Set(try bands.map { try source.band($0).noDataValue })
    guard types.count == 1, let type = types.first, type == outputType, !type.isComplex,
      nodatas.count == 1, let nodataValue = nodatas.first, let nodata = nodataValue, !nodata.isNaN,
      try bands.allSatisfy({ try source.band($0).maskKind == .nodata })
    else { return nil }
    // A nodata value the type cannot hold would widen GDAL's working type.
    let fits: Bool
    switch type {
    case .float32: fits = Double(Float(nodata)) == nodata
    case .float64: fits = true
    default: fits = nodata == nodata.rounded() && type.integerRange.contains(nodata)
    }
    guard fits else { return nil }
    // The scan reads full resolution; gdalwarp may read an overview instead, whose pixels it
    // proves nothing about (a JPEG 2000 level is filtered, not a subset of the data).
    guard try !source.hasReducedResolutions else { return nil }
    // The scan reads the whole input once more; past a bound it would cost more than the masks
    // it saves, and it has no progress of its own to show.
    guard Double(source.width) * Double(source.height) * Double(bands.count) <= WarpJob.maximumScanPixels else { return nil }
    let scan = try NodataScan.scan(path: source.path, bands: bands, nodata: nodata, threads: resources.threads)
    guard !scan.hasNodataPixel, scan.min <= scan.max, nodata < scan.min || nodata > scan.max else { return nil }
    let bits = Double(type.byteSize * 8)
    let memory = WarpJob.defaultWarpMemory * bits / (bits + 1)
    // A nodata of 1e300 or an infinity is whole but no Int64: written as GDAL reads it.
    let initial = Int64(exactly: nodata).map { String($0) } ?? "\(nodata)"
    return (["-srcnodata", "None", "-dstnodata", "None", "-wo", "INIT_DEST=\(initial)", "-wm", "\(memory)"], nodata)
  }

  /// The most pixels the nodata scan reads before a warp (about a 16000 x 16000 band).
  static let maximumScanPixels = 256.0 * 1024 * 1024

  /// gdalwarp's warp memory when -wm is not given (GDAL 3.6).
  static let defaultWarpMemory = 64.0 * 1024 * 1024

  /// The warper's speed settings: the kernel on every thread and I/O overlapped with computation
  /// (-multi). Warp memory stays at gdalwarp's default on purpose: the approximate transformer
  /// works per chunk, so another chunking gives (slightly) different pixels than gdalwarp's.
  static func performanceArguments(threads: Int, format: OutputFormat) -> [String] {
    guard format == .gtiff else { return [] }
    return ["-multi", "-wo", "NUM_THREADS=\(threads)"]
  }
}

extension Dataset {
  /// The dataset's centre in WGS 84 longitude/latitude, for the `utm` alias.
  func centreLonLat() throws -> (lon: Double, lat: Double) {
    guard let gt = geoTransform, let srs = spatialReference else {
      throw TesseraError(.dataError, "\(path) has no georeferencing to take a UTM zone from")
    }
    var point = [(x: gt[0] + Double(width) / 2 * gt[1] + Double(height) / 2 * gt[2],
                  y: gt[3] + Double(width) / 2 * gt[4] + Double(height) / 2 * gt[5])]
    try CoordinateTransformation(from: srs, to: try SpatialReference(epsg: 4326)).transform(&point)
    return (point[0].x, point[0].y)
  }

  /// Whether any band carries overviews (internal, .ovr, or JPEG 2000 resolution levels), from
  /// which gdalwarp reads when downsampling unless told `-ovr NONE`.
  var hasReducedResolutions: Bool {
    get throws { try (1...Swift.max(1, bandCount)).contains { try band($0).overviewCount > 0 } }
  }

  /// The extent of the dataset in its own CRS.
  var extent: Extent? {
    geoTransform.map { RasterInfo.bounds(geoTransform: $0, width: width, height: height) }
  }
}

/// Checks a --bbox against the footprint of the sources; no overlap is bad input (65).
func requireOverlap(bbox: Extent, bboxCRS: SpatialReference?, sources: [Dataset]) throws {
  for source in sources {
    guard let extent = source.extent else { continue }
    var footprint = extent
    if let bboxCRS, let srs = source.spatialReference, !srs.isSame(as: bboxCRS) {
      footprint = try CoordinateTransformation(from: srs, to: bboxCRS).transformBounds(extent)
    }
    if bbox.intersects(footprint) { return }
  }
  let footprints = sources.compactMap { source in source.extent.flatMap { e in source.spatialReference.map { (e, $0) } } }
  let readIn = bboxCRS ?? footprints.first?.1
  throw TesseraError(
    .dataError,
    String(format: "bbox %.6g,%.6g,%.6g,%.6g does not overlap ", bbox.minX, bbox.minY, bbox.maxX, bbox.maxY)
      + (sources.count == 1 ? sources[0].path : "any input")
      + (readIn.map { NearMiss.hint(bbox, readIn: $0, option: "--bbox-crs", footprints: footprints) } ?? ""))
}
