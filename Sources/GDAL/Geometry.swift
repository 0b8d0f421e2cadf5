import CGDAL
import Foundation

/// An OGR geometry this object owns (destroyed on deinit), for cutlines and regions.
public final class Geometry {
  let handle: OGRGeometryH

  init(adopting handle: OGRGeometryH) { self.handle = handle }

  deinit { OGR_G_DestroyGeometry(handle) }

  /// A geometry from WKT.
  public static func wkt(_ text: String) throws -> Geometry {
    GDALEnvironment.bootstrap()
    var result: OGRGeometryH?
    // Whatever GDAL made is ours from here on, so no error path leaks it.
    defer { if let result { OGR_G_DestroyGeometry(result) } }
    let status = try text.withCString { pointer -> OGRErr in
      var cursor: UnsafeMutablePointer<CChar>? = UnsafeMutablePointer(mutating: pointer)
      return try GDALCall.run("reading WKT") { OGR_G_CreateFromWkt(&cursor, nil, &result) }
    }
    guard status == OGRERR_NONE, let made = result else {
      throw GDALError(context: "reading WKT", message: "not a WKT geometry")
    }
    result = nil
    return Geometry(adopting: made)
  }

  /// A geometry from a GeoJSON geometry object.
  public static func geoJSON(_ text: String) throws -> Geometry {
    GDALEnvironment.bootstrap()
    let handle = try GDALCall.handle("reading a GeoJSON geometry", release: { OGR_G_DestroyGeometry($0) }) { OGR_G_CreateGeometryFromJson(text) }
    return Geometry(adopting: handle)
  }

  /// The geometries as one: their union (overlaps counted once).
  public static func union(_ parts: [Geometry]) throws -> Geometry {
    guard let first = parts.first else { throw GDALError(context: "joining geometries", message: "no geometry") }
    if parts.count == 1 { return try first.clone() }
    let context = "joining \(parts.count) geometries"
    let types = parts.map { OGR_GT_Flatten(OGR_G_GetGeometryType($0.handle)) }
    guard types.allSatisfy({ $0 == wkbPolygon || $0 == wkbMultiPolygon }) else {
      // Not all polygons: joined pair by pair.
      var joined = try first.clone()
      for part in parts.dropFirst() {
        let next = try GDALCall.handle(context, release: { OGR_G_DestroyGeometry($0) }) { OGR_G_Union(joined.handle, part.handle) }
        joined = Geometry(adopting: next)
      }
      return joined
    }
    // GDAL 3.6's cascaded union takes a MultiPolygon and nothing else (a collection of
    // polygons fails; OGR_G_UnaryUnion arrived in 3.7), so the polygons are gathered into one.
    let multi = OGR_G_CreateGeometry(wkbMultiPolygon)
    defer { OGR_G_DestroyGeometry(multi) }
    func add(_ polygon: OGRGeometryH?) throws {
      let status = try GDALCall.run(context) { OGR_G_AddGeometry(multi, polygon) }
      guard status == OGRERR_NONE else { throw GDALError(context: context, message: "a part cannot join a MultiPolygon (OGR error \(status))") }
    }
    for (part, type) in zip(parts, types) {
      if type == wkbPolygon {
        try add(part.handle)
      } else {
        for index in 0..<OGR_G_GetGeometryCount(part.handle) { try add(OGR_G_GetGeometryRef(part.handle, index)) }
      }
    }
    let joined = try GDALCall.handle(context) { OGR_G_UnionCascaded(multi) }
    return Geometry(adopting: joined)
  }

  /// The polygon of a box.
  public static func rectangle(_ e: Extent) throws -> Geometry {
    try wkt("POLYGON ((\(e.minX) \(e.minY), \(e.maxX) \(e.minY), \(e.maxX) \(e.maxY), \(e.minX) \(e.maxY), \(e.minX) \(e.minY)))")
  }

  /// Whether the two share any point.
  /// - Throws: GEOS's error (a ring that is not closed, a line of one point): OGR answers
  ///   "no" when GEOS fails, which must not pass for "no overlap".
  public func intersects(_ other: Geometry) throws -> Bool {
    try GDALCall.run("testing whether two geometries overlap") { OGR_G_Intersects(handle, other.handle) } != 0
  }

  public func clone() throws -> Geometry {
    Geometry(adopting: try GDALCall.handle("copying a geometry") { OGR_G_Clone(handle) })
  }

  /// The geometry's bounding box.
  public var envelope: Extent {
    var e = OGREnvelope()
    OGR_G_GetEnvelope(handle, &e)
    return Extent(minX: e.MinX, minY: e.MinY, maxX: e.MaxX, maxY: e.MaxY)
  }

  public var isEmpty: Bool { OGR_G_IsEmpty(handle) != 0 }

  /// Whether the geometry is valid by GEOS's rules (no self-intersection, closed rings).
  /// GDAL 3.6 reports why a geometry is invalid as a warning; a failure is GEOS's own and thrown.
  public var isValid: Bool {
    get throws { try GDALCall.run("checking the geometry") { OGR_G_IsValid(handle) } != 0 }
  }

  /// 2 for polygons, 1 for lines, 0 for points (the highest in a collection).
  public var dimension: Int { Int(OGR_G_GetDimension(handle)) }

  /// OGR's name of the geometry type: POLYGON, MULTIPOLYGON, …
  public var typeName: String { String(cString: OGR_G_GetGeometryName(handle)) }

  /// A valid version of the geometry (GEOS's MakeValid).
  public func madeValid() throws -> Geometry {
    Geometry(adopting: try GDALCall.handle("making the geometry valid") { OGR_G_MakeValid(handle) })
  }

  /// The area (of the polygons) in the geometry's units.
  public var area: Double { OGR_G_Area(handle) }

  /// A copy in another CRS, its edges first cut to pieces no longer than a hundredth of the
  /// geometry's size, so straight edges in one CRS follow their curve in the other.
  public func transformed(with transformation: CoordinateTransformation) throws -> Geometry {
    let copy = try clone()
    let e = envelope
    let step = Swift.max(e.maxX - e.minX, e.maxY - e.minY) / 100
    if step > 0, step.isFinite { OGR_G_Segmentize(copy.handle, step) }
    let status = try GDALCall.run("transforming a geometry") { OGR_G_Transform(copy.handle, transformation.handle) }
    guard status == OGRERR_NONE else {
      throw GDALError(context: "transforming a geometry", message: "the geometry cannot be placed in the target CRS")
    }
    return copy
  }
}

// MARK: - Vector files

/// A vector dataset opened read-only, for cutlines.
public final class VectorSource {
  private let handle: GDALDatasetH
  public let path: String

  public init(path: String) throws {
    GDALEnvironment.bootstrap()
    try OpenError.check(path)
    let (opened, messages) = GDALCall.capturing {
      GDALOpenEx(path, UInt32(GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR), nil, nil, nil)
    }
    guard let opened else {
      throw OpenError.unreadable(path: path, gdalMessage: GDALCall.error("opening \(path)", messages).message)
    }
    handle = opened
    self.path = path
  }

  deinit { GDALClose(handle) }

  /// Every file GDAL reads for this source (a Shapefile's .shx, .dbf, .prj, …).
  public var fileList: [String] {
    guard let list = GDALGetFileList(handle) else { return [path] }
    defer { CSLDestroy(list) }
    return CStringList.strings(list)
  }

  public var layerNames: [String] {
    (0..<GDALDatasetGetLayerCount(handle)).compactMap { i in
      GDALDatasetGetLayer(handle, i).map { String(cString: OGR_L_GetName($0)) }
    }
  }

  /// One feature: its id, its geometry (nil when it has none) and its fields as text.
  public struct Feature {
    public let id: Int
    public let geometry: Geometry?
    public let fields: [String: String]
  }

  /// The features of a layer (`layer` by name, else the first), filtered by an OGR SQL
  /// `where` clause, and the layer's CRS (nil when it has none).
  public func features(layer name: String?, where filter: String?) throws -> (features: [Feature], crs: SpatialReference?, fields: [String]) {
    let layer: OGRLayerH
    if let name {
      guard let found = GDALDatasetGetLayerByName(handle, name) else {
        throw GDALError(context: "reading \(path)", message: "no layer named '\(name)' (layers: \(layerNames.joined(separator: ", ")))")
      }
      layer = found
    } else {
      guard let first = GDALDatasetGetLayer(handle, 0) else { throw GDALError(context: "reading \(path)", message: "no layer") }
      layer = first
    }
    if let filter {
      let status = try GDALCall.run("filtering \(path) by '\(filter)'") { OGR_L_SetAttributeFilter(layer, filter) }
      guard status == OGRERR_NONE else {
        throw GDALError(context: "filtering \(path)", message: "'\(filter)' is not a valid OGR SQL condition")
      }
    }
    let definition = OGR_L_GetLayerDefn(layer)
    let fieldNames = (0..<OGR_FD_GetFieldCount(definition)).map { String(cString: OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(definition, $0))) }
    let crs = OGR_L_GetSpatialRef(layer).map { SpatialReference(cloning: $0) }
    OGR_L_ResetReading(layer)
    var features: [Feature] = []
    while true {
      // A damaged file can yield a feature and report an error for it: the feature is still
      // ours to destroy (it holds its geometry and a reference to the layer's CRS).
      var next: OGRFeatureH?
      do {
        _ = try GDALCall.run("reading \(path)") { () -> OGRFeatureH? in
          next = OGR_L_GetNextFeature(layer)
          return next
        }
      } catch {
        if let next { OGR_F_Destroy(next) }
        throw error
      }
      guard let feature = next else { break }
      defer { OGR_F_Destroy(feature) }
      var fields: [String: String] = [:]
      for (i, field) in fieldNames.enumerated() where OGR_F_IsFieldSetAndNotNull(feature, Int32(i)) != 0 {
        fields[field] = String(cString: OGR_F_GetFieldAsString(feature, Int32(i)))
      }
      // A geometry that cannot be copied is an error, not a feature without geometry.
      let geometry = try OGR_F_GetGeometryRef(feature).map { ref in
        Geometry(adopting: try GDALCall.handle("reading \(path)", release: { OGR_G_DestroyGeometry($0) }) { OGR_G_Clone(ref) })
      }
      features.append(Feature(id: Int(OGR_F_GetFID(feature)), geometry: geometry, fields: fields))
    }
    return (features, crs, fieldNames)
  }
}

// MARK: - Rasterizing

extension Dataset {
  /// Burns `value` into every band where `geometries` (in the dataset's georeferenced
  /// coordinates) cover a pixel's centre, or touch the pixel at all with `allTouched`.
  public func rasterize(_ geometries: [Geometry], value: Double = 1, allTouched: Bool = false) throws {
    let h = try liveHandle()
    var bands = (1...Swift.max(1, bandCount)).map { Int32($0) }
    var handles: [OGRGeometryH?] = geometries.map { $0.handle }
    var values = [Double](repeating: value, count: geometries.count * bands.count)
    let options = CStringList(allTouched ? ["ALL_TOUCHED=TRUE"] : [])
    try GDALCall.check("rasterizing onto \(path)", dataset: path) {
      GDALRasterizeGeometries(h, Int32(bands.count), &bands, Int32(handles.count), &handles, nil, nil, &values,
                              options.pointer, nil, nil)
    }
  }
}
