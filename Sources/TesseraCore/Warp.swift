import Foundation
import GDAL

/// One gdalwarp run over open sources into a safe output: the shared engine of reproject,
/// resample, and mosaics that cross CRSs.
struct WarpJob {
  var sources: [Dataset]
  var output: String
  var write: WriteOptions
  /// gdalwarp arguments for the geometry and resampling; output options are added here.
  var arguments: [String]
  var outputType: DataType
  /// The user's input paths, when `sources` are wrappers (band-subset VRTs) of them.
  var inputPaths: [String]?

  init(sources: [Dataset], output: String, write: WriteOptions, arguments: [String], outputType: DataType) {
    self.sources = sources
    self.output = output
    self.write = write
    self.arguments = arguments
    self.outputType = outputType
  }

  func run(progress: ProgressHandler?) throws {
    let target = try OutputTarget(path: output, inputs: inputPaths ?? sources.map(\.path), overwrite: write.overwrite)
    var args = arguments + ["-of", write.format.rawValue]
    for option in write.resolvedCreationOptions(for: outputType) { args += ["-co", option] }
    args += WarpJob.performanceArguments(threads: write.processing.threads, format: write.format)
    try writing(target) {
      let dataset = try GDALUtilities.warp(sources, to: target.temporaryPath, arguments: args, progress: progress)
      try dataset.close()
    }
  }

  /// The warper's speed settings: the kernel on every thread and I/O overlapped with computation
  /// (-multi). Warp memory stays at gdalwarp's default on purpose: the approximate transformer
  /// works per chunk, so another chunking gives (slightly) different pixels than gdalwarp's.
  static func performanceArguments(threads: Int, format: OutputFormat) -> [String] {
    guard format == .gtiff else { return [] }
    return ["-multi", "-wo", "NUM_THREADS=\(threads)"]
  }
}

extension Dataset {
  /// The dataset's centre in WGS 84 longitude/latitude, for the `utm` alias.
  func centreLonLat() throws -> (lon: Double, lat: Double) {
    guard let gt = geoTransform, let srs = spatialReference else {
      throw TesseraError(.dataError, "\(path) has no georeferencing to take a UTM zone from")
    }
    var point = [(x: gt[0] + Double(width) / 2 * gt[1] + Double(height) / 2 * gt[2],
                  y: gt[3] + Double(width) / 2 * gt[4] + Double(height) / 2 * gt[5])]
    try CoordinateTransformation(from: srs, to: try SpatialReference(epsg: 4326)).transform(&point)
    return (point[0].x, point[0].y)
  }

  /// The extent of the dataset in its own CRS.
  var extent: Extent? {
    geoTransform.map { RasterInfo.bounds(geoTransform: $0, width: width, height: height) }
  }
}

/// Whether two extents share any area.
func intersects(_ a: Extent, _ b: Extent) -> Bool {
  a.minX < b.maxX && b.minX < a.maxX && a.minY < b.maxY && b.minY < a.maxY
}

/// Checks a --bbox against the footprint of the sources; no overlap is bad input (65).
func requireOverlap(bbox: Extent, bboxCRS: SpatialReference?, sources: [Dataset]) throws {
  for source in sources {
    guard let extent = source.extent else { continue }
    var footprint = extent
    if let bboxCRS, let srs = source.spatialReference, !srs.isSame(as: bboxCRS) {
      footprint = try CoordinateTransformation(from: srs, to: bboxCRS).transformBounds(extent)
    }
    if intersects(bbox, footprint) { return }
  }
  throw TesseraError(
    .dataError,
    String(format: "bbox %.6g,%.6g,%.6g,%.6g does not overlap ", bbox.minX, bbox.minY, bbox.maxX, bbox.maxY)
      + (sources.count == 1 ? sources[0].path : "any input"))
}
