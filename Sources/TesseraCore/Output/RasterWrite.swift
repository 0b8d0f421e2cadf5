import Foundation
import GDAL

/// The one way a command writes its output, in one order: the target (the path's own faults,
/// then the format and creation options), the raster's limits in that format and the free space
/// for it, nodata a lossy format cannot keep, the block cache; then the output raster created
/// on its grid from a band template, the work, close, the final copy into a format written by
/// copy, the commit, and the report naming the output. Whatever fails on the way is classified
/// by the target (whose fault: the output's, the disk's or an input's) and leaves nothing.
struct RasterWrite {
  /// The raster a command will write, as far as it is known before any pixel is computed.
  struct Layout {
    var width: Int, height: Int, bands: Int
    var type: DataType
    /// Whether the output declares nodata, when the command knows before the work (a lossy
    /// format refuses it then; the final copy checks again in any case).
    var declaresNodata: Bool?
    /// Refuse an output that cannot fit the free space (`OutputSpec.requireSpace`); false
    /// checks only what the format holds.
    var guardsSpace = true

    init(width: Int, height: Int, bands: Int, type: DataType, declaresNodata: Bool? = nil) {
      self.width = width
      self.height = height
      self.bands = bands
      self.type = type
      self.declaresNodata = declaresNodata
    }

    init(grid: Grid, bands: Int, type: DataType, declaresNodata: Bool? = nil) {
      self.init(width: grid.width, height: grid.height, bands: bands, type: type, declaresNodata: declaresNodata)
    }
  }

  /// Where the output raster lies: its size and georeferencing. Its CRS is the band template's
  /// when there is one (`Bands.template`), else `srs`.
  struct Frame {
    var width: Int, height: Int
    var geoTransform: [Double]?
    var srs: SpatialReference?

    init(width: Int, height: Int, geoTransform: [Double]?, srs: SpatialReference? = nil) {
      self.width = width
      self.height = height
      self.geoTransform = geoTransform
      self.srs = srs
    }

    init(_ grid: Grid) {
      self.init(width: grid.width, height: grid.height, geoTransform: grid.geoTransform, srs: grid.srs)
    }

    /// `dataset`'s own grid, which may be rotated or carry no CRS.
    init(like dataset: Dataset) {
      self.init(width: dataset.width, height: dataset.height, geoTransform: dataset.geoTransform, srs: dataset.spatialReference)
    }
  }

  /// The output raster's bands: their number and type, what they take from a template's bands
  /// (nodata as `nodata` says, descriptions, colour interpretation and table), and what the
  /// command sets on its own, band by band (an empty list, or nil in it: nothing).
  struct Bands {
    var count: Int
    var type: DataType
    var template: Dataset?
    var nodata: NodataSetting = .inherit
    var descriptions: [String?] = []
    var declaredNodata: [Double?] = []
    var colorInterpretations: [String?] = []

    init(count: Int, type: DataType, template: Dataset? = nil, nodata: NodataSetting = .inherit) {
      self.count = count
      self.type = type
      self.template = template
      self.nodata = nodata
    }
  }

  let spec: OutputSpec
  let target: OutputTarget
  let resources: Resources

  /// Checks everything about the output before any work, in the order that decides which fault
  /// the user hears of first, and reserves its temporary file.
  /// - Parameters:
  ///   - driver: a driver the command writes through itself (cog-export's COG); the format
  ///     checks still take `spec` as the user gave it.
  ///   - inputs: every file the command reads (see `InputFiles`); the output may be none of them.
  ///   - inputLabel: how messages name the input whose data failed to read.
  ///   - cache: how the work uses GDAL's block cache (`Resources.limitCache`); nil leaves it.
  ///   - layout: the raster to be written, worked out once the path is known to be usable
  ///     (nil: nothing to check before the work).
  init(
    _ spec: OutputSpec, writtenAs driver: String? = nil, inputs: [String], inputLabel: String? = nil, resources: Resources,
    cache: @autoclosure () throws -> Resources.CacheUse? = nil, layout: () throws -> Layout? = { nil }
  ) throws {
    self.spec = spec
    self.resources = resources
    target = try (driver.map { spec.writtenAs($0) } ?? spec).target(inputs: inputs, inputLabel: inputLabel)
    do {
      if let layout = try layout() { try RasterWrite.check(layout, spec) }
      if let cache = try cache() { resources.limitCache(for: cache) }
    } catch {
      target.abort()
      throw error
    }
  }

  private static func check(_ layout: Layout, _ spec: OutputSpec) throws {
    if layout.guardsSpace {
      try spec.requireSpace(width: layout.width, height: layout.height, bands: layout.bands, type: layout.type)
    } else {
      try spec.requireHolds(bands: layout.bands, type: layout.type)
    }
    if let declaresNodata = layout.declaresNodata { try spec.requireHoldsNodata(declaresNodata) }
  }

  /// The name GDAL writes the output's pixels through (see `OutputTarget.gdalPath`).
  var gdalPath: String { target.gdalPath }

  /// The temporary file under its real name, for a writer other than GDAL's file layer (a VRT
  /// naming its sources relative to itself, giflib, ffmpeg).
  var temporaryPath: String { target.temporaryPath }

  // MARK: - The work

  /// Creates the output raster, runs `body` on it, closes it and commits the output.
  /// The bands are worked out inside the write, so a failure making them is classified too.
  func raster<T>(_ frame: Frame, _ bands: @autoclosure () throws -> Bands, _ body: (Dataset) throws -> T) throws -> T {
    let value = try fillRaster(frame, try bands(), body)
    try RasterWrite.finishAll([self])
    return value
  }

  /// `raster` without the commit, for outputs committed together (`finishAll`).
  func fillRaster<T>(_ frame: Frame, _ bands: @autoclosure () throws -> Bands, _ body: (Dataset) throws -> T) throws -> T {
    try fill {
      let output = try createRaster(frame, try bands())
      let value = try body(output)
      try output.close()
      return value
    }
  }

  /// Runs `body`, which makes the output file itself (a warp, a copy, an image), and commits.
  func write<T>(_ body: () throws -> T) throws -> T {
    try target.write(body)
  }

  /// `write` without the commit, for outputs committed together (`finishAll`).
  func fill<T>(_ body: () throws -> T) throws -> T {
    try target.fill(body)
  }

  /// Commits filled outputs together: all or none.
  static func finishAll(_ writes: [RasterWrite]) throws {
    try OutputTarget.finishAll(writes.map(\.target))
  }

  /// Removes the output's temporary files; the old output, if any, stays as it was.
  func abort() {
    target.abort()
  }

  /// The output raster at `gdalPath`: its grid, the user's creation options over Tessera's
  /// defaults, and its bands as `bands` describes. A lossy format refuses the nodata its bands
  /// take from the template before any pixel is computed.
  func createRaster(_ frame: Frame, _ bands: Bands) throws -> Dataset {
    let output = try OutputRaster.create(
      path: target.gdalPath, width: frame.width, height: frame.height, geoTransform: frame.geoTransform,
      srs: bands.template.map(\.spatialReference) ?? frame.srs, bands: bands.count, type: bands.type,
      options: spec.gtiffOptions(for: bands.type, threads: resources.threads, width: frame.width, height: frame.height,
                                 bands: bands.count))
    if let template = bands.template {
      try OutputRaster.takeBands(of: template, into: output, nodata: bands.nodata)
      try spec.requireHoldsNodata(output.bands.contains { $0.noDataValue != nil })
    }
    for i in 0..<bands.count {
      let band = try output.band(i + 1)
      if i < bands.descriptions.count, let description = bands.descriptions[i] { band.setDescription(description) }
      if i < bands.declaredNodata.count, let value = bands.declaredNodata[i] { try band.setNoDataValue(value) }
      if i < bands.colorInterpretations.count, let name = bands.colorInterpretations[i] { band.setColorInterpretation(name) }
    }
    return output
  }

  // MARK: - The report

  /// The report of a run that wrote this output.
  func report(_ details: [(String, JSONValue)], warnings: [String] = []) -> OperationReport {
    var report = OperationReport(outputs: [spec.path], details: details)
    report.warnings = warnings
    report.addConversion(of: spec)
    return report
  }
}
