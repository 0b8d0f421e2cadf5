import Foundation
import GDAL

/// The file format a raster output is written in: the GDAL driver the output's file name asks
/// for, or the one `--format` names. Chosen before any work, so a name no driver claims is a
/// usage error and never GeoTIFF bytes under another name.
public struct RasterFormat: Sendable, Equatable {
  /// GDAL's short name of the driver (`GTiff`, `HFA`, `PNG`).
  public let driver: String
  /// The driver writes through Create; otherwise only through CreateCopy.
  public let canCreate: Bool

  public static let gtiff = RasterFormat(driver: "GTiff", canCreate: true)
  public static let vrt = RasterFormat(driver: "VRT", canCreate: true)

  /// Extensions Tessera maps itself, as GDAL's tools do: GDAL lists `.tif` for both GTiff and
  /// COG (COG is only ever a final copy: cog-export, or `--format COG`).
  static let preferred: [String: String] = ["tif": "GTiff", "tiff": "GTiff", "img": "HFA", "vrt": "VRT", "jp2": "JP2OpenJPEG"]

  /// Drivers that write no file of their own.
  static let fileless: Set<String> = ["MEM", "NUMPY"]

  /// The format of `path`, or of the driver `requested` names (which wins over the extension).
  /// - Parameter allowsVRT: whether the command writes a VRT (one that names its inputs).
  /// - Throws: exit 64 naming the extension or driver and what to do instead.
  public static func resolve(path: String, requested: String?, allowsVRT: Bool) throws -> RasterFormat {
    let format: RasterFormat
    if let requested {
      format = try named(requested)
    } else {
      format = try byExtension(of: path)
    }
    if format.driver == "VRT", !allowsVRT {
      throw TesseraError(.usage, "output \(path): this command computes pixels, which a VRT cannot hold (VRT output is for reproject and mosaic); write .tif or .img")
    }
    return format
  }

  private static func named(_ name: String) throws -> RasterFormat {
    guard let driver = try? Driver(named: name), driver.has("DCAP_RASTER"), !fileless.contains(driver.shortName.uppercased()),
      driver.has("DCAP_CREATE") || driver.has("DCAP_CREATECOPY")
    else {
      throw TesseraError(.usage, "--format \(name): GDAL has no raster driver of that name that writes files; give one as `gdalinfo --formats` lists it with 'w' (GTiff, HFA, PNG, JP2OpenJPEG, ...)")
    }
    return RasterFormat(driver: driver.shortName, canCreate: driver.has("DCAP_CREATE"))
  }

  private static func byExtension(of path: String) throws -> RasterFormat {
    let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
    guard !ext.isEmpty else {
      throw TesseraError(.usage, "output \(path) has no extension to choose its format by; name it .tif (GeoTIFF) or .img (Erdas Imagine), or pass --format DRIVER")
    }
    if let name = preferred[ext] { return try named(name) }
    let claiming = writableDrivers.filter { $0.extensions.contains(ext) }
    switch claiming.count {
    case 0:
      throw TesseraError(.usage, "output \(path): no GDAL driver writes .\(ext) files; name it .tif (GeoTIFF) or .img (Erdas Imagine), or pass --format DRIVER")
    case 1:
      return RasterFormat(driver: claiming[0].shortName, canCreate: claiming[0].has("DCAP_CREATE"))
    default:
      let names = claiming.map(\.shortName).joined(separator: ", ")
      throw TesseraError(.usage, "output \(path): .\(ext) is written by several GDAL drivers (\(names)); pass --format with one of them")
    }
  }

  private static var writableDrivers: [Driver] {
    Driver.all.filter {
      $0.has("DCAP_RASTER") && ($0.has("DCAP_CREATE") || $0.has("DCAP_CREATECOPY")) && !fileless.contains($0.shortName.uppercased())
    }
  }

  /// The extension GDAL gives the driver's files (`DMD_EXTENSION`, else its first of several).
  public var primaryExtension: String? {
    guard let driver = try? Driver(named: self.driver) else { return nil }
    return driver.metadataItem("DMD_EXTENSION").flatMap { $0.isEmpty ? nil : $0 } ?? driver.extensions.first
  }

  // MARK: - What the format holds

  /// Band counts of drivers that hold only some (GDAL's drivers refuse the others, late).
  static let bandCounts: [String: [Int]] = ["PNG": [1, 2, 3, 4], "JPEG": [1, 3, 4], "WEBP": [3, 4], "GIF": [1], "BMP": [1, 3]]

  /// Refuses (64) a result this format cannot hold: a data type the driver does not create, or a
  /// band count it does not take.
  public func requireHolds(bands: Int, type: DataType, path: String) throws {
    guard let driver = try? Driver(named: self.driver) else { return }
    if let types = driver.creationDataTypes, !types.contains(type.rawValue) {
      throw TesseraError(.usage, "output \(path): \(self.driver) cannot hold \(type.rawValue) bands (it holds \(types.joined(separator: ", "))); write .tif or .img instead")
    }
    if let counts = RasterFormat.bandCounts[self.driver.uppercased()], !counts.contains(bands) {
      let list = counts.map(String.init).joined(separator: ", ")
      throw TesseraError(.usage, "output \(path): \(self.driver) holds \(list) bands, not \(bands); write .tif or .img instead")
    }
  }

  /// Refuses (64) nodata in a lossy format: a compressed pixel near the nodata value comes back
  /// as nodata, and nodata pixels come back as data.
  public func requireHoldsNodata(_ hasNodata: Bool, options: [String], path: String) throws {
    guard hasNodata else { return }
    let lossless = options.contains { ["LOSSLESS=YES", "LOSSLESS=TRUE", "LOSSLESS=ON"].contains($0.uppercased()) }
    if driver == "JPEG" || (driver == "WEBP" && !lossless) {
      throw TesseraError(.usage, "output \(path): \(driver) is lossy and has no nodata, but the result declares nodata; write .tif, .img or .png, or pass --dst-nodata none")
    }
  }

  // MARK: - Creation options

  /// Tessera's defaults for the final file of a driver other than GTiff (GTiff's are
  /// `OutputSpec.gtiffOptions`): HFA compressed (its run-length coding is lossless) without
  /// overviews; JPEG 2000 lossless. Others take GDAL's.
  var defaultOptions: [String] {
    switch driver {
    case "HFA": return ["COMPRESSED=YES"]
    case "JP2OpenJPEG": return ["REVERSIBLE=YES", "QUALITY=100"]
    default: return []
    }
  }

  /// The defaults with the user's `--co`s over them, key by key.
  func options(with user: [String]) -> [String] {
    var options = defaultOptions.map { item -> (String, String) in
      let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
      return (parts[0], parts.count > 1 ? parts[1] : "")
    }
    for item in user {
      guard let eq = item.firstIndex(of: "=") else { continue }
      let key = item[..<eq].uppercased(), value = String(item[item.index(after: eq)...])
      if let i = options.firstIndex(where: { $0.0 == key }) { options[i].1 = value } else { options.append((key, value)) }
    }
    return options.map { "\($0.0)=\($0.1)" }
  }

  /// Refuses (64) a `--co` key the driver does not list among its creation options.
  func requireKnown(_ user: [String]) throws {
    guard let driver = try? Driver(named: self.driver) else { return }
    let known = Set(driver.creationOptionNames)
    guard !known.isEmpty || !user.isEmpty else { return }
    for item in user {
      let key = String(item.prefix { $0 != "=" }).uppercased()
      guard !known.contains(key) else { continue }
      let hint = known.isEmpty ? "it takes none" : "it takes \(known.sorted().joined(separator: ", "))"
      throw TesseraError(.usage, "--co \(item): \(self.driver) has no creation option \(key) (\(hint))")
    }
  }

  /// Whether the pixels are made in a GTiff staged beside the output and copied into this
  /// format at the end (every format but GTiff and VRT, which the commands write themselves).
  public var isStaged: Bool { self != .gtiff && self != .vrt }
}
