import Foundation
import GDAL

/// What `tessera info` reports about one raster: the JSON shape documented in the README.
public struct RasterInfo {
  public typealias CRS = CRSDescription

  public struct Band {
    public var index: Int
    public var type: DataType
    public var nodata: Double?
    public var description: String
    public var block: (width: Int, height: Int)
    public var offset: Double
    public var scale: Double
    public var colorInterpretation: String
    public var overviewCount: Int
    public var statistics: BandStatistics?
  }

  public var path: String
  public var driver: String
  public var width: Int
  public var height: Int
  public var crs: CRS?
  public var geoTransform: [Double]?
  public var bounds: Extent?
  public var boundsWGS84: Extent?
  public var bands: [Band]
  public var compression: String?
  public var interleave: String?
  public var overviewCount: Int
  public var isCOG: Bool
  public var subdatasets: [(name: String, description: String)]

  /// Opens `path` read-only and describes it. Nothing is written anywhere.
  /// - Throws: when the file cannot be opened, or GDAL reported a failure while it was read
  ///   (a damaged overview directory, a block it could not read): a damaged file is never
  ///   described as a sound one.
  public static func read(path: String, statistics: Bool = false, progress: ProgressHandler? = nil) throws -> RasterInfo {
    let mark = GDALFailures.shared.mark
    let dataset = try Dataset.open(path)
    defer { try? dataset.close() }
    let info = try RasterInfo(dataset: dataset, statistics: statistics, progress: progress)
    try GDALFailures.shared.check(since: mark, context: "reading \(path)", dataset: path)
    return info
  }

  public init(dataset: Dataset, statistics: Bool = false, progress: ProgressHandler? = nil) throws {
    path = dataset.path
    driver = dataset.driverName
    width = dataset.width
    height = dataset.height
    let srs = dataset.spatialReference
    crs = try srs.map { try CRSDescription($0) }
    geoTransform = dataset.geoTransform
    bounds = geoTransform.map { RasterInfo.bounds(geoTransform: $0, width: dataset.width, height: dataset.height) }
    if let srs, let bounds {
      boundsWGS84 = try? RasterInfo.wgs84Bounds(bounds, from: srs)
    }
    compression = dataset.metadataItem("COMPRESSION", domain: "IMAGE_STRUCTURE")
    interleave = dataset.metadataItem("INTERLEAVE", domain: "IMAGE_STRUCTURE")
    // The layout itself decides (validate-cog's rules), not GDAL's LAYOUT=COG marker, which
    // COGs written by other tools lack.
    isCOG = dataset.driverName == "GTiff" && FileManager.default.fileExists(atPath: dataset.path)
      && ((try? COGValidator.validate(path: dataset.path).isValid(strict: false)) ?? false)
    subdatasets = dataset.subdatasets

    var bands: [Band] = []
    let count = dataset.bandCount
    // Each band's statistics are an equal share of the progress.
    let steps = Progress.steps(Array(repeating: 1, count: count), statistics ? progress : nil)
    for i in stride(from: 1, through: count, by: 1) {
      let band = try dataset.band(i)
      let stats = statistics ? try BandStatisticsScan.compute(band, progress: steps[i - 1]) : nil
      bands.append(Band(
        index: i, type: band.dataType, nodata: band.noDataValue, description: band.description,
        block: band.blockSize, offset: band.offset ?? 0, scale: band.scale ?? 1,
        colorInterpretation: band.colorInterpretation, overviewCount: band.overviewCount, statistics: stats))
    }
    self.bands = bands
    overviewCount = bands.first?.overviewCount ?? 0
  }

  /// The extent of the four corners, which also covers rotated geotransforms.
  public static func bounds(geoTransform gt: [Double], width: Int, height: Int) -> Extent {
    let corners = [(0.0, 0.0), (Double(width), 0.0), (0.0, Double(height)), (Double(width), Double(height))].map {
      (gt[0] + $0.0 * gt[1] + $0.1 * gt[2], gt[3] + $0.0 * gt[4] + $0.1 * gt[5])
    }
    return Extent(
      minX: corners.map(\.0).min() ?? 0, minY: corners.map(\.1).min() ?? 0,
      maxX: corners.map(\.0).max() ?? 0, maxY: corners.map(\.1).max() ?? 0)
  }

  /// Bounds in WGS 84 longitude/latitude, densified along the edges. At the antimeridian
  /// minx > maxx, as in GeoJSON.
  public static func wgs84Bounds(_ extent: Extent, from srs: SpatialReference) throws -> Extent {
    let wgs84 = try SpatialReference(epsg: 4326)
    let transform = try CoordinateTransformation(from: srs, to: wgs84)
    return try transform.transformBounds(extent)
  }

  // MARK: - Output

  static func extentJSON(_ e: Extent?) -> JSONValue {
    guard let e else { return .null }
    return .object([("minx", .double(e.minX)), ("miny", .double(e.minY)), ("maxx", .double(e.maxX)), ("maxy", .double(e.maxY))])
  }

  public var json: JSONValue {
    let bandsJSON: JSONValue = .array(bands.map { b in
      let stats: JSONValue = b.statistics.map {
        .object([("min", .double($0.min)), ("max", .double($0.max)), ("mean", .double($0.mean)), ("stddev", .double($0.stddev))])
      } ?? .null
      return .object([
        ("index", .int(b.index)), ("type", .string(b.type.rawValue)), ("nodata", .double(b.nodata)),
        ("description", .string(b.description)), ("block", .array([.int(b.block.width), .int(b.block.height)])),
        ("offset", .double(b.offset)), ("scale", .double(b.scale)),
        ("color_interpretation", .string(b.colorInterpretation)), ("overview_count", .int(b.overviewCount)),
        ("stats", stats),
      ])
    })
    let crsJSON: JSONValue = crs?.json ?? .null
    return .object([
      ("path", .string(path)), ("driver", .string(driver)), ("width", .int(width)), ("height", .int(height)),
      ("band_count", .int(bands.count)), ("crs", crsJSON),
      ("geotransform", geoTransform.map { .array($0.map { .double($0) }) } ?? .null),
      ("pixel_size", geoTransform.map { .array([.double($0[1]), .double($0[5])]) } ?? .null),
      ("bounds", RasterInfo.extentJSON(bounds)), ("bounds_wgs84", RasterInfo.extentJSON(boundsWGS84)),
      ("bands", bandsJSON),
      ("compression", compression.map { .string($0) } ?? .null),
      ("interleave", interleave.map { .string($0) } ?? .null),
      ("overview_count", .int(overviewCount)), ("cog", .bool(isCOG)),
      ("subdatasets", .array(subdatasets.map { .object([("name", .string($0.name)), ("description", .string($0.description))]) })),
    ])
  }

  /// A short human summary, in the spirit of gdalinfo.
  public var text: String {
    func f(_ v: Double) -> String {
      abs(v) < 1e15 ? Int(exactly: v).map { String($0) } ?? String(format: "%.10g", v) : String(format: "%.10g", v)
    }
    var lines = ["\(path)", "  driver: \(driver)  size: \(width) x \(height)  bands: \(bands.count)"]
    if let crs {
      lines.append("  crs: \(crs.name)" + (crs.epsg.map { " (EPSG:\($0))" } ?? ""))
    } else {
      lines.append("  crs: none")
    }
    if let gt = geoTransform {
      lines.append("  pixel size: \(f(gt[1])), \(f(gt[5]))  origin: \(f(gt[0])), \(f(gt[3]))")
    }
    if let b = bounds { lines.append("  bounds: \(f(b.minX)), \(f(b.minY)), \(f(b.maxX)), \(f(b.maxY))") }
    if let b = boundsWGS84 {
      lines.append(String(format: "  bounds (WGS 84): %.6f, %.6f, %.6f, %.6f", b.minX, b.minY, b.maxX, b.maxY))
    }
    var layout: [String] = []
    if let compression { layout.append("compression \(compression)") }
    if let interleave { layout.append("interleave \(interleave)") }
    layout.append("overviews \(overviewCount)")
    if isCOG { layout.append("cloud optimized") }
    lines.append("  layout: " + layout.joined(separator: ", "))
    for b in bands {
      var line = "  band \(b.index): \(b.type.rawValue), block \(b.block.width)x\(b.block.height), \(b.colorInterpretation)"
      if let nd = b.nodata { line += ", nodata \(nd.isNaN ? "NaN" : f(nd))" }
      if !b.description.isEmpty { line += ", \"\(b.description)\"" }
      if b.offset != 0 || b.scale != 1 { line += ", offset \(f(b.offset)) scale \(f(b.scale))" }
      lines.append(line)
      if let s = b.statistics {
        lines.append("    min \(f(s.min))  max \(f(s.max))  mean \(String(format: "%.4f", s.mean))  stddev \(String(format: "%.4f", s.stddev))")
      }
    }
    if !subdatasets.isEmpty {
      lines.append("  subdatasets:")
      for s in subdatasets { lines.append("    \(s.name)\n      \(s.description)") }
    }
    return lines.joined(separator: "\n")
  }
}
