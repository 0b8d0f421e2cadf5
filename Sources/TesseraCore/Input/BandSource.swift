import Foundation
import GDAL

/// One band of one input file, as a command puts it on a grid.
struct BandSource {
  /// The file (for a band pick `FILE:N`, FILE).
  let path: String
  let band: Int
  let dataset: Dataset

  /// Band `band` of `dataset`; refused (65) when the file has no such band, naming `asker`, the
  /// input or role that asked for it.
  init(path: String, band: Int, dataset: Dataset, askedBy asker: String) throws {
    try BandSource.requireBand(band, of: dataset, path: path, askedBy: asker)
    self.path = path
    self.band = band
    self.dataset = dataset
  }

  /// Refuses (65) a band the file does not have.
  static func requireBand(_ band: Int, of dataset: Dataset, path: String, askedBy asker: String) throws {
    guard band >= 1, band <= dataset.bandCount else {
      throw TesseraError(.dataError, "\(asker) asks for band \(band); \(path) has \(dataset.bandCount)")
    }
  }

  /// Every input as bands: a pick's one band (`FILE:N`), or every band of a file in order.
  static func bands(of paths: [String]) throws -> [BandSource] {
    let detach = SourceSet.mustDetach(paths.count)
    var sources: [BandSource] = []
    for argument in paths {
      if let bad = SourceSet.badPick(argument) { throw TesseraError(.usage, bad) }
      let pick = SourceSet.pick(argument)
      let dataset = try SourceSet.open(pick.path, detach: detach)
      guard dataset.bandCount > 0 else { throw TesseraError(.dataError, "\(pick.path) has no raster band") }
      for band in pick.band.map({ [$0] }) ?? Array(1...dataset.bandCount) {
        sources.append(try BandSource(path: pick.path, band: band, dataset: dataset, askedBy: argument))
      }
    }
    return sources
  }

  var dataType: DataType { get throws { try dataset.band(band).dataType } }
  var noDataValue: Double? { get throws { try dataset.band(band).noDataValue } }
}
