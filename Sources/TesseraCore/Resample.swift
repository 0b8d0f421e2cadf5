import Foundation
import GDAL

/// Changes a raster's resolution or size in its own CRS, through GDAL's warper.
public struct ResampleRequest {
  public enum Target {
    case resolution(x: Double, y: Double)
    /// Output width and height are the input's times the factor (0.5 halves them).
    case scale(Double)
    case size(width: Int, height: Int)
  }

  public var input: String
  public var output: String
  public var target: Target
  public var resampling: Resampling = .nearest
  public var targetAlignedPixels = false
  public var write: WriteOptions

  public init(input: String, output: String, target: Target, write: WriteOptions = WriteOptions()) {
    self.input = input
    self.output = output
    self.target = target
    self.write = write
  }
}

public enum Resample {
  public static func run(_ request: ResampleRequest, progress: ProgressHandler? = nil) throws -> OperationReport {
    let source = try Dataset.open(request.input)
    guard source.geoTransform != nil else {
      throw TesseraError(.dataError, "\(request.input) has no geotransform to resample on")
    }
    var args = ["-r", request.resampling.gdalName]
    switch request.target {
    case .resolution(let x, let y):
      args += ["-tr", "\(x)", "\(y)"]
    case .scale(let factor):
      guard factor > 0 else { throw TesseraError(.usage, "--scale must be positive") }
      if request.targetAlignedPixels { throw TesseraError(.usage, "--target-aligned-pixels needs --resolution") }
      let w = Int((Double(source.width) * factor).rounded()), h = Int((Double(source.height) * factor).rounded())
      guard w > 0, h > 0 else { throw TesseraError(.usage, "--scale \(factor) leaves no pixel") }
      args += ["-ts", "\(w)", "\(h)"]
    case .size(let w, let h):
      if request.targetAlignedPixels { throw TesseraError(.usage, "--target-aligned-pixels needs --resolution") }
      args += ["-ts", "\(w)", "\(h)"]
    }
    if request.targetAlignedPixels { args.append("-tap") }
    let type = try source.band(1).dataType
    try WarpJob(sources: [source], output: request.output, write: request.write, arguments: args, outputType: type)
      .run(progress: progress)
    return OperationReport(outputs: [request.output], details: [
      ("input", .string(request.input)), ("resampling", .string(request.resampling.rawValue)),
    ])
  }
}
