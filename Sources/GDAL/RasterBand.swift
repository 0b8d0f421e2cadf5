import CGDAL
import Foundation

/// Summary statistics of a band, over its valid pixels.
public struct BandStatistics: Equatable, Sendable {
  public var min: Double, max: Double, mean: Double, stddev: Double
  public init(min: Double, max: Double, mean: Double, stddev: Double) {
    self.min = min; self.max = max; self.mean = mean; self.stddev = stddev
  }
}

/// One band of a dataset. Holds its dataset alive.
public final class RasterBand {
  public let dataset: Dataset
  let handle: GDALRasterBandH
  /// 1-based, as GDAL counts.
  public let index: Int

  init(dataset: Dataset, handle: GDALRasterBandH, index: Int) {
    self.dataset = dataset
    self.handle = handle
    self.index = index
  }

  public var dataType: DataType { DataType(gdal: GDALGetRasterDataType(handle)) ?? .float64 }
  public var width: Int { Int(GDALGetRasterBandXSize(handle)) }
  public var height: Int { Int(GDALGetRasterBandYSize(handle)) }

  public var blockSize: (width: Int, height: Int) {
    var w: Int32 = 0, h: Int32 = 0
    GDALGetBlockSize(handle, &w, &h)
    return (Int(w), Int(h))
  }

  public var noDataValue: Double? {
    var has: Int32 = 0
    let value = GDALGetRasterNoDataValue(handle, &has)
    return has != 0 ? value : nil
  }

  public func setNoDataValue(_ value: Double?) throws {
    if let value {
      try GDALCall.check("setting nodata on band \(index) of \(dataset.path)", dataset: dataset.path) { GDALSetRasterNoDataValue(handle, value) }
    } else {
      try GDALCall.check("removing nodata from band \(index) of \(dataset.path)", dataset: dataset.path) { GDALDeleteRasterNoDataValue(handle) }
    }
  }

  public var description: String {
    get { GDALGetDescription(handle).map { String(cString: $0) } ?? "" }
  }

  public func setDescription(_ text: String) { GDALSetDescription(handle, text) }

  /// The offset, or nil when the format has none set.
  public var offset: Double? {
    var has: Int32 = 0
    let value = GDALGetRasterOffset(handle, &has)
    return has != 0 ? value : nil
  }

  public var scale: Double? {
    var has: Int32 = 0
    let value = GDALGetRasterScale(handle, &has)
    return has != 0 ? value : nil
  }

  /// Sets GDAL's scale and offset (value = stored × scale + offset), which readers apply.
  public func setScaleOffset(scale: Double, offset: Double) throws {
    try GDALCall.check("setting the scale of band \(index) of \(dataset.path)", dataset: dataset.path) { GDALSetRasterScale(handle, scale) }
    try GDALCall.check("setting the offset of band \(index) of \(dataset.path)", dataset: dataset.path) { GDALSetRasterOffset(handle, offset) }
  }

  /// The least and greatest valid value by GDAL's approximate scan (an overview, or a sample of
  /// blocks; nothing is stored with the file); nil when GDAL finds no valid value or fails.
  public func approximateRange() -> (min: Double, max: Double)? {
    var range = [Double](repeating: .nan, count: 2)
    let (status, messages) = GDALCall.capturing { GDALComputeRasterMinMax(handle, 1, &range) }
    guard status == CE_None, !messages.contains(where: \.isFailure), range.allSatisfy(\.isFinite) else { return nil }
    return (range[0], range[1])
  }

  public var colorInterpretation: String {
    String(cString: GDALGetColorInterpretationName(GDALGetRasterColorInterpretation(handle)))
  }

  public var hasColorTable: Bool { GDALGetRasterColorTable(handle) != nil }

  /// Copies colour interpretation and colour table from another band (for outputs built from it).
  public func copyPresentation(from other: RasterBand) {
    GDALSetRasterColorInterpretation(handle, GDALGetRasterColorInterpretation(other.handle))
    if let table = GDALGetRasterColorTable(other.handle) { GDALSetRasterColorTable(handle, table) }
  }

  /// Sets the colour interpretation by GDAL's name for it (Red, Green, Blue, Alpha, Gray, …).
  public func setColorInterpretation(_ name: String) {
    GDALSetRasterColorInterpretation(handle, GDALGetColorInterpretationByName(name))
  }

  public var overviewCount: Int { Int(GDALGetOverviewCount(handle)) }

  /// Overview `i` (0: the largest), read like any band; nil past the last.
  public func overview(_ i: Int) -> RasterBand? {
    guard i >= 0, let overview = GDALGetOverview(handle, Int32(i)) else { return nil }
    return RasterBand(dataset: dataset, handle: overview, index: index)
  }

  public func metadataItem(_ name: String, domain: String? = nil) -> String? {
    GDALGetMetadataItem(handle, name, domain).map { String(cString: $0) }
  }

  public func metadata(domain: String? = nil) -> [(key: String, value: String)] {
    keyValuePairs(CStringList.strings(GDALGetMetadata(handle, domain)))
  }

  /// The band's mask (nodata, alpha or per-dataset mask, as GDAL derives it), 255 where valid.
  public var maskBand: RasterBand? {
    guard let mask = GDALGetMaskBand(handle) else { return nil }
    return RasterBand(dataset: dataset, handle: mask, index: index)
  }

  /// GMF_ALL_VALID, GMF_PER_DATASET, GMF_ALPHA, GMF_NODATA bits.
  public var maskFlags: Int32 { GDALGetMaskFlags(handle) }

  /// Where the band's validity comes from.
  public enum MaskKind: Sendable { case allValid, nodata, alpha, perDataset, other }

  public var maskKind: MaskKind {
    let flags = maskFlags
    if flags == Int32(GMF_ALL_VALID) { return .allValid }
    if flags == Int32(GMF_NODATA) { return .nodata }
    if flags & Int32(GMF_ALPHA) != 0 { return .alpha }
    if flags & Int32(GMF_PER_DATASET) != 0 { return .perDataset }
    return .other
  }

  // MARK: - Pixels

  /// Reads a window into `buffer` (row-major, `window.pixelCount` values), converting to `T`.
  public func read<T: RasterScalar>(_ window: Window, into buffer: UnsafeMutableBufferPointer<T>) throws {
    precondition(buffer.count >= window.pixelCount, "buffer smaller than the window")
    try GDALCall.check("reading \(window) of band \(index) of \(dataset.path)", dataset: dataset.path) {
      GDALRasterIO(
        handle, GF_Read, Int32(window.x), Int32(window.y), Int32(window.width), Int32(window.height),
        buffer.baseAddress, Int32(window.width), Int32(window.height), T.dataType.gdal, 0, 0)
    }
  }

  /// Reads a window into a new array of `window.pixelCount` values (a window, never a whole large raster).
  public func read<T: RasterScalar>(_ window: Window, as type: T.Type = T.self) throws -> [T] {
    var values = [T](repeating: 0, count: window.pixelCount)
    try values.withUnsafeMutableBufferPointer { try read(window, into: $0) }
    return values
  }

  /// Reads a window given in fractional source pixels, resampled to `size` with RasterIO's
  /// resampling (`"nearest"`, `"average"`, `"mode"`, …; overviews are used when the band has
  /// them). Strips of one output read this way, each with the fractional source rows of its
  /// output rows, sample exactly the pixels one read of the whole would.
  public func read<T: RasterScalar>(
    x: Double, y: Double, width w: Double, height h: Double, resampledTo size: (width: Int, height: Int),
    resampling: String, into buffer: UnsafeMutableBufferPointer<T>
  ) throws {
    precondition(buffer.count >= size.width * size.height, "buffer smaller than the output")
    var extra = GDALRasterIOExtraArg()
    extra.nVersion = 1
    extra.eResampleAlg = Dataset.rasterIOResampling(resampling)
    extra.bFloatingPointWindowValidity = 1
    extra.dfXOff = x; extra.dfYOff = y; extra.dfXSize = w; extra.dfYSize = h
    let x0 = Int(saturating: x, rounding: .down), y0 = Int(saturating: y, rounding: .down)
    let x1 = Swift.min(width, Int(saturating: x + w, rounding: .up)), y1 = Swift.min(height, Int(saturating: y + h, rounding: .up))
    try GDALCall.check("reading band \(index) of \(dataset.path)", dataset: dataset.path) {
      GDALRasterIOEx(handle, GF_Read, Int32(x0), Int32(y0), Int32(x1 - x0), Int32(y1 - y0), buffer.baseAddress,
                     Int32(size.width), Int32(size.height), T.dataType.gdal, 0, 0, &extra)
    }
  }

  /// The colour table's entries (red, green, blue, alpha), index by index; nil without one.
  public var colorEntries: [(r: Int, g: Int, b: Int, a: Int)]? {
    guard let table = GDALGetRasterColorTable(handle) else { return nil }
    return (0..<Int(GDALGetColorEntryCount(table))).map { index in
      guard let entry = GDALGetColorEntry(table, Int32(index))?.pointee else { return (0, 0, 0, 0) }
      return (Int(entry.c1), Int(entry.c2), Int(entry.c3), Int(entry.c4))
    }
  }

  /// Writes a window from `buffer` (row-major), converting from `T`.
  public func write<T: RasterScalar>(_ window: Window, from buffer: UnsafeBufferPointer<T>) throws {
    precondition(buffer.count >= window.pixelCount, "buffer smaller than the window")
    try GDALCall.check("writing \(window) of band \(index) of \(dataset.path)", dataset: dataset.path) {
      GDALRasterIO(
        handle, GF_Write, Int32(window.x), Int32(window.y), Int32(window.width), Int32(window.height),
        UnsafeMutableRawPointer(mutating: buffer.baseAddress), Int32(window.width), Int32(window.height),
        T.dataType.gdal, 0, 0)
    }
  }

  public func write<T: RasterScalar>(_ window: Window, values: [T]) throws {
    try values.withUnsafeBufferPointer { try write(window, from: $0) }
  }

  /// GDAL's checksum of the band (as `gdalinfo -checksum`).
  public func checksum(_ window: Window? = nil) throws -> Int {
    let w = window ?? Window(x: 0, y: 0, width: width, height: height)
    return try GDALCall.run("checksumming band \(index) of \(dataset.path)", dataset: dataset.path) {
      Int(GDALChecksumImage(handle, Int32(w.x), Int32(w.y), Int32(w.width), Int32(w.height)))
    }
  }
}
