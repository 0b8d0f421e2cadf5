import Foundation
import GDAL

/// Which area an output covers when its inputs' footprints differ.
public enum ExtentRule: String, CaseIterable, Sendable { case union, intersection }

/// One band of one input file, as a command puts it on a grid.
struct BandSource {
  /// The file (for a band pick `FILE:N`, FILE).
  let path: String
  let band: Int
  let dataset: Dataset

  /// Band `band` of `dataset`; refused (65) when the file has no such band, naming `asker`, the
  /// input or role that asked for it.
  init(path: String, band: Int, dataset: Dataset, askedBy asker: String) throws {
    try BandSource.requireBand(band, of: dataset, path: path, askedBy: asker)
    self.path = path
    self.band = band
    self.dataset = dataset
  }

  /// Refuses (65) a band the file does not have.
  static func requireBand(_ band: Int, of dataset: Dataset, path: String, askedBy asker: String) throws {
    guard band >= 1, band <= dataset.bandCount else {
      throw TesseraError(.dataError, "\(asker) asks for band \(band); \(path) has \(dataset.bandCount)")
    }
  }

  /// Every input as bands: a pick's one band (`FILE:N`), or every band of a file in order.
  static func bands(of paths: [String]) throws -> [BandSource] {
    let detach = SourceSet.mustDetach(paths.count)
    var sources: [BandSource] = []
    for argument in paths {
      if let bad = SourceSet.badPick(argument) { throw TesseraError(.usage, bad) }
      let pick = SourceSet.pick(argument)
      let dataset = try SourceSet.open(pick.path, detach: detach)
      guard dataset.bandCount > 0 else { throw TesseraError(.dataError, "\(pick.path) has no raster band") }
      for band in pick.band.map({ [$0] }) ?? Array(1...dataset.bandCount) {
        sources.append(try BandSource(path: pick.path, band: band, dataset: dataset, askedBy: argument))
      }
    }
    return sources
  }

  var dataType: DataType { get throws { try dataset.band(band).dataType } }
  var noDataValue: Double? { get throws { try dataset.band(band).noDataValue } }
}

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

/// Sources on an output grid as the compositors read them: a source on the grid's lattice as it
/// is, any other resampled onto the grid by GDAL's warper into a VRT read window by window.
struct PlacedInputs {
  let sources: [PlacedSource]
  /// The band each source is read from.
  let bands: [Int]
  /// The warped VRTs and the bands they read: they live until `remove()`.
  private let files: [MemoryFile]

  /// `inputs` on `grid` (every one in the grid's CRS), those off its lattice resampled with
  /// `resampling(k)`.
  init(_ inputs: [BandSource], on grid: Grid, resampling: (Int) -> Resampling) throws {
    var sources: [PlacedSource] = [], bands: [Int] = [], files: [MemoryFile] = []
    for (k, input) in inputs.enumerated() {
      if let window = grid.placement(of: input.dataset) {
        sources.append(PlacedSource(path: input.path, window: window))
        bands.append(input.band)
        continue
      }
      let file = MemoryFile(name: "input-\(k).vrt"), band = MemoryFile(name: "band-\(k).vrt")
      files += [file, band]
      try PlacedInputs.warp(input, onto: grid, resampling: resampling(k), band: band.path, to: file.path)
      sources.append(PlacedSource(path: file.path, window: Window(x: 0, y: 0, width: grid.width, height: grid.height)))
      bands.append(1)
    }
    self.sources = sources
    self.bands = bands
    self.files = files
  }

  /// The band alone, written and closed at `band`, then warped onto the grid as a VRT at `path`.
  static func warp(_ input: BandSource, onto grid: Grid, resampling: Resampling, band: String, to path: String) throws {
    let e = grid.extent
    try GDALUtilities.translate(input.dataset, to: band, arguments: ["-of", "VRT", "-b", "\(input.band)"]).close()
    try GDALUtilities.warp([try Dataset.open(band)], to: path, arguments: [
      "-of", "VRT", "-r", resampling.gdalName, "-tr", "\(grid.resolution.x)", "\(grid.resolution.y)",
      "-te", "\(e.minX)", "\(e.minY)", "\(e.maxX)", "\(e.maxY)",
    ]).close()
  }

  /// Unlinks the warped VRTs; call when the sources are read no more.
  func remove() { files.forEach { $0.remove() } }
}
