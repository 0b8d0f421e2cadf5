import Foundation
import GDAL

/// How a processing command makes its pixels: into a GeoTIFF (the output itself, or a stage
/// copied into the output's format at the end), or as a VRT naming the inputs.
public enum OutputFormat: String, CaseIterable, Sendable {
  case gtiff = "GTiff"
  case vrt = "VRT"
}

/// One output as the user described it: where, in which format, with which creation options,
/// and whether an existing file may be replaced. Made once from the CLI's output options; the
/// only way an operation gets an `OutputTarget` is `target(inputs:inputLabel:)`.
public struct OutputSpec: Sendable {
  public var path: String
  /// The driver `--format` names; nil: the one the extension asks for (`RasterFormat`).
  public var formatName: String?
  /// Whether the command writes a VRT when asked (reproject, mosaic).
  public var allowsVRT: Bool
  /// The command writes this file in a format of its own (a report, a preview, an animation):
  /// no raster format is chosen for it (see `ownFile`).
  public var writesItself = false
  /// A driver the command writes through itself (cog-export's COG): no choice by extension and
  /// no stage, only the creation options checked against it.
  public var ownDriver: String?
  /// The user's `--co KEY=VALUE`s; they win over Tessera's defaults key by key.
  public var creationOptions: [String]
  public var overwrite: Bool
  /// Write even when the output's estimated size does not fit the free space (`--force-size`).
  public var forceSize: Bool
  /// `--ot`: the type the output is converted to, and the count of what it clamped; nil: the
  /// command's own type.
  public var conversion: TypeConversion?

  /// The type the user chose for the output (`--ot`).
  public var outputType: DataType? { conversion?.type }

  public init(path: String, formatName: String? = nil, allowsVRT: Bool = false, creationOptions: [String] = [],
              overwrite: Bool = false, forceSize: Bool = false, outputType: DataType? = nil) {
    self.path = path
    self.conversion = outputType.map(TypeConversion.init)
    self.formatName = formatName
    self.allowsVRT = allowsVRT
    self.creationOptions = creationOptions
    self.overwrite = overwrite
    self.forceSize = forceSize
  }

  /// A file the command writes in a format of its own: a JSON report, a manifest's journal, a
  /// quicklook or timelapse image (those check their own extensions).
  public static func ownFile(path: String, overwrite: Bool) -> OutputSpec {
    var spec = OutputSpec(path: path, overwrite: overwrite)
    spec.writesItself = true
    return spec
  }

  /// This output written through `driver` by the command itself (COG).
  func writtenAs(_ driver: String) -> OutputSpec {
    var spec = self
    spec.ownDriver = driver
    return spec
  }

  /// This output as a file the command writes in its own format (`ownFile`).
  var asOwnFile: OutputSpec {
    var spec = self
    spec.writesItself = true
    return spec
  }

  /// The output's file format, from `--format` or the extension (see `RasterFormat.resolve`).
  public func rasterFormat() throws -> RasterFormat {
    if let ownDriver {
      let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
      if ownDriver == "COG", !["tif", "tiff"].contains(ext) {
        throw TesseraError(.usage, "output \(path): a COG is a GeoTIFF; name it .tif or .tiff")
      }
      return RasterFormat(driver: ownDriver, canCreate: false)
    }
    return try RasterFormat.resolve(path: path, requested: formatName, allowsVRT: allowsVRT)
  }

  /// How the command makes its pixels. A format that cannot be resolved reads as GTiff here;
  /// `target` refuses it before any work.
  public var format: OutputFormat {
    (try? rasterFormat()) == .vrt ? .vrt : .gtiff
  }

  /// Checks the output's format and creation options and the output against every file the
  /// run reads, and reserves its temporary file (a stage beside it for a copied format).
  /// - Parameter inputLabel: how messages name the input whose data failed to read.
  public func target(inputs: [String], inputLabel: String? = nil) throws -> OutputTarget {
    // The path's own faults (an input, a protected file, an existing output) are said first.
    let target = try OutputTarget(path: path, inputs: inputs, overwrite: overwrite, inputLabel: inputLabel)
    if writesItself { return target }
    do {
      let format = try checkedFormat()
      if format.isStaged, ownDriver == nil { target.copyAtEnd(driver: format.driver, options: format.options(with: creationOptions)) }
    } catch {
      target.abort()
      throw error
    }
    return target
  }

  /// The format, with the creation options checked against its driver (64 on a bad one).
  func checkedFormat() throws -> RasterFormat {
    let format = try rasterFormat()
    if format == .gtiff || format.driver == "COG" { try CreationOptionCheck.validate(creationOptions) }
    if format != .vrt { try format.requireKnown(creationOptions) }
    return format
  }

  /// Refuses (64) a result the output's format cannot hold: a type its driver does not create,
  /// a band count it does not take. A format that cannot be chosen at all is `target`'s to
  /// refuse, after the path's own checks.
  func requireHolds(bands: Int, type: DataType) throws {
    guard let format = try? checkedFormat() else { return }
    try format.requireHolds(bands: bands, type: type, path: path)
  }

  /// Refuses (64) nodata in a lossy format, before the work when the command knows it will
  /// declare nodata (the final copy checks again).
  func requireHoldsNodata(_ hasNodata: Bool) throws {
    guard let format = try? checkedFormat() else { return }
    try format.requireHoldsNodata(hasNodata, options: format.options(with: creationOptions), path: path)
  }

  /// Checks `--src-nodata` and `--dst-nodata` before any work (64): a list's count against the
  /// bands it applies to, the values against the output's type and format. Without
  /// `--dst-nodata` the source nodata is declared on the output, so it must fit as well.
  public func requireNodata(src: NodataSetting, dst: NodataSetting, inputBands: Int, outputBands: Int, type: DataType) throws {
    try src.requireBandCount(inputBands, option: "--src-nodata", what: "the input")
    try dst.requireBandCount(outputBands, option: "--dst-nodata", what: "the output")
    try dst.requireFits(type, option: "--dst-nodata")
    try requireHolds(dst, option: "--dst-nodata")
    if case .inherit = dst {
      try src.requireFits(type, option: "--src-nodata")
      try requireHolds(src, option: "--src-nodata")
    }
  }

  /// Refuses (64) a per-band nodata list of differing values for an output written through a
  /// GeoTIFF (every format but VRT: GeoTIFF itself, COG, and the stage other formats are copied
  /// from), which holds one nodata value for all its bands: GDAL would declare the last band's
  /// value on every band, leaving the others' nodata pixels valid.
  public func requireHolds(_ nodata: NodataSetting, option: String) throws {
    guard nodata.differsByBand, ownDriver != nil || (try? rasterFormat()) != .vrt else { return }
    throw TesseraError(.usage, "\(option) \(nodata): a GeoTIFF holds one nodata value for all its bands (GDAL would declare the last band's on every band); give one value, or write a VRT")
  }

  /// Refuses (73, unless `forceSize`) an output whose estimated size does not fit the free
  /// space of its file system; first (64) a result its format cannot hold (`requireHolds`).
  func requireSpace(width: Int, height: Int, bands: Int, type: DataType) throws {
    try requireHolds(bands: bands, type: type)
    guard format == .gtiff else { return }
    try OutputSize.requireSpace(bytes: OutputSize.bytes(width: width, height: height, bands: bands, type: type),
                                compressed: compresses(type), for: path, force: forceSize)
  }

  /// Whether the creation options in force compress (for the free-space guard).
  func compresses(_ type: DataType) -> Bool {
    let compress = gtiffOptions(for: type, threads: 1).first { $0.uppercased().hasPrefix("COMPRESS=") }
    return compress.map { !$0.uppercased().hasSuffix("=NONE") } ?? false
  }

  /// Tessera's GTiff defaults: tiled 512 x 512 (no larger than the image needs), DEFLATE with
  /// the predictor that suits the type, BigTIFF when it might be needed, compression on
  /// `threads`, and one block per band where a block of every band would pass 64 MiB (a pixel-
  /// interleaved block holds all bands at once, which hundreds of bands make huge). VRT takes none.
  /// A stage for another format takes the layout and a fast compression, not the user's `--co`s
  /// (they go to the final copy).
  public func gtiffOptions(for type: DataType, threads: Int, width: Int? = nil, height: Int? = nil, bands: Int = 1) -> [String] {
    guard format == .gtiff else { return creationOptions }
    if ownDriver == nil, let raster = try? rasterFormat(), raster.isStaged {
      var stage = self
      stage.formatName = "GTiff"
      stage.creationOptions = ["COMPRESS=ZSTD", "ZSTD_LEVEL=1", "PREDICTOR=1"]
      return stage.gtiffOptions(for: type, threads: threads, width: width, height: height, bands: bands)
    }
    let predictor = type.isFloatingPoint ? "3" : (type.isComplex ? "1" : "2")
    func blockSide(_ size: Int?) -> Int { size.map { Swift.min(512, Swift.max(16, ($0 + 15) / 16 * 16)) } ?? 512 }
    let blockX = blockSide(width), blockY = blockSide(height)
    var options: [(String, String)] = [
      ("TILED", "YES"), ("BLOCKXSIZE", String(blockX)), ("BLOCKYSIZE", String(blockY)), ("COMPRESS", "DEFLATE"),
      ("PREDICTOR", predictor), ("BIGTIFF", "IF_SAFER"), ("NUM_THREADS", String(threads)),
    ]
    if blockX * blockY * bands * type.byteSize > 64 << 20 { options.append(("INTERLEAVE", "BAND")) }
    for item in creationOptions {
      guard let eq = item.firstIndex(of: "=") else { continue }
      let key = item[..<eq].uppercased(), value = String(item[item.index(after: eq)...])
      if let i = options.firstIndex(where: { $0.0 == key }) { options[i].1 = value } else { options.append((key, value)) }
    }
    // A predictor only means something with a compressor that uses it.
    let compress = options.first(where: { $0.0 == "COMPRESS" })?.1.uppercased() ?? "NONE"
    if !["DEFLATE", "LZW", "ZSTD", "LERC_DEFLATE", "LERC_ZSTD"].contains(compress),
      !creationOptions.contains(where: { $0.uppercased().hasPrefix("PREDICTOR=") })
    {
      options.removeAll { $0.0 == "PREDICTOR" }
    }
    return options.map { "\($0.0)=\($0.1)" }
  }
}

/// Checks the creation options Tessera itself reads or that decide how much memory a write
/// takes; the rest go to GDAL as given (GDAL warns about options a driver does not know).
public enum CreationOptionCheck {
  /// - Throws: exit 64 naming the option and what it takes.
  public static func validate(_ options: [String]) throws {
    for item in options {
      guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
        throw TesseraError(.usage, "--co takes KEY=VALUE, got '\(item)'")
      }
      let key = item[..<eq].uppercased(), value = String(item[item.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
      let upper = value.uppercased()
      func integer(_ range: ClosedRange<Int>, _ what: String) throws {
        guard let n = Int(value), range.contains(n) else { throw TesseraError(.usage, "--co \(key)=\(value): \(key) takes \(what)") }
      }
      func oneOf(_ choices: [String]) throws {
        guard choices.contains(upper) else {
          throw TesseraError(.usage, "--co \(key)=\(value): \(key) takes \(choices.joined(separator: ", "))")
        }
      }
      switch key {
      case "BLOCKXSIZE", "BLOCKYSIZE":
        // Tiles are multiples of 16 (the TIFF rule); past 4096 a block alone costs hundreds of MB.
        try integer(16...4096, "a multiple of 16 from 16 to 4096")
        if let n = Int(value), n % 16 != 0 { throw TesseraError(.usage, "--co \(key)=\(value): \(key) takes a multiple of 16 from 16 to 4096") }
      case "BLOCKSIZE":
        try integer(16...4096, "a multiple of 16 from 16 to 4096")
        if let n = Int(value), n % 16 != 0 { throw TesseraError(.usage, "--co \(key)=\(value): \(key) takes a multiple of 16 from 16 to 4096") }
      case "TILED", "SPARSE_OK", "COPY_SRC_OVERVIEWS": try oneOf(["YES", "NO", "TRUE", "FALSE", "ON", "OFF", "1", "0"])
      case "COMPRESS":
        try oneOf(["NONE", "DEFLATE", "LZW", "ZSTD", "LZMA", "PACKBITS", "JPEG", "WEBP", "LERC", "LERC_DEFLATE", "LERC_ZSTD", "JXL"])
      case "PREDICTOR": try oneOf(["1", "2", "3", "YES", "NO", "STANDARD", "FLOATING_POINT"])
      case "BIGTIFF": try oneOf(["YES", "NO", "IF_NEEDED", "IF_SAFER"])
      case "INTERLEAVE": try oneOf(["PIXEL", "BAND"])
      case "NUM_THREADS":
        if upper != "ALL_CPUS" { try integer(1...1024, "a number of threads from 1 to 1024, or ALL_CPUS") }
      case "ZLEVEL": try integer(1...12, "1 to 12")
      case "ZSTD_LEVEL": try integer(1...22, "1 to 22")
      case "JPEG_QUALITY", "WEBP_LEVEL", "QUALITY": try integer(1...100, "1 to 100")
      case "OVERVIEW_COUNT": try integer(0...30, "0 to 30")
      case "NBITS": try integer(1...64, "1 to 64")
      default: break
      }
    }
  }
}
