import CGDAL
import Foundation

/// What PROJ does between two CRSs over an area: which datums meet and whether the operation it
/// picks for some of the area is a ballpark one (a null shift, used when it knows no
/// transformation there). Asked of PROJ the way GDAL's transformer asks it: the operations
/// that cover an area of interest, one chosen per point.
public struct DatumTransformation: Sendable {
  /// The source CRS's datum name (its base CRS's for a bound or projected CRS).
  public let sourceDatum: String
  public let targetDatum: String
  /// Whether the two datums are the same datum.
  public let sameDatum: Bool
  /// The names of the ballpark operations PROJ picked for some of the sample points.
  public let ballparkOperations: [String]
  /// How many of the sample points went through a ballpark operation, of `samples`.
  public let ballparkSamples: Int
  public let samples: Int

  /// Examines the operation from `source` to `target` at points of `footprint` (in the source
  /// CRS, traditional GIS axis order), a `density` x `density` grid including the edges.
  public static func examine(
    from source: SpatialReference, to target: SpatialReference, footprint: Extent, density: Int = 9
  ) throws -> DatumTransformation {
    guard let ctx = proj_context_create() else {
      throw GDALError(context: "examining a datum change", message: "PROJ could not start")
    }
    defer { proj_context_destroy(ctx) }
    proj_log_level(ctx, PJ_LOG_NONE)
    let sourcePJ = try pj(ctx, source), targetPJ = try pj(ctx, target)
    defer { proj_destroy(sourcePJ); proj_destroy(targetPJ) }
    let sourceDatum = datumName(ctx, sourcePJ), targetDatum = datumName(ctx, targetPJ)
    let same = sameDatum(ctx, sourcePJ, targetPJ)
    let area = proj_area_create()
    defer { proj_area_destroy(area) }
    if let lonLat = try? CoordinateTransformation(from: source, to: SpatialReference(epsg: 4326)).transformBounds(footprint),
      lonLat.minX.isFinite, lonLat.maxY.isFinite
    {
      proj_area_set_bbox(area, lonLat.minX, lonLat.minY, lonLat.maxX, lonLat.maxY)
    }
    guard let raw = proj_create_crs_to_crs_from_pj(ctx, sourcePJ, targetPJ, area, nil) else {
      throw GDALError(context: "examining the datum change from \(sourceDatum) to \(targetDatum)",
                      message: "PROJ finds no operation between the two CRSs")
    }
    defer { proj_destroy(raw) }
    // GIS order in and out, as the footprint is given.
    let op = proj_normalize_for_visualization(ctx, raw) ?? raw
    defer { if op != raw { proj_destroy(op) } }
    var names: [String] = [], ballpark = 0, total = 0
    let n = Swift.max(2, density)
    for i in 0..<n {
      for j in 0..<n {
        let x = footprint.minX + (footprint.maxX - footprint.minX) * Double(i) / Double(n - 1)
        let y = footprint.minY + (footprint.maxY - footprint.minY) * Double(j) / Double(n - 1)
        let out = proj_trans(op, PJ_FWD, proj_coord(x, y, 0, 0))
        total += 1
        guard out.v.0.isFinite, let used = proj_trans_get_last_used_operation(op) else { continue }
        defer { proj_destroy(used) }
        if proj_coordoperation_has_ballpark_transformation(ctx, used) != 0 {
          ballpark += 1
          let name = proj_get_name(used).map { String(cString: $0) } ?? "a ballpark operation"
          if !names.contains(name) { names.append(name) }
        }
      }
    }
    return DatumTransformation(sourceDatum: sourceDatum, targetDatum: targetDatum, sameDatum: same,
                               ballparkOperations: names, ballparkSamples: ballpark, samples: total)
  }

  /// Refuses text PROJ cannot read as a coordinate operation (what gdalwarp -ct takes).
  public static func requireOperation(_ text: String) throws {
    guard let ctx = proj_context_create() else {
      throw GDALError(context: "reading a coordinate operation", message: "PROJ could not start")
    }
    defer { proj_context_destroy(ctx) }
    // PROJ's own complaint would reach stderr as a second line; the thrown error says it.
    proj_log_level(ctx, PJ_LOG_NONE)
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard let op = proj_create(ctx, trimmed) else {
      throw GDALError(context: "reading a coordinate operation",
                      message: "PROJ cannot read '\(trimmed.prefix(80))' as a pipeline, operation WKT or urn:ogc:def:coordinateOperation:EPSG::N")
    }
    defer { proj_destroy(op) }
    if proj_is_crs(op) != 0 {
      throw GDALError(context: "reading a coordinate operation",
                      message: "'\(trimmed.prefix(80))' is a CRS, not a coordinate operation")
    }
  }

  private static func pj(_ ctx: OpaquePointer, _ srs: SpatialReference) throws -> OpaquePointer {
    let wkt = try srs.wkt(.wkt2, multiline: false)
    guard let pj = proj_create(ctx, wkt) else {
      throw GDALError(context: "examining a datum change", message: "PROJ cannot read the CRS \(srs.name ?? "?")")
    }
    return pj
  }

  /// The horizontal, unbound CRS a datum is taken from.
  private static func baseCRS(_ ctx: OpaquePointer, _ crs: OpaquePointer) -> OpaquePointer? {
    switch proj_get_type(crs) {
    case PJ_TYPE_BOUND_CRS:
      guard let inner = proj_get_source_crs(ctx, crs) else { return nil }
      defer { proj_destroy(inner) }
      return baseCRS(ctx, inner)
    case PJ_TYPE_COMPOUND_CRS:
      guard let inner = proj_crs_get_sub_crs(ctx, crs, 0) else { return nil }
      defer { proj_destroy(inner) }
      return baseCRS(ctx, inner)
    default:
      return proj_clone(ctx, crs)
    }
  }

  private static func datum(_ ctx: OpaquePointer, _ crs: OpaquePointer) -> OpaquePointer? {
    guard let base = baseCRS(ctx, crs) else { return nil }
    defer { proj_destroy(base) }
    return proj_crs_get_datum_forced(ctx, base)
  }

  private static func datumName(_ ctx: OpaquePointer, _ crs: OpaquePointer) -> String {
    guard let d = datum(ctx, crs) else { return "an unknown datum" }
    defer { proj_destroy(d) }
    return proj_get_name(d).map { String(cString: $0) } ?? "an unnamed datum"
  }

  private static func sameDatum(_ ctx: OpaquePointer, _ a: OpaquePointer, _ b: OpaquePointer) -> Bool {
    guard let da = datum(ctx, a), let db = datum(ctx, b) else { return false }
    defer { proj_destroy(da); proj_destroy(db) }
    return proj_is_equivalent_to_with_ctx(ctx, da, db, PJ_COMP_EQUIVALENT) != 0
  }
}

extension SpatialReference {
  /// A copy bound to WGS 84 by 3 or 7 Bursa-Wolf parameters (metres, arc-seconds, ppm;
  /// position-vector convention, as PROJ's +towgs84), as GDAL's OSRSetTOWGS84 makes it, but
  /// without authority codes: GDAL 3.6's transformer replaces a CRS that carries an EPSG code
  /// by the code's own definition and so drops the parameters (gdalwarp -s_srs given such a CRS
  /// moves nothing), while a CRS without one, like a PROJ string with +towgs84, keeps them.
  public func bound(toWGS84 p: [Double]) throws -> SpatialReference {
    guard p.count == 3 || p.count == 7 else {
      throw GDALError(context: "binding a CRS to WGS 84", message: "3 or 7 parameters are needed, not \(p.count)")
    }
    let copy = clone()
    let q = p.count == 7 ? p : p + [0, 0, 0, 0]
    let status = GDALCall.capturing { OSRSetTOWGS84(copy.handle, q[0], q[1], q[2], q[3], q[4], q[5], q[6]) }
    guard status.value == OGRERR_NONE else { throw GDALCall.error("binding \(name ?? "a CRS") to WGS 84", status.messages) }
    return try SpatialReference(userInput: SpatialReference.removingAuthorities(try copy.wkt(.wkt1, multiline: false)))
  }

  /// WKT1 without its AUTHORITY nodes.
  static func removingAuthorities(_ wkt: String) -> String {
    var text = Substring(wkt)
    var out = ""
    while let start = text.range(of: ",AUTHORITY[") {
      out += text[..<start.lowerBound]
      var depth = 1
      var index = start.upperBound
      while index < text.endIndex, depth > 0 {
        if text[index] == "[" { depth += 1 } else if text[index] == "]" { depth -= 1 }
        index = text.index(after: index)
      }
      text = text[index...]
    }
    return out + text
  }
}
