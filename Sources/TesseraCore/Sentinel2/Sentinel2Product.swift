import Foundation
import GDAL

/// A Sentinel-2 band by its product name.
public enum Sentinel2Band: String, CaseIterable, Sendable {
  case b01 = "B01", b02 = "B02", b03 = "B03", b04 = "B04", b05 = "B05", b06 = "B06", b07 = "B07"
  case b08 = "B08", b8a = "B8A", b09 = "B09", b10 = "B10", b11 = "B11", b12 = "B12"
  case scl = "SCL", aot = "AOT", wvp = "WVP", tci = "TCI"

  /// Accepts `B4`, `b04`, `B8A`, `scl`.
  public init?(name: String) {
    var key = name.uppercased().trimmingCharacters(in: .whitespaces)
    if key.count == 2, key.hasPrefix("B"), let digit = key.last, digit.isNumber { key = "B0\(digit)" }
    guard let band = Sentinel2Band(rawValue: key) else { return nil }
    self = band
  }

  /// The finest resolution ESA distributes the band at, in metres.
  public var nativeResolution: Int {
    switch self {
    case .b02, .b03, .b04, .b08, .aot, .wvp, .tci: return 10
    case .b05, .b06, .b07, .b8a, .b11, .b12, .scl: return 20
    case .b01, .b09, .b10: return 60
    }
  }

  /// The `band_id` the metadata's offset lists use (0 = B01 ... 12 = B12, B8A is 8).
  var metadataID: Int? {
    switch self {
    case .b01: return 0
    case .b02: return 1
    case .b03: return 2
    case .b04: return 3
    case .b05: return 4
    case .b06: return 5
    case .b07: return 6
    case .b08: return 7
    case .b8a: return 8
    case .b09: return 9
    case .b10: return 10
    case .b11: return 11
    case .b12: return 12
    default: return nil
    }
  }

  /// Surface or top-of-atmosphere reflectance, scaled by the quantification value.
  public var isReflectance: Bool { metadataID != nil }
  /// Class numbers: resampled with nearest, never averaged.
  public var isCategorical: Bool { self == .scl }
  /// TCI is three bands (red, green, blue); every other band is one.
  public var componentCount: Int { self == .tci ? 3 : 1 }
  /// Only in L2A products.
  public var isL2AOnly: Bool { [.scl, .aot, .wvp].contains(self) }

  /// Output band names: `TCI` becomes `TCI_R`, `TCI_G`, `TCI_B`.
  public var componentNames: [String] { self == .tci ? ["TCI_R", "TCI_G", "TCI_B"] : [rawValue] }
}

/// One band file of a product, as the metadata (or the folder) names it.
public struct Sentinel2BandFile: Sendable {
  public var band: Sentinel2Band
  /// The resolution class in the file's name (`_10m`), or the band's native one (L1C).
  public var resolution: Int
  /// A path GDAL opens (local, or inside /vsizip/).
  public var path: String
  public var exists: Bool
}

/// One tile of one Sentinel-2 product: what merge-memfile reads.
public struct Sentinel2Product: Sendable {
  public enum Level: String, Sendable { case l1c = "L1C", l2a = "L2A" }

  /// What the user named (a .SAFE, a .zip, an MTD file or a folder of band files).
  public var source: String
  /// The product's name (PRODUCT_URI without `.SAFE`), or the band files' common stem.
  public var id: String
  public var level: Level
  /// MGRS tile, like `29UNU`.
  public var tile: String
  /// PRODUCT_START_TIME, or the time in the band files' names.
  public var sensingTime: String
  /// `04.00`; nil when no metadata says.
  public var processingBaseline: String?
  public var spacecraft: String?
  public var relativeOrbit: Int?
  /// BOA_QUANTIFICATION_VALUE (L2A) or QUANTIFICATION_VALUE (L1C).
  public var quantification: Double
  public var aotQuantification: Double
  public var wvpQuantification: Double
  /// BOA_ADD_OFFSET or RADIO_ADD_OFFSET by band.
  public var offsets: [Sentinel2Band: Double]
  /// Where the offsets came from: "metadata", "none before baseline 04.00", or a guess from the date.
  public var offsetSource: String
  public var files: [Sentinel2BandFile]
  /// The metadata file read, if any.
  public var metadataPath: String?
  /// What the report should say about this product's metadata (a default used for a field
  /// the metadata lacks).
  public var warnings: [String] = []

  // MARK: - Choosing files

  /// The file for `band` at `resolution`: the listed file of that resolution, else the closest
  /// finer one (downsampling loses nothing), else the finest coarser one when the band exists
  /// only coarser. A listed file that is absent is an error, never a silent fallback to a
  /// coarser file: upsampling a 60 m band to 10 m would pass for real 10 m data.
  public func file(for band: Sentinel2Band, resolution: Double) throws -> Sentinel2BandFile {
    let candidates = files.filter { $0.band == band }
    guard !candidates.isEmpty else {
      if band.isL2AOnly && level == .l1c {
        throw TesseraError(.dataError, "\(source): \(band.rawValue) exists only in L2A products; \(id) is L1C")
      }
      throw TesseraError(.dataError, "\(source): the product lists no \(band.rawValue) band file")
    }
    let finerOrEqual = candidates.filter { Double($0.resolution) <= resolution + 1e-9 }.sorted { $0.resolution > $1.resolution }
    if !finerOrEqual.isEmpty {
      if let present = finerOrEqual.first(where: \.exists) {
        return present
      }
      throw missing(finerOrEqual[0])
    }
    guard let finest = candidates.min(by: { $0.resolution < $1.resolution }) else {
      throw TesseraError(.dataError, "\(source): the metadata lists no file for \(band.rawValue)")
    }
    guard finest.exists else { throw missing(finest) }
    return finest
  }

  private func missing(_ file: Sentinel2BandFile) -> TesseraError {
    TesseraError(.dataError, "\(source): band file \(file.path) is listed in the product's metadata but missing")
  }

  /// The offset added to DN before dividing by the quantification value.
  public func offset(for band: Sentinel2Band) -> Double { offsets[band] ?? 0 }

  /// The divisor that turns `band`'s DN into its physical value.
  public func quantification(for band: Sentinel2Band) -> Double? {
    switch band {
    case .aot: return aotQuantification
    case .wvp: return wvpQuantification
    case .scl, .tci: return nil
    default: return quantification
    }
  }
}
