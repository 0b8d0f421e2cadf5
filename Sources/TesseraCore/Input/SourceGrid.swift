import Foundation
import GDAL

/// Which area an output covers when its inputs' footprints differ.
public enum ExtentRule: String, CaseIterable, Sendable { case union, intersection }

/// Inputs onto one output grid: each input's own grid checked (north-up, in the CRS the others
/// share, or one it is warped from), the output grid chosen by a resolution rule and an extent
/// rule, and each input placed on that grid as it is or warped onto it (`PlacedInputs`).
enum SourceGrid {
  // MARK: - Each input's grid

  /// Each source's own grid, all in one CRS: refused (65) when one has no north-up
  /// georeferencing or lies in another CRS than the first (nothing is reprojected).
  static func ownGrids(_ sources: [BandSource]) throws -> [Grid] {
    let grids = try sources.map { source -> Grid in
      guard let grid = Grid(of: source.dataset) else {
        throw TesseraError(.dataError, "\(source.path) has no north-up georeferencing (a CRS and an unrotated geotransform)")
      }
      return grid
    }
    if let odd = grids.indices.first(where: { !grids[$0].srs.isSame(as: grids[0].srs) }) {
      throw TesseraError(.dataError, "\(sources[odd].path) is in \(CRSInput.label(grids[odd].srs)), \(sources[0].path) in \(CRSInput.label(grids[0].srs)); reproject one first")
    }
    return grids
  }

  /// The output CRS, and whether any input must be warped to it: `target` when given, else the
  /// one every input shares (refused, 65, when they differ or one has no georeferencing).
  static func crs(of datasets: [Dataset], target: String?, name: (Int) -> String) throws -> (SpatialReference, crosses: Bool) {
    var crss: [SpatialReference] = []
    for (i, ds) in datasets.enumerated() {
      guard let srs = ds.spatialReference, ds.geoTransform != nil else {
        throw TesseraError(.dataError, "\(name(i)) has no georeferencing")
      }
      crss.append(srs)
    }
    if let target {
      let srs = try CRSInput.resolve(target, centre: try? datasets[0].centreLonLat())
      return (srs, crss.contains { !$0.isSame(as: srs) })
    }
    let reference = crss[0]
    let odd = crss.enumerated().filter { !$0.element.isSame(as: reference) }
    if !odd.isEmpty {
      let names = odd.map { "\(name($0.offset)) is \(CRSInput.label($0.element))" }
      throw TesseraError(.dataError, "\(names.joined(separator: ", ")), the others \(CRSInput.label(reference)); pass --dst-crs to reproject")
    }
    return (reference, false)
  }

  // MARK: - The output grid

  /// The output pixel size under `rule`, from each input's pixel size in the output CRS.
  static func resolution(
    _ rule: MosaicRequest.ResolutionRule, sizes: [(x: Double, y: Double)], name: (Int) -> String
  ) throws -> (x: Double, y: Double) {
    let xs = sizes.map(\.x), ys = sizes.map(\.y)
    switch rule {
    case .highest: return (xs.min() ?? 1, ys.min() ?? 1)
    case .lowest: return (xs.max() ?? 1, ys.max() ?? 1)
    case .average: return (xs.reduce(0, +) / Double(sizes.count), ys.reduce(0, +) / Double(sizes.count))
    case .same:
      let first = sizes[0]
      for (i, s) in sizes.enumerated() where abs(s.x - first.x) > 1e-9 * first.x || abs(s.y - first.y) > 1e-9 * first.y {
        throw TesseraError(.dataError, "--resolution same: \(name(i)) has pixels of \(s.x) x \(s.y), the first \(first.x) x \(first.y)")
      }
      return first
    case .explicit(let x, let y): return (x, y)
    }
  }

  /// Each input's extent in `crs` (edges densified), for those that have one.
  static func extents(of datasets: [Dataset], in crs: SpatialReference) throws -> [Extent] {
    try datasets.compactMap { ds in
      guard let e = ds.extent else { return nil }
      guard let srs = ds.spatialReference, !srs.isSame(as: crs) else { return e }
      return try CoordinateTransformation(from: srs, to: crs).transformBounds(e)
    }
  }

  /// The grid with the smallest pixels (the first of equals).
  static func finest(_ grids: [Grid]) -> Int {
    grids.indices.min { grids[$0].resolution.x * grids[$0].resolution.y < grids[$1].resolution.x * grids[$1].resolution.y } ?? 0
  }

  /// The area the inputs' extents cover together under `rule`; an empty intersection is refused (65).
  static func extent(_ extents: [Extent], _ rule: ExtentRule) throws -> Extent {
    switch rule {
    case .union:
      return extents.dropFirst().reduce(extents[0]) { $0.union($1) }
    case .intersection:
      let common = extents.dropFirst().reduce(Optional(extents[0])) { area, next in area?.intersection(next) }
      guard let common else { throw TesseraError(.dataError, "the inputs' footprints do not overlap; --extent intersection is empty") }
      return common
    }
  }

  /// The grid of pixels of `resolution` on the lattice of `grids[lattice]` that covers the
  /// inputs' area under `rule` (snapped outward).
  static func covering(_ grids: [Grid], _ rule: ExtentRule, resolution: (x: Double, y: Double), lattice: Int, cause: String) throws -> Grid {
    let reference = grids[lattice]
    return try Grid.covering(try extent(grids.map(\.extent), rule), srs: reference.srs, resolution: resolution,
                             anchor: Grid.anchor(of: reference.geoTransform, resolution: resolution), cause: cause)
  }

  /// Every source where it lies on `grid`, read as it is; nil when any would need resampling.
  static func placed(_ sources: [BandSource], on grid: Grid) -> [PlacedSource]? {
    var placed: [PlacedSource] = []
    for source in sources {
      guard let window = grid.placement(of: source.dataset) else { return nil }
      placed.append(PlacedSource(path: source.path, window: window))
    }
    return placed
  }
}
