import Foundation
import GDAL

/// Cuts a raster to a region on its own grid: the values inside are the source's, bit for bit,
/// and pixels outside the region (but inside the output) are nodata, or 0 under an alpha band.
public struct ClipRequest {
  /// The region, exactly one.
  public enum Region: Sendable {
    /// A box, in `crs` (the raster's when nil).
    case bbox(Extent, crs: String?)
    /// WKT or GeoJSON typed by the user, in `crs` (the raster's when nil).
    case geometry(String, crs: String?)
    /// The features of a vector file's layer, filtered by an OGR SQL `where`; `crs` stands in
    /// for a file without one.
    case cutline(path: String, layer: String?, where: String?, crs: String?)
    /// The bounds of another raster, in its CRS.
    case like(String)
  }

  public var input: String
  public var output: OutputSpec
  public var region: Region
  /// false: the output is the whole source grid, with nodata outside the region.
  public var crop = true
  /// Pixels the polygons touch at all count as inside (else: pixels whose centre they cover).
  public var allTouched = false
  /// inherit: each band's source nodata, else 0 (declared as the output's nodata; under an
  /// alpha band nothing is declared); none: nothing declared, 0 outside the region.
  public var dstNodata: NodataSetting = .inherit
  /// Overrides the source's nodata (what the default output nodata is taken from).
  public var srcNodata: NodataSetting = .inherit
  /// An alpha band marks the region instead of a nodata value.
  public var addAlpha = false
  /// A region reaching past the raster pads the output with nodata (else it is cut to the raster).
  public var allowOutside = false
  /// Repair an invalid polygon instead of refusing it.
  public var makeValid = false
  public var bands: [Int]?
  /// --strict-datum: a region in another datum PROJ reaches only by a ballpark shift is refused.
  public var datum = DatumShift()
  public var resources: Resources

  public init(input: String, output: OutputSpec, region: Region, resources: Resources = Resources()) {
    self.input = input
    self.output = output
    self.region = region
    self.resources = resources
  }

  /// A cutline's parts, as `--each-feature` reads them.
  public typealias Cutline = (path: String, layer: String?, where: String?, crs: String?)

  /// The cutline `--each-feature` writes one raster per feature of.
  /// - Throws: 64 when the region is not a cutline.
  public static func eachFeatureCutline(_ region: Region) throws -> Cutline {
    guard case .cutline(let path, let layer, let filter, let crs) = region else {
      throw TesseraError(.usage, "--each-feature takes a --cutline")
    }
    return (path, layer, filter, crs)
  }
}

public enum Clip {
  public static func run(_ request: ClipRequest, progress: ProgressHandler? = nil) throws -> OperationReport {
    let source = try Dataset.open(request.input)
    let (grid, bands) = try prepare(request, source)
    let (region, files) = try resolve(request, source: source, grid: grid)
    let datumWarning = try region.datumWarning(raster: grid.srs, datum: request.datum)
    let job = try ClipJob(request: request, source: source, grid: grid, bands: bands, region: region)
    let writer = try RasterWrite(request.output, inputs: [request.input] + InputFiles.of([source]) + files, inputLabel: request.input,
                                resources: request.resources, cache: .singlePass) { job.layout }
    let inside = try writer.raster(job.frame, job.outputBandTemplate) { try job.write(into: $0, progress: progress) }
    return writer.report(try job.details(region: region, pixelsInside: inside), warnings: (datumWarning.map { [$0] } ?? []) + job.warnings)
  }

  /// The source's grid and the bands clipped, checked.
  static func prepare(_ request: ClipRequest, _ source: Dataset) throws -> (Grid, [Int]) {
    guard let grid = Grid(of: source) else {
      throw TesseraError(.dataError, "\(request.input) has no north-up georeferencing (a CRS and an unrotated geotransform) to clip by")
    }
    guard source.bandCount > 0 else { throw TesseraError(.dataError, "\(request.input) has no raster band") }
    let bands = request.bands ?? Array(1...source.bandCount)
    if let high = bands.max(), high > source.bandCount || bands.contains(where: { $0 < 1 }) {
      throw TesseraError(.dataError, "\(request.input) has \(source.bandCount) band(s); -b asks for band \(high)")
    }
    return (grid, bands)
  }

  /// The region in the raster's CRS, and the files read to make it.
  static func resolve(_ request: ClipRequest, source: Dataset, grid: Grid) throws -> (ClipRegion, [String]) {
    let centre = try? source.centreLonLat()
    func crs(_ text: String?) throws -> SpatialReference { try text.map { try CRSInput.resolve($0, centre: centre) } ?? grid.srs }
    switch request.region {
    case .bbox(let box, let text):
      return (try ClipRegion.box(box, crs: try crs(text), raster: grid, option: "--bbox-crs"), [])
    case .like(let path):
      let other = try Dataset.open(path)
      guard let otherCRS = other.spatialReference, let extent = other.extent else {
        throw TesseraError(.dataError, "--like \(path) has no georeferencing")
      }
      return (try ClipRegion.box(extent, crs: otherCRS, raster: grid, option: nil), [path] + InputFiles.of([other]))
    case .geometry(let text, let crsText):
      let given = try crsText.map { try crs($0) }
      return (try ClipRegion.typed(text, crs: given, raster: grid, makeValid: request.makeValid), [])
    case .cutline(let path, let layer, let filter, let crsText):
      let read = try ClipRegion.features(path: path, layer: layer, where: filter, fallbackCRS: try crsText.map { try crs($0) })
      let region = try ClipRegion.polygons(read.features.compactMap(\.geometry), crs: read.crs, raster: grid,
                                           makeValid: request.makeValid, what: "the cutline \(path)",
                                           option: read.crsFromFile ? nil : "--geometry-crs")
      return (region, read.files)
    }
  }
}

/// One clip, decided: the output grid and where the source and the region lie on it.
struct ClipJob {
  let request: ClipRequest
  let source: Dataset
  let bands: [Int]
  /// The type the windows are composed in: the source's, widened to hold `--ot`'s values.
  let type: DataType
  /// The output's: `--ot`, else the source's.
  var outputType: DataType { request.output.outputType ?? type }

  let output: Grid
  /// The source's pixels on the output grid (possibly reaching past it).
  let sourceWindow: Window
  /// For a box: the pixels inside it, on the output grid.
  let boxWindow: Window?
  let shape: Geometry?
  /// Per output band: the value outside the region.
  let fill: [Double]
  /// Per output band: the nodata declared (nil: none).
  let nodata: [Double?]
  var warnings: [String] = []

  var outputBands: Int { bands.count + (request.addAlpha ? 1 : 0) }

  init(request: ClipRequest, source: Dataset, grid: Grid, bands: [Int], region: ClipRegion) throws {
    self.request = request
    self.source = source
    self.bands = bands
    // With --ot, composed in a type that holds the source's values and the output's nodata both.
    let sourceType = try source.band(bands[0]).dataType
    type = sourceType.union(request.output.outputType ?? sourceType)
    shape = region.shape
    let rasterExtent = grid.extent
    let missing = "the region (\(region.envelope.text) in \(CRSInput.label(grid.srs))) does not intersect \(request.input) (bounds \(rasterExtent.text))"
      + region.nearMissHint(grid)
    guard try region.overlaps(grid) else { throw TesseraError(.dataError, missing) }
    // The region snapped outward to whole source pixels: the same lattice, nothing resampled.
    let anchor = Grid.anchor(of: grid.geoTransform, resolution: grid.resolution)
    let e = region.envelope, tx = 1e-6 * grid.resolution.x, ty = 1e-6 * grid.resolution.y
    let reachesOut = e.minX < rasterExtent.minX - tx || e.maxX > rasterExtent.maxX + tx
      || e.minY < rasterExtent.minY - ty || e.maxY > rasterExtent.maxY + ty
    // Sized only once cut to the raster (unless it is to be padded): a region of a whole
    // continent around a small raster is a warning, not an impossible output.
    var cut: Grid
    if reachesOut && !request.allowOutside {
      guard let inside = grid.window(covering: region.envelope) else { throw TesseraError(.dataError, missing) }
      let e = grid.extent(of: inside)
      cut = Grid(srs: grid.srs, minX: e.minX, maxY: e.maxY, resolution: grid.resolution, width: inside.width, height: inside.height)
      if request.crop {
        warnings.append("the region reaches past \(request.input); the output is cut to the raster (--allow-bbox-outside-source pads it with nodata instead)")
      }
    } else {
      cut = try Grid.covering(region.envelope, srs: grid.srs, resolution: grid.resolution, anchor: anchor, cause: "the region")
    }
    if let shape = region.shape {
      // Cropped to the pixels the polygons really cover, so no border of nodata is left.
      guard let covered = try ClipJob.coveredWindow(shape, on: cut, allTouched: request.allTouched) else {
        throw TesseraError(.dataError, "the region covers no pixel centre of \(request.input)" + (request.allTouched ? "" : "; --all-touched keeps every pixel it touches"))
      }
      let e = cut.extent(of: covered)
      cut = Grid(srs: grid.srs, minX: e.minX, maxY: e.maxY, resolution: grid.resolution, width: covered.width, height: covered.height)
    }
    output = request.crop ? cut : grid
    guard let placed = output.placement(of: source) else {
      throw TesseraError(.internalError, "\(request.input) does not sit on its own grid")
    }
    sourceWindow = placed
    boxWindow = region.shape == nil ? output.placement(of: cut) : nil
    try request.output.requireNodata(src: request.srcNodata, dst: request.dstNodata, inputBands: bands.count,
                                     outputBands: bands.count, type: request.output.outputType ?? sourceType)
    var fill: [Double] = [], nodata: [Double?] = []
    for (i, band) in bands.enumerated() {
      let own = request.srcNodata.forBand(i).resolved(inherited: try source.band(band).noDataValue)
      switch request.dstNodata.forBand(i) {
      case .value(let v): fill.append(v); nodata.append(v)
      case .none: fill.append(0); nodata.append(nil)
      case .inherit:
        // Under an alpha band the alpha marks the region and nothing is declared: GeoTIFF holds
        // one nodata per file, which would fall on the alpha band too.
        if request.addAlpha { fill.append(0); nodata.append(nil) } else { fill.append(own ?? 0); nodata.append(own ?? 0) }
      case .perBand: throw TesseraError(.internalError, "a band's nodata setting is a list")
      }
    }
    self.fill = fill
    self.nodata = nodata
  }

  /// Burns `shape` into `buffer` (a byte per pixel, 1 inside) over `window` of `grid`, with
  /// GDAL's rasterizer: pixel centres, or every pixel touched.
  static func burn(_ shape: Geometry, grid: Grid, window: Window, allTouched: Bool, into buffer: UnsafeMutableRawBufferPointer) throws {
    let e = grid.extent(of: window)
    let mask = try Dataset.create(driver: "MEM", path: "", width: window.width, height: window.height, bands: 1, type: .byte, options: [])
    defer { try? mask.close() }
    try mask.setGeoTransform([e.minX, grid.resolution.x, 0, e.maxY, 0, -grid.resolution.y])
    try mask.rasterize([shape], value: 1, allTouched: allTouched)
    try mask.read(Window(x: 0, y: 0, width: window.width, height: window.height), bands: [1], type: .byte, into: buffer)
  }

  /// The smallest window of `grid` holding every pixel the polygons cover, found strip by
  /// strip so memory stays one strip; nil when they cover none.
  static func coveredWindow(_ shape: Geometry, on grid: Grid, allTouched: Bool) throws -> Window? {
    let rows = Swift.max(1, (1 << 22) / Swift.max(1, grid.width))
    var buffer = [UInt8](repeating: 0, count: rows * grid.width)
    var x0 = Int.max, x1 = -1, y0 = Int.max, y1 = -1
    for top in stride(from: 0, to: grid.height, by: rows) {
      let strip = Window(x: 0, y: top, width: grid.width, height: Swift.min(rows, grid.height - top))
      try buffer.withUnsafeMutableBytes { try burn(shape, grid: grid, window: strip, allTouched: allTouched, into: $0) }
      for r in 0..<strip.height {
        let row = buffer[(r * strip.width)..<((r + 1) * strip.width)]
        guard let first = row.firstIndex(where: { $0 != 0 }), let last = row.lastIndex(where: { $0 != 0 }) else { continue }
        x0 = Swift.min(x0, first - r * strip.width)
        x1 = Swift.max(x1, last - r * strip.width)
        y0 = Swift.min(y0, top + r)
        y1 = top + r
      }
    }
    guard x1 >= 0 else { return nil }
    return Window(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1)
  }

  /// The output as checked before the work.
  var layout: RasterWrite.Layout {
    RasterWrite.Layout(grid: output, bands: outputBands, type: outputType, declaresNodata: nodata.contains { $0 != nil })
  }

  var frame: RasterWrite.Frame { RasterWrite.Frame(output) }

  /// The source's bands, each with the nodata decided for it, and an alpha band last if asked.
  var outputBandTemplate: RasterWrite.Bands {
    get throws {
      var bands = RasterWrite.Bands(count: outputBands, type: outputType, template: try SourceSet.bandSubset(source, self.bands),
                                    nodata: .none)
      // The nodata is converted with the pixels (--ot).
      bands.declaredNodata = nodata.map { $0.map { TypeConversion.nodata($0, as: outputType) } }
      if request.addAlpha { bands.colorInterpretations = Array(repeating: nil, count: outputBands - 1) + ["Alpha"] }
      return bands
    }
  }

  /// Writes the clip into the output raster; returns how many pixels are inside.
  func write(into dataset: Dataset, progress: ProgressHandler?) throws -> Int {
    try ClipWriter(job: self).write(into: dataset, progress: progress)
  }

  func details(region: ClipRegion, pixelsInside: Int) throws -> [(String, JSONValue)] {
    let kind: String
    switch request.region {
    case .bbox: kind = "bbox"
    case .geometry: kind = "geometry"
    case .cutline: kind = "cutline"
    case .like: kind = "like"
    }
    return [
      ("input", .string(request.input)),
      ("region", .object([
        // The bounds are in the raster's CRS, so "crs" is that one; the CRS it was given in apart.
        ("kind", .string(kind)), ("crs", try CRSDescription.json(output.srs)),
        ("bounds", RasterInfo.extentJSON(region.envelope)), ("feature_count", .int(region.featureCount)),
        ("given_crs", try CRSDescription.json(region.crs)),
      ])),
      ("all_touched", .bool(request.allTouched)),
      ("pixels_inside", .int(pixelsInside)),
    ]
  }
}
