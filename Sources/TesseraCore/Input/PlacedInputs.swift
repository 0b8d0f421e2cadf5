import Foundation
import GDAL

/// Sources on an output grid as the compositors read them: a source on the grid's lattice as it
/// is, any other resampled onto the grid by GDAL's warper into a VRT read window by window.
struct PlacedInputs {
  let sources: [PlacedSource]
  /// The band each source is read from.
  let bands: [Int]
  /// The warped VRTs and the bands they read: they live until `remove()`.
  private let files: [MemoryFile]

  /// `inputs` on `grid` (every one in the grid's CRS), those off its lattice resampled with
  /// `resampling(k)`.
  init(_ inputs: [BandSource], on grid: Grid, resampling: (Int) -> Resampling) throws {
    var sources: [PlacedSource] = [], bands: [Int] = [], files: [MemoryFile] = []
    for (k, input) in inputs.enumerated() {
      if let window = grid.placement(of: input.dataset) {
        sources.append(PlacedSource(path: input.path, window: window))
        bands.append(input.band)
        continue
      }
      let file = MemoryFile(name: "input-\(k).vrt"), band = MemoryFile(name: "band-\(k).vrt")
      files += [file, band]
      try PlacedInputs.warp(input, onto: grid, resampling: resampling(k), band: band.path, to: file.path)
      sources.append(PlacedSource(path: file.path, window: Window(x: 0, y: 0, width: grid.width, height: grid.height)))
      bands.append(1)
    }
    self.sources = sources
    self.bands = bands
    self.files = files
  }

  /// The band alone, written and closed at `band`, then warped onto the grid as a VRT at `path`.
  static func warp(_ input: BandSource, onto grid: Grid, resampling: Resampling, band: String, to path: String) throws {
    let e = grid.extent
    try GDALUtilities.translate(input.dataset, to: band, arguments: ["-of", "VRT", "-b", "\(input.band)"]).close()
    try GDALUtilities.warp([try Dataset.open(band)], to: path, arguments: [
      "-of", "VRT", "-r", resampling.gdalName, "-tr", "\(grid.resolution.x)", "\(grid.resolution.y)",
      "-te", "\(e.minX)", "\(e.minY)", "\(e.maxX)", "\(e.maxY)",
    ]).close()
  }

  /// Unlinks the warped VRTs; call when the sources are read no more.
  func remove() { files.forEach { $0.remove() } }
}
