import Foundation
import GDAL

/// Where a clip keeps pixels, in the raster's CRS: a box (every pixel of it, snapped outward),
/// or polygons (the pixels whose centre they cover, or that they touch).
struct ClipRegion {
  /// The polygons; nil for a box.
  let shape: Geometry?
  /// The region's bounds in the raster's CRS.
  let envelope: Extent
  /// The CRS the region was given in, for the report.
  let crs: SpatialReference
  let featureCount: Int

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
  static func box(_ box: Extent, crs: SpatialReference, raster: SpatialReference) throws -> ClipRegion {
    let envelope = crs.isSame(as: raster) ? box : try CoordinateTransformation(from: crs, to: raster).transformBounds(box)
    guard envelope.isFinite, envelope.minX < envelope.maxX, envelope.minY < envelope.maxY else {
      throw TesseraError(.dataError, "the box \(box.text) cannot be placed in the raster's CRS (\(CRSInput.label(raster)))")
    }
    return ClipRegion(shape: nil, envelope: envelope, crs: crs, featureCount: 1)
  }

  /// A region of polygons in `crs`, checked and put in the raster's CRS.
  /// - Parameter what: how messages name the region ("the --geometry region", "feature 3 of f.gpkg").
  static func polygons(_ parts: [Geometry], crs: SpatialReference, raster: SpatialReference, makeValid: Bool,
                       what: String) throws -> ClipRegion {
    var shape = try Geometry.union(parts)
    if shape.isEmpty { throw TesseraError(.dataError, "\(what) is empty") }
    if shape.dimension < 2 {
      throw TesseraError(.dataError, "\(what) is a \(shape.typeName.lowercased()), not polygons; clip keeps the pixels inside polygons")
    }
    if !shape.isValid {
      let repaired = try? shape.madeValid()
      let repairable = repaired.map { !$0.isEmpty && $0.area > 0 } ?? false
      guard makeValid, let repaired, repairable else {
        throw TesseraError(.dataError, "\(what) is not a valid polygon (it crosses itself or a ring is not closed); "
                                      + (repairable ? "--make-valid repairs it" : "--make-valid cannot repair it"))
      }
      shape = repaired
    }
    if !crs.isSame(as: raster) {
      do {
        shape = try shape.transformed(with: try CoordinateTransformation(from: crs, to: raster))
      } catch {
        throw TesseraError(.dataError, "\(what) cannot be placed in the raster's CRS (\(CRSInput.label(raster)))")
      }
    }
    let envelope = shape.envelope
    guard envelope.isFinite else { throw TesseraError(.dataError, "\(what) has coordinates that are not numbers") }
    return ClipRegion(shape: shape, envelope: envelope, crs: crs, featureCount: parts.count)
  }

  /// `--geometry`: WKT, or GeoJSON (a geometry, a Feature or a FeatureCollection).
  static func typed(_ text: String, crs: SpatialReference, raster: SpatialReference, makeValid: Bool) throws -> ClipRegion {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    var parts: [Geometry] = []
    do {
      if trimmed.hasPrefix("{") {
        let json = try JSONValue.parse(Data(trimmed.utf8))
        for geometry in geoJSONGeometries(json) { parts.append(try Geometry.geoJSON(geometry.serialized())) }
      } else {
        parts.append(try Geometry.wkt(trimmed))
      }
    } catch {
      throw TesseraError(.usage, "--geometry is neither WKT nor a GeoJSON geometry, Feature or FeatureCollection")
    }
    guard !parts.isEmpty else { throw TesseraError(.dataError, "--geometry holds no geometry") }
    return try polygons(parts, crs: crs, raster: raster, makeValid: makeValid, what: "the --geometry region")
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
    return Features(path: path, files: [path] + source.fileList, features: withGeometry, crs: crs, fields: read.fields)
  }
}
