import Foundation
import GDAL

/// Changes a raster's resolution or size in its own CRS, through GDAL's warper.
public struct ResampleRequest {
  public enum Target {
    case resolution(x: Double, y: Double)
    /// Pixels, or a percentage of the input's size (`50%` halves width and height).
    case size(OutputDimensions)
  }

  public var input: String
  public var output: OutputSpec
  public var target: Target
  public var resampling: Resampling = .nearest
  public var targetAlignedPixels = false
  /// As gdalwarp -srcnodata and -dstnodata take them.
  public var srcNodata: NodataSetting = .inherit
  public var dstNodata: NodataSetting = .inherit
  public var resources: Resources

  public init(input: String, output: OutputSpec, target: Target, resources: Resources = Resources()) {
    self.input = input
    self.output = output
    self.target = target
    self.resources = resources
  }
}

public enum Resample {
  public static func run(_ request: ResampleRequest, progress: ProgressHandler? = nil) throws -> OperationReport {
    let source = try Dataset.open(request.input)
    guard source.geoTransform != nil else {
      throw TesseraError(.dataError, "\(request.input) has no geotransform to resample on")
    }
    let args = ["-r", request.resampling.gdalName] + Reproject.nodataArguments(src: request.srcNodata, dst: request.dstNodata)
    let type = try source.band(1).dataType
    try request.output.requireNodata(src: request.srcNodata, dst: request.dstNodata, inputBands: source.bandCount,
                                     outputBands: source.bandCount, type: request.output.outputType ?? type)
    var job = WarpJob(sources: [source], output: request.output, resources: request.resources, arguments: args, outputType: type)
    job.resampling = request.resampling
    switch request.target {
    case .resolution(let x, let y):
      job.resolution = (x, y)
      job.targetAlignedPixels = request.targetAlignedPixels
    case .size(let dimensions):
      if request.targetAlignedPixels { throw TesseraError(.usage, "--target-aligned-pixels needs --resolution") }
      job.size = try dimensions.pixels(ofInput: source.width, source.height)
    }
    // The grid is checked before any probe of it: a pixel size too small overflows GDAL's sizes.
    _ = try job.plannedSize()
    let writer: RasterWrite
    if request.output.format == .gtiff, request.srcNodata.isInherit, request.dstNodata.isInherit, let grid = try decimationGrid(request, source, warpArguments: args + job.gridArguments) {
      writer = try decimate(request, source, grid: grid, type: type, progress: progress)
    } else {
      writer = try job.run(progress: progress)
    }
    return writer.report([("input", .string(request.input)), ("resampling", .string(request.resampling.rawValue))])
  }

  // MARK: - Block decimation

  /// Methods whose block-averaging RasterIO gives exactly the warper's pixels when downsampling
  /// on the same grid (checked against gdalwarp in the tests; rms, bilinear and cubic do not).
  /// Only average qualifies, on integers, over footprints of an odd number of pixels: there the
  /// exact mean is never a .5 tie, and RasterIO's rounding and the warper's agree. On even
  /// footprints the warper's weights round ties down where RasterIO rounds them up (±1 in about
  /// 7 % of pixels of a Sentinel-2 band halved), and mode breaks ties between classes its own way,
  /// so those jobs go to the warper.
  static let decimationMethods: Set<Resampling> = [.average]

  /// The output grid and integer factors when the fast path applies: same-grid downsampling by
  /// whole factors with an exact method on a whole-number grid, a source whose validity is nodata
  /// only, and the grid gdalwarp itself would choose, rounded down so every footprint is inside.
  static func decimationGrid(_ request: ResampleRequest, _ source: Dataset, warpArguments: [String]) throws
    -> (width: Int, height: Int, geoTransform: [Double], factorX: Int, factorY: Int)?
  {
    guard decimationMethods.contains(request.resampling), !request.targetAlignedPixels,
      let gt = source.geoTransform, gt[2] == 0, gt[4] == 0
    else { return nil }
    // The warper maps output pixels to source pixels through geo-coordinates in floating point.
    // Only when every pixel edge is a whole number (integer origin and pixel size: Sentinel-2,
    // Landsat and most UTM grids) are its footprint weights exact, so that its average of a tie
    // (x.5) rounds as RasterIO's does. Elsewhere the warper keeps the job.
    let whole = { (v: Double) in v == v.rounded() && abs(v) < 1e12 }
    guard [gt[0], gt[1], gt[3], gt[5]].allSatisfy(whole) else { return nil }
    // gdalwarp reads a downsampling job from the overview (JPEG 2000 resolution level, COG or
    // .ovr level) nearest the target, then resamples that; RasterIO would pick its own level and
    // average it its own way. The shortcut is exact only from full resolution.
    guard try !source.hasReducedResolutions else { return nil }
    let kinds = try (1...Swift.max(1, source.bandCount)).map { try source.band($0).maskKind }
    guard kinds.allSatisfy({ $0 == .allValid || $0 == .nodata }) else { return nil }
    let probe = try GDALUtilities.probeWarp([source], arguments: warpArguments)
    defer { try? probe.close() }
    guard let out = probe.geoTransform, out[0] == gt[0], out[3] == gt[3], out[2] == 0, out[4] == 0 else { return nil }
    let fx = out[1] / gt[1], fy = out[5] / gt[5]
    // Damaged georeferencing can make these anything; only small whole factors qualify.
    guard fx.isFinite, fy.isFinite, (2...1_000_000).contains(fx.rounded()), (2...1_000_000).contains(fy.rounded()) else { return nil }
    let kx = Int(saturating: fx, rounding: .toNearestOrAwayFromZero), ky = Int(saturating: fy, rounding: .toNearestOrAwayFromZero)
    guard kx >= 2, ky >= 2, out[1] == gt[1] * Double(kx), out[5] == gt[5] * Double(ky),
      probe.width * kx <= source.width, probe.height * ky <= source.height,
      (kx * ky) % 2 == 1, try !source.band(1).dataType.isFloatingPoint, try !source.band(1).dataType.isComplex
    else { return nil }
    return (probe.width, probe.height, out, kx, ky)
  }

  /// Downsampling by whole factors through GDAL's RasterIO resampling, window by window on every
  /// thread: the warper computes a coordinate transformation per pixel for a job that needs none.
  static func decimate(
    _ request: ResampleRequest, _ source: Dataset,
    grid: (width: Int, height: Int, geoTransform: [Double], factorX: Int, factorY: Int), type: DataType,
    progress: ProgressHandler?
  ) throws -> RasterWrite {
    let bands = Array(1...source.bandCount)
    let outputType = request.output.outputType ?? type
    let writer = try RasterWrite(request.output, inputs: [request.input] + InputFiles.of([source]), inputLabel: request.input,
                                 resources: request.resources, cache: .streaming) {
      RasterWrite.Layout(width: grid.width, height: grid.height, bands: bands.count, type: outputType)
    }
    let frame = RasterWrite.Frame(width: grid.width, height: grid.height, geoTransform: grid.geoTransform)
    try writer.raster(frame, RasterWrite.Bands(count: bands.count, type: outputType, template: source)) { output in
      try RasterCopy.copy(
        source: request.input, bands: bands, to: output, type: type, threads: request.resources.threads,
        decimation: .init(factorX: grid.factorX, factorY: grid.factorY, method: request.resampling.rawValue),
        conversion: request.output.conversion, progress: progress)
    }
    return writer
  }
}
