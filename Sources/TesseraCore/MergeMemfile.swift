import Foundation
import GDAL

/// Sentinel-2 products merged through in-memory staging: each product's chosen bands are
/// warped onto one output grid into /vsimem/ GTiffs or MEM datasets, closed, then composed
/// window by window into the output. The COG driver appears only in the final copy.
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
  public var output: String
  public var bands: [Sentinel2Band]
  /// Output pixel size in metres; nil: the finest native resolution of the chosen bands.
  public var resolution: Double?
  public var dstCRS: String?
  public var reflectance = false
  public var maskClouds = false
  /// Scene classes that become nodata with `maskClouds`: cloud shadow, medium and high
  /// probability cloud, thin cirrus.
  public var sclClasses: Set<Int> = [3, 8, 9, 10]
  /// The COG options when the output is a COG; its input and output are set here.
  public var cog: COGExportRequest?
  public var staging: Staging = .mem
  /// nil: a quarter of physical memory.
  public var memLimitBytes: UInt64?
  public var order: MosaicRequest.Order = .last
  /// nil: average when a band is made coarser, nearest otherwise. SCL is always nearest.
  public var resampling: Resampling?
  public var write: WriteOptions
  /// Notices for the user (the switch to disk staging), printed on stderr by the CLI.
  public var notice: ((String) -> Void)?
  /// Where the JSON report goes (`--report`): an output like the raster, checked before the
  /// work and written by the caller through `OperationReport.reportTarget`.
  public var reportPath: String?

  public init(products: [String], output: String, bands: [Sentinel2Band], write: WriteOptions = WriteOptions()) {
    self.products = products
    self.output = output
    self.bands = bands
    self.write = write
  }

  public var effectiveMemLimit: UInt64 { memLimitBytes ?? ProcessingOptions.physicalMemory / 4 }
}

public enum MergeMemfile {
  public static func run(_ request: MergeMemfileRequest, progress: ProgressHandler? = nil) throws -> OperationReport {
    try MergeJob(request).run(progress: progress)
  }
}

// MARK: - The job

/// The output grid: a CRS, a pixel size, and whole pixels from an origin.
struct MergeGrid {
  var srs: SpatialReference
  var resolution: Double
  var minX: Double, maxY: Double
  var width: Int, height: Int
  var geoTransform: [Double] { [minX, resolution, 0, maxY, 0, -resolution] }
  var extent: Extent {
    Extent(minX: minX, minY: maxY - Double(height) * resolution, maxX: minX + Double(width) * resolution, maxY: maxY)
  }

  /// The window of whole output pixels that covers `extent` (snapped outward), clipped to the grid.
  func window(covering e: Extent) -> Window? {
    let x0 = max(0, Int(((e.minX - minX) / resolution + 1e-6).rounded(.down)))
    let x1 = min(width, Int(((e.maxX - minX) / resolution - 1e-6).rounded(.up)))
    let y0 = max(0, Int(((maxY - e.maxY) / resolution + 1e-6).rounded(.down)))
    let y1 = min(height, Int(((maxY - e.minY) / resolution - 1e-6).rounded(.up)))
    guard x1 > x0, y1 > y0 else { return nil }
    return Window(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
  }

  func extent(of w: Window) -> Extent {
    Extent(minX: minX + Double(w.x) * resolution, minY: maxY - Double(w.y + w.height) * resolution,
           maxX: minX + Double(w.x + w.width) * resolution, maxY: maxY - Double(w.y) * resolution)
  }
}

/// One band of one product staged on the output grid, covering `window` of it.
final class StagedBand {
  let band: Sentinel2Band
  let window: Window
  let components: Int
  /// The /vsimem/ or disk path to open (nil for MEM).
  let path: String?
  /// MEM datasets stay open (they vanish on close); reads of them go through `lock`.
  let memDataset: Dataset?
  let lock = NSLock()
  private let memoryFile: MemoryFile?

  init(band: Sentinel2Band, window: Window, components: Int, path: String?, memDataset: Dataset?, memoryFile: MemoryFile?) {
    self.band = band
    self.window = window
    self.components = components
    self.path = path
    self.memDataset = memDataset
    self.memoryFile = memoryFile
  }

  /// Removes what staging made: the memory file, the disk file, the MEM dataset.
  func discard() {
    try? memDataset?.close()
    memoryFile?.remove()
    if let path, !path.hasPrefix("/vsimem/") { TemporaryFiles.shared.remove(WatchedFiles.realPath(path)) }
  }
}

/// A product with the files chosen for the request and its place on the output grid.
struct PlannedProduct {
  var product: Sentinel2Product
  var files: [(band: Sentinel2Band, file: Sentinel2BandFile, dataset: Dataset)]
  /// The SCL file when clouds are masked and SCL is not an output band.
  var maskFile: (file: Sentinel2BandFile, dataset: Dataset)?
  var srs: SpatialReference
  var extent: Extent
  var window: Window = Window(x: 0, y: 0, width: 0, height: 0)
}

struct MergeJob {
  let request: MergeMemfileRequest
  let resolution: Double

  init(_ request: MergeMemfileRequest) throws {
    guard !request.products.isEmpty else { throw TesseraError(.usage, "merge-memfile needs at least one product") }
    guard !request.bands.isEmpty else { throw TesseraError(.usage, "--bands names no band") }
    if Set(request.bands).count != request.bands.count { throw TesseraError(.usage, "--bands names a band twice") }
    if let r = request.resolution, !(r > 0) { throw TesseraError(.usage, "--resolution must be positive") }
    self.request = request
    resolution = request.resolution ?? Double(request.bands.map(\.nativeResolution).min() ?? 10)
  }

  func run(progress: ProgressHandler?) throws -> OperationReport {
    // Everything is opened and checked before anything is written.
    var planned = try request.products.flatMap { try Sentinel2Product.open($0) }.map(plan)
    let grid = try outputGrid(&planned)
    let outputBandNames = request.bands.flatMap(\.componentNames)
    let sourceTypes = try planned.flatMap { try $0.files.map { try $0.dataset.band(1).dataType } }
    let outputType: DataType = request.reflectance ? .float32 : (sourceTypes.contains { $0 != .byte } ? .uint16 : .byte)

    let estimate = stagedBytes(planned)
    var staging = request.staging
    var stagingNote: String?
    if staging != .disk, estimate > request.effectiveMemLimit {
      staging = .disk
      stagingNote = "staging needs about \(estimate >> 20) MiB, more than the memory limit of \(request.effectiveMemLimit >> 20) MiB; staging in temporary files beside the output"
      request.notice?(stagingNote!)
    }

    // The outputs are checked before the work: neither may be a file the merge reads (a band
    // file, the metadata, the archive), nor the other. A COG's own target is made by the export.
    let inputs = inputFiles(planned)
    let target = try OutputTarget(path: request.output, inputs: inputs, overwrite: request.write.overwrite)
    let reportTarget = try request.reportPath.map { try OutputTarget(path: $0, inputs: inputs, overwrite: request.write.overwrite) }
    if let reportTarget { try OutputTarget.requireDistinct([("the output", target), ("--report", reportTarget)]) }
    let outputDirectory = (target.finalPath as NSString).deletingLastPathComponent
    // Disk staging files and the intermediate GTiff share one prefix, so a failed write to any
    // of them is known to be a write failure.
    let scratchPrefix = outputDirectory + "/.tessera-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8).lowercased()
    defer { WatchedFiles.forget(under: scratchPrefix) }
    let failureMark = GDALFailures.shared.mark
    request.write.processing.applyStreamingCache()

    var staged: [[StagedBand]] = []
    var maskStages: [StagedBand?] = []
    defer {
      for bands in staged { bands.forEach { $0.discard() } }
      maskStages.forEach { $0?.discard() }
    }
    var merged: MergeStatistics
    var validation: JSONValue?
    var intermediateDisk: String?
    defer { if let intermediateDisk { TemporaryFiles.shared.remove(intermediateDisk) } }
    do {
      let stageShare = request.cog == nil ? 0.7 : 0.5
      let outcome = stageAll(planned, grid: grid, mode: staging, scratchPrefix: scratchPrefix) { fraction in
        progress?(stageShare * fraction, nil) ?? true
      }
      // Whatever was staged is handed over for discarding before any failure is thrown.
      staged = outcome.staged
      maskStages = outcome.masks
      if let failure = outcome.failure { throw failure }
      for product in planned {
        for entry in product.files { try entry.dataset.close() }
        try product.maskFile?.dataset.close()
      }

      // Merging into the output, or, for a COG, into a dataset the COG driver then copies: a MEM
      // dataset when staging was in memory and the merged bands fit the limit too, else a
      // temporary GTiff beside the output, compressed fast (it is read twice and dropped).
      let mergedBytes = UInt64(grid.width) * UInt64(grid.height) * UInt64(outputBandNames.count * outputType.byteSize)
      var driver = "GTiff"
      var mergePath = target.gdalPath
      var mergeOptions = request.write.resolvedCreationOptions(for: outputType, width: grid.width, height: grid.height,
                                                               bands: outputBandNames.count)
      if request.cog != nil {
        if staging != .disk, estimate + mergedBytes <= request.effectiveMemLimit {
          driver = "MEM"
          mergePath = ""
          mergeOptions = []
        } else {
          let path = scratchPrefix + "-merge.tif"
          TemporaryFiles.shared.register(path)
          intermediateDisk = path
          mergePath = WatchedFiles.path(path)
          var fast = request.write
          fast.creationOptions = ["COMPRESS=ZSTD", "ZSTD_LEVEL=1"]
          mergeOptions = fast.resolvedCreationOptions(for: outputType, width: grid.width, height: grid.height,
                                                      bands: outputBandNames.count)
        }
      }
      let output = try Dataset.create(
        driver: driver, path: mergePath, width: grid.width, height: grid.height, bands: outputBandNames.count,
        type: outputType, options: mergeOptions)
      try output.setGeoTransform(grid.geoTransform)
      try output.setSpatialReference(grid.srs)
      for (i, name) in outputBandNames.enumerated() {
        let band = try output.band(i + 1)
        try band.setNoDataValue(request.reflectance ? .nan : 0)
        band.setDescription(name)
      }
      let mergeShare = request.cog == nil ? 0.3 : 0.2
      let stageEnd = request.cog == nil ? 0.7 : 0.5
      merged = try MergeCompositor(
        request: request, products: planned.map(\.product), staged: staged, masks: maskStages,
        outputBands: outputBandNames.count
      ).run(into: output) { fraction, _ in progress?(stageEnd + mergeShare * fraction, nil) ?? true }
      for bands in staged { bands.forEach { $0.discard() } }
      maskStages.forEach { $0?.discard() }
      staged = []
      maskStages = []
      // GDAL's checksums of what was merged, read back from the dataset just written (flushed).
      try output.flush()
      merged.checksums = try output.bands.map { try $0.checksum() }
      try GDALFailures.shared.check(since: failureMark, context: "reading the products")

      if var cog = request.cog {
        target.abort()
        cog.input = mergePath
        cog.output = request.output
        cog.write.overwrite = request.write.overwrite
        cog.write.processing = request.write.processing
        let source: Dataset
        if driver == "MEM" {
          source = output
        } else {
          try output.close()
          source = try Dataset.open(WatchedFiles.realPath(mergePath))
        }
        // With staging in memory, the COG driver's temporary overviews stay there too: then
        // nothing but the output itself is written to disk.
        let temporaryFolder = staging == .disk ? [:] : ["CPL_TMPDIR": "/vsimem/tessera/cog-overviews"]
        let exported = try GDALEnvironment.withConfig(temporaryFolder) {
          try COGExport.export(cog, source: source) { fraction, _ in progress?(0.7 + 0.3 * fraction, nil) ?? true }
        }
        validation = exported.details.first { $0.0 == "validation" }?.1
        try source.close()
      } else {
        try output.close()
        try target.commit()
      }
    } catch {
      reportTarget?.abort()
      if let failure = WatchedFiles.failure(under: scratchPrefix) {
        target.abort()
        let code: ExitStatus = failure.isCreation ? .cannotCreate : .ioError
        throw TesseraError(code, "writing the staging file \(failure.path) failed: \(failure.reason)")
      }
      let classified = target.classify(error)
      target.abort()
      throw classified
    }

    var details: [(String, JSONValue)] = [
      ("products", .array(planned.map { productJSON($0, grid: grid) })),
      ("grid", gridJSON(grid)),
      ("order", .string(request.order.rawValue)),
      ("reflectance", .bool(request.reflectance)),
      ("cloud_mask", request.maskClouds ? .object([("scl_classes", .array(request.sclClasses.sorted().map { .int($0) }))]) : .null),
      ("bands", .array(outputBandNames.enumerated().map { merged.json(band: $0.offset, name: $0.element, pixels: grid.width * grid.height) })),
      ("overlap", .object([
        ("pixels", .int(merged.overlapPixels)),
        ("area", .double(Double(merged.overlapPixels) * resolution * resolution)),
        ("area_unit", .string(grid.srs.isGeographic ? "square degrees" : "square metres")),
      ])),
      ("staging", .object([
        ("mode", .string(staging.rawValue)), ("requested", .string(request.staging.rawValue)),
        ("estimated_bytes", .int(Int(estimate))), ("mem_limit_bytes", .int(Int(request.effectiveMemLimit))),
        ("note", stagingNote.map { .string($0) } ?? .null),
      ])),
      ("cog", .bool(request.cog != nil)),
      ("peak_rss_mib", .double((Double(peakResidentBytes()) / 1048576 * 10).rounded() / 10)),
    ]
    if let validation { details.append(("validation", validation)) }
    var report = OperationReport(outputs: [request.output], details: details)
    report.reportTarget = reportTarget
    report.warnings = planned.flatMap { p in p.product.warnings.map { "\(p.product.id): \($0)" } }
    return report
  }

  private var interrupted: GDALError { GDALError(context: "merging", number: 9, message: "interrupted") }

  // MARK: - Planning

  func plan(_ product: Sentinel2Product) throws -> PlannedProduct {
    if request.maskClouds && product.level == .l1c {
      throw TesseraError(.dataError, "\(product.source): --mask-clouds needs the SCL band of an L2A product; \(product.id) is L1C")
    }
    var files: [(band: Sentinel2Band, file: Sentinel2BandFile, dataset: Dataset)] = []
    for band in request.bands {
      let file = try product.file(for: band, resolution: resolution)
      files.append((band, file, try openBandFile(file, product: product)))
    }
    var mask: (file: Sentinel2BandFile, dataset: Dataset)?
    if request.maskClouds, !request.bands.contains(.scl) {
      let file = try product.file(for: .scl, resolution: resolution)
      mask = (file, try openBandFile(file, product: product))
    }
    let reference = files[0].dataset
    guard let srs = reference.spatialReference, let gt = reference.geoTransform, gt[2] == 0, gt[4] == 0,
      gt[1] > 0, gt[5] < 0, gt.allSatisfy(\.isFinite)
    else {
      throw TesseraError(.dataError, "\(files[0].file.path): band file without a north-up georeferencing")
    }
    let extent = Extent(minX: gt[0], minY: gt[3] + gt[5] * Double(reference.height),
                        maxX: gt[0] + gt[1] * Double(reference.width), maxY: gt[3])
    // Every band file of a tile covers the tile: one that does not (another tile's, a crop) would
    // be placed where it does not belong. A coarse pixel of slack allows for edge rounding.
    let others = files.dropFirst().map { ($0.file, $0.dataset) } + (mask.map { [($0.file, $0.dataset)] } ?? [])
    for (file, dataset) in others {
      guard let other = dataset.spatialReference, other.isSame(as: srs) else {
        throw TesseraError(.dataError, "\(file.path): not in the same CRS as \(files[0].file.path)")
      }
      guard let o = dataset.geoTransform, o[2] == 0, o[4] == 0, o[1] > 0, o[5] < 0, o.allSatisfy(\.isFinite) else {
        throw TesseraError(.dataError, "\(file.path): band file without a north-up georeferencing")
      }
      let e = Extent(minX: o[0], minY: o[3] + o[5] * Double(dataset.height), maxX: o[0] + o[1] * Double(dataset.width), maxY: o[3])
      let slack = Swift.max(gt[1], o[1], -gt[5], -o[5]) * 1.01
      guard abs(e.minX - extent.minX) <= slack, abs(e.maxX - extent.maxX) <= slack,
        abs(e.minY - extent.minY) <= slack, abs(e.maxY - extent.maxY) <= slack
      else {
        throw TesseraError(.dataError, "\(file.path): covers \(e.text), not the tile's \(extent.text) (as \(files[0].file.path) does)")
      }
    }
    return PlannedProduct(product: product, files: files, maskFile: mask, srs: srs, extent: extent)
  }

  /// Opens a band file and checks it is what its name says before anything reads its pixels:
  /// one band (three for TCI) of unsigned integers of at most 16 bits, a real size.
  func openBandFile(_ file: Sentinel2BandFile, product: Sentinel2Product) throws -> Dataset {
    let dataset: Dataset
    do {
      dataset = try Dataset.open(file.path)
    } catch let error as OpenError {
      throw TesseraError(.dataError, "\(product.source): band file \(file.path) is unreadable: \(error)")
    }
    guard dataset.width > 0, dataset.height > 0, dataset.bandCount >= 1 else {
      throw TesseraError(.dataError, "\(file.path): band file holds no raster")
    }
    let expected = file.band.componentCount
    guard dataset.bandCount == expected else {
      throw TesseraError(.dataError, "\(file.path): has \(dataset.bandCount) bands; a Sentinel-2 \(file.band.rawValue) file has \(expected)")
    }
    for i in 1...expected {
      let type = try dataset.band(i).dataType
      guard type == .uint16 || type == .byte else {
        throw TesseraError(.dataError, "\(file.path): band \(i) is \(type.rawValue); Sentinel-2 band files hold UInt16 or Byte values")
      }
    }
    return dataset
  }

  /// Every file the merge reads: each product as named, its metadata, its band files (an
  /// archive member counting as its archive).
  func inputFiles(_ planned: [PlannedProduct]) -> [String] {
    var files: [String] = []
    for p in planned {
      files.append(p.product.source)
      if let metadata = p.product.metadataPath { files.append(metadata) }
      files += p.product.files.map(\.path)
      files += InputFiles.of(p.files.map(\.dataset) + (p.maskFile.map { [$0.dataset] } ?? []))
    }
    return InputFiles.unique(files.compactMap(InputFiles.local))
  }

  /// The target CRS, then the union of the products on a grid of whole pixels aligned to the
  /// resolution; each product's window on it.
  func outputGrid(_ planned: inout [PlannedProduct]) throws -> MergeGrid {
    let target: SpatialReference
    if let dst = request.dstCRS {
      let wgs84 = try SpatialReference(epsg: 4326)
      let e = try CoordinateTransformation(from: planned[0].srs, to: wgs84).transformBounds(planned[0].extent)
      target = try CRSInput.resolve(dst, centre: ((e.minX + e.maxX) / 2, (e.minY + e.maxY) / 2))
    } else if planned.allSatisfy({ $0.srs.isSame(as: planned[0].srs) }) {
      target = planned[0].srs
    } else {
      target = try majorityZone(planned)
    }
    var union: Extent?
    for i in planned.indices {
      let e = planned[i].srs.isSame(as: target)
        ? planned[i].extent : try CoordinateTransformation(from: planned[i].srs, to: target).transformBounds(planned[i].extent)
      planned[i].extent = e
      union = union.map { Extent(minX: min($0.minX, e.minX), minY: min($0.minY, e.minY), maxX: max($0.maxX, e.maxX), maxY: max($0.maxY, e.maxY)) } ?? e
    }
    guard let u = union else { throw TesseraError(.usage, "no product") }
    guard [u.minX, u.minY, u.maxX, u.maxY].allSatisfy(\.isFinite) else {
      throw TesseraError(.dataError, "the products' footprints cannot be placed in \(CRSInput.label(target))")
    }
    let r = resolution
    // Snapped outward to one grid of pixel size r: the grid of the first product already at r
    // in the target CRS (so it is copied, never resampled), else multiples of r, as
    // gdalwarp -tap makes it. For Sentinel-2 at 10, 20 or 60 m the two agree.
    var anchorX = 0.0, anchorY = 0.0
    if let onGrid = planned.first(where: { p in
      guard let gt = p.files[0].dataset.geoTransform else { return false }
      return p.srs.isSame(as: target) && abs(gt[1] - r) < 1e-9 * r && abs(gt[5] + r) < 1e-9 * r
    }), let gt = onGrid.files[0].dataset.geoTransform {
      anchorX = gt[0] - (gt[0] / r).rounded(.down) * r
      anchorY = gt[3] - (gt[3] / r).rounded(.down) * r
    }
    func down(_ v: Double, _ a: Double) -> Double { a + ((v - a) / r + 1e-6).rounded(.down) * r }
    func up(_ v: Double, _ a: Double) -> Double { a + ((v - a) / r - 1e-6).rounded(.up) * r }
    let minX = down(u.minX, anchorX), maxX = up(u.maxX, anchorX)
    let minY = down(u.minY, anchorY), maxY = up(u.maxY, anchorY)
    let cause = request.resolution != nil ? "--resolution \(r)" : "a resolution of \(r) m"
    try OutputSize.requireGrid(width: ((maxX - minX) / r).rounded(), height: ((maxY - minY) / r).rounded(), cause: cause)
    let grid = MergeGrid(srs: target, resolution: r, minX: minX, maxY: maxY,
                         width: Int(((maxX - minX) / r).rounded()), height: Int(((maxY - minY) / r).rounded()))
    guard grid.width > 0, grid.height > 0 else { throw TesseraError(.dataError, "the products cover no whole pixel at \(r) m") }
    if Double(grid.width) * Double(grid.height) > 4e10 {
      throw TesseraError(.dataError, "the merged grid would be \(grid.width) x \(grid.height) pixels; are the products really neighbours?")
    }
    for i in planned.indices {
      guard let w = grid.window(covering: planned[i].extent) else {
        throw TesseraError(.dataError, "\(planned[i].product.source) covers no pixel of the output grid")
      }
      planned[i].window = w
    }
    return grid
  }

  /// Of the products' UTM zones, the one whose 6-degree strip covers most of the products'
  /// longitudes; a tie goes to the earlier product's zone.
  func majorityZone(_ planned: [PlannedProduct]) throws -> SpatialReference {
    let wgs84 = try SpatialReference(epsg: 4326)
    var minLon = Double.infinity, maxLon = -Double.infinity
    for p in planned {
      let e = try CoordinateTransformation(from: p.srs, to: wgs84).transformBounds(p.extent)
      minLon = min(minLon, e.minX)
      maxLon = max(maxLon, e.maxX)
    }
    var best: (srs: SpatialReference, cover: Double)?
    for p in planned {
      guard let zone = p.srs.utmZone else { continue }
      let west = Double(abs(zone) - 1) * 6 - 180, east = west + 6
      let cover = max(0, min(east, maxLon) - max(west, minLon))
      if best == nil || cover > best!.cover + 1e-12 { best = (p.srs, cover) }
    }
    guard let chosen = best?.srs else {
      throw TesseraError(.dataError, "the products are in different CRSs that are not UTM zones; pass --dst-crs")
    }
    return chosen
  }

  func stagedBytes(_ planned: [PlannedProduct]) -> UInt64 {
    var total: UInt64 = 0
    for p in planned {
      let pixels = UInt64(p.window.width) * UInt64(p.window.height)
      for entry in p.files {
        let bytes = UInt64((try? entry.dataset.band(1).dataType.byteSize) ?? 2)
        total += pixels * bytes * UInt64(entry.band.componentCount)
      }
      if p.maskFile != nil { total += pixels }
    }
    return total
  }

  // MARK: - Staging

  /// Stages every band of every product (and each SCL used only as a cloud mask). Bands are
  /// staged side by side, one per thread, each decoded on its own thread: JPEG 2000 decoding
  /// spreads over threads poorly within one file and perfectly across files. Returns what was
  /// staged even when a band failed, so the caller can discard it.
  func stageAll(_ planned: [PlannedProduct], grid: MergeGrid, mode: MergeMemfileRequest.Staging, scratchPrefix: String,
                progress: @escaping (Double) -> Bool) -> (staged: [[StagedBand]], masks: [StagedBand?], failure: Error?)
  {
    var jobs: [(product: Int, band: Sentinel2Band, source: Dataset, isMask: Bool)] = []
    for (p, product) in planned.enumerated() {
      for entry in product.files { jobs.append((p, entry.band, entry.dataset, false)) }
      if let mask = product.maskFile { jobs.append((p, .scl, mask.dataset, true)) }
    }
    var results = [StagedBand?](repeating: nil, count: jobs.count)
    var failure: Error?
    var done = 0, next = 0
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: max(1, min(request.write.processing.threads, jobs.count))) { _ in
      while true {
        lock.lock()
        let index = next
        next += 1
        let stop = failure != nil || index >= jobs.count
        lock.unlock()
        if stop { return }
        let job = jobs[index]
        do {
          let band = try GDALEnvironment.withConfig(["GDAL_NUM_THREADS": "1"]) {
            try stage(job.source, band: job.band, product: planned[job.product], index: job.product, grid: grid,
                      mode: mode, scratchPrefix: scratchPrefix, threads: 1)
          }
          lock.lock()
          results[index] = band
          done += 1
          if !progress(Double(done) / Double(jobs.count)) { failure = failure ?? interrupted }
          lock.unlock()
        } catch {
          lock.lock(); failure = failure ?? error; lock.unlock()
        }
      }
    }
    var staged: [[StagedBand]] = []
    var masks: [StagedBand?] = []
    for p in planned.indices {
      staged.append(jobs.indices.filter { jobs[$0].product == p && !jobs[$0].isMask }.compactMap { results[$0] })
      let mask = jobs.indices.first { jobs[$0].product == p && jobs[$0].isMask }.flatMap { results[$0] }
      masks.append(mask ?? (request.maskClouds ? staged[p].first { $0.band == .scl } : nil))
    }
    return (staged, masks, failure)
  }

  /// Puts one band file onto the output grid over the product's window: a plain copy when the
  /// file already sits on the grid, GDAL's warper otherwise. The result is closed (or, for MEM,
  /// flushed) before anything reads it.
  func stage(_ source: Dataset, band: Sentinel2Band, product: PlannedProduct, index: Int, grid: MergeGrid,
             mode: MergeMemfileRequest.Staging, scratchPrefix: String, threads: Int) throws -> StagedBand
  {
    let w = product.window
    let e = grid.extent(of: w)
    var memoryFile: MemoryFile?
    var path: String
    var format = ["-of", "GTiff"]
    var creation = ["-co", "TILED=YES", "-co", "BLOCKXSIZE=512", "-co", "BLOCKYSIZE=512", "-co", "NUM_THREADS=\(threads)"]
    switch mode {
    case .mem:
      path = ""
      format = ["-of", "MEM"]
      creation = []
    case .vsimem:
      let file = MemoryFile(name: "P\(index + 1)-\(band.rawValue).tif")
      memoryFile = file
      path = file.path
      creation += ["-co", "COMPRESS=ZSTD", "-co", "ZSTD_LEVEL=1", "-co", "PREDICTOR=2"]
    case .disk:
      let real = scratchPrefix + "-stage-P\(index + 1)-\(band.rawValue).tif"
      TemporaryFiles.shared.register(real)
      path = WatchedFiles.path(real)
      creation += ["-co", "COMPRESS=ZSTD", "-co", "ZSTD_LEVEL=1", "-co", "PREDICTOR=2", "-co", "BIGTIFF=IF_SAFER"]
    }
    if mode != .mem {
      // Sentinel-2's JP2s say NBITS=15, which GTiff would carry over as 15-bit samples.
      let bits = (try source.band(1).dataType.byteSize) * 8
      creation += ["-co", "NBITS=\(bits)"]
    }
    let result: Dataset
    do {
      if onGrid(source, window: w, grid: grid) {
        result = try GDALUtilities.translate(source, to: path, arguments: format + creation + ["-a_nodata", "0"])
      } else {
        let srcRes = source.geoTransform.map { abs($0[1]) } ?? resolution
        let method = band.isCategorical ? Resampling.nearest
          : (request.resampling ?? (srcRes < resolution - 1e-9 ? .average : .nearest))
        let wkt = try grid.srs.wkt(.wkt2, multiline: false)
        var args = format + creation + [
          "-t_srs", wkt, "-te", "\(e.minX)", "\(e.minY)", "\(e.maxX)", "\(e.maxY)",
          "-tr", "\(resolution)", "\(resolution)", "-r", method.gdalName,
          "-srcnodata", "0", "-dstnodata", "0", "-wo", "NUM_THREADS=\(threads)",
        ]
        args += ["-wm", "\(max(64, 32 * threads))"]
        result = try GDALUtilities.warp([source], to: path, arguments: args)
      }
      if mode == .mem { try result.flush() } else { try result.close() }
    } catch {
      // A half-written staging file goes at once; the caller never saw it.
      memoryFile?.remove()
      if mode == .disk { TemporaryFiles.shared.remove(WatchedFiles.realPath(path)) }
      throw error
    }
    let components = source.bandCount
    if mode == .mem {
      return StagedBand(band: band, window: w, components: components, path: nil, memDataset: result, memoryFile: nil)
    }
    return StagedBand(band: band, window: w, components: components, path: path, memDataset: nil, memoryFile: memoryFile)
  }

  /// Whether the file already has the grid's CRS, pixel size and pixel corners over the window.
  func onGrid(_ source: Dataset, window: Window, grid: MergeGrid) -> Bool {
    guard let gt = source.geoTransform, let srs = source.spatialReference, srs.isSame(as: grid.srs),
      gt[2] == 0, gt[4] == 0, source.width == window.width, source.height == window.height else { return false }
    let r = grid.resolution
    let e = grid.extent(of: window)
    return abs(gt[1] - r) < 1e-9 * r && abs(gt[5] + r) < 1e-9 * r
      && abs(gt[0] - e.minX) < 1e-6 * r && abs(gt[3] - e.maxY) < 1e-6 * r
  }

  // MARK: - Report

  func productJSON(_ p: PlannedProduct, grid: MergeGrid) -> JSONValue {
    let product = p.product
    let offsetApplied: JSONValue = request.reflectance
      ? .object(request.bands.filter(\.isReflectance).map { ($0.rawValue, .double(product.offset(for: $0))) }) : .null
    return .object([
      ("id", .string(product.id)), ("source", .string(product.source)), ("level", .string(product.level.rawValue)),
      ("tile", .string(product.tile)), ("sensing_time", .string(product.sensingTime)),
      ("processing_baseline", product.processingBaseline.map { .string($0) } ?? .null),
      ("spacecraft", product.spacecraft.map { .string($0) } ?? .null),
      ("relative_orbit", product.relativeOrbit.map { .int($0) } ?? .null),
      ("quantification_value", .double(product.quantification)),
      ("offset_applied", offsetApplied), ("offset_source", .string(product.offsetSource)),
      ("crs", crsJSON(p.srs)),
      ("reprojected", .bool(!p.srs.isSame(as: grid.srs))),
      ("bands", .array(p.files.map { entry in
        .object([("name", .string(entry.band.rawValue)), ("file", .string(entry.file.path)),
                 ("resolution", .int(entry.file.resolution))])
      })),
      ("window", .object([("x", .int(p.window.x)), ("y", .int(p.window.y)), ("width", .int(p.window.width)), ("height", .int(p.window.height))])),
    ])
  }

  func gridJSON(_ grid: MergeGrid) -> JSONValue {
    let e = grid.extent
    return .object([
      ("crs", crsJSON(grid.srs)), ("resolution", .double(grid.resolution)),
      ("width", .int(grid.width)), ("height", .int(grid.height)),
      ("geotransform", .array(grid.geoTransform.map { .double($0) })),
      ("bounds", RasterInfo.extentJSON(e)),
    ])
  }

  func crsJSON(_ srs: SpatialReference) -> JSONValue {
    .object([("epsg", srs.epsg.map { .int($0) } ?? .null), ("name", srs.name.map { .string($0) } ?? .null)])
  }
}

/// Peak resident memory of this process so far, in bytes.
func peakResidentBytes() -> Int {
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  return Int(usage.ru_maxrss) * 1024
}
