import Foundation
import GDAL

/// Cloud Optimized GeoTIFF, produced one way only: a final CreateCopy through GDAL's COG driver
/// from a finished dataset. Nothing is written through the COG driver and read back before it
/// is closed, and no COG is opened for update.
/// How a COG is laid out and compressed: cog-export's options, and merge-memfile's with --cog.
public struct COGSettings: Sendable {
  public enum Profile: String, CaseIterable, Sendable {
    case deflate, zstd, lzw, lzma, webp, jpeg, lerc
    case lercDeflate = "lerc_deflate", lercZstd = "lerc_zstd", raw

    /// The COG driver's COMPRESS value.
    var compress: String { self == .raw ? "NONE" : rawValue.uppercased() }
    /// Compressors a predictor helps.
    var takesPredictor: Bool { [.deflate, .zstd, .lzw, .lzma].contains(self) }
    var isLossy: Bool { [.webp, .jpeg].contains(self) }
  }

  public enum Predictor: String, CaseIterable, Sendable { case auto, none, horizontal = "2", floatingPoint = "3" }
  public enum Overviews: Equatable, Sendable { case auto, none, count(Int) }
  public enum BigTIFF: String, CaseIterable, Sendable { case auto, yes, no }

  public var profile: Profile = .deflate
  public var level: Int?
  public var quality: Int?
  public var predictor: Predictor = .auto
  public var blockSize = 512
  public var overviews: Overviews = .auto
  /// nil: nearest for categorical data (a colour table, or `categorical`), average otherwise.
  public var overviewResampling: Resampling?
  public var categorical = false
  public var webOptimized = false
  /// With `webOptimized`, how the data is resampled onto the web mercator grid; nil: the
  /// overview resampling (GDAL's COG driver alone would use nearest).
  public var warpResampling: Resampling?
  public var addMask = false
  public var nodata: NodataSetting = .inherit
  public var bigTIFF: BigTIFF = .auto
  public var validate = true

  public init() {}

  /// The rules of the settings alone, whoever gives them (cog-export, merge-memfile --cog).
  public func check() throws {
    try Self.requireBlockSize(blockSize)
    if let quality, !(1...100).contains(quality) { throw TesseraError(.usage, "--quality takes 1 to 100") }
    if let level { try requireLevel(level) }
  }

  /// Tiles of 256, 512 or 1024 pixels.
  public static func requireBlockSize(_ size: Int) throws {
    guard [256, 512, 1024].contains(size) else { throw TesseraError(.usage, "--blocksize takes 256, 512 or 1024") }
  }

  /// GDAL's own ranges: DEFLATE 1-12 (libdeflate), ZSTD 1-22, LZMA 0-9; LERC's is a max error.
  func requireLevel(_ level: Int) throws {
    let range: ClosedRange<Int>
    switch profile {
    case .deflate, .lercDeflate: range = 1...12
    case .zstd, .lercZstd: range = 1...22
    case .lzma: range = 0...9
    default: throw TesseraError(.usage, "--level applies to deflate, zstd, lzma, lerc_deflate and lerc_zstd, not \(profile.rawValue)")
    }
    guard range.contains(level) else {
      throw TesseraError(.usage, "--level takes \(range.lowerBound) to \(range.upperBound) with \(profile.rawValue)")
    }
  }
}

/// cog-export: one finished raster copied to a COG.
public struct COGExportRequest {
  public var input: String
  public var output: OutputSpec
  public var cog: COGSettings
  public var resources: Resources

  public init(input: String, output: OutputSpec, cog: COGSettings = COGSettings(), resources: Resources = Resources()) {
    self.input = input
    self.output = output
    self.cog = cog
    self.resources = resources
  }

  /// The rules between the request's fields; `COGExport.run` checks them before opening anything.
  public func validate() throws { try cog.check() }
}

public enum COGExport {
  public static func run(_ request: COGExportRequest, progress: ProgressHandler? = nil) throws -> OperationReport {
    try request.validate()
    let source = try Dataset.open(request.input)
    let writer = try RasterWrite(request.output, writtenAs: "COG", inputs: [request.input] + InputFiles.of([source]),
                                 inputLabel: request.input, resources: request.resources)
    let validation = try writer.write {
      try copy(source, named: request.input, settings: request.cog, spec: request.output, into: writer.target,
               resources: request.resources, progress: progress)
    }
    var details: [(String, JSONValue)] = [("input", .string(request.input)), ("profile", .string(request.cog.profile.rawValue))]
    if let validation { details.append(("validation", validation.json(strict: false))) }
    return writer.report(details)
  }

  /// Copies a finished dataset (a file, or a MEM dataset fully written) through GDAL's COG
  /// driver into `target`'s temporary file and validates the result; the caller commits.
  /// - Parameter name: how messages name the source ("the merged raster" for merge-memfile's).
  static func copy(
    _ source: Dataset, named name: String, settings: COGSettings, spec: OutputSpec, into target: OutputTarget,
    resources: Resources, progress: ProgressHandler?
  ) throws -> COGValidation? {
    guard source.bandCount > 0 else {
      throw TesseraError(.dataError, "\(name) has no raster band; name one of its subdatasets")
    }
    let first = try source.band(1)
    // A COG tile interleaves every band (GDAL 3.6's COG driver has no band interleaving), and
    // the driver holds whole tiles in memory: past half a GiB a tile, the copy would exhaust
    // memory long before it finished.
    let type = spec.outputType ?? first.dataType
    try spec.requireNodata(src: .inherit, dst: settings.nodata, inputBands: source.bandCount, outputBands: source.bandCount,
                           type: type)
    let blockSize = mergedByKey(["BLOCKSIZE=\(settings.blockSize)"], spec.creationOptions)
      .first { $0.uppercased().hasPrefix("BLOCKSIZE=") }.flatMap { Int($0.dropFirst("BLOCKSIZE=".count)) } ?? settings.blockSize
    let tileBytes = Double(blockSize * blockSize) * Double(source.bandCount * type.byteSize)
    if tileBytes > maximumTileBytes {
      throw TesseraError(
        .dataError,
        "\(name) has \(source.bandCount) bands of \(type.rawValue): a \(blockSize) x \(blockSize) COG tile of them would take \(OutputSize.human(tileBytes)) of memory; use a smaller --blocksize or fewer bands")
    }
    // Overviews add up to a third; a mask, a byte a pixel.
    let pixels = Double(source.width) * Double(source.height)
    let estimate = pixels * Double(source.bandCount * type.byteSize + (settings.addMask ? 1 : 0)) * 4 / 3
    try OutputSize.requireSpace(bytes: estimate, compressed: settings.profile != .raw, for: spec.path, force: spec.forceSize)
    resources.limitCache(for: .rereadSource(bytes: pixels * Double(source.bandCount * type.byteSize)))
    let staged = MemoryFile(name: "cog-source.vrt"), converted = MemoryFile(name: "cog-converted.vrt")
    defer { staged.remove(); converted.remove() }
    // Nodata and mask changes go into a VRT over the source, written and closed before the copy reads it.
    var feed = source
    if !settings.nodata.isInherit || settings.addMask {
      var args = ["-of", "VRT"]
      // One value for all bands (a list of differing values was refused: a COG holds one).
      if let nodata = settings.nodata.forBand(0).gdalArgument { args += ["-a_nodata", nodata] }
      if settings.addMask { args += ["-mask", "mask,1"] }
      try GDALUtilities.translate(source, to: staged.path, arguments: args).close()
      feed = try Dataset.open(staged.path)
    }
    if let conversion = spec.conversion {
      // --ot as gdal_translate -ot converts, counted in the values before.
      try conversion.count(in: feed)
      try GDALUtilities.translate(feed, to: converted.path, arguments: ["-of", "VRT", "-ot", conversion.type.rawValue]).close()
      feed = try Dataset.open(converted.path)
    }
    let categorical = settings.categorical || first.hasColorTable
    let options = try creationOptions(settings, spec: spec, threads: resources.threads, source: feed, name: name,
                                      categorical: categorical)
    // How Tessera feeds the driver: overview resampling on every thread (GDAL_NUM_THREADS, set
    // from --threads), and the driver's temporary overview file, which it compresses with ZSTD
    // at level 9 and reads back once, compressed at level 1 instead. That file is lossless and
    // never part of the output, which stays byte for byte what the driver writes anyway. The
    // level is left alone when the output itself is ZSTD, where it could reach its overviews.
    let fastTemporary = ![.zstd, .lercZstd].contains(settings.profile)
    try GDALEnvironment.withConfig(fastTemporary ? ["ZSTD_LEVEL_OVERVIEW": "1"] : [:]) {
      let cog = try Dataset.createCopy(of: feed, driver: "COG", path: target.gdalPath, options: options, progress: progress)
      try cog.close()
    }
    guard settings.validate else { return nil }
    let result = try COGValidator.validate(path: target.temporaryPath)
    guard result.isValid(strict: false) else {
      throw TesseraError(.internalError, "GDAL's COG driver wrote an invalid COG: \(result.errors.joined(separator: "; "))")
    }
    return result
  }

  /// The COG driver's options for the request, the user's --co last so they win.
  static func creationOptions(
    _ request: COGSettings, spec: OutputSpec, threads: Int, source: Dataset, name: String, categorical: Bool
  ) throws -> [String] {
    let type = try source.band(1).dataType
    var options = ["COMPRESS=\(request.profile.compress)", "BLOCKSIZE=\(request.blockSize)", "NUM_THREADS=\(threads)"]
    if let level = request.level { options.append("LEVEL=\(level)") }
    if let quality = request.quality { options.append("QUALITY=\(quality)") }
    switch request.predictor {
    case .auto: if request.profile.takesPredictor { options.append("PREDICTOR=YES") }  // 2 for integers, 3 for floats
    case .none: options.append("PREDICTOR=NO")
    case .horizontal: options.append("PREDICTOR=STANDARD")
    case .floatingPoint:
      guard type.isFloatingPoint else { throw TesseraError(.usage, "--predictor 3 is for floating-point data; \(name) is \(type.rawValue)") }
      options.append("PREDICTOR=FLOATING_POINT")
    }
    switch request.overviews {
    case .auto: options.append("OVERVIEWS=AUTO")
    case .none: options.append("OVERVIEWS=NONE")
    case .count(let n):
      guard n >= 0 else { throw TesseraError(.usage, "--overviews takes auto, none or a count") }
      options += n == 0 ? ["OVERVIEWS=NONE"] : ["OVERVIEWS=AUTO", "OVERVIEW_COUNT=\(n)"]
    }
    let resampling = request.overviewResampling ?? (categorical ? .nearest : .average)
    options.append("OVERVIEW_RESAMPLING=\(resampling.gdalName.uppercased())")
    if request.webOptimized {
      let warp = request.warpResampling ?? resampling
      options += ["TILING_SCHEME=GoogleMapsCompatible", "WARP_RESAMPLING=\(warp.gdalName.uppercased())"]
    } else if request.warpResampling != nil {
      throw TesseraError(.usage, "--warp-resampling applies with --web-optimized")
    }
    options.append("BIGTIFF=\(bigTIFF(request, source: source, type: type) ? "YES" : "NO")")
    if request.profile.isLossy {
      // What GDAL 3.6's JPEG and WebP codecs in GeoTIFF accept, checked before any work so the
      // answer is a reason, not a codec's failure half way through.
      guard type == .byte else {
        throw TesseraError(.usage, "the \(request.profile.rawValue) profile takes Byte data; \(name) is \(type.rawValue)")
      }
      if try source.band(1).hasColorTable {
        throw TesseraError(.usage, "the \(request.profile.rawValue) profile cannot compress a paletted raster (\(name) has a colour table); use a lossless profile, or expand the palette first (gdal_translate -expand rgb)")
      }
      let counts = request.profile == .jpeg ? [1, 3, 4] : [3, 4]
      guard counts.contains(source.bandCount) else {
        throw TesseraError(.usage, "the \(request.profile.rawValue) profile takes \(counts.map(String.init).joined(separator: ", ")) bands; \(name) has \(source.bandCount)")
      }
    }
    return mergedByKey(options, spec.creationOptions)
  }

  /// BIGTIFF=IF_NEEDED cannot judge compressed output, so the choice is made here from the
  /// uncompressed size with overviews (a third more) and a mask: over 4 GB, or close, is BigTIFF.
  static func bigTIFF(_ request: COGSettings, source: Dataset, type: DataType) -> Bool {
    switch request.bigTIFF {
    case .yes: return true
    case .no: return false
    case .auto:
      let pixels = Double(source.width) * Double(source.height)
      let bytes = pixels * Double(source.bandCount * type.byteSize + (request.addMask ? 1 : 0)) * 4 / 3
      return bytes > 3.8e9
    }
  }

  /// The most memory one COG tile of every band may take.
  static let maximumTileBytes = 512.0 * 1024 * 1024

  static func mergedByKey(_ base: [String], _ overrides: [String]) -> [String] {
    var result = base
    for item in overrides {
      let key = item.split(separator: "=", maxSplits: 1).first.map { $0.uppercased() } ?? item
      result.removeAll { $0.split(separator: "=", maxSplits: 1).first.map { $0.uppercased() } == key }
      result.append(item)
    }
    return result
  }
}
