import Foundation
import GDAL
import TestSupport
import XCTest

@testable import TesseraCore

// The README says a new command that reads several rasters and writes one is a core operation,
// a CLI command and its tests, built from the shared blocks. This is such an operation, written
// as a new one would be, so the claim is checked by the compiler and by numpy: the largest valid
// value of each pixel over single-band rasters in one CRS, on the finest input's grid over their
// union; nodata never counts, and a pixel no input covers is nodata.
//
// Its scaffolding is `run`: 18 lines (inputs opened and checked, the grid, the inputs placed on
// it, the output's checks and raster, the windowed writer, the report), one of which calls the
// operation's own logic, `computeWindow`. The CLI command that would call it is about 25 lines
// (arguments, the shared option groups, the request, `CommandRunner.perform`), plus one line in
// `Tessera.swift`'s list of subcommands.

struct PixelMaximumRequest {
  var inputs: [String]
  var output: OutputSpec
  var resources: Resources
}

enum PixelMaximum {
  static let nodata = -9999.0

  static func run(_ request: PixelMaximumRequest, progress: ProgressHandler? = nil) throws -> OperationReport {
    let inputs = try BandSource.bands(of: request.inputs)
    let grids = try SourceGrid.ownGrids(inputs)
    let finest = SourceGrid.finest(grids)
    let grid = try SourceGrid.covering(grids, .union, resolution: grids[finest].resolution, lattice: finest,
                                       cause: "the inputs' union")
    let placed = try PlacedInputs(inputs, on: grid) { _ in .nearest }
    defer { placed.remove() }
    let writer = try RasterWrite(request.output, inputs: InputFiles.of(inputs.map(\.dataset)), resources: request.resources,
                                 cache: .streaming) { RasterWrite.Layout(grid: grid, bands: 1, type: .float64) }
    var bands = RasterWrite.Bands(count: 1, type: .float64)
    bands.declaredNodata = [nodata]
    try writer.raster(RasterWrite.Frame(grid), bands) { output in
      _ = try WindowedWriter<Scratch>(bands: 1, type: .float64, threads: request.resources.threads, sources: placed.sources)
        .write(to: output, progress: progress, makeScratch: Scratch.init) { window, reader, scratch, values in
          try computeWindow(window, reader, placed.bands, &scratch, values.bindMemory(to: Double.self))
        }
    }
    return writer.report([("inputs", .int(inputs.count))])
  }

  /// One input's values and validity over the part of a window it covers.
  struct Scratch {
    var values: [Double]
    var mask: [UInt8]
    init(capacity: Int) {
      values = [Double](repeating: 0, count: capacity)
      mask = [UInt8](repeating: 0, count: capacity)
    }
  }

  static func computeWindow(_ window: Window, _ reader: CompositeReader, _ bands: [Int], _ scratch: inout Scratch,
                            _ out: UnsafeMutableBufferPointer<Double>) throws {
    for i in 0..<window.pixelCount { out[i] = -.infinity }
    for k in bands.indices {
      guard let part = reader.overlap(k, window) else { continue }
      try scratch.values.withUnsafeMutableBufferPointer { values in
        try scratch.mask.withUnsafeMutableBufferPointer { mask in
          try reader.readValid(k, part, band: bands[k], values: values, mask: mask)
        }
      }
      for row in 0..<part.height {
        for column in 0..<part.width {
          let p = row * part.width + column
          let o = (part.y - window.y + row) * window.width + (part.x - window.x + column)
          if scratch.mask[p] != 0 { out[o] = Swift.max(out[o], scratch.values[p]) }
        }
      }
    }
    for i in 0..<window.pixelCount where out[i] == -.infinity { out[i] = nodata }
  }
}

final class NewOperationTests: TemporaryDirectoryTestCase {
  /// Band 1 of the four quadrants of a Landsat scene (0 is their nodata), and bands 3 and 2 of
  /// two of them: the maximum of each pixel over those that hold data, as numpy takes it from
  /// GDAL's own separate stack of the same files.
  func testAnOperationFromTheBlocksEqualsNumpy() throws {
    let quadrants = (1...4).map { Fixture.path("rasterio/rgb\($0).tif") + ":1" }
    let others = [Fixture.path("rasterio/rgb1.tif") + ":3", Fixture.path("rasterio/rgb4.tif") + ":2"]
    let output = dir.file("max.tif")
    let report = try PixelMaximum.run(PixelMaximumRequest(inputs: quadrants + others, output: OutputSpec(path: output),
                                                          resources: Resources(threads: 2)))
    XCTAssertEqual(report.outputs, [output])

    var singles: [String] = []
    for (i, pick) in (quadrants + others).enumerated() {
      let parts = pick.split(separator: ":")
      singles.append(dir.file("single-\(i).vrt"))
      try Oracle.tool("gdal_translate", ["-q", "-of", "VRT", "-b", String(parts[1]), String(parts[0]), singles[i]])
    }
    try Oracle.tool("gdalbuildvrt", ["-q", "-separate", dir.file("stack.vrt")] + singles)
    let differing: Any = try Oracle.python("""
      from osgeo import gdal
      import numpy as np
      stack = gdal.Open('\(dir.file("stack.vrt"))')
      values = stack.ReadAsArray().astype('float64')
      valid = np.stack([stack.GetRasterBand(b + 1).GetMaskBand().ReadAsArray() != 0 for b in range(stack.RasterCount)])
      expected = np.where(valid.any(axis=0), np.where(valid, values, -np.inf).max(axis=0), -9999.0)
      ours = gdal.Open('\(output)')
      assert np.allclose(ours.GetGeoTransform(), stack.GetGeoTransform(), rtol=1e-12, atol=0), (ours.GetGeoTransform(), stack.GetGeoTransform())
      print([int((ours.ReadAsArray() != expected).sum()), int((expected == -9999.0).sum())])
      """)
    let counts = try XCTUnwrap(differing as? [Int])
    XCTAssertEqual(counts.first, 0, "pixels differing from numpy")
    XCTAssertGreaterThan(counts.last ?? 0, 0, "the scene's own nodata corners stay nodata")
  }
}
