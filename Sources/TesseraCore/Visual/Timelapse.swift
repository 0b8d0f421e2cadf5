import Foundation
import GDAL

public struct TimelapseRequest: Sendable {
  public enum Labels: String, Sendable, CaseIterable { case date, name, none }
  public enum Order: String, Sendable, CaseIterable { case date, given }

  public var inputs: [String]
  public var output: OutputSpec
  public var options: RenderOptions
  public var fps = 2.0
  /// nil: dates when every frame has one, else names.
  public var labels: Labels?
  /// nil: by date when every frame has one, else as given.
  public var order: Order?
  public var bbox: Extent?
  public var bboxCRS: String?
  /// The grid of every frame: this raster's, else the first input's.
  public var like: String?
  public var stretchPerFrame = false
  /// Bands of Sentinel-2 products by name (default B04,B03,B02).
  public var productBands: [String]?
  /// The datum transformation (--ct, --src-towgs84, --dst-towgs84) for frames in another CRS
  /// than the grid's, and --strict-datum.
  public var datum = DatumShift()
  public var resources: Resources

  public init(inputs: [String], output: OutputSpec, options: RenderOptions, resources: Resources = Resources()) {
    self.inputs = inputs
    self.output = output
    self.options = options
    self.resources = resources
  }
}

/// An animation of many dates of one area: every frame on one grid, one stretch for the
/// series, each labelled with its date, written frame by frame as a GIF (giflib) or an MP4
/// (ffmpeg). Memory holds one frame at output size.
public enum Timelapse {
  /// One date: the raster it is read from (a product's bands as a VRT), and what it is called.
  struct Source {
    var path: String
    var name: String
    var date: String?
    /// Added to each band's values (a Sentinel-2 product's radiometric offset), so dates of
    /// different processing baselines look alike.
    var offsets: [Double]
    var bands: [Int]
    /// What is opened to read it (the input, or a VRT of its bands in memory): on demand,
    /// through the readers' pool, so a series of any length holds few files open.
    var openPath: String
    /// The files it reads, for the output's collision check.
    var files: [String]
    var crs: SpatialReference?
    var geoTransform: [Double]?
    var width: Int, height: Int
    var footprint: Extent?
    /// Warp options of this source's own (a product's nodata).
    var warpArguments: [String] = []
  }

  public static func run(_ request: TimelapseRequest, progress: ProgressHandler? = nil) throws -> OperationReport {
    let format = try outputFormat(request)
    guard !request.inputs.isEmpty else { throw TesseraError(.usage, "a timelapse needs inputs") }
    let scratch = "/vsimem/tessera-timelapse-\(UUID().uuidString)"
    defer { MemoryFile.removeTree(scratch) }
    let series = try Series(request, scratch: scratch)
    let area = try Area(request, series.sources)
    if format == "gif" { _ = try GIFWriter.delay(fps: request.fps) }
    let crossing = try area.crossings(series.sources, datum: request.datum)
    let kind = try DatasetPool.shared.with(series.sources[0].openPath) {
      try Quicklook.kind(of: $0, bands: series.sources[0].bands, options: request.options, path: series.sources[0].path)
    }
    let grid = try area.warpArguments(resampling: kind.isClasses ? "near" : request.options.resampling.gdalName,
                                      threads: request.resources.threads)
    let frames = zip(series.sources, crossing.arguments).map { Frame(source: $0, grid: grid + $1, width: area.width, height: area.height) }
    // Each frame's source blocks are read once per pass; GDAL's default cache (5 % of the
    // memory) would only fill up with blocks no frame reads again.
    let writer = try RasterWrite(request.output.asOwnFile, inputs: request.inputs + series.sources.flatMap(\.files),
                                 inputLabel: request.inputs[0], resources: request.resources, cache: .streaming)
    let steps = Progress.steps([1, 2], progress)
    let style = try seriesStyle(frames, kind: kind, request: request, progress: steps[0])
    let encoded = try writer.write {
      try encode(frames, into: writer.temporaryPath, format: format, style: style, kind: kind, labels: series.labels,
                 request: request, scratch: writer.target.scratchFilePath("ffmpeg.log"), progress: steps[1])
    }
    let spec = request.options.stretch ?? .percentiles(2, 98)
    var details: [(String, JSONValue)] = [
      ("inputs", .array(series.sources.map { .string($0.path) })), ("frames", .int(series.sources.count)),
      ("width", .int(area.width)), ("height", .int(area.height)), ("fps", .double(request.fps)),
      ("format", .string(format)), ("order", .string(series.order.rawValue)), ("labels", .array(encoded.names.map { .string($0) })),
      ("dates", .array(series.sources.map { $0.date.map { .string($0) } ?? .null })),
      ("style", .string(kind.name)), ("colormap", kind.colormap(request.options).map { .string($0.rawValue) } ?? .null),
      ("stretch", kind.isClasses ? .null : .string(request.stretchPerFrame ? "per frame (\(spec))" : spec.description)),
    ]
    details.append(("stretch_values", request.stretchPerFrame ? .array(encoded.styles) : (encoded.styles.first ?? .array([]))))
    var report = OperationReport(outputs: [], details: details + [("output", .string(request.output.path))])
    report.warnings = crossing.warnings
      + Quicklook.infinityWarnings(encoded.infinite, names: series.sources[0].bands.map { "band \($0)" })
    return report
  }

  /// The animation's format from the output's extension: gif, or mp4 when ffmpeg is there.
  static func outputFormat(_ request: TimelapseRequest) throws -> String {
    try OutputPlace.check(request.output.path)
    let format = URL(fileURLWithPath: request.output.path).pathExtension.lowercased()
    guard format == "gif" || format == "mp4" else {
      throw TesseraError(.usage, "\(request.output.path): a timelapse is written as .gif or .mp4")
    }
    if format == "mp4", MP4Writer.ffmpeg == nil {
      throw TesseraError(.unavailable, "writing MP4 needs ffmpeg, which is not on the PATH (Debian: apt-get install ffmpeg), or write a .gif")
    }
    return format
  }

  /// The dates in the order they are shown, and how they are labelled.
  struct Series {
    var sources: [Source]
    var order: TimelapseRequest.Order
    var labels: TimelapseRequest.Labels

    init(_ request: TimelapseRequest, scratch: String) throws {
      sources = try request.inputs.enumerated().flatMap { index, path in
        try Timelapse.sources(path, index: index, request: request, scratch: scratch)
      }
      let dated = sources.allSatisfy { $0.date != nil }
      order = request.order ?? (dated ? .date : .given)
      if order == .date {
        if let undated = sources.first(where: { $0.date == nil }) {
          throw TesseraError(.dataError, "\(undated.path): no date in its name or metadata; use --order given")
        }
        sources = sources.enumerated().sorted { ($0.element.date ?? "", $0.offset) < ($1.element.date ?? "", $1.offset) }.map(\.element)
      }
      labels = request.labels ?? (dated ? .date : .name)
      if labels == .date, let undated = sources.first(where: { $0.date == nil }) {
        throw TesseraError(.dataError, "\(undated.path): no date in its name or metadata; use --labels name")
      }
      // Every frame shows the same bands.
      let bandCount = sources[0].bands.count
      if let odd = sources.first(where: { $0.bands.count != bandCount }) {
        throw TesseraError(.dataError, "\(odd.path) gives \(odd.bands.count) band\(odd.bands.count == 1 ? "" : "s") where \(sources[0].path) gives \(bandCount); every frame shows the same bands")
      }
    }
  }

  /// The area every frame shows: --like's grid, or the first input's, cut to --bbox, at frame size.
  struct Area {
    var crs: SpatialReference
    var extent: Extent
    var width: Int, height: Int

    init(_ request: TimelapseRequest, _ sources: [Source]) throws {
      let label = request.like ?? sources[0].path
      let reference = try Dataset.open(request.like ?? sources[0].openPath)
      guard let crs = reference.spatialReference, let gt = reference.geoTransform else {
        throw TesseraError(.dataError, "\(label) has no CRS or geotransform to put the frames on")
      }
      var extent = RasterInfo.bounds(geoTransform: gt, width: reference.width, height: reference.height)
      if let bbox = request.bbox {
        let box = try request.bboxCRS.map { text -> Extent in
          try CoordinateTransformation(from: try CRSInput.resolve(text, centre: try? reference.centreLonLat()), to: crs).transformBounds(bbox)
        } ?? bbox
        guard let common = extent.intersection(box) else { throw TesseraError(.dataError, "--bbox does not overlap \(label)") }
        extent = common
      }
      self.crs = crs
      self.extent = extent
      (width, height) = try Timelapse.frameSize(extent: extent, geoTransform: gt, requested: request.options.width, label: label)
    }

    /// Each source's own warp arguments into the area's CRS, after checking it meets the area,
    /// and the datum warnings on the way.
    func crossings(_ sources: [Source], datum: DatumShift) throws -> (arguments: [[String]], warnings: [String]) {
      try datum.requireReadableOperation()
      var arguments: [[String]] = []
      var warnings: [String] = []
      for source in sources {
        guard let sourceCRS = source.crs, let sgt = source.geoTransform else {
          throw TesseraError(.dataError, "\(source.path) has no CRS or geotransform")
        }
        let bounds = try CoordinateTransformation(from: sourceCRS, to: crs)
          .transformBounds(RasterInfo.bounds(geoTransform: sgt, width: source.width, height: source.height))
        if bounds.maxX <= extent.minX || bounds.minX >= extent.maxX || bounds.maxY <= extent.minY || bounds.minY >= extent.maxY {
          throw TesseraError(.dataError, "\(source.path) does not intersect the first frame's area (\(extent.text))")
        }
        arguments.append(try Timelapse.datumArguments(datum, from: sourceCRS, to: crs, footprint: source.footprint,
                                                      label: source.path, warnings: &warnings))
      }
      return (arguments, warnings)
    }

    /// The warp onto the area at frame size, as Float32 in memory with NaN where no data.
    func warpArguments(resampling: String, threads: Int) throws -> [String] {
      ["-t_srs", try crs.wkt(.wkt2, multiline: false), "-te", "\(extent.minX)", "\(extent.minY)", "\(extent.maxX)", "\(extent.maxY)",
       "-ts", "\(width)", "\(height)", "-r", resampling, "-ot", "Float32",
       "-dstnodata", "nan", "-of", "MEM", "-wo", "NUM_THREADS=\(threads)"]
    }
  }

  /// One date warped onto the area.
  struct Frame {
    var source: Source
    var grid: [String]
    var width: Int, height: Int

    func values() throws -> FrameValues { try Timelapse.frame(source, grid: grid, width: width, height: height) }
  }

  /// Pass 1: one stretch for the series, from samples of every frame (bounded: about two
  /// million values a band in all); nil when each frame is stretched on its own.
  static func seriesStyle(_ frames: [Frame], kind: Quicklook.Kind, request: TimelapseRequest, progress: ProgressHandler?) throws
    -> RenderStyle?
  {
    let spec = request.options.stretch ?? .percentiles(2, 98)
    let needsSamples = !kind.isClasses && !request.stretchPerFrame && { if case .values = spec { return false }; if case .none = spec { return false }; return true }()
    guard needsSamples else {
      return !request.stretchPerFrame || kind.isClasses ? Quicklook.style(kind, options: request.options, samples: { _ in [] }) : nil
    }
    let bandCount = frames[0].source.bands.count
    let step = max(1, frames.count * frames[0].width * frames[0].height / 2_000_000)
    var samples = [[Float]](repeating: [], count: bandCount)
    for (index, frame) in frames.enumerated() {
      let values = try frame.values()
      for band in 0..<bandCount { samples[band] += values.validValues(band, step: step) }
      if progress?(Double(index + 1) / Double(frames.count), nil) == false { throw GDALError.userInterrupt(context: "making the timelapse") }
    }
    return Quicklook.style(kind, options: request.options, samples: { samples[$0] })
  }

  /// Pass 2: each frame warped again, coloured, labelled and encoded into `path`; returns each
  /// frame's style and label, and the infinite values met in each band.
  static func encode(
    _ frames: [Frame], into path: String, format: String, style: RenderStyle?, kind: Quicklook.Kind,
    labels: TimelapseRequest.Labels, request: TimelapseRequest, scratch: @autoclosure () -> String, progress: ProgressHandler?
  ) throws -> (styles: [JSONValue], names: [String], infinite: [Int]) {
    let width = frames[0].width, height = frames[0].height, bandCount = frames[0].source.bands.count
    var styles: [JSONValue] = [], names: [String] = []
    var infinite = [Int](repeating: 0, count: bandCount)
    let writer: AnimationWriter = format == "gif"
      ? try GIFWriter(path: path, width: width, height: height)
      : try MP4Writer(path: path, width: width, height: height, fps: request.fps, scratch: scratch())
    for (index, frame) in frames.enumerated() {
      let source = frame.source
      let values = try frame.values()
      if kind.isClasses { try values.requireClasses(label: source.path) } else {
        for band in 0..<bandCount { infinite[band] += values.infiniteCount(band) }
      }
      let frameStyle = style ?? Quicklook.style(kind, options: request.options, samples: { values.validValues($0) })
      var pixels = Renderer.render(values, style: frameStyle, nodataColor: request.options.nodataColor)
      let label: String? = labels == .none ? nil : (labels == .date ? source.date : source.name)
      if let label { Timelapse.draw(label: label, on: &pixels, width: width, height: height) }
      try writer.add(pixels, delay: 1 / request.fps)
      CrashTestHook.trigger("timelapse-frame")
      styles.append(frameStyle.json(bandNames: source.bands.map { "band \($0)" }))
      names.append(label ?? source.name)
      if progress?(Double(index + 1) / Double(frames.count), nil) == false { throw GDALError.userInterrupt(context: "making the timelapse") }
    }
    try writer.finish()
    // giflib creates its file readable by its owner only; outputs get the usual permissions.
    let mask = umask(0)
    umask(mask)
    chmod(path, 0o666 & ~mask)
    return (styles, names, infinite)
  }

  /// The warp arguments that carry a frame from its CRS into the grid's: none when they are the
  /// same, else the datum transformation the user gave (-s_srs/-t_srs bound to WGS 84, -ct);
  /// a ballpark datum change adds its warning (or throws with --strict-datum).
  static func datumArguments(_ datum: DatumShift, from source: SpatialReference, to target: SpatialReference,
                             footprint: Extent?, label: String, warnings: inout [String]) throws -> [String] {
    guard !source.isSame(as: target) else { return [] }
    let warpSource = try datum.source(source), warpTarget = try datum.target(target)
    if let footprint, let w = try datum.check(from: warpSource, to: warpTarget, footprint: footprint, what: label),
      !warnings.contains(w)
    {
      warnings.append(w)
    }
    var args: [String] = []
    if datum.sourceTOWGS84 != nil { args += ["-s_srs", try warpSource.wkt(.wkt2, multiline: false)] }
    if datum.targetTOWGS84 != nil { args += ["-t_srs", try warpTarget.wkt(.wkt2, multiline: false)] }
    return args + datum.warpArguments
  }

  /// The frames' size: `requested` wide at most, the area's aspect. A geotransform without a
  /// usable pixel size (0, or so small the grid has no size an Int holds) is exit 65.
  static func frameSize(extent: Extent, geoTransform gt: [Double], requested: Int, label: String) throws -> (Int, Int) {
    let pixelsWide = (extent.maxX - extent.minX) / abs(gt[1]), pixelsHigh = (extent.maxY - extent.minY) / abs(gt[5])
    guard pixelsWide.isFinite, pixelsHigh.isFinite, pixelsWide > 0, pixelsHigh > 0 else {
      throw TesseraError(.dataError, "\(label): its geotransform gives no usable pixel size (\(gt[1]) by \(gt[5]))")
    }
    let width = max(1, min(requested, Int(saturating: pixelsWide, rounding: .toNearestOrAwayFromZero)))
    guard let height = Int(checked: Double(width) * pixelsHigh / pixelsWide, rounding: .toNearestOrAwayFromZero),
          height <= maximumRasterSide else {
      throw TesseraError(.dataError, "\(label): a frame \(width) pixels wide would be \(Double(width) * pixelsHigh / pixelsWide) high")
    }
    return (width, max(1, height))
  }

  /// The frames an input gives: a raster, or each tile of a Sentinel-2 product.
  static func sources(_ path: String, index: Int, request: TimelapseRequest, scratch: String) throws -> [Source] {
    if Sentinel2Product.looksLikeProduct(path) {
      let names = request.productBands ?? ["B04", "B03", "B02"]
      let bands = try names.map { name -> Sentinel2Band in
        guard let band = Sentinel2Band(name: name) else { throw TesseraError(.usage, "unknown Sentinel-2 band '\(name)'") }
        return band
      }
      return try Sentinel2Product.open(path).enumerated().map { tileIndex, product in
        // The finest resolution every band has.
        let resolution = Double(bands.map(\.nativeResolution).max() ?? 10)
        let files = try bands.map { try product.file(for: $0, resolution: resolution) }
        if let missing = files.first(where: { !$0.exists }) {
          throw TesseraError(.dataError, "\(product.source): band file \(missing.path) is missing")
        }
        let vrtPath = "\(scratch)/\(index)-\(tileIndex).vrt"
        do {
          let datasets = try files.map { try Dataset.open($0.path) }
          defer { for dataset in datasets { try? dataset.close() } }
          let stack = try GDALUtilities.buildVRT(datasets, to: vrtPath, arguments: ["-separate"])
          try stack.close()
        }
        let date = String(product.sensingTime.prefix(10))
        // 0 is Sentinel-2's no-data value in every band file.
        var source = try Timelapse.described(vrtPath, path: product.source, name: product.id, date: date.count == 10 ? date : nil,
                                             offsets: bands.map { product.offset(for: $0) })
        source.warpArguments = ["-srcnodata", "0"]
        return source
      }
    }
    if let names = request.productBands {
      throw TesseraError(.usage, "-b \(names.joined(separator: ",")): \(path) is no Sentinel-2 product; band names are for products, band numbers (-b 4,3,2) for rasters")
    }
    let dataset = try Dataset.open(path)
    defer { try? dataset.close() }
    let bands = try Quicklook.bands(of: dataset, request.options, label: path)
    // The bands shown, in order, as a VRT (GDAL 3.6's warper has no band selection).
    var shown = path
    if bands != Array(1...dataset.bandCount) {
      shown = "\(scratch)/\(index).vrt"
      let subset = try GDALUtilities.translate(dataset, to: shown, arguments: ["-of", "VRT"] + bands.flatMap { ["-b", String($0)] })
      try subset.close()
    }
    var source = try Timelapse.described(shown, path: path, name: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent,
                                         date: AcquisitionDate.of(path: path, dataset: dataset), offsets: bands.map { _ in 0 })
    source.bands = bands
    return [source]
  }

  /// A frame's source as described by opening `openPath` once through the pool: its grid and
  /// files; its bands are all of `openPath`'s.
  static func described(_ openPath: String, path: String, name: String, date: String?, offsets: [Double]) throws -> Source {
    try DatasetPool.shared.with(openPath) { dataset in
      Source(path: path, name: name, date: date, offsets: offsets, bands: Array(1...max(1, dataset.bandCount)),
             openPath: openPath, files: InputFiles.of([dataset]), crs: dataset.spatialReference, geoTransform: dataset.geoTransform,
             width: dataset.width, height: dataset.height, footprint: dataset.extent)
    }
  }

  /// One frame on the grid: the source's bands warped at display size (NaN where no data).
  static func frame(_ source: Source, grid: [String], width: Int, height: Int) throws -> FrameValues {
    try DatasetPool.shared.with(source.openPath) { dataset in
      try frame(dataset, source: source, grid: grid, width: width, height: height)
    }
  }

  private static func frame(_ dataset: Dataset, source: Source, grid: [String], width: Int, height: Int) throws -> FrameValues {
    let warped = try GDALUtilities.warp([dataset], to: "", arguments: grid + source.warpArguments)
    defer { try? warped.close() }
    let count = width * height
    var bands: [[Float]] = []
    var valid = [Bool](repeating: true, count: count)
    for (index, _) in source.bands.enumerated() {
      var values = try warped.band(index + 1).read(Window(x: 0, y: 0, width: width, height: height), as: Float.self)
      let offset = Float(source.offsets[index])
      for i in 0..<count {
        if values[i].isNaN { valid[i] = false } else if offset != 0 { values[i] += offset }
      }
      bands.append(values)
    }
    return FrameValues(width: width, height: height, bands: bands, valid: valid)
  }

  /// A label in the top-left corner: white on a dark box.
  static func draw(label: String, on pixels: inout [UInt8], width: Int, height: Int) {
    let scale = width >= 600 ? 2 : 1
    let pad = 3 * scale
    let boxWidth = min(width, BitmapFont.width(label, scale: scale) + 2 * pad)
    let boxHeight = min(height, BitmapFont.glyphHeight * scale + 2 * pad)
    for y in 0..<boxHeight {
      for x in 0..<boxWidth { Renderer.put(RGBA(0, 0, 0), at: y * width + x, in: &pixels) }
    }
    BitmapFont.draw(label, at: (pad, pad), scale: scale, color: RGBA(255, 255, 255), into: &pixels, width: width, height: height)
  }
}

/// When an image was taken, as YYYY-MM-DD: from a Sentinel-2 or Landsat file name, an ISO
/// date or an eight-digit date in the name, else the TIFF date tag or an acquisition item.
public enum AcquisitionDate {
  public static func of(path: String, dataset: Dataset?) -> String? {
    let name = URL(fileURLWithPath: path).lastPathComponent
    if let date = parse(name: name) { return date }
    guard let dataset else { return nil }
    for key in ["ACQUISITION_DATE", "SENSING_TIME", "DATE_ACQUIRED", "DATETIME", "TIFFTAG_DATETIME", "PRODUCT_START_TIME"] {
      if let value = dataset.metadataItem(key), let date = parse(name: value.replacingOccurrences(of: ":", with: "-")) { return date }
    }
    return nil
  }

  /// The first date in a name: `YYYY-MM-DD`, or eight digits `YYYYMMDD` that make a real date
  /// between 1970 and 2100 (Sentinel-2's `20221005T115411`, Landsat's `_20230601_`).
  public static func parse(name: String) -> String? {
    let characters = Array(name)
    var index = 0
    while index < characters.count {
      guard characters[index].isASCII, characters[index].isNumber else { index += 1; continue }
      var end = index
      while end < characters.count, characters[end].isASCII, characters[end].isNumber { end += 1 }
      let run = String(characters[index..<end])
      if run.count == 4, end + 5 < characters.count + 0, characters[end] == "-",
         end + 6 <= characters.count {
        let tail = String(characters[end..<min(characters.count, end + 6)])
        let parts = tail.split(separator: "-")
        if parts.count == 2, parts[0].count == 2, parts[1].count == 2, let date = valid(run, String(parts[0]), String(parts[1])) { return date }
      }
      if run.count == 8 || (run.count > 8 && end < characters.count && characters[end] == "T" && run.count == 8) {
        let y = String(run.prefix(4)), m = String(run.dropFirst(4).prefix(2)), d = String(run.suffix(2))
        if let date = valid(y, m, d) { return date }
      }
      index = end
    }
    return nil
  }

  private static func valid(_ y: String, _ m: String, _ d: String) -> String? {
    guard let year = Int(y), let month = Int(m), let day = Int(d), (1970...2100).contains(year), (1...12).contains(month) else { return nil }
    let days = [31, year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    guard (1...days[month - 1]).contains(day) else { return nil }
    return String(format: "%04d-%02d-%02d", year, month, day)
  }
}
