import Foundation
import GDAL

/// Single-band files (or picked bands, or every band of multi-band files) stacked in order into
/// one multi-band raster. Inputs on different grids are an error unless a resolution rule says
/// how to align them: nothing is ever resampled silently.
public struct BandStackRequest {
  /// Which area the stack covers when the inputs' footprints differ.
  public typealias Coverage = ExtentRule
  public enum Interleave: String, CaseIterable, Sendable { case band, pixel }

  /// Inputs as named: paths, or `FILE:N` for band N of FILE.
  public var inputs: [String]
  public var inputList: String?
  public var output: OutputSpec
  /// Band descriptions in order; nil: from Sentinel-2/Landsat file names, else the inputs' own.
  public var descriptions: [String]?
  /// GDAL colour interpretations in order (red, green, blue, alpha, gray, …).
  public var colorInterpretation: [String]?
  /// How inputs on different grids are aligned (highest, lowest or a pixel size); nil: they must
  /// share one grid.
  public var resolution: MosaicRequest.ResolutionRule?
  public var resampling: Resampling = .nearest
  public var coverage: Coverage = .union
  /// The output type (`--ot`, the output's); nil: the smallest holding every input.
  public var outputType: DataType? {
    get { output.outputType }
    set { output.conversion = newValue.map(TypeConversion.init) }
  }
  public var interleave: Interleave = .band
  /// `--src-nodata`: overrides the inputs' nodata, a list one value per output band.
  public var srcNodata: NodataSetting = .inherit
  /// `--dst-nodata`: the output's nodata, also written where an input pixel is nodata.
  public var dstNodata: NodataSetting = .inherit
  public var resources: Resources

  /// Whether either nodata option is given: the stack is then composed by gdalbuildvrt, whose
  /// -srcnodata and -vrtnodata put the output's nodata where an input's is.
  var givesNodata: Bool { !srcNodata.isInherit || !dstNodata.isInherit }

  public init(inputs: [String], output: OutputSpec, resources: Resources = Resources()) {
    self.inputs = inputs
    self.output = output
    self.resources = resources
  }

  /// GDAL's name of a colour interpretation given in any case (`red` is Red).
  /// - Throws: 64 for a name GDAL does not know.
  public static func colorInterpretation(named name: String) throws -> String {
    guard let known = BandStack.colorInterpretationNames.first(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) else {
      throw TesseraError(.usage, "--color-interp: unknown interpretation '\(name)'; use one of \(BandStack.colorInterpretationNames.joined(separator: ", "))")
    }
    return known
  }
}

public enum BandStack {
  public static func run(_ request: BandStackRequest, progress: ProgressHandler? = nil) throws -> OperationReport {
    let layers = try openLayers(request)
    let names = try bandNames(request, layers)
    let grids = try SourceGrid.ownGrids(layers)
    let sameGrid = try requireOneGridOrRule(request, layers, grids)
    let types = try layers.map { try $0.dataType }
    let union = types.dropFirst().reduce(types[0]) { $0.union($1) }
    let type = request.outputType ?? union
    // The place, then the format, then the nodata: '-' or a VRT is refused as that, not for its nodata.
    try OutputPlace.check(request.output.path)
    _ = try request.output.rasterFormat()
    try request.output.requireNodata(src: request.srcNodata, dst: request.dstNodata, inputBands: layers.count, outputBands: layers.count, type: type)
    var warnings: [String] = []
    if let forced = request.outputType, forced.union(union) != forced {
      warnings.append("--ot \(forced.rawValue) cannot hold every input's values (they need \(union.rawValue)); values outside it are clamped")
    }
    var files: [MemoryFile] = []
    defer { files.forEach { $0.remove() } }
    let composed = try compose(layers, request: request, grids: grids, files: &files)
    let vrt = try Dataset.open(composed)
    defer { try? vrt.close() }
    guard vrt.bandCount == layers.count else {
      throw TesseraError(.internalError, "the stack has \(vrt.bandCount) bands for \(layers.count) inputs")
    }
    let plan = try write(request, layers, names: names, stack: vrt, composed: composed, sameGrid: sameGrid, type: type, progress: progress)
    let gt = vrt.geoTransform ?? [0, 1, 0, 0, 0, -1]
    var report = OperationReport(outputs: [request.output.path], details: [
      ("inputs", .array(zip(layers, grids).enumerated().map { i, pair in
        .object([("path", .string(pair.0.path)), ("band", .int(pair.0.band)), ("name", .string(names[i])),
                 ("data_type", .string(types[i].rawValue)),
                 ("pixel_size", .array([.double(pair.1.resolution.x), .double(pair.1.resolution.y)]))])
      })),
      ("resolution", .array([.double(abs(gt[1])), .double(abs(gt[5]))])),
      ("extent", .string(request.coverage.rawValue)),
      ("data_type", .string(type.rawValue)),
      ("nodata_dropped", .array(plan.notes)),
    ])
    report.warnings = warnings + plan.warnings
    report.addConversion(of: request.output)
    return report
  }

  /// Whether every layer lies on the first one's grid; layers on different grids are refused
  /// (65) unless a resolution rule says how to align them.
  static func requireOneGridOrRule(_ request: BandStackRequest, _ layers: [BandSource], _ grids: [Grid]) throws -> Bool {
    let sameGrid = grids.allSatisfy { $0.placement(of: grids[0]) != nil }
    if !sameGrid && request.resolution == nil {
      let sizes = zip(layers, grids).map { "\(($0.path as NSString).lastPathComponent) \(pixelText($1.resolution))" }
      throw TesseraError(.dataError, "the inputs are on different grids (\(Array(Set(sizes)).sorted().joined(separator: ", "))); align them with --resolution highest, lowest or a pixel size")
    }
    return sameGrid
  }

  /// The stack as GDAL composes it (gdalbuildvrt -separate), one single-band VRT per layer so
  /// every band of a multi-band input is its own source; written and closed before it is read.
  /// Returns its path.
  static func compose(_ layers: [BandSource], request: BandStackRequest, grids: [Grid], files: inout [MemoryFile]) throws -> String {
    let composed: MemoryFile
    let identical = layers.allSatisfy { $0.dataset.width == layers[0].dataset.width && $0.dataset.height == layers[0].dataset.height
      && $0.dataset.geoTransform == layers[0].dataset.geoTransform }
    if identical && (request.resolution == nil || request.resolution == .same) && !request.givesNodata {
      // Every layer on one grid: the stack's VRT is written directly, one source per band. (The
      // way through one single-band VRT per layer reopens a multi-band file once per band, which
      // grows with the square of its band count: 4000 bands took 6.6 GB.)
      composed = try MemoryFile(name: "stack.vrt", data: Data(try BandStack.directVRT(layers, crs: grids[0].srs).utf8))
    } else {
      composed = MemoryFile(name: "stack.vrt")
      try BandStack.composedVRT(layers, request: request, grids: grids, files: &files, to: composed.path)
    }
    files.append(composed)
    return composed.path
  }

  /// Writes the stack: each band straight from its file when all share one grid, else through
  /// the composed VRT. Returns the nodata the output declares.
  static func write(_ request: BandStackRequest, _ layers: [BandSource], names: [String], stack vrt: Dataset, composed: String,
                    sameGrid: Bool, type: DataType, progress: ProgressHandler?) throws -> NodataPlan {
    let inputs = request.inputs.map { SourceSet.pick($0).path } + (request.inputList.map { [$0] } ?? [])
      + InputFiles.of(layers.map(\.dataset))
    var spec = request.output
    // --interleave is GeoTIFF's layout; another format keeps its own (one that cannot be
    // resolved is the target's to refuse).
    if (try? spec.rasterFormat()) == .gtiff, !spec.creationOptions.contains(where: { $0.uppercased().hasPrefix("INTERLEAVE=") }) {
      spec.creationOptions.append("INTERLEAVE=\(request.interleave.rawValue.uppercased())")
    }
    let writer = try RasterWrite(spec, inputs: inputs.filter { $0 != "-" }, inputLabel: layers.count == 1 ? layers[0].path : nil,
                                 resources: request.resources, cache: .singlePass) {
      RasterWrite.Layout(width: vrt.width, height: vrt.height, bands: layers.count, type: type)
    }
    let plan = try NodataPlan(own: (1...layers.count).map { try vrt.band($0).noDataValue }, names: names, type: type)
    var bands = RasterWrite.Bands(count: layers.count, type: type, template: vrt, nodata: .none)
    bands.descriptions = names
    // Set on every band: GeoTIFF keeps one value for the file, and every band declares it (a
    // nodata list of differing values was refused: band-stack writes no VRT).
    bands.declaredNodata = Array(repeating: plan.declared, count: layers.count)
    bands.colorInterpretations = try colorInterpretations(request, names)
    try writer.raster(RasterWrite.Frame(like: vrt), bands) { output in
      // Read in a type that holds every input's values, converted to --ot's as they are written.
      let union = try (1...layers.count).map { try vrt.band($0).dataType }.reduce(type) { $0.union($1) }
      try copy(layers, stack: vrt, composed: composed, sameGrid: sameGrid && !request.givesNodata, to: output, type: union,
               conversion: request.output.conversion, threads: request.resources.threads, progress: progress)
    }
    return plan
  }

  /// The pixels: when every layer lies on the stack's grid each band is read straight from its
  /// file, without the VRT's per-source machinery; else (layers on other grids, or one grid
  /// resampled to an asked-for pixel size) the composed VRT, which GDAL resamples.
  static func copy(_ layers: [BandSource], stack vrt: Dataset, composed: String, sameGrid: Bool, to output: Dataset, type: DataType,
                   conversion: TypeConversion?, threads: Int, progress: ProgressHandler?) throws {
    guard sameGrid, let grid = Grid(of: vrt), let placed = SourceGrid.placed(layers, on: grid) else {
      try RasterCopy.copy(source: composed, bands: Array(1...layers.count), to: output, type: type, threads: threads,
                          conversion: conversion, progress: progress)
      return
    }
    let sources = try zip(placed, layers).map { ($0, $1.band, try $1.noDataValue ?? 0) }
    try StackCopy(sources: sources, type: type).write(to: output, threads: threads, conversion: conversion, progress: progress)
  }

  /// The stack as GDAL composes it (gdalbuildvrt -separate over one single-band VRT per layer),
  /// for layers on different grids: GDAL resamples them onto one.
  static func composedVRT(_ layers: [BandSource], request: BandStackRequest, grids: [Grid], files: inout [MemoryFile], to path: String) throws {
    var made: [MemoryFile] = []
    defer { files += made }
    let singles = try layers.enumerated().map { i, layer -> Dataset in
      let file = MemoryFile(name: "layer-\(i + 1).vrt")
      made.append(file)
      try GDALUtilities.translate(layer.dataset, to: file.path, arguments: ["-of", "VRT", "-b", "\(layer.band)"]).close()
      return try Dataset.open(file.path)
    }
    var arguments = ["-separate", "-r", request.resampling.gdalName]
    switch request.resolution {
    case .highest?: arguments += ["-resolution", "highest"]
    case .lowest?: arguments += ["-resolution", "lowest"]
    case .average?: arguments += ["-resolution", "average"]
    case .explicit(let x, let y)?: arguments += ["-tr", "\(x)", "\(y)", "-tap"]
    case .same?, nil: break
    }
    if let values = request.srcNodata.gdalArgument { arguments += ["-srcnodata", values] }
    if let values = request.dstNodata.gdalArgument { arguments += ["-vrtnodata", values] }
    if request.coverage == .intersection {
      let common = try SourceGrid.extent(grids.map(\.extent), .intersection)
      arguments += ["-te", "\(common.minX)", "\(common.minY)", "\(common.maxX)", "\(common.maxY)"]
    }
    try GDALUtilities.buildVRT(singles, to: path, arguments: arguments).close()
  }

  /// A VRT stacking `layers` that share one grid: one simple source per band.
  static func directVRT(_ layers: [BandSource], crs: SpatialReference) throws -> String {
    let first = layers[0].dataset
    let gt = first.geoTransform ?? [0, 1, 0, 0, 0, 1]
    func escaped(_ text: String) -> String {
      text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
    var xml = "<VRTDataset rasterXSize=\"\(first.width)\" rasterYSize=\"\(first.height)\">\n"
    xml += "  <SRS dataAxisToSRSAxisMapping=\"1,2\">\(escaped(try crs.wkt(.wkt2, multiline: false)))</SRS>\n"
    xml += "  <GeoTransform>\(gt.map { String(format: "%.17g", $0) }.joined(separator: ", "))</GeoTransform>\n"
    for (index, layer) in layers.enumerated() {
      let band = try layer.dataset.band(layer.band)
      xml += "  <VRTRasterBand dataType=\"\(band.dataType.rawValue)\" band=\"\(index + 1)\">\n"
      if let nodata = band.noDataValue { xml += "    <NoDataValue>\(String(format: "%.17g", nodata))</NoDataValue>\n" }
      xml += "    <SimpleSource>\n"
      xml += "      <SourceFilename relativeToVRT=\"0\">\(escaped(URL(fileURLWithPath: layer.path).standardizedFileURL.path))</SourceFilename>\n"
      xml += "      <SourceBand>\(layer.band)</SourceBand>\n"
      xml += "      <SrcRect xOff=\"0\" yOff=\"0\" xSize=\"\(first.width)\" ySize=\"\(first.height)\" />\n"
      xml += "      <DstRect xOff=\"0\" yOff=\"0\" xSize=\"\(first.width)\" ySize=\"\(first.height)\" />\n"
      xml += "    </SimpleSource>\n  </VRTRasterBand>\n"
    }
    return xml + "</VRTDataset>\n"
  }

  /// Every input as layers: a pick's one band, or every band of a file.
  static func openLayers(_ request: BandStackRequest) throws -> [BandSource] {
    let paths = try SourceSet.expand(request.inputs, listFile: request.inputList)
    guard !paths.isEmpty else { throw TesseraError(.usage, "band-stack needs at least one input") }
    return try BandSource.bands(of: paths)
  }

  /// `--descriptions`, else a band name from the file name (Sentinel-2 `…_B04_10m.jp2`, `…_B8A.jp2`;
  /// Landsat `LC08_…_B5.TIF`), else the band's own description.
  static func bandNames(_ request: BandStackRequest, _ layers: [BandSource]) throws -> [String] {
    if let names = request.descriptions {
      guard names.count == layers.count else {
        throw TesseraError(.usage, "--descriptions gives \(names.count) names for \(layers.count) bands")
      }
      return names
    }
    return try layers.map { layer in
      let picksOneOfMany = layer.dataset.bandCount > 1
      if !picksOneOfMany, let name = bandName(fromFile: layer.path) { return name }
      return try layer.dataset.band(layer.band).description
    }
  }

  /// B01…B12, B8A from a Sentinel-2 or Landsat file name; nil when the name says none.
  static func bandName(fromFile path: String) -> String? {
    let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    for part in stem.split(separator: "_").reversed() {
      let upper = part.uppercased()
      if upper == "B8A" { return "B8A" }
      if upper.hasPrefix("B"), upper.count <= 3, let n = Int(upper.dropFirst()), (1...12).contains(n) { return upper }
    }
    return nil
  }

  /// GDAL's colour interpretations by name (GDALGetColorInterpretationByName).
  public static let colorInterpretationNames = ["Undefined", "Gray", "Palette", "Red", "Green", "Blue", "Alpha", "Hue", "Saturation",
                                         "Lightness", "Cyan", "Magenta", "Yellow", "Black", "YCbCr_Y", "YCbCr_Cb", "YCbCr_Cr"]

  /// `--color-interp`, else red, green, blue for three bands named B04, B03, B02.
  static func colorInterpretations(_ request: BandStackRequest, _ names: [String]) throws -> [String] {
    if let given = request.colorInterpretation {
      guard given.count <= names.count else {
        throw TesseraError(.usage, "--color-interp gives \(given.count) interpretations for \(names.count) bands")
      }
      return try given.map(BandStackRequest.colorInterpretation(named:))
    }
    return names == ["B04", "B03", "B02"] ? ["Red", "Green", "Blue"] : []
  }

  /// The one nodata a GeoTIFF stack declares, and every band whose own nodata that changes:
  /// GeoTIFF holds one value per file, so inputs with different values cannot all keep theirs.
  /// The first band's value that the type holds is declared; a band whose own value differs
  /// (or that had none, or one the type cannot hold) is listed and warned about by number.
  struct NodataPlan {
    var declared: Double?
    var notes: [JSONValue] = []
    var warnings: [String] = []

    init(own: [Double?], names: [String], type: DataType) {
      let fitting = own.map { $0.flatMap { BandStack.fits($0, type) ? $0 : nil } }
      declared = fitting.compactMap { $0 }.first
      for (i, value) in own.enumerated() where !Self.same(value, declared) {
        let label = "band \(i + 1) (\(names[i]))"
        let now = declared.map { "declares \(NodataSetting.text($0))" } ?? "declares none"
        var note: [(String, JSONValue)] = [("band", .int(i + 1)), ("nodata", value.map { .double($0) } ?? .null), ("kept", .bool(false))]
        note.append(("declared", declared.map { .double($0) } ?? .null))
        notes.append(.object(note))
        if let value, !BandStack.fits(value, type) {
          warnings.append("\(label): its nodata \(NodataSetting.text(value)) does not fit \(type.rawValue); the band now \(now)")
        } else if let value {
          warnings.append("\(label): its nodata \(NodataSetting.text(value)) differs from the stack's; GeoTIFF holds one nodata per file, so the band now \(now) (its pixels of \(NodataSetting.text(value)) read as valid)")
        } else {
          warnings.append("\(label): had no nodata; GeoTIFF holds one nodata per file, so the band now \(now)")
        }
      }
    }

    static func same(_ a: Double?, _ b: Double?) -> Bool {
      switch (a, b) {
      case (nil, nil): return true
      case (let x?, let y?): return x == y || (x.isNaN && y.isNaN)
      default: return false
      }
    }
  }

  static func fits(_ value: Double, _ type: DataType) -> Bool {
    if type.isFloatingPoint { return type == .float64 || value.isNaN || Double(Float(value)) == value }
    return value == value.rounded() && type.integerRange.contains(value)
  }

  static func pixelText(_ r: (x: Double, y: Double)) -> String {
    "pixels of \(r.x.formatted()) x \(r.y.formatted())"
  }
}
