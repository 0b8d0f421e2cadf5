import Foundation
import GDAL

/// What merge-memfile reports (its `--json` keys after the common envelope, and its `--report`
/// file), and what validate-merge reads back: one definition of the format, both ways. Keys are
/// the snake_case of these names; a key is only ever added.
public struct MergeReport: Codable, Sendable {
  /// Every report's CRS object (`CRSDescription`).
  public typealias CRS = CRSDescription

  public struct Bounds: Codable, Sendable {
    public var minx: Double, miny: Double, maxx: Double, maxy: Double
  }

  public struct GridEntry: Codable, Sendable {
    public var crs: CRS
    public var resolution: Double
    public var width: Int, height: Int
    public var geotransform: [Double]
    public var bounds: Bounds
  }

  public struct ProductBand: Codable, Sendable {
    public var name: String, file: String
    public var resolution: Int
  }

  public struct WindowEntry: Codable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int
  }

  public struct Product: Codable, Sendable {
    public var id: String, source: String
    public var level: String, tile: String
    public var sensingTime: String
    @Reported public var processingBaseline: String?
    @Reported public var spacecraft: String?
    @Reported public var relativeOrbit: Int?
    public var quantificationValue: Double
    /// The offset added to each band's DN with --reflectance, by band name (nil without).
    @Reported public var offsetApplied: JSONValue?
    public var offsetSource: String
    public var crs: CRS
    public var reprojected: Bool
    public var bands: [ProductBand]
    public var window: WindowEntry
  }

  public struct Band: Codable, Sendable {
    public var name: String
    public var validFraction: Double, validPixels: Int
    @Reported public var min: Double?
    @Reported public var max: Double?
    @Reported public var mean: Double?
    /// GDAL's checksum of the band as written.
    @Reported public var checksum: Int?
    /// `PixelHash` of the band as written.
    @Reported public var contentHash: String?
  }

  public struct CloudMask: Codable, Sendable {
    public var sclClasses: [Int]
  }

  public struct Overlap: Codable, Sendable {
    public var pixels: Int
    public var area: Double, areaUnit: String
  }

  public struct Staging: Codable, Sendable {
    public var mode: String, requested: String
    public var estimatedBytes: Int, memLimitBytes: Int
    /// Why staging moved to disk, when it did.
    @Reported public var note: String?
  }

  public var products: [Product]
  public var grid: GridEntry
  public var order: String
  public var reflectance: Bool
  @Reported public var cloudMask: CloudMask?
  public var bands: [Band]
  public var overlap: Overlap
  public var staging: Staging
  public var cog: Bool
  public var peakRssMib: Double
  /// validate-cog's result for the COG, with --cog.
  public var validation: JSONValue?

  /// The report's keys in order, for the command's JSON.
  func details() throws -> [(String, JSONValue)] {
    guard case .object(let pairs) = try JSONValue(encoding: self) else { return [] }
    return pairs
  }
}

/// The parts of a merge report validate-merge checks a file against.
struct MergeReportExpectation: Decodable {
  var grid: MergeReport.GridEntry
  var bands: [MergeReport.Band]
}

extension MergeReport.GridEntry {
  init(_ grid: Grid) throws {
    let e = grid.extent
    crs = try CRSDescription(grid.srs)
    resolution = grid.resolution.x
    width = grid.width
    height = grid.height
    geotransform = grid.geoTransform
    bounds = MergeReport.Bounds(minx: e.minX, miny: e.minY, maxx: e.maxX, maxy: e.maxY)
  }
}
