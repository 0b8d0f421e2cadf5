import Foundation
import GDAL

/// min, max, mean and count mosaics: each output pixel combines the valid pixels of every input
/// that covers it, window by window. GDAL 3.6 has no such rule built in.
///
/// Each input is first put on the output grid by GDAL itself (a VRT, or a warped VRT when its CRS
/// differs), with an alpha band marking its footprint when it has no nodata; validity is then
/// GDAL's mask band of each input band, so nodata, alpha and footprint all count the same way.
struct MosaicCompositor {
  let request: MosaicRequest
  let plan: MosaicPlan

  var sources: [Dataset] { plan.sources.datasets }
  var bands: [Int] { plan.sources.bands }
  var type: DataType { plan.sources.type }

  var method: MosaicRequest.Method { request.method }

  /// The user's `--ot`, else the method's own type.
  var outputType: DataType { request.output.outputType ?? naturalType }

  var naturalType: DataType {
    switch method {
    case .count: return .uint16
    case .mean: return type == .float64 ? .float64 : .float32
    default: return type
    }
  }

  func run(progress: ProgressHandler?) throws {
    if request.output.format == .vrt {
      throw TesseraError(.usage, "--method \(method.rawValue) computes pixels; write GTiff, not VRT")
    }
    let staged = MemoryFile(name: "grid.vrt")
    defer { staged.remove() }
    var alignedFiles: [MemoryFile] = []
    defer { alignedFiles.forEach { $0.remove() } }

    // The output grid, as GDAL lays out the union of the inputs.
    let grid = try outputGrid(to: staged.path)
    defer { try? grid.close() }
    for (i, source) in sources.enumerated() {
      let file = MemoryFile(name: "input-\(i).vrt")
      try align(source, to: grid, path: file.path)
      alignedFiles.append(file)
    }
    let aligned = alignedFiles.map(\.path)

    let nodata = outputNodata()
    let writer = try Mosaic.output(request, plan)
    try writer.write {
      let output = try OutputRaster.create(like: grid, in: writer.target, bands: bands.count, type: outputType, spec: request.output,
                                           threads: request.resources.threads, nodata: nodata)
      try composite(aligned, into: output, nodata: nodata, progress: progress)
      try output.close()
    }
  }

  /// What marks "no valid input" in the output.
  func outputNodata() -> NodataSetting {
    if method == .count { return .none }
    if !request.dstNodata.isInherit { return request.dstNodata }
    if case .value(let v) = request.srcNodata { return .value(v) }
    if let v = try? sources[0].band(bands[0]).noDataValue { return .value(v) }
    return outputType.isFloatingPoint ? .value(.nan) : .value(0)
  }

  func outputGrid(to path: String) throws -> Dataset {
    var args = plan.gridArguments(targetAlignedPixels: request.targetAlignedPixels)
    if plan.crossesCRS {
      args += ["-of", "VRT", "-r", request.resampling.gdalName] + (try plan.crsArguments(request.datum))
      let selected = try sources.map { try request.datum.wrap(try SourceSet.bandSubset($0, bands)) }
      // Only the grid is used: the warped VRT holds the first source alone, which GDAL warns of.
      try GDALProbe.run { try GDALUtilities.warp(selected, to: path, arguments: args).close() }
    } else {
      for b in bands { args += ["-b", "\(b)"] }
      // gdalbuildvrt lays out sources of one data type only; the grid is all that is used here.
      let (sameType, wrappers) = try SourceSet.homogeneous(sources, type: type)
      defer { wrappers.forEach { $0.remove() } }
      try GDALUtilities.buildVRT(sameType, to: path, arguments: args).close()
    }
    return try Dataset.open(path)
  }

  /// One input on exactly the output grid, with its validity in the mask bands.
  func align(_ source: Dataset, to grid: Dataset, path: String) throws {
    guard let gt = grid.geoTransform else { throw TesseraError(.internalError, "mosaic grid has no geotransform") }
    let extent = RasterInfo.bounds(geoTransform: gt, width: grid.width, height: grid.height)
    let te = ["-te", "\(extent.minX)", "\(extent.minY)", "\(extent.maxX)", "\(extent.maxY)"]
    let hasNodata = request.srcNodata.resolved(inherited: (try? source.band(bands[0]).noDataValue) ?? nil) != nil
    var args: [String] = ["-r", request.resampling.gdalName]
    // A per-band --src-nodata takes gdalwarp's rule (nodata where every band holds its value):
    // the warper marks validity in an alpha band, for all bands at once.
    let unified = request.srcNodata.isPerBand
    if unified || (plan.crossesCRS && !(source.spatialReference.map { $0.isSame(as: plan.crs) } ?? true)) {
      args += ["-of", "VRT", "-ts", "\(grid.width)", "\(grid.height)"] + te + (try plan.crsArguments(request.datum))
      if let src = request.srcNodata.gdalArgument { args += ["-srcnodata", src] }
      if unified { args += ["-dstnodata", "None"] }
      if !hasNodata || unified { args.append("-dstalpha") }
      try GDALUtilities.warp([try request.datum.wrap(try SourceSet.bandSubset(source, bands))], to: path, arguments: args).close()
    } else {
      args += ["-tr", "\(abs(gt[1]))", "\(abs(gt[5]))"] + te
      for b in bands { args += ["-b", "\(b)"] }
      if let src = request.srcNodata.gdalArgument { args += ["-srcnodata", src] }
      if !hasNodata { args.append("-addalpha") }
      try GDALUtilities.buildVRT([source], to: path, arguments: args).close()
    }
    let check = try Dataset.open(path)
    defer { try? check.close() }
    guard check.width == grid.width, check.height == grid.height else {
      throw TesseraError(.internalError, "\(source.path) aligned to \(check.width)x\(check.height), not the grid's \(grid.width)x\(grid.height)")
    }
  }

  /// A worker's buffers: one input band's values and validity, and per output band and pixel a
  /// running value and how many inputs were valid.
  struct Scratch {
    var values: [Double]
    var mask: [UInt8]
    var accumulator: [Double]
    var counts: [UInt32]
  }

  func composite(_ aligned: [String], into output: Dataset, nodata: NodataSetting, progress: ProgressHandler?) throws {
    let bandCount = bands.count
    let fills: [Double] = (0..<bandCount).map { b in
      if case .value(let v) = nodata.forBand(b) { return v } else { return 0 }
    }
    let whole = Window(x: 0, y: 0, width: output.width, height: output.height)
    // Per pixel: a value and a mask byte, and for every band an accumulator, a count and a result.
    var writer = WindowedWriter<Scratch>(bands: bandCount, type: .float64, threads: request.resources.threads,
                                         sources: aligned.map { PlacedSource(path: $0, window: whole) },
                                         bytesPerPixel: 9 + bandCount * 20)
    writer.targetBytes = 1 << 23
    writer.conversion = request.output.conversion
    writer.nodata = fills
    try writer.write(
      to: output, progress: progress,
      makeScratch: { capacity in
        Scratch(values: [Double](repeating: 0, count: capacity), mask: [UInt8](repeating: 0, count: capacity),
                accumulator: [Double](repeating: 0, count: capacity * bandCount),
                counts: [UInt32](repeating: 0, count: capacity * bandCount))
      },
      compute: { window, reader, scratch, values in
        let result = values.bindMemory(to: Double.self)
        for b in 0..<bandCount {
          try accumulate(band: b, window, reader, &scratch)
          combine(band: b, window.pixelCount, scratch, fill: fills[b], into: result)
        }
      })
  }

  /// Runs band `b` of every input through the method, pixel by pixel, where it is valid.
  private func accumulate(band b: Int, _ window: Window, _ reader: CompositeReader, _ w: inout Scratch) throws {
    let n = window.pixelCount, base = b * n, method = self.method
    for i in 0..<n { w.counts[base + i] = 0 }
    for source in reader.sources.indices {
      try w.values.withUnsafeMutableBufferPointer { values in
        try w.mask.withUnsafeMutableBufferPointer { mask in
          try reader.readValid(source, window, band: b + 1, values: values, mask: mask)
        }
      }
      for i in 0..<n {
        let v = w.values[i]
        if w.mask[i] == 0 || v.isNaN { continue }
        let k = base + i
        let c = w.counts[k]
        if c == 0 {
          w.accumulator[k] = method == .count ? 0 : v
        } else {
          switch method {
          case .min: if v < w.accumulator[k] { w.accumulator[k] = v }
          case .max: if v > w.accumulator[k] { w.accumulator[k] = v }
          case .mean: w.accumulator[k] += v
          default: break
          }
        }
        w.counts[k] = c + 1
      }
    }
  }

  /// Band `b`'s output values from what was accumulated: `fill` where no input was valid.
  private func combine(band b: Int, _ n: Int, _ w: Scratch, fill: Double, into result: UnsafeMutableBufferPointer<Double>) {
    let base = b * n, method = self.method
    for i in 0..<n {
      let k = base + i
      let c = w.counts[k]
      switch method {
      case .count: result[k] = Double(c)
      case .mean: result[k] = c == 0 ? fill : w.accumulator[k] / Double(c)
      default: result[k] = c == 0 ? fill : w.accumulator[k]
      }
    }
  }
}
