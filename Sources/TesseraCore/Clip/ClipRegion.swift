import Foundation
import GDAL

/// Where a clip keeps pixels, in the raster's CRS: a box (every pixel of it, snapped outward),
/// or polygons (the pixels whose centre they cover, or that they touch).
struct ClipRegion {
  /// The polygons; nil for a box.
  let shape: Geometry?
  /// The region's bounds in the raster's CRS.
  let envelope: Extent
  /// The CRS the region was given in (its bounds in the report are in the raster's).
  let crs: SpatialReference
  let featureCount: Int
  /// The region's bounds as given, in `crs`: the numbers the user typed, for a near-miss hint.
  let given: Extent
  /// The option that would have said another CRS (`--bbox-crs`), or nil when the CRS is the
  /// file's own.
  let crsOption: String?

  /// The warning when the region's datum meets the raster's only by a ballpark shift (65 with
  /// --strict-datum): its place on the raster is then off by as much as the datums differ.
  func datumWarning(raster: SpatialReference, datum: DatumShift) throws -> String? {
    guard !crs.isSame(as: raster), envelope.isFinite,
      let footprint = try? CoordinateTransformation(from: raster, to: crs).transformBounds(envelope)
    else { return nil }
    return try datum.check(from: crs, to: raster, footprint: footprint, what: "the clip region",
                           remedy: "give the region in the raster's CRS, or reproject the raster first with tessera reproject --ct or --src-towgs84")
  }

  /// A region given as a box in `crs`, densified into the raster's CRS.
  static func box(_ box: Extent, crs: SpatialReference, raster: Grid, option: String?) throws -> ClipRegion {
    var envelope = box, why = ""
    if !crs.isSame(as: raster.srs) {
      do {
        envelope = try CoordinateTransformation(from: crs, to: raster.srs).transformBounds(box)
      } catch {
        why = ": " + message(of: error)
      }
    }
    guard why.isEmpty, envelope.isFinite, envelope.minX < envelope.maxX, envelope.minY < envelope.maxY else {
      let hint = option.map { NearMiss.hint(box, readIn: crs, option: $0, footprints: [(raster.extent, raster.srs)]) } ?? ""
      throw TesseraError(.dataError, "the box \(box.text) in \(CRSInput.label(crs)) cannot be placed in the raster's CRS (\(CRSInput.label(raster.srs)))"
                                    + why + hint)
    }
    return ClipRegion(shape: nil, envelope: envelope, crs: crs, featureCount: 1, given: box, crsOption: option)
  }

  /// A region of polygons in `crs`, checked and put in the raster's CRS.
  /// - Parameter what: how messages name the region ("the --geometry region", "feature 3 of f.gpkg").
  /// - Parameter option: the option that says the polygons' CRS, for a near-miss hint.
  static func polygons(_ parts: [Geometry], crs: SpatialReference, raster: Grid, makeValid: Bool,
                       what: String, option: String? = nil) throws -> ClipRegion {
    var shape = try geos(what) { try Geometry.union(parts) }
    if shape.isEmpty { throw TesseraError(.dataError, "\(what) is empty") }
    if shape.dimension < 2 {
      throw TesseraError(.dataError, "\(what) is a \(shape.typeName.lowercased()), not polygons; clip keeps the pixels inside polygons")
    }
    if !(try geos(what) { try shape.isValid }) {
      // GEOS failing to repair is GEOS's error, said as such, not "cannot be repaired".
      let repaired = try geos(what) { try shape.madeValid() }
      let repairable = !repaired.isEmpty && repaired.area > 0
      guard makeValid, repairable else {
        throw TesseraError(.dataError, "\(what) is not a valid polygon (it crosses itself or a ring is not closed); "
                                      + (repairable ? "--make-valid repairs it" : "--make-valid cannot repair it"))
      }
      shape = repaired
    }
    let given = shape.envelope
    if !crs.isSame(as: raster.srs) {
      do {
        shape = try shape.transformed(with: try CoordinateTransformation(from: crs, to: raster.srs))
      } catch {
        let hint = option.map { NearMiss.hint(given, readIn: crs, option: $0, footprints: [(raster.extent, raster.srs)]) } ?? ""
        throw TesseraError(.dataError, "\(what) cannot be placed from \(CRSInput.label(crs)) in the raster's CRS (\(CRSInput.label(raster.srs))): \(message(of: error))" + hint)
      }
    }
    let envelope = shape.envelope
    guard envelope.isFinite else { throw TesseraError(.dataError, "\(what) has coordinates that are not numbers") }
    return ClipRegion(shape: shape, envelope: envelope, crs: crs, featureCount: parts.count, given: given, crsOption: option)
  }

  /// Runs a geometry operation; GEOS's or OGR's failure becomes bad data naming the region.
  static func geos<T>(_ what: String, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as GDALError {
      throw TesseraError(.dataError, "\(what): GEOS/OGR failed: \(error.message)")
    }
  }

  static func message(of error: Error) -> String {
    (error as? GDALError)?.message ?? (error as? TesseraError)?.message ?? "\(error)"
  }

  /// Whether the region reaches `raster`: its bounds, then its polygons (GEOS's failure is an
  /// error, never "no overlap").
  func overlaps(_ raster: Grid) throws -> Bool {
    guard envelope.intersects(raster.extent) else { return false }
    guard let shape else { return true }
    return try ClipRegion.geos("the region") { try shape.intersects(try Geometry.rectangle(raster.extent)) }
  }

  /// "; did you mean …?" when the same numbers in another CRS would reach the raster.
  func nearMissHint(_ raster: Grid) -> String {
    crsOption.map { NearMiss.hint(given, readIn: crs, option: $0, footprints: [(raster.extent, raster.srs)]) } ?? ""
  }

  /// `--geometry`: WKT, or GeoJSON (a geometry, a Feature or a FeatureCollection). Without
  /// `crs`, GeoJSON is in its legacy `crs` member's CRS or else WGS 84 longitude/latitude
  /// (RFC 7946), and WKT in the raster's CRS.
  static func typed(_ text: String, crs: SpatialReference?, raster: Grid, makeValid: Bool) throws -> ClipRegion {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    var isFile: ObjCBool = false
    if !trimmed.isEmpty, FileManager.default.fileExists(atPath: trimmed, isDirectory: &isFile), !isFile.boolValue {
      throw TesseraError(.usage, "--geometry takes WKT or GeoJSON text, and \(trimmed) is a file: give it as --cutline \(trimmed)")
    }
    var parts: [Geometry] = []
    var json: JSONValue?
    do {
      if trimmed.hasPrefix("{") {
        let parsed = try JSONValue.parse(Data(trimmed.utf8))
        json = parsed
        for geometry in geoJSONGeometries(parsed) { parts.append(try Geometry.geoJSON(geometry.serialized())) }
      } else {
        parts.append(try Geometry.wkt(trimmed))
      }
    } catch {
      let file = trimmed.contains("(") || trimmed.contains("{") ? "" : " (a vector file goes to --cutline)"
      throw TesseraError(.usage, "--geometry is neither WKT nor a GeoJSON geometry, Feature or FeatureCollection" + file)
    }
    guard !parts.isEmpty else { throw TesseraError(.dataError, "--geometry holds no geometry") }
    let regionCRS = try crs ?? json.map(geoJSONCRS) ?? raster.srs
    return try polygons(parts, crs: regionCRS, raster: raster, makeValid: makeValid, what: "the --geometry region", option: "--geometry-crs")
  }

  /// The CRS of GeoJSON: its legacy `crs` member (`{"type": "name", "properties": {"name":
  /// "EPSG:32629"}}`, or the 2008 form `{"type": "EPSG", "properties": {"code": 32629}}`),
  /// else WGS 84 longitude/latitude as RFC 7946 says, the axis order GDAL's GeoJSON reader uses.
  static func geoJSONCRS(_ json: JSONValue) throws -> SpatialReference {
    let member = json["crs"] ?? geoJSONGeometries(json).first?["crs"]
    guard let member, member != .null else { return try SpatialReference(epsg: 4326) }
    let text: String?
    switch (member["type"], member["properties"]?["name"], member["properties"]?["code"]) {
    case (.string(let type)?, .string(let name)?, _) where type.lowercased() == "name": text = name
    case (.string(let type)?, _, .int(let code)?) where type.uppercased() == "EPSG": text = "EPSG:\(code)"
    default: text = nil
    }
    guard let text else {
      throw TesseraError(.usage, "--geometry's crs member is neither {\"type\": \"name\", \"properties\": {\"name\": …}} nor an EPSG code; give the CRS with --geometry-crs")
    }
    do {
      return try SpatialReference(userInput: text)
    } catch let error as GDALError {
      throw TesseraError(.usage, "--geometry's crs member '\(text.prefix(120))' is no CRS GDAL knows: \(error.message)")
    }
  }

  /// The geometry objects in a GeoJSON value.
  static func geoJSONGeometries(_ json: JSONValue) -> [JSONValue] {
    switch json["type"] {
    case .string("FeatureCollection")?:
      guard case .array(let features)? = json["features"] else { return [] }
      return features.flatMap(geoJSONGeometries)
    case .string("Feature")?:
      guard let geometry = json["geometry"], geometry != .null else { return [] }
      return [geometry]
    default:
      return [json]
    }
  }

  /// One vector layer's features, as the user filtered them.
  struct Features {
    let path: String
    /// Every file read for the layer (a Shapefile's sidecars too).
    let files: [String]
    let features: [VectorSource.Feature]
    let crs: SpatialReference
    /// false: the file has no CRS and `crs` is the one the user gave.
    let crsFromFile: Bool
    let fields: [String]
  }

  /// `--cutline`: the features of a layer of any OGR source, with its CRS (or `fallbackCRS` when
  /// it has none).
  static func features(path: String, layer: String?, where filter: String?, fallbackCRS: SpatialReference?) throws -> Features {
    let source: VectorSource
    do {
      source = try VectorSource(path: path)
    } catch let error as OpenError {
      switch error {
      case .unreadable(_, let message):
        // A folder no driver reads is no input at all; a file that is not vector data is a bad one.
        var isFolder: ObjCBool = false
        let status: ExitStatus = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && !isFolder.boolValue ? .dataError : .noInput
        throw TesseraError(status, "cutline \(path) cannot be read as vector data: \(message)")
      default: throw TesseraError.from(error)
      }
    }
    let read: (features: [VectorSource.Feature], crs: SpatialReference?, fields: [String])
    do {
      read = try source.features(layer: layer, where: filter)
    } catch let error as GDALError {
      let usage = error.message.hasPrefix("no layer") || error.message.contains("not a valid OGR SQL")
      throw TesseraError(usage ? .usage : .dataError, "cutline \(path): \(error.message)")
    }
    guard let crs = read.crs ?? fallbackCRS else {
      throw TesseraError(.dataError, "cutline \(path) has no CRS; say which with --geometry-crs")
    }
    let withGeometry = read.features.filter { $0.geometry != nil }
    if withGeometry.isEmpty {
      throw TesseraError(.dataError, filter.map { "--where '\($0)' matches no feature of \(path)" } ?? "cutline \(path) has no feature")
    }
    return Features(path: path, files: [path] + source.fileList, features: withGeometry, crs: crs, crsFromFile: read.crs != nil,
                    fields: read.fields)
  }
}
