import Foundation
import GDAL

/// What a CI job expects of a merged raster; every expectation given becomes one check.
public struct MergeExpectations: Sendable {
  public var bandCount: Int?
  public var bandNames: [String]?
  public var crs: String?
  public var resolution: Double?
  public var minValidFraction: Double?
  /// A merge-memfile report whose grid, bands and checksums the file must match.
  public var againstReport: String?

  public init() {}
}

/// One check of validate-merge.
public struct MergeCheck: Sendable {
  public var name: String
  public var passed: Bool
  public var expected: String
  public var actual: String

  public var json: JSONValue {
    .object([("check", .string(name)), ("passed", .bool(passed)), ("expected", .string(expected)), ("actual", .string(actual))])
  }
}

public enum MergeValidation {
  /// Runs every check. Throws only when the file (or the report) cannot be read at all.
  public static func validate(path: String, expectations: MergeExpectations) throws -> [MergeCheck] {
    // A check computed from pixels GDAL failed to read would pass or fail for no reason.
    let mark = GDALFailures.shared.mark
    let dataset: Dataset
    do {
      dataset = try Dataset.open(path)
    } catch let error as OpenError {
      throw TesseraError.from(error)
    }
    defer { try? dataset.close() }
    guard dataset.bandCount > 0 else { throw TesseraError(.dataError, "\(path) has no raster band") }
    var checks: [MergeCheck] = []
    let names = dataset.bands.map(\.description)

    if let count = expectations.bandCount {
      checks.append(MergeCheck(name: "band count", passed: dataset.bandCount == count, expected: "\(count)", actual: "\(dataset.bandCount)"))
    }
    if let expected = expectations.bandNames {
      let wanted = expected.map { Sentinel2Band(name: $0).map(\.componentNames) ?? [$0.uppercased()] }.flatMap { $0 }
      checks.append(MergeCheck(name: "band names", passed: names == wanted,
                               expected: wanted.joined(separator: ","), actual: names.joined(separator: ",")))
    }
    if let crs = expectations.crs {
      let wanted = try CRSInput.resolve(crs, centre: try? dataset.centreLonLat())
      let actual = dataset.spatialReference
      checks.append(MergeCheck(name: "crs", passed: actual.map { $0.isSame(as: wanted) } ?? false,
                               expected: CRSInput.label(wanted), actual: CRSInput.label(actual)))
    }
    if let resolution = expectations.resolution {
      let gt = dataset.geoTransform ?? [0, 0, 0, 0, 0, 0]
      let ok = abs(abs(gt[1]) - resolution) <= 1e-9 * resolution && abs(abs(gt[5]) - resolution) <= 1e-9 * resolution
      checks.append(MergeCheck(name: "resolution", passed: ok, expected: "\(resolution.formatted())",
                               actual: "\(abs(gt[1]).formatted()),\(abs(gt[5]).formatted())"))
    }
    var fractions: [Double]?
    func validFractions() throws -> [Double] {
      if let fractions { return fractions }
      let computed = try dataset.bands.map(validFraction)
      fractions = computed
      return computed
    }
    if let minimum = expectations.minValidFraction {
      for (i, fraction) in try validFractions().enumerated() {
        checks.append(MergeCheck(name: "valid fraction of band \(i + 1) (\(names[i]))", passed: fraction >= minimum,
                                 expected: ">= \(minimum)", actual: String(format: "%.6f", fraction)))
      }
    }
    if let reportPath = expectations.againstReport {
      checks += try againstReport(reportPath, dataset: dataset, names: names, fractions: validFractions)
    }
    try GDALFailures.shared.check(since: mark, context: "reading \(path)")
    return checks
  }

  /// The share of a band's pixels that are neither nodata nor NaN.
  static func validFraction(_ band: RasterBand) throws -> Double {
    let isNoData = BandStatisticsScan.noDataTest(for: band)
    var valid = 0
    let plan = WindowPlan(band: band)
    var buffer = [Double](repeating: 0, count: plan.windowWidth * plan.windowHeight)
    for window in plan {
      try buffer.withUnsafeMutableBufferPointer { buf in
        try band.read(window, into: buf)
        for i in 0..<window.pixelCount where !buf[i].isNaN && !isNoData(buf[i]) { valid += 1 }
      }
    }
    return Double(valid) / Double(max(1, band.width * band.height))
  }

  static func againstReport(_ path: String, dataset: Dataset, names: [String], fractions: () throws -> [Double]) throws -> [MergeCheck] {
    let data = try TextInput.read(path, role: "report")
    let report: MergeReportExpectation
    do {
      report = try JSONValue.decode(MergeReportExpectation.self, from: data)
    } catch {
      throw TesseraError(.dataError, "\(path) is not a merge-memfile report (no grid or bands)")
    }
    let grid = report.grid
    var checks: [MergeCheck] = []
    checks.append(MergeCheck(name: "size as reported", passed: grid.width == dataset.width && grid.height == dataset.height,
                             expected: "\(grid.width) x \(grid.height)", actual: "\(dataset.width) x \(dataset.height)"))
    let reportedGT = grid.geotransform
    let gt = dataset.geoTransform ?? []
    let sameGT = reportedGT.count == 6 && gt.count == 6 && zip(reportedGT, gt).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($0)) }
    checks.append(MergeCheck(name: "geotransform as reported", passed: sameGT,
                             expected: reportedGT.map { "\($0)" }.joined(separator: ","), actual: gt.map { "\($0)" }.joined(separator: ",")))
    if let epsg = grid.crs.epsg {
      let actual = dataset.spatialReference?.epsg
      checks.append(MergeCheck(name: "crs as reported", passed: actual == epsg, expected: "EPSG:\(epsg)", actual: actual.map { "EPSG:\($0)" } ?? "none"))
    }
    let reportedNames = report.bands.map(\.name)
    checks.append(MergeCheck(name: "bands as reported", passed: reportedNames == names,
                             expected: reportedNames.joined(separator: ","), actual: names.joined(separator: ",")))
    guard reportedNames == names else { return checks }
    let actualFractions = try fractions()
    for (i, band) in report.bands.enumerated() {
      if let checksum = band.checksum {
        let actual = try dataset.band(i + 1).checksum()
        checks.append(MergeCheck(name: "checksum of \(names[i])", passed: actual == checksum, expected: "\(checksum)", actual: "\(actual)"))
      }
      if let hash = band.contentHash {
        let actual = try PixelHash.of(try dataset.band(i + 1)).text
        checks.append(MergeCheck(name: "content hash of \(names[i])", passed: actual == hash, expected: hash, actual: actual))
      }
      checks.append(MergeCheck(name: "valid fraction of \(names[i]) as reported", passed: abs(band.validFraction - actualFractions[i]) <= 1e-9,
                               expected: String(format: "%.6f", band.validFraction), actual: String(format: "%.6f", actualFractions[i])))
    }
    return checks
  }
}
