import Foundation
import GDAL

/// Sentinel-2 products merged through in-memory staging: each product's chosen bands are
/// warped onto one output grid into MEM datasets or /vsimem/ GTiffs (`MergeStaging.swift`),
/// closed, then composed window by window into the output (`MergeCompositor`). The COG driver
/// appears only in the final copy.
public struct MergeMemfileRequest {
  /// Where each product's bands wait between reading and merging.
  public enum Staging: String, CaseIterable, Sendable {
    /// Uncompressed MEM datasets: the fastest, the largest (the default).
    case mem
    /// GTiffs in GDAL's /vsimem/, compressed with ZSTD at level 1: about half the memory.
    case vsimem
    /// Temporary GTiffs beside the output.
    case disk
  }

  public var products: [String]
  public var output: OutputSpec
  public var bands: [Sentinel2Band]
  /// Output pixel size in metres; nil: the finest native resolution of the chosen bands.
  public var resolution: Double?
  public var dstCRS: String?
  /// The datum transformation (--ct, --src-towgs84, --dst-towgs84) for products staged into
  /// another CRS, and --strict-datum.
  public var datum = DatumShift()
  public var reflectance = false
  public var maskClouds = false
  /// Scene classes that become nodata with `maskClouds`: cloud shadow, medium and high
  /// probability cloud, thin cirrus.
  public var sclClasses: Set<Int> = [3, 8, 9, 10]
  /// Set when the output is a COG, written as the final copy of the merged raster.
  public var cog: COGSettings?
  /// `--dst-nodata`: the merged raster's nodata and the value where no product has data;
  /// `inherit` is 0 for DN, NaN for reflectance.
  public var dstNodata: NodataSetting = .inherit
  public var staging: Staging = .mem
  /// nil: a quarter of physical memory.
  public var memLimitBytes: UInt64?
  public var order: MosaicRequest.Order = .last
  /// nil: average when a band is made coarser, nearest otherwise. SCL is always nearest.
  public var resampling: Resampling?
  /// Where the JSON report goes (`--report`): an output like the raster, checked before the
  /// work; the caller writes the report into `OperationReport.reportTarget` and commits it.
  public var reportPath: String?
  public var resources: Resources

  public init(products: [String], output: OutputSpec, bands: [Sentinel2Band], resources: Resources = Resources()) {
    self.products = products
    self.output = output
    self.bands = bands
    self.resources = resources
  }

  public var effectiveMemLimit: UInt64 { memLimitBytes ?? Resources.physicalMemory / 4 }

  /// The nodata band `band` (from 0) declares: `--dst-nodata`'s, else 0 for DN and NaN for
  /// reflectance; nil under `none`.
  public func declaredNodata(band: Int) -> Double? {
    dstNodata.forBand(band).resolved(inherited: reflectance ? .nan : 0)
  }

  /// The value written where no product has data: the declared nodata, else (`none`, which
  /// declares none) the default one.
  public func fill(band: Int) -> Double {
    declaredNodata(band: band) ?? (reflectance ? .nan : 0)
  }

  /// The rules between the request's fields; checked before any product is opened.
  public func validate() throws {
    guard !products.isEmpty else { throw TesseraError(.usage, "merge-memfile needs at least one product") }
    guard !bands.isEmpty else { throw Self.noBand }
    if Set(bands).count != bands.count { throw TesseraError(.usage, "-b names a band twice") }
    if let r = resolution, !(r > 0) { throw TesseraError(.usage, "--resolution must be positive") }
  }

  /// The usage error of a band list that names none.
  public static let noBand = TesseraError(.usage, "-b names no band")
}

public enum MergeMemfile {
  public static func run(_ request: MergeMemfileRequest, progress: ProgressHandler? = nil) throws -> OperationReport {
    try MergeJob(request).run(progress: progress)
  }
}

struct MergeJob {
  let request: MergeMemfileRequest
  let resolution: Double

  init(_ request: MergeMemfileRequest) throws {
    try request.validate()
    self.request = request
    resolution = request.resolution ?? Double(request.bands.map(\.nativeResolution).min() ?? 10)
  }

  /// What the merge will do, decided before anything is written.
  struct Decided {
    var planned: [PlannedProduct]
    var grid: Grid
    var datumWarnings: [String]
    var bandNames: [String]
    var type: DataType
    var stagedBytes: UInt64
    var staging: MergeMemfileRequest.Staging
    var notes: [String]
  }

  func run(progress: ProgressHandler?) throws -> OperationReport {
    let decided = try decide()
    // The outputs are checked before the work: neither may be a file the merge reads (a band
    // file, the metadata, the archive), nor the other.
    let inputs = inputFiles(decided.planned)
    let writer = try RasterWrite(request.output, writtenAs: request.cog == nil ? nil : "COG", inputs: inputs,
                                 resources: request.resources, cache: .streaming) {
      var layout = RasterWrite.Layout(grid: decided.grid, bands: decided.bandNames.count, type: decided.type, declaresNodata: request.dstNodata != .none)
      layout.guardsSpace = false
      return layout
    }
    let reportTarget = try request.reportPath.map { try OutputSpec.ownFile(path: $0, overwrite: request.output.overwrite).target(inputs: inputs) }
    if let reportTarget { try OutputTarget.requireDistinct([("the output", writer.target), ("--report", reportTarget)]) }
    let (merged, validation): (MergeStatistics, COGValidation?)
    do {
      (merged, validation) = try write(decided, into: writer, progress: progress)
      // With a --report the raster waits for it: the two are moved into place together.
      if reportTarget == nil { try RasterWrite.finishAll([writer]) }
    } catch {
      reportTarget?.abort()
      throw error
    }
    var result = writer.report(try report(decided, merged: merged, validation: validation).details(),
                               warnings: decided.datumWarnings + decided.planned.flatMap { p in p.product.warnings.map { "\(p.product.id): \($0)" } })
    result.reportTarget = reportTarget
    if reportTarget != nil { result.uncommitted = [writer.target] }
    result.notes = decided.notes
    return result
  }

  /// Opens and plans every product, and decides the grid, the output's bands and type, and
  /// where the staged bands wait.
  func decide() throws -> Decided {
    // Everything is opened and checked before anything is written.
    var planned = try request.products.flatMap { try Sentinel2Product.open($0) }.map(plan)
    let grid = try outputGrid(&planned)
    let datumWarnings = try request.datum.check(
      sources: planned.map { $0.files[0].dataset },
      sourceCRS: { ds in try ds.spatialReference.flatMap { $0.isSame(as: grid.srs) ? nil : try request.datum.source($0) } },
      to: grid.srs, label: { planned[$0].product.source })
    let sourceTypes = try planned.flatMap { try $0.files.map { try $0.dataset.band(1).dataType } }
    let outputType: DataType = request.output.outputType
      ?? (request.reflectance ? .float32 : (sourceTypes.contains { $0 != .byte } ? .uint16 : .byte))
    let bandNames = request.bands.flatMap(\.componentNames)
    try request.output.requireNodata(src: .inherit, dst: request.dstNodata, inputBands: bandNames.count, outputBands: bandNames.count, type: outputType)
    let estimate = stagedBytes(planned)
    var staging = request.staging
    var notes: [String] = []
    if staging != .disk, estimate > request.effectiveMemLimit {
      staging = .disk
      notes.append("staging needs about \(estimate >> 20) MiB, more than the memory limit of \(request.effectiveMemLimit >> 20) MiB; staging in temporary files beside the output")
    }
    return Decided(planned: planned, grid: grid, datumWarnings: datumWarnings, bandNames: bandNames,
                   type: outputType, stagedBytes: estimate, staging: staging, notes: notes)
  }

  /// Stages, merges and (for a COG) copies into the output's temporary file, not yet committed.
  private func write(_ decided: Decided, into writer: RasterWrite, progress: ProgressHandler?) throws
    -> (MergeStatistics, COGValidation?)
  {
    // Progress: staging, merging, and the COG copy when there is one.
    let steps = Progress.steps(request.cog == nil ? [0.7, 0.3] : [0.5, 0.2, 0.3], progress)
    var validation: COGValidation?
    let merged = try writer.fill {
      try merge(decided.planned, grid: decided.grid, staging: decided.staging, stagedBytes: decided.stagedBytes,
                bands: decided.bandNames, type: decided.type, into: writer.target,
                stagingProgress: steps[0], mergeProgress: steps[1]) { output in
        guard let cog = request.cog else { return }
        // With staging in memory, the COG driver's temporary overviews stay there too: then
        // nothing but the output itself is written to disk.
        let temporaryFolder = decided.staging == .disk ? [:] : ["CPL_TMPDIR": "/vsimem/tessera/cog-overviews"]
        validation = try GDALEnvironment.withConfig(temporaryFolder) {
          try COGExport.copy(output, named: "the merged raster", settings: cog, spec: request.output, into: writer.target,
                             resources: request.resources, progress: steps[2])
        }
      }
    }
    return (merged, validation)
  }

  /// The report of the merge (`MergeReport`), written to `--report` and into the JSON report.
  private func report(_ decided: Decided, merged: MergeStatistics, validation: COGValidation?) throws -> MergeReport {
    let grid = decided.grid
    return MergeReport(
      products: try decided.planned.map { try productEntry($0, grid: grid) },
      grid: try MergeReport.GridEntry(grid),
      order: request.order.rawValue,
      reflectance: request.reflectance,
      cloudMask: request.maskClouds ? MergeReport.CloudMask(sclClasses: request.sclClasses.sorted()) : nil,
      bands: decided.bandNames.enumerated().map { merged.band($0.offset, name: $0.element, pixels: grid.width * grid.height) },
      overlap: MergeReport.Overlap(
        pixels: merged.overlapPixels, area: Double(merged.overlapPixels) * resolution * resolution,
        areaUnit: grid.srs.isGeographic ? "square degrees" : "square metres"),
      staging: MergeReport.Staging(
        mode: decided.staging.rawValue, requested: request.staging.rawValue, estimatedBytes: Int(clamping: decided.stagedBytes),
        memLimitBytes: Int(clamping: request.effectiveMemLimit), note: decided.notes.first),
      cog: request.cog != nil,
      peakRssMib: (Double(peakResidentBytes()) / 1048576 * 10).rounded() / 10,
      validation: validation?.json(strict: false))
  }

  /// Stages every band, merges them into the output (or, for a COG, into a dataset `finish`
  /// copies from), and returns the figures of what was merged.
  /// - Parameter finish: called with the merged dataset, flushed, once the staged bands are gone.
  private func merge(
    _ planned: [PlannedProduct], grid: Grid, staging: MergeMemfileRequest.Staging, stagedBytes: UInt64, bands names: [String],
    type: DataType,
    into target: OutputTarget, stagingProgress: ProgressHandler?, mergeProgress: ProgressHandler?,
    finish: (Dataset) throws -> Void
  ) throws -> MergeStatistics {
    let outcome = stageAll(planned, grid: grid, mode: staging, target: target) { stagingProgress?($0, nil) ?? true }
    // Whatever was staged is discarded however the merge ends, and as soon as it is merged.
    func discardStaged() {
      for bands in outcome.staged { bands.forEach { $0.discard() } }
      outcome.masks.forEach { $0?.discard() }
    }
    defer { discardStaged() }
    if let failure = outcome.failure { throw failure }
    for product in planned {
      for entry in product.files { try entry.dataset.close() }
      try product.maskFile?.dataset.close()
    }

    // Merging into the output, or, for a COG, into a dataset the COG driver then copies: a MEM
    // dataset when staging was in memory and the merged bands fit the limit too, else a
    // scratch GTiff beside the output, compressed fast (it is read twice and dropped).
    let mergedBytes = UInt64(grid.width) * UInt64(grid.height) * UInt64(names.count * type.byteSize)
    var driver = "GTiff", path = target.gdalPath
    var spec = request.output
    if request.cog != nil {
      if staging != .disk, stagedBytes + mergedBytes <= request.effectiveMemLimit {
        driver = "MEM"
        path = ""
      } else {
        path = target.scratchFile("merge.tif")
        spec.creationOptions = ["COMPRESS=ZSTD", "ZSTD_LEVEL=1"]
      }
    }
    let output = try OutputRaster.create(
      driver: driver, path: path, width: grid.width, height: grid.height, geoTransform: grid.geoTransform, srs: grid.srs,
      bands: names.count, type: type,
      options: driver == "MEM" ? [] : spec.gtiffOptions(for: type, threads: request.resources.threads, width: grid.width,
                                                         height: grid.height, bands: names.count))
    for (i, name) in names.enumerated() {
      let band = try output.band(i + 1)
      if let nodata = request.declaredNodata(band: i) { try band.setNoDataValue(TypeConversion.nodata(nodata, as: type)) }
      band.setDescription(name)
    }
    var merged = try MergeCompositor(
      request: request, products: planned.map(\.product), staged: outcome.staged, masks: outcome.masks, outputBands: names.count
    ).run(into: output, progress: mergeProgress)
    discardStaged()
    // GDAL's checksums of what was merged, read back from the dataset just written (flushed).
    try output.flush()
    merged.checksums = try output.bands.map { try $0.checksum() }
    if request.cog == nil {
      try output.close()
      return merged
    }
    let source = driver == "MEM" ? output : try reopened(output)
    try finish(source)
    try source.close()
    return merged
  }

  /// A GTiff closed (so every block is on disk) and opened again read-only.
  private func reopened(_ dataset: Dataset) throws -> Dataset {
    let path = WatchedFiles.realPath(dataset.path)
    try dataset.close()
    return try Dataset.open(path)
  }

  func productEntry(_ p: PlannedProduct, grid: Grid) throws -> MergeReport.Product {
    let product = p.product
    let offsets = request.reflectance
      ? JSONValue.object(request.bands.filter(\.isReflectance).map { ($0.rawValue, .double(product.offset(for: $0))) }) : nil
    return MergeReport.Product(
      id: product.id, source: product.source, level: product.level.rawValue, tile: product.tile,
      sensingTime: product.sensingTime, processingBaseline: product.processingBaseline, spacecraft: product.spacecraft,
      relativeOrbit: product.relativeOrbit, quantificationValue: product.quantification, offsetApplied: offsets,
      offsetSource: product.offsetSource, crs: try CRSDescription(p.srs), reprojected: !p.srs.isSame(as: grid.srs),
      bands: p.files.map { MergeReport.ProductBand(name: $0.band.rawValue, file: $0.file.path, resolution: $0.file.resolution) },
      window: MergeReport.WindowEntry(x: p.window.x, y: p.window.y, width: p.window.width, height: p.window.height))
  }
}

/// Peak resident memory of this process so far, in bytes.
func peakResidentBytes() -> Int {
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  return Int(usage.ru_maxrss) * 1024
}
