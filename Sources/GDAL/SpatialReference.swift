import CGDAL
import Foundation

/// A coordinate reference system, always in traditional GIS axis order (x = easting/longitude).
public final class SpatialReference {
  let handle: OGRSpatialReferenceH

  private init(adopting handle: OGRSpatialReferenceH) {
    self.handle = handle
    OSRSetAxisMappingStrategy(handle, OAMS_TRADITIONAL_GIS_ORDER)
  }

  deinit { OSRRelease(handle) }

  /// Anything GDAL accepts: `EPSG:n`, WKT, a PROJ string, PROJJSON, or the path of a .prj/.wkt file.
  public convenience init(userInput: String) throws {
    GDALEnvironment.bootstrap()
    guard let h = OSRNewSpatialReference(nil) else {
      throw GDALError(context: "creating a CRS", message: "out of memory")
    }
    self.init(adopting: h)
    let trimmed = userInput.trimmingCharacters(in: .whitespacesAndNewlines)
    let (status, messages) = GDALCall.capturing { OSRSetFromUserInput(h, trimmed) }
    if status != OGRERR_NONE {
      let gdal = GDALCall.error("", messages).message
      throw GDALError(
        context: "unknown CRS '\(trimmed.prefix(80))'", number: Int32(CPLE_IllegalArg),
        message: gdal.isEmpty ? "GDAL cannot parse it" : gdal)
    }
  }

  public convenience init(epsg: Int) throws {
    try self.init(userInput: "EPSG:\(epsg)")
  }

  /// Clones a GDAL-owned CRS (e.g. a dataset's) so this object owns its copy.
  convenience init(cloning other: OGRSpatialReferenceH) {
    self.init(adopting: OSRClone(other))
  }

  public func clone() -> SpatialReference { SpatialReference(cloning: handle) }

  // MARK: - Identity

  /// The EPSG code: the authority code when the CRS carries one, otherwise a confident match.
  public var epsg: Int? {
    if let name = OSRGetAuthorityName(handle, nil), String(cString: name).uppercased() == "EPSG",
      let code = OSRGetAuthorityCode(handle, nil)
    {
      return Int(String(cString: code))
    }
    // A CRS read from GeoTIFF keys or ESRI WKT often lacks the code; ask PROJ for a match.
    var count: Int32 = 0
    var confidences: UnsafeMutablePointer<Int32>?
    let matches = GDALCall.capturing { OSRFindMatches(handle, nil, &count, &confidences) }.value
    defer {
      OSRFreeSRSArray(matches)
      VSIFree(confidences)
    }
    // 70 is what PROJ gives a PROJ string that matches (names are lost), and rasterio's
    // to_epsg threshold; a tie between the two best is no identification.
    guard let matches, count > 0, let confidences, confidences[0] >= 70, let best = matches[0] else { return nil }
    if count > 1, confidences[1] == confidences[0] { return nil }
    if let name = OSRGetAuthorityName(best, nil), String(cString: name).uppercased() == "EPSG",
      let code = OSRGetAuthorityCode(best, nil)
    {
      return Int(String(cString: code))
    }
    return nil
  }

  public var name: String? { OSRGetName(handle).map { String(cString: $0) } }
  public var isGeographic: Bool { OSRIsGeographic(handle) != 0 }
  public var isProjected: Bool { OSRIsProjected(handle) != 0 }

  /// The UTM zone (positive north, negative south), or nil when not UTM.
  public var utmZone: Int? {
    var north: Int32 = 0
    let zone = OSRGetUTMZone(handle, &north)
    guard zone != 0 else { return nil }
    return north != 0 ? Int(zone) : -Int(zone)
  }

  /// Same CRS, whatever the spelling. Axis order is ignored, as both use GIS order here.
  public func isSame(as other: SpatialReference) -> Bool {
    let options = CStringList(["IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES", "CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS"])
    return OSRIsSameEx(handle, other.handle, options.constPointer) != 0
  }

  // MARK: - Text forms

  public enum WKTFormat: String, Sendable { case wkt1 = "WKT1", wkt2 = "WKT2_2019" }

  public func wkt(_ format: WKTFormat = .wkt2, multiline: Bool = true) throws -> String {
    var text: UnsafeMutablePointer<CChar>?
    let options = CStringList(["FORMAT=\(format.rawValue)", "MULTILINE=\(multiline ? "YES" : "NO")"])
    let status = GDALCall.capturing { OSRExportToWktEx(handle, &text, options.constPointer) }.value
    defer { VSIFree(text) }
    guard status == OGRERR_NONE, let text else {
      throw GDALError(context: "exporting a CRS as WKT", message: "GDAL could not express it as \(format.rawValue)")
    }
    return String(cString: text)
  }

}

/// Bounds in some CRS, minx/miny/maxx/maxy.
public struct Extent: Equatable, Sendable {
  public var minX: Double, minY: Double, maxX: Double, maxY: Double
  public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
    self.minX = minX; self.minY = minY; self.maxX = maxX; self.maxY = maxY
  }

  /// `xmin,ymin,xmax,ymax` with up to 10 significant digits, for messages.
  public var text: String {
    [minX, minY, maxX, maxY].map { String(format: "%.10g", $0) }.joined(separator: ",")
  }
}

/// A transformation between two CRSs.
public final class CoordinateTransformation {
  let handle: OGRCoordinateTransformationH

  public init(from source: SpatialReference, to target: SpatialReference) throws {
    handle = try GDALCall.handle("building a transformation from \(source.name ?? "?") to \(target.name ?? "?")") {
      OCTNewCoordinateTransformation(source.handle, target.handle)
    }
  }

  deinit { OCTDestroyCoordinateTransformation(handle) }

  /// Transforms a bounding box, densifying its edges so curved edges are covered.
  public func transformBounds(_ extent: Extent, densifyPoints: Int = 21) throws -> Extent {
    var out = Extent(minX: 0, minY: 0, maxX: 0, maxY: 0)
    let status = GDALCall.capturing {
      OCTTransformBounds(
        handle, extent.minX, extent.minY, extent.maxX, extent.maxY,
        &out.minX, &out.minY, &out.maxX, &out.maxY, Int32(densifyPoints))
    }
    guard status.value != 0 else {
      throw GDALCall.error("transforming bounds", status.messages)
    }
    return out
  }

  /// Transforms points in place; throws if any point fails.
  public func transform(_ points: inout [(x: Double, y: Double)]) throws {
    var xs = points.map(\.x), ys = points.map(\.y)
    var ok = [Int32](repeating: 0, count: points.count)
    let status = GDALCall.capturing { OCTTransformEx(handle, Int32(points.count), &xs, &ys, nil, &ok) }
    guard status.value != 0, !ok.contains(0) else {
      throw GDALCall.error("transforming coordinates", status.messages)
    }
    points = zip(xs, ys).map { ($0, $1) }
  }
}
