import Foundation
import GDAL

/// Band statistics computed window by window in Swift.
///
/// GDAL's own ComputeStatistics stores its result in the dataset's PAM, which GDAL then writes as
/// an .aux.xml beside the file on close — beside an input, which Tessera never writes to. This
/// computes the same figures (population standard deviation, nodata and NaN excluded) without
/// touching the dataset.
public enum BandStatisticsScan {
  public static func compute(_ band: RasterBand, progress: ProgressHandler? = nil) throws -> BandStatistics? {
    guard !band.dataType.isComplex else { return nil }
    let isNoData = noDataTest(for: band)
    let plan = WindowPlan(band: band)
    var buffer = [Double](repeating: 0, count: plan.windowWidth * plan.windowHeight)
    var count = 0
    var minV = Double.infinity, maxV = -Double.infinity
    var mean = 0.0, m2 = 0.0
    var done = 0
    let total = max(1, plan.count)
    for window in plan {
      try buffer.withUnsafeMutableBufferPointer { buf in
        try band.read(window, into: buf)
        for i in 0..<window.pixelCount {
          let v = buf[i]
          if v.isNaN || isNoData(v) { continue }
          count += 1
          if v < minV { minV = v }
          if v > maxV { maxV = v }
          // Welford's update keeps the variance exact enough for 16-bit imagery at any size.
          let delta = v - mean
          mean += delta / Double(count)
          m2 += delta * (v - mean)
        }
      }
      done += 1
      if let progress, !progress(Double(done) / Double(total), nil) {
        throw GDALError.userInterrupt(context: "computing statistics")
      }
    }
    guard count > 0 else { return nil }
    return BandStatistics(min: minV, max: maxV, mean: mean, stddev: (m2 / Double(count)).squareRoot())
  }

  /// GDAL's rule: integers compare exactly; floats by ARE_REAL_EQUAL, at the band's precision.
  static func noDataTest(for band: RasterBand) -> (Double) -> Bool {
    guard let nodata = band.noDataValue else { return { _ in false } }
    if nodata.isNaN { return { _ in false } }  // NaN is skipped anyway
    switch band.dataType {
    case .float32:
      let target = Double(Float(nodata))
      return { areRealEqual($0, target) }
    case .float64:
      return { areRealEqual($0, nodata) }
    default:
      return { $0 == nodata }
    }
  }

  static func areRealEqual(_ a: Double, _ b: Double) -> Bool {
    a == b || abs(a - b) < 1e-10 || (b != 0 && abs(1 - a / b) < 1e-10)
  }
}
