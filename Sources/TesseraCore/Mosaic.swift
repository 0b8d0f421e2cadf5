import Foundation
import GDAL

/// Many rasters into one, with a stated overlap rule.
public struct MosaicRequest {
  /// Which input wins where inputs overlap. GDAL's tools let the last win; rasterio the first.
  public enum Order: String, CaseIterable, Sendable { case first, last }

  /// How overlapping valid pixels combine. first/last follow `Order`; the others are computed
  /// over the valid pixels of each output pixel.
  public enum Method: String, CaseIterable, Sendable { case first, last, min, max, mean, count }

  public enum ResolutionRule: Equatable, Sendable {
    case highest, lowest, average, same
    case explicit(x: Double, y: Double)

    /// A pixel size the user gave, as opposed to a rule Tessera applies.
    public var isExplicit: Bool {
      if case .explicit = self { return true }
      return false
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
  public var output: String
  public var order: Order = .last
  /// nil: the order's rule (first or last).
  public var method: Method?
  public var resolution: ResolutionRule = .highest
  public var bbox: Extent?
  public var targetAlignedPixels = false
  public var srcNodata: NodataSetting?
  public var dstNodata: NodataSetting?
  public var bands: [Int]?
  public var dstCRS: String?
  /// For inputs that are reprojected or change resolution.
  public var resampling: Resampling = .nearest
  public var write: WriteOptions

  public init(inputs: [String], output: String, write: WriteOptions = WriteOptions()) {
    self.inputs = inputs
    self.output = output
    self.write = write
  }

  /// Every file named for the mosaic: the inputs and the list they came from.
  var allInputFiles: [String] { inputs + (inputList.flatMap { $0 == "-" ? nil : $0 }.map { [$0] } ?? []) }

  /// The rule in force: an explicit method, else the order.
  public var effectiveMethod: Method { method ?? (order == .first ? .first : .last) }
}

/// Input lists: paths, glob patterns the shell left unexpanded, and `--input-list` files.
public enum MosaicInputs {
  public static func expand(_ arguments: [String], listFile: String? = nil) throws -> [String] {
    var paths: [String] = []
    if let listFile {
      let text = try readList(listFile)
      for line in text.split(whereSeparator: \.isNewline) {
        let entry = line.trimmingCharacters(in: .whitespaces)
        if !entry.isEmpty, !entry.hasPrefix("#") { paths.append(entry) }
      }
    }
    for argument in arguments {
      let isPattern = argument.contains(where: { "*?[".contains($0) })
      if isPattern && !FileManager.default.fileExists(atPath: argument) {
        let matches = glob(argument)
        if matches.isEmpty { throw TesseraError(.noInput, "pattern '\(argument)' matches no file") }
        paths += matches
      } else {
        paths.append(argument)
      }
    }
    return paths
  }

  /// The text of a list file: a file, a pipe (`--input-list <(find …)`), or `-` for stdin.
  static func readList(_ path: String) throws -> String {
    let handle: FileHandle?
    if path == "-" {
      handle = FileHandle.standardInput
    } else {
      var status = stat()
      guard stat(path, &status) == 0 else {
        throw TesseraError(.noInput, "input list \(path): \(String(cString: strerror(errno)).lowercased())")
      }
      if status.st_mode & S_IFMT == S_IFDIR { throw TesseraError(.noInput, "input list \(path): is a directory") }
      handle = FileHandle(forReadingAtPath: path)
    }
    guard let handle else { throw TesseraError(.noInput, "input list \(path) cannot be read") }
    // A list is names, one a line; more than 64 MiB of them is not a list.
    guard let data = try? handle.read(upToCount: 64 << 20), let text = String(data: data, encoding: .utf8) else {
      throw TesseraError(.dataError, "input list \(path) is not UTF-8 text")
    }
    return text
  }

  /// Sorted matches, so a pattern always gives the same order.
  static func glob(_ pattern: String) -> [String] {
    var result = glob_t()
    defer { globfree(&result) }
    guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
    return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
  }
}

public enum Mosaic {
  public static func run(_ request: MosaicRequest, progress: ProgressHandler? = nil) throws -> OperationReport {
    guard !request.inputs.isEmpty else { throw TesseraError(.usage, "mosaic needs at least one input") }
    if let method = request.method, [.first, .last].contains(method), method.rawValue != request.order.rawValue,
      request.order != .last
    {
      throw TesseraError(.usage, "--method \(method.rawValue) contradicts --order \(request.order.rawValue)")
    }
    // Everything is opened and checked before anything is written.
    let sources = try request.inputs.map { try Dataset.open($0) }
    let bands = try selectBands(request.bands, sources)
    let type = try commonType(sources, bands)
    let (target, crossesCRS) = try targetCRS(request, sources)
    let resolution = try resolution(request.resolution, sources, target: target, crossesCRS: crossesCRS)
    if let bbox = request.bbox { try requireOverlap(bbox: bbox, bboxCRS: target, sources: sources) }
    let planned = try plannedSize(request, sources, target: target, resolution: resolution)
    if request.write.format == .gtiff {
      try OutputSize.requireSpace(bytes: OutputSize.bytes(width: planned.width, height: planned.height, bands: bands.count, type: type),
                                  compressed: request.write.compresses(type), for: request.output, force: request.write.forceSize)
    }

    request.write.processing.applyStreamingCache()
    let method = request.effectiveMethod
    let ordered = method == .first ? Array(sources.reversed()) : sources
    switch method {
    case .first, .last:
      // Inputs at another resolution than the output's are resampled by GDAL's warper: a VRT
      // resamples each read on its own, so its averages (and its edges) depend on the windows
      // it is read in, and no two programs reading it would agree. The warper's do not.
      if try crossesCRS || (changesResolution(ordered, to: resolution) && request.write.format == .gtiff) {
        try warpMosaic(request, ordered, bands: bands, type: type, target: target, resolution: resolution, progress: progress)
      } else {
        try vrtMosaic(request, ordered, bands: bands, type: type, resolution: resolution, progress: progress)
      }
    case .min, .max, .mean, .count:
      try MosaicCompositor(request: request, sources: sources, bands: bands, type: type, target: target,
                           crossesCRS: crossesCRS, resolution: resolution).run(progress: progress)
    }
    return OperationReport(outputs: [request.output], details: [
      ("inputs", .array(request.inputs.map { .string($0) })),
      ("method", .string(method.rawValue)),
      ("resolution", .array([.double(resolution.x), .double(resolution.y)])),
      ("crs", .string(CRSInput.label(target))),
    ])
  }

  // MARK: - Checks

  /// How messages name the input when a read fails: the input itself when there is one.
  static func label(_ inputs: [String]) -> String? { inputs.count == 1 ? inputs[0] : nil }

  static func name(_ i: Int, _ ds: Dataset) -> String { "input \(i + 1) (\((ds.path as NSString).lastPathComponent))" }

  /// The bands to mosaic; every input must have them, and without --bands all must agree.
  static func selectBands(_ requested: [Int]?, _ sources: [Dataset]) throws -> [Int] {
    if let requested {
      guard !requested.isEmpty, requested.allSatisfy({ $0 >= 1 }) else {
        throw TesseraError(.usage, "--bands takes band numbers from 1")
      }
      let highest = requested.max() ?? 1
      for (i, ds) in sources.enumerated() where highest > ds.bandCount {
        throw TesseraError(.dataError, "\(name(i, ds)) has \(ds.bandCount) band(s); --bands asks for band \(highest)")
      }
      return requested
    }
    let counts = sources.map(\.bandCount)
    let common = mostCommon(counts)
    let odd = sources.enumerated().filter { $0.element.bandCount != common }
    if !odd.isEmpty {
      let names = odd.map { "\(name($0.offset, $0.element)) has \($0.element.bandCount)" }.joined(separator: ", ")
      throw TesseraError(.dataError, "band counts differ: \(names), the others \(common); pick bands with --bands")
    }
    guard common > 0 else { throw TesseraError(.dataError, "\(sources[0].path) has no raster band") }
    return Array(1...common)
  }

  /// The most frequent value; ties go to the one seen first, so the first input sets the norm.
  static func mostCommon(_ values: [Int]) -> Int {
    var counts: [Int: Int] = [:]
    for v in values { counts[v, default: 0] += 1 }
    var best = values.first ?? 0
    for v in values where counts[v, default: 0] > counts[best, default: 0] { best = v }
    return best
  }

  /// The smallest type holding every input's values.
  static func commonType(_ sources: [Dataset], _ bands: [Int]) throws -> DataType {
    var type: DataType?
    for ds in sources {
      for b in bands {
        let t = try ds.band(b).dataType
        type = type.map { $0.union(t) } ?? t
      }
    }
    return type ?? .byte
  }

  /// The output CRS, and whether any input must be reprojected to it.
  static func targetCRS(_ request: MosaicRequest, _ sources: [Dataset]) throws -> (SpatialReference, Bool) {
    var crss: [SpatialReference] = []
    for (i, ds) in sources.enumerated() {
      guard let srs = ds.spatialReference, ds.geoTransform != nil else {
        throw TesseraError(.dataError, "\(name(i, ds)) has no georeferencing")
      }
      crss.append(srs)
    }
    if let dst = request.dstCRS {
      let target = try CRSInput.resolve(dst, centre: try? sources[0].centreLonLat())
      return (target, crss.contains { !$0.isSame(as: target) })
    }
    let reference = crss[0]
    let odd = crss.enumerated().filter { !$0.element.isSame(as: reference) }
    if !odd.isEmpty {
      let names = odd.map { "\(name($0.offset, sources[$0.offset])) is \(CRSInput.label($0.element))" }.joined(separator: ", ")
      throw TesseraError(.dataError, "\(names), the others \(CRSInput.label(reference)); pass --dst-crs to reproject")
    }
    return (reference, false)
  }

  /// The output pixel size under the rule, in the target CRS.
  static func resolution(
    _ rule: MosaicRequest.ResolutionRule, _ sources: [Dataset], target: SpatialReference, crossesCRS: Bool
  ) throws -> (x: Double, y: Double) {
    if case .explicit(let x, let y) = rule { return (x, y) }
    let sizes: [(x: Double, y: Double)] = try sources.map { ds in
      if let gt = ds.geoTransform, !crossesCRS || (ds.spatialReference?.isSame(as: target) ?? false) {
        return (abs(gt[1]), abs(gt[5]))
      }
      return try suggestedResolution(ds, target: target)
    }
    let xs = sizes.map(\.x), ys = sizes.map(\.y)
    switch rule {
    case .highest: return (xs.min() ?? 1, ys.min() ?? 1)
    case .lowest: return (xs.max() ?? 1, ys.max() ?? 1)
    case .average: return (sizes.map(\.x).reduce(0, +) / Double(sizes.count), sizes.map(\.y).reduce(0, +) / Double(sizes.count))
    case .same:
      let first = sizes[0]
      for (i, s) in sizes.enumerated() where abs(s.x - first.x) > 1e-9 * first.x || abs(s.y - first.y) > 1e-9 * first.y {
        throw TesseraError(.dataError, "--resolution same: \(name(i, sources[i])) has pixels of \(s.x) x \(s.y), the first \(first.x) x \(first.y)")
      }
      return first
    case .explicit(let x, let y): return (x, y)
    }
  }

  /// The output's dimensions: the bbox, or the union of the inputs in the target CRS, at the
  /// resolution. Refused (64) before GDAL's own size arithmetic when no raster can have them.
  static func plannedSize(
    _ request: MosaicRequest, _ sources: [Dataset], target: SpatialReference, resolution: (x: Double, y: Double)
  ) throws -> (width: Int, height: Int) {
    var union: Extent? = request.bbox
    if union == nil {
      for ds in sources {
        guard var e = ds.extent else { continue }
        if let srs = ds.spatialReference, !srs.isSame(as: target) {
          e = try CoordinateTransformation(from: srs, to: target).transformBounds(e)
        }
        union = union.map { Extent(minX: min($0.minX, e.minX), minY: min($0.minY, e.minY), maxX: max($0.maxX, e.maxX), maxY: max($0.maxY, e.maxY)) } ?? e
      }
    }
    guard let u = union else { return (1, 1) }
    let extra = request.targetAlignedPixels ? 2.0 : 0.0
    let width = (u.maxX - u.minX) / resolution.x + extra, height = (u.maxY - u.minY) / resolution.y + extra
    let cause: String
    var fromInput = false
    if case .explicit = request.resolution {
      cause = "--resolution \(resolution.x)" + (resolution.x == resolution.y ? "" : ",\(resolution.y)")
    } else {
      cause = "the inputs' georeferencing (pixels of \(resolution.x) x \(resolution.y) over \(u.text))"
      fromInput = true
    }
    try OutputSize.requireGrid(width: width, height: height, cause: cause, fromInput: fromInput)
    return (Swift.max(1, Int(width.rounded())), Swift.max(1, Int(height.rounded())))
  }

  /// The pixel size gdalwarp would choose for `ds` in `target`.
  static func suggestedResolution(_ ds: Dataset, target: SpatialReference) throws -> (x: Double, y: Double) {
    let probe = try GDALUtilities.warp([ds], to: "", arguments: ["-of", "VRT", "-t_srs", try target.wkt(.wkt2, multiline: false)])
    defer { try? probe.close() }
    guard let gt = probe.geoTransform else {
      throw TesseraError(.dataError, "\(ds.path) cannot be placed in \(CRSInput.label(target))")
    }
    return (abs(gt[1]), abs(gt[5]))
  }

  // MARK: - first / last

  static func gridArguments(_ request: MosaicRequest, resolution: (x: Double, y: Double)) -> [String] {
    var args = ["-tr", "\(resolution.x)", "\(resolution.y)"]
    if let bbox = request.bbox { args += ["-te", "\(bbox.minX)", "\(bbox.minY)", "\(bbox.maxX)", "\(bbox.maxY)"] }
    if request.targetAlignedPixels { args.append("-tap") }
    return args
  }

  /// Same CRS: a VRT composes the inputs (later sources on top), and the output is written from it
  /// in one pass by the parallel copy. No full-size intermediate exists.
  static func vrtMosaic(
    _ request: MosaicRequest, _ ordered: [Dataset], bands: [Int], type: DataType, resolution: (x: Double, y: Double),
    progress: ProgressHandler?
  ) throws {
    var args = gridArguments(request, resolution: resolution) + ["-r", request.resampling.gdalName]
    for b in bands { args += ["-b", "\(b)"] }
    if let src = request.srcNodata { args += ["-srcnodata", src.gdalArgument] }
    if let dst = request.dstNodata { args += ["-vrtnodata", dst.gdalArgument] }
    let target = try OutputTarget(path: request.output, inputs: request.allInputFiles + InputFiles.of(ordered),
                                  overwrite: request.write.overwrite, inputLabel: label(request.inputs))
    if request.write.format == .vrt {
      return try vrtFile(request, ordered, arguments: args, type: type, target: target)
    }
    let composed = MemoryFile(name: "mosaic.vrt")
    defer { composed.remove() }
    let (sameType, wrappers) = try homogeneous(ordered, type: type)
    defer { wrappers.forEach { $0.remove() } }
    try target.write {
      // Written and closed before anything reads it.
      try GDALUtilities.buildVRT(sameType, to: composed.path, arguments: args).close()
      let vrt = try Dataset.open(composed.path)
      defer { try? vrt.close() }
      let output = try OutputRaster.create(like: vrt, path: target.gdalPath, bands: vrt.bandCount, type: type, write: request.write)
      let threads = request.write.processing.threads
      if let placements = try AlignedComposite.plan(sources: ordered, grid: vrt, bands: bands, srcNodata: request.srcNodata) {
        let fill = try vrt.band(1).noDataValue ?? 0
        try AlignedComposite(placements: placements, bands: bands, type: type, fill: fill)
          .write(to: output, threads: threads, progress: progress)
      } else {
        try RasterCopy.copy(source: composed.path, bands: Array(1...vrt.bandCount), to: output, type: type,
                            threads: threads, progress: progress)
      }
      try output.close()
    }
  }

  /// A VRT output is the mosaic itself, for other programs to read: it names the input files
  /// (absolute, or relative to the VRT's folder when they sit below it), never Tessera's
  /// in-memory files. It composes inputs of one data type only, as gdalbuildvrt does.
  static func vrtFile(_ request: MosaicRequest, _ ordered: [Dataset], arguments: [String], type: DataType,
                      target: OutputTarget) throws {
    let types = try Set(ordered.flatMap { ds in try (1...Swift.max(1, ds.bandCount)).map { try ds.band($0).dataType } })
    guard types.count == 1 else {
      throw TesseraError(.usage, "a VRT mosaic takes inputs of one data type (these are \(types.map(\.rawValue).sorted().joined(separator: ", "))); write GTiff, which promotes them to \(type.rawValue)")
    }
    // Opened again by absolute path, so the VRT can be read from any folder.
    let absolute = try ordered.map { try Dataset.open(URL(fileURLWithPath: $0.path).standardizedFileURL.path) }
    try target.write {
      // A VRT names its sources relative to its own folder: it is written under its real name.
      try GDALUtilities.buildVRT(absolute, to: target.temporaryPath, arguments: arguments).close()
    }
  }

  /// gdalbuildvrt only composes sources of one data type; others become `/vsimem/` VRTs of the
  /// common type first (closed, so the mosaic VRT can point at them by name).
  static func homogeneous(_ sources: [Dataset], type: DataType) throws -> ([Dataset], [MemoryFile]) {
    let differ = try sources.contains { ds in try (1...Swift.max(1, ds.bandCount)).contains { try ds.band($0).dataType != type } }
    guard differ else { return (sources, []) }
    var files: [MemoryFile] = []
    var wrapped: [Dataset] = []
    for (i, source) in sources.enumerated() {
      let file = MemoryFile(name: "typed-\(i).vrt")
      files.append(file)
      try GDALUtilities.translate(source, to: file.path, arguments: ["-of", "VRT", "-ot", type.rawValue]).close()
      wrapped.append(try Dataset.open(file.path))
    }
    return (wrapped, files)
  }

  /// CRSs differ: GDAL's warper reprojects and composes every input in one pass (later on top).
  static func warpMosaic(
    _ request: MosaicRequest, _ ordered: [Dataset], bands: [Int], type: DataType, target: SpatialReference,
    resolution: (x: Double, y: Double), progress: ProgressHandler?
  ) throws {
    // gdalwarp's VRT output holds one source: a VRT of several reprojected inputs would drop all
    // but the first.
    if request.write.format == .vrt, ordered.count > 1 {
      throw TesseraError(.usage, "--format VRT with inputs to reproject takes one input (a warped VRT holds one source); write GTiff, or reproject each input to a VRT and mosaic those")
    }
    var args = ["-t_srs", try target.wkt(.wkt2, multiline: false), "-r", request.resampling.gdalName, "-ot", type.rawValue]
    if let bbox = request.bbox, !request.targetAlignedPixels, !request.resolution.isExplicit {
      // The box is the box: with a resolution Tessera chose (not one the user gave), the grid
      // takes whole pixels of about that size that end exactly on the box, as gdalwarp -te does
      // when it picks the resolution itself.
      let width = Swift.max(1, Int(((bbox.maxX - bbox.minX) / resolution.x).rounded()))
      let height = Swift.max(1, Int(((bbox.maxY - bbox.minY) / resolution.y).rounded()))
      args += ["-ts", "\(width)", "\(height)", "-te", "\(bbox.minX)", "\(bbox.minY)", "\(bbox.maxX)", "\(bbox.maxY)"]
    } else {
      args += gridArguments(request, resolution: resolution)
    }
    args += Reproject.nodataArguments(src: request.srcNodata, dst: request.dstNodata)
    let selected = try ordered.map { try bandSubset($0, bands) }
    var job = WarpJob(sources: selected, output: request.output, write: request.write, arguments: args, outputType: type)
    job.inputPaths = request.allInputFiles + InputFiles.of(ordered)
    try job.run(progress: progress)
  }

  /// Whether any input's pixel size differs from the output's.
  static func changesResolution(_ sources: [Dataset], to resolution: (x: Double, y: Double)) throws -> Bool {
    try sources.contains { ds in
      guard let gt = ds.geoTransform else { return true }
      return abs(abs(gt[1]) - resolution.x) > 1e-9 * resolution.x || abs(abs(gt[5]) - resolution.y) > 1e-9 * resolution.y
    }
  }

  /// The dataset itself when it has exactly `bands`, else an in-memory VRT of those bands
  /// (GDAL 3.6's gdalwarp has no -b).
  static func bandSubset(_ source: Dataset, _ bands: [Int]) throws -> Dataset {
    if bands == Array(1...Swift.max(1, source.bandCount)) { return source }
    var args: [String] = []
    for b in bands { args += ["-b", "\(b)"] }
    return try GDALUtilities.buildVRT([source], to: "", arguments: args)
  }
}
