import Foundation
import GDAL

/// One band of one product staged on the output grid, covering `window` of it.
final class StagedBand {
  let band: Sentinel2Band
  let components: Int
  /// How the merge reads it: a /vsimem/ or disk file each worker opens, or the MEM dataset
  /// itself (it vanishes on close), shared under a lock.
  let placed: PlacedSource
  private let memoryFile: MemoryFile?

  var window: Window { placed.window }

  init(band: Sentinel2Band, components: Int, placed: PlacedSource, memoryFile: MemoryFile?) {
    self.band = band
    self.components = components
    self.placed = placed
    self.memoryFile = memoryFile
  }

  /// Removes what staging made: the memory file, the disk file, the MEM dataset.
  func discard() {
    switch placed.storage {
    case .shared(let dataset): try? dataset.close()
    case .file(let path) where !path.hasPrefix("/vsimem/"): TemporaryFiles.shared.remove(WatchedFiles.realPath(path))
    case .file: break
    }
    memoryFile?.remove()
  }
}

extension MergeJob {
  /// Stages every band of every product (and each SCL used only as a cloud mask). Bands are
  /// staged side by side, one per thread, each decoded on its own thread: JPEG 2000 decoding
  /// spreads over threads poorly within one file and perfectly across files. Returns what was
  /// staged even when a band failed, so the caller can discard it.
  func stageAll(_ planned: [PlannedProduct], grid: Grid, mode: MergeMemfileRequest.Staging, target: OutputTarget,
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
    // Band files detached under a low `ulimit -n` are reopened through GDAL's dataset pool; a
    // thread may hold two of its slots at once, and threads that fill the pool spin forever.
    let threads = max(1, min(request.resources.threads, jobs.count, DescriptorBudget.gdalPoolSize / 2))
    DispatchQueue.concurrentPerform(iterations: threads) { _ in
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
                      mode: mode, target: target, threads: 1)
          }
          lock.lock()
          results[index] = band
          done += 1
          if !progress(Double(done) / Double(jobs.count)) { failure = failure ?? GDALError.userInterrupt(context: "staging") }
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
  func stage(_ source: Dataset, band: Sentinel2Band, product: PlannedProduct, index: Int, grid: Grid,
             mode: MergeMemfileRequest.Staging, target: OutputTarget, threads: Int) throws -> StagedBand
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
      path = target.scratchFile("stage-P\(index + 1)-\(band.rawValue).tif")
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
        if let srs = source.spatialReference, !srs.isSame(as: grid.srs) {
          if request.datum.sourceTOWGS84 != nil { args += ["-s_srs", try request.datum.source(srs).wkt(.wkt2, multiline: false)] }
          args += request.datum.warpArguments
        }
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
    let placed = mode == .mem ? PlacedSource(shared: result, window: w) : PlacedSource(path: path, window: w)
    return StagedBand(band: band, components: components, placed: placed, memoryFile: memoryFile)
  }

  /// Whether the file already has the grid's CRS, pixel size and pixel corners over the window.
  func onGrid(_ source: Dataset, window: Window, grid: Grid) -> Bool {
    guard let gt = source.geoTransform, let srs = source.spatialReference, srs.isSame(as: grid.srs),
      gt[2] == 0, gt[4] == 0, source.width == window.width, source.height == window.height else { return false }
    let r = grid.resolution.x
    let e = grid.extent(of: window)
    return abs(gt[1] - r) < 1e-9 * r && abs(gt[5] + r) < 1e-9 * r
      && abs(gt[0] - e.minX) < 1e-6 * r && abs(gt[3] - e.maxY) < 1e-6 * r
  }
}
