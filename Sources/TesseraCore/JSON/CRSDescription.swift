import Foundation
import GDAL

/// How every report names a CRS: `{"epsg": N|null, "name": "...", "wkt": "..."}` — info's
/// `crs`, mosaic's `crs`, reproject's `dst_crs`, clip's region, merge-memfile's grid and
/// products. One encoder, so a script reads a CRS the same way whichever command wrote it.
public struct CRSDescription: Codable, Sendable {
  @Reported public var epsg: Int?
  public var name: String
  public var wkt: String

  public init(epsg: Int?, name: String, wkt: String) {
    self.epsg = epsg
    self.name = name
    self.wkt = wkt
  }

  /// GDAL spells one CRS differently depending on what the process read before (WGS 84 as a
  /// DATUM or as a datum ENSEMBLE), so when the CRS is its EPSG definition, the EPSG
  /// database's WKT is written: the same CRS always gives the same text.
  public init(_ srs: SpatialReference) throws {
    let epsg = srs.epsg
    if let epsg, let canonical = try? SpatialReference(epsg: epsg), canonical.isSame(as: srs) {
      self.init(epsg: epsg, name: canonical.name ?? srs.name ?? "", wkt: try canonical.wkt(.wkt2))
    } else {
      self.init(epsg: epsg, name: srs.name ?? "", wkt: try srs.wkt(.wkt2))
    }
  }

  /// Reports written before `wkt` existed (merge-memfile's `--report` files that validate-merge
  /// reads back) have no such key, and may have a null name: both read as "".
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    _epsg = try c.decode(Reported<Int>.self, forKey: .epsg)
    name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
    wkt = try c.decodeIfPresent(String.self, forKey: .wkt) ?? ""
  }

  public var json: JSONValue {
    .object([("epsg", epsg.map { .int($0) } ?? .null), ("name", .string(name)), ("wkt", .string(wkt))])
  }

  /// The CRS object of `srs`, or null for a raster without one.
  public static func json(_ srs: SpatialReference?) throws -> JSONValue {
    try srs.map { try CRSDescription($0).json } ?? .null
  }
}
