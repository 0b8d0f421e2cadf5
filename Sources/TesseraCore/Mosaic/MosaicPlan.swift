import Foundation
import GDAL

/// What a mosaic will be, decided before anything is written: the inputs, the output CRS and
/// whether any input crosses into it, the pixel size, the bounds and the output's size.
struct MosaicPlan {
  let sources: SourceSet
  let crs: SpatialReference
  /// Whether any input must be reprojected to `crs`.
  let crossesCRS: Bool
  let resolution: (x: Double, y: Double)
  /// The requested bounds in the output CRS (a --bbox in another CRS transformed, edges densified).
  let bbox: Extent?
  let size: (width: Int, height: Int)
  /// The output CRS as the warper sees it (bound to WGS 84 by --dst-towgs84).
  let warpCRS: SpatialReference
  /// The datum change's warnings, one per input that crosses it by a ballpark shift.
  let datumWarnings: [String]

  init(_ request: MosaicRequest, sources: SourceSet) throws {
    self.sources = sources
    (crs, crossesCRS) = try SourceGrid.crs(of: sources.datasets, target: request.dstCRS, name: sources.name)
    resolution = try MosaicPlan.resolution(request.resolution, sources, target: crs, crossesCRS: crossesCRS)
    var bbox = request.bbox
    if let box = request.bbox, let text = request.bboxCRS {
      let boxCRS = try CRSInput.resolve(text, centre: try? sources.datasets[0].centreLonLat())
      try requireOverlap(bbox: box, bboxCRS: boxCRS, sources: sources.datasets)
      if !boxCRS.isSame(as: crs) { bbox = try CoordinateTransformation(from: boxCRS, to: crs).transformBounds(box) }
    } else if let box = bbox {
      try requireOverlap(bbox: box, bboxCRS: crs, sources: sources.datasets)
    }
    self.bbox = bbox
    size = try MosaicPlan.plannedSize(request, bbox: bbox, sources, target: crs, resolution: resolution)
    try request.datum.requireReadableOperation()
    warpCRS = try request.datum.target(crs)
    let target = crs
    datumWarnings = !crossesCRS ? [] : try request.datum.check(
      sources: sources.datasets, sourceCRS: { ds in try ds.spatialReference.flatMap { $0.isSame(as: target) ? nil : try request.datum.source($0) } },
      to: warpCRS, label: { sources.name($0) })
  }

  /// gdalwarp's arguments that place the inputs in the output CRS: -t_srs, and -ct when given.
  func crsArguments(_ datum: DatumShift) throws -> [String] {
    ["-t_srs", try warpCRS.wkt(.wkt2, multiline: false)] + datum.warpArguments
  }

  /// gdalwarp's and gdalbuildvrt's grid arguments: pixel size, bounds, alignment.
  func gridArguments(targetAlignedPixels: Bool) -> [String] {
    var args = ["-tr", "\(resolution.x)", "\(resolution.y)"]
    if let bbox { args += ["-te", "\(bbox.minX)", "\(bbox.minY)", "\(bbox.maxX)", "\(bbox.maxY)"] }
    if targetAlignedPixels { args.append("-tap") }
    return args
  }

  /// Whether any input's pixel size differs from the output's.
  func changesResolution(_ datasets: [Dataset]) -> Bool {
    datasets.contains { ds in
      guard let gt = ds.geoTransform else { return true }
      return abs(abs(gt[1]) - resolution.x) > 1e-9 * resolution.x || abs(abs(gt[5]) - resolution.y) > 1e-9 * resolution.y
    }
  }

  // MARK: - Deciding

  /// The output pixel size under the rule, in the target CRS.
  static func resolution(
    _ rule: MosaicRequest.ResolutionRule, _ sources: SourceSet, target: SpatialReference, crossesCRS: Bool
  ) throws -> (x: Double, y: Double) {
    if case .explicit(let x, let y) = rule { return (x, y) }
    let sizes: [(x: Double, y: Double)] = try sources.datasets.map { ds in
      if let gt = ds.geoTransform, !crossesCRS || (ds.spatialReference?.isSame(as: target) ?? false) {
        return (abs(gt[1]), abs(gt[5]))
      }
      return try suggestedResolution(ds, target: target)
    }
    return try SourceGrid.resolution(rule, sizes: sizes, name: sources.name)
  }

  /// The output's dimensions: the bbox, or the union of the inputs in the target CRS, at the
  /// resolution. Refused (64) before GDAL's own size arithmetic when no raster can have them.
  static func plannedSize(
    _ request: MosaicRequest, bbox: Extent?, _ sources: SourceSet, target: SpatialReference, resolution: (x: Double, y: Double)
  ) throws -> (width: Int, height: Int) {
    var area = bbox
    if area == nil {
      let extents = try SourceGrid.extents(of: sources.datasets, in: target)
      if !extents.isEmpty { area = try SourceGrid.extent(extents, .union) }
    }
    guard let u = area else { return (1, 1) }
    let extra = request.targetAlignedPixels ? 2.0 : 0.0
    let width = (u.maxX - u.minX) / resolution.x + extra, height = (u.maxY - u.minY) / resolution.y + extra
    let cause: String
    var fromInput = false
    if case .explicit = request.resolution {
      cause = "--resolution \(resolution.x)" + (resolution.x == resolution.y ? "" : ",\(resolution.y)")
    } else {
      cause = "the inputs' georeferencing (pixels of \(resolution.x) x \(resolution.y) over \(u.text))"
      fromInput = true
    }
    try OutputSize.requireGrid(width: width, height: height, cause: cause, fromInput: fromInput)
    return (Swift.max(1, Int(saturating: width, rounding: .toNearestOrAwayFromZero)),
            Swift.max(1, Int(saturating: height, rounding: .toNearestOrAwayFromZero)))
  }

  /// The pixel size gdalwarp would choose for `ds` in `target`.
  static func suggestedResolution(_ ds: Dataset, target: SpatialReference) throws -> (x: Double, y: Double) {
    let probe = try GDALUtilities.probeWarp([ds], arguments: ["-t_srs", try target.wkt(.wkt2, multiline: false)])
    defer { try? probe.close() }
    guard let gt = probe.geoTransform else {
      throw TesseraError(.dataError, "\(ds.path) cannot be placed in \(CRSInput.label(target))")
    }
    return (abs(gt[1]), abs(gt[5]))
  }
}
