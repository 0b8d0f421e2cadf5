import Foundation
import GDAL

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

extension MergeJob {
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
    // Many products under a low `ulimit -n`: past the share of held inputs, a band file keeps
    // only its description and is opened again through GDAL's bounded pool when staged.
    if DescriptorBudget.heldShareUsed { try dataset.detachFile() }
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
  func outputGrid(_ planned: inout [PlannedProduct]) throws -> Grid {
    let target: SpatialReference
    if let dst = request.dstCRS {
      let wgs84 = try SpatialReference(epsg: 4326)
      let e = try CoordinateTransformation(from: planned[0].srs, to: wgs84).transformBounds(planned[0].extent)
      try request.datum.requireReadableOperation()
      target = try request.datum.target(try CRSInput.resolve(dst, centre: ((e.minX + e.maxX) / 2, (e.minY + e.maxY) / 2)))
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
      union = union?.union(e) ?? e
    }
    guard let u = union else { throw TesseraError(.usage, "no product") }
    guard u.isFinite else {
      throw TesseraError(.dataError, "the products' footprints cannot be placed in \(CRSInput.label(target))")
    }
    let r = resolution
    // Snapped outward to one grid of pixel size r: the grid of the first product already at r
    // in the target CRS (so it is copied, never resampled), else multiples of r, as
    // gdalwarp -tap makes it. For Sentinel-2 at 10, 20 or 60 m the two agree.
    var anchor = (x: 0.0, y: 0.0)
    if let onGrid = planned.first(where: { p in
      guard let gt = p.files[0].dataset.geoTransform else { return false }
      return p.srs.isSame(as: target) && abs(gt[1] - r) < 1e-9 * r && abs(gt[5] + r) < 1e-9 * r
    }), let gt = onGrid.files[0].dataset.geoTransform {
      anchor = Grid.anchor(of: gt, resolution: (r, r))
    }
    let cause = request.resolution != nil ? "--resolution \(r)" : "a resolution of \(r) m"
    let grid = try Grid.covering(u, srs: target, resolution: (r, r), anchor: anchor, cause: cause)
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
      if cover > (best?.cover ?? -1) + 1e-12 { best = (p.srs, cover) }
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
}
