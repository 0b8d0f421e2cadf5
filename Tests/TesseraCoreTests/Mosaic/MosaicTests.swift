import Foundation
import GDAL
import TestSupport
import XCTest

@testable import TesseraCore

/// mosaic against gdalbuildvrt + gdal_translate, rasterio's quadrants, and numpy for the methods.
final class MosaicTests: TemporaryDirectoryTestCase {

  let quadrants = ["rgb1.tif", "rgb2.tif", "rgb3.tif", "rgb4.tif"].map { Fixture.path("rasterio/" + $0) }
  let cogs = ["mosaic_cog1.tif", "mosaic_cog2.tif"].map { Fixture.path("rio-tiler/" + $0) }

  func mosaic(_ inputs: [String], _ name: String, configure: (inout MosaicRequest) -> Void = { _ in }) throws -> String {
    var request = MosaicRequest(inputs: inputs, output: OutputSpec(path: dir.file(name)), resources: Resources(threads: 2))
    configure(&request)
    _ = try Mosaic.run(request)
    return request.output.path
  }

  func buildVRTOracle(_ inputs: [String], _ name: String, _ args: [String] = []) throws -> String {
    let vrt = dir.file(name + ".vrt"), out = dir.file(name)
    try Oracle.tool("gdalbuildvrt", ["-q"] + args + [vrt] + inputs)
    try Oracle.tool("gdal_translate", ["-q", vrt, out])
    return out
  }

  func testQuadrantsMosaicBackToRGBByte() throws {
    let ours = try mosaic(quadrants, "rgb.tif")
    let comparison = try PixelComparison.of(ours, Fixture.rgbByte)
    XCTAssertTrue(comparison.identical, "\(comparison)")
    XCTAssertEqual(try Dataset.open(ours).band(1).noDataValue, 0)
  }

  func testFirstAndLastEqualGDALBuildVRT() throws {
    for (order, inputs) in [(MosaicRequest.Method.last, cogs), (.first, Array(cogs.reversed()))] {
      let ours = try mosaic(cogs, "cog-\(order).tif") { $0.method = order; $0.resolution = .average }
      // gdalbuildvrt lets later inputs win; "first" is the same inputs reversed.
      let theirs = try buildVRTOracle(inputs, "cog-\(order)-gdal.tif", ["-resolution", "average"])
      let comparison = try PixelComparison.of(ours, theirs)
      XCTAssertTrue(comparison.identical, "\(order): \(comparison)")
    }
    let first = try PixelComparison.of(dir.file("cog-first.tif"), dir.file("cog-last.tif"))
    XCTAssertGreaterThan(first.differing, 0, "the overlap rule made no difference; the fixture does not test it")
  }

  /// The methods, against the same arithmetic done in numpy over gdalbuildvrt's per-input grids.
  func testMethodsOverValidPixels() throws {
    for method in [MosaicRequest.Method.min, .max, .mean, .count] {
      let ours = try mosaic(cogs, "m-\(method).tif") { $0.method = method; $0.resolution = .highest }
      let script = """
        import json, sys
        import numpy as np
        from osgeo import gdal
        gdal.UseExceptions()
        out = gdal.Open(\(String(reflecting: ours)))
        gt = out.GetGeoTransform()
        te = [gt[0], gt[3] + out.RasterYSize * gt[5], gt[0] + out.RasterXSize * gt[1], gt[3]]
        stacks = []
        for path in \(String(reflecting: cogs)):
            vrt = gdal.BuildVRT('', [path], outputBounds=te, xRes=gt[1], yRes=-gt[5])
            bands = []
            for b in range(1, vrt.RasterCount + 1):
                band = vrt.GetRasterBand(b)
                data = band.ReadAsArray().astype(np.float64)
                valid = band.GetMaskBand().ReadAsArray() > 0
                bands.append(np.where(valid, data, np.nan))
            stacks.append(np.stack(bands))
        cube = np.stack(stacks)
        method = \(String(reflecting: method.rawValue))
        count = np.sum(~np.isnan(cube), axis=0)
        with np.errstate(all='ignore'):
            if method == 'count': expected = count.astype(np.float64)
            elif method == 'min': expected = np.where(count > 0, np.nanmin(cube, axis=0), 0)
            elif method == 'max': expected = np.where(count > 0, np.nanmax(cube, axis=0), 0)
            else: expected = np.where(count > 0, np.nanmean(cube, axis=0), 0)
        actual = out.ReadAsArray().astype(np.float64)
        if method == 'mean':
            actual = np.where(count > 0, actual, 0)
            diff = np.abs(actual - expected.astype(np.float32))
        else:
            diff = np.abs(actual - expected)
        print(json.dumps({"max": float(diff.max()), "differ": int((diff > 1e-3).sum()), "shape": list(actual.shape)}))
        """
      let result = try Oracle.python(script) as? [String: Any]
      XCTAssertEqual(result?["differ"] as? Int, 0, "\(method): \(String(describing: result))")
    }
    let count = try Dataset.open(dir.file("m-count.tif"))
    XCTAssertEqual(count.bands.first?.dataType, .uint16)
    XCTAssertEqual(try Dataset.open(dir.file("m-mean.tif")).bands.first?.dataType, .float32)
  }

  func testResolutionRules() throws {
    XCTAssertThrowsError(try mosaic(cogs, "same.tif") { $0.resolution = .same }) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .dataError)
    }
    // The two COGs' pixels differ in the fifth decimal: one of them is always resampled, so the
    // warper does it and gdalwarp is the oracle.
    let sizes = try cogs.map { path -> (Double, Double) in
      let gt = try XCTUnwrap(try Dataset.open(path).geoTransform)
      return (abs(gt[1]), abs(gt[5]))
    }
    let lowest = try mosaic(cogs, "low.tif") { $0.resolution = .lowest }
    let theirs = dir.file("low-gdal.tif")
    try Oracle.tool("gdalwarp", ["-q", "-tr", "\(sizes.map(\.0).max()!)", "\(sizes.map(\.1).max()!)"] + cogs + [theirs])
    let lowComparison = try PixelComparison.of(lowest, theirs)
    XCTAssertTrue(lowComparison.identical, "\(lowComparison)")
    let explicit = try mosaic(cogs, "x.tif") { $0.resolution = .explicit(x: 600, y: 600); $0.targetAlignedPixels = true }
    let theirs2 = dir.file("x-gdal.tif")
    try Oracle.tool("gdalwarp", ["-q", "-tr", "600", "600", "-tap"] + cogs + [theirs2])
    let explicitComparison = try PixelComparison.of(explicit, theirs2)
    XCTAssertTrue(explicitComparison.identical, "\(explicitComparison)")
  }

  func testBandsBBoxAndNodataOptions() throws {
    let ours = try mosaic(quadrants, "b.tif") {
      $0.bands = [3, 1]
      $0.bbox = Extent(minX: 150000, minY: 2650000, maxX: 250000, maxY: 2750000)
      $0.dstNodata = .value(255)
    }
    let theirs = try buildVRTOracle(quadrants, "b-gdal.tif", ["-b", "3", "-b", "1", "-te", "150000", "2650000", "250000", "2750000", "-vrtnodata", "255",
                                                            "-tr", "300.0379266750948", "300.041782729805"])
    let comparison = try PixelComparison.of(ours, theirs)
    XCTAssertTrue(comparison.identical, "\(comparison)")
    XCTAssertEqual(try Dataset.open(ours).band(1).noDataValue, 255)
  }

  func testMixedCRSNeedsDstCRSAndThenEqualsGDALWarp() throws {
    let other = dir.file("rgb2-4326.tif")
    try Oracle.tool("gdalwarp", ["-q", "-t_srs", "EPSG:4326", quadrants[1], other])
    XCTAssertThrowsError(try mosaic([quadrants[0], other], "mixed.tif")) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .dataError)
      XCTAssertTrue("\(error)".contains("input 2 (rgb2-4326.tif) is EPSG:4326"), "\(error)")
      XCTAssertTrue("\(error)".contains("--dst-crs"), "\(error)")
    }
    let ours = try mosaic([quadrants[0], other], "mixed.tif") { $0.dstCRS = "EPSG:32618"; $0.resolution = .explicit(x: 300, y: 300) }
    try Oracle.tool("gdalwarp", ["-q", "-multi", "-wo", "NUM_THREADS=2", "-t_srs", "EPSG:32618", "-tr", "300", "300", quadrants[0], other, dir.file("mixed-gdal.tif")])
    let comparison = try PixelComparison.of(ours, dir.file("mixed-gdal.tif"))
    XCTAssertTrue(comparison.identical, "\(comparison)")
  }

  func testTypesArePromoted() throws {
    let wide = dir.file("rgb1-uint16.tif")
    try Oracle.tool("gdal_translate", ["-q", "-ot", "UInt16", quadrants[0], wide])
    let ours = try mosaic([wide, quadrants[3]], "promoted.tif")
    XCTAssertEqual(try Dataset.open(ours).band(1).dataType, .uint16)
  }

  /// The statistic methods promote too: inputs of several types were exit 65 (gdalbuildvrt, which
  /// lays out the grid, takes one type only; found by the hostile review). Int16 values below 0
  /// and above 255 against Byte ones, the maximum as numpy takes it.
  func testMethodsOverMixedTypesArePromoted() throws {
    let signed = dir.file("rgb1-int16.tif")
    try Oracle.tool("gdal_calc.py", ["--quiet", "-A", quadrants[0], "--A_band", "1", "--type", "Int16", "--NoDataValue", "0",
                                     "--calc", "A.astype(numpy.int16) * 3 - 200", "--outfile", signed])
    let ours = try mosaic([quadrants[0], signed], "max-mixed.tif") { $0.method = .max; $0.bands = [1] }
    XCTAssertEqual(try Dataset.open(ours).band(1).dataType, .int16)
    let differing = try Oracle.python("""
      from osgeo import gdal
      import numpy as np
      def valid(path):
          dataset = gdal.Open(path)
          band = dataset.GetRasterBand(1)
          return np.ma.masked_array(band.ReadAsArray().astype('int32'), band.GetMaskBand().ReadAsArray() == 0)
      expected = np.ma.stack([valid('\(quadrants[0])'), valid('\(signed)')]).max(axis=0)
      ours = valid('\(ours)')
      print(int((ours.mask != expected.mask).sum() + (ours.filled(0) != expected.filled(0)).sum()))
      """)
    XCTAssertEqual(differing as? Int, 0)
    // The last-on-top rule over the same Red and Gray bands: the first input's interpretation.
    let last = try Dataset.open(try mosaic([quadrants[0], signed], "last-mixed.tif") { $0.bands = [1] })
    XCTAssertEqual(try last.band(1).dataType, .int16)
    XCTAssertEqual(try last.band(1).colorInterpretation, "Red")
  }

  func testBadInputsWriteNothing() throws {
    let fourBand = dir.file("four.tif")
    try Oracle.tool("gdal_translate", ["-q", "-b", "1", "-b", "2", "-b", "3", "-b", "1", quadrants[0], fourBand])
    XCTAssertThrowsError(try mosaic([quadrants[1], quadrants[2], fourBand], "bands.tif")) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .dataError)
      XCTAssertTrue("\(error)".contains("input 3 (four.tif) has 4"), "\(error)")
    }
    XCTAssertThrowsError(try mosaic([quadrants[0], dir.file("gone.tif"), quadrants[2]], "missing.tif")) { error in
      XCTAssertEqual(TesseraError.from(error).status, .noInput)
      XCTAssertTrue("\(error)".contains("gone.tif"), "\(error)")
    }
    XCTAssertThrowsError(try mosaic(quadrants, "nooverlap.tif") { $0.bbox = Extent(minX: 0, minY: 0, maxX: 10, maxY: 10) }) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .dataError)
    }
    XCTAssertEqual(dir.contents, ["four.tif"], "a failed mosaic left files behind")
  }

  /// Inputs on one grid take the direct compositor; it must equal gdalbuildvrt in every variant.
  func testAlignedCompositorEqualsGDALBuildVRT() throws {
    let quads = try quadrants.map { try Dataset.open($0) }
    let vrt = try GDALUtilities.buildVRT(quads, to: "", arguments: [])
    XCTAssertNotNil(try AlignedComposite.plan(sources: quads, grid: try XCTUnwrap(Grid(of: vrt)), bands: [1, 2, 3], srcNodata: .inherit))
    let offGrid = try cogs.map { try Dataset.open($0) }
    let cogVRT = try GDALUtilities.buildVRT(offGrid, to: "", arguments: ["-resolution", "highest"])
    XCTAssertNil(try AlignedComposite.plan(sources: offGrid, grid: try XCTUnwrap(Grid(of: cogVRT)), bands: [1, 2, 3], srcNodata: .inherit))

    let float = dir.file("rgb4-float.tif")
    try Oracle.tool("gdal_translate", ["-q", "-ot", "Float32", quadrants[3], float])
    let variants: [(String, [String], [String], (inout MosaicRequest) -> Void)] = [
      ("zeros-drawn", quadrants, ["-srcnodata", "None"], { $0.srcNodata = NodataSetting.none }),
      ("src-nodata-7", quadrants, ["-srcnodata", "7"], { $0.srcNodata = .value(7) }),
      ("dst-nodata", quadrants, ["-vrtnodata", "99"], { $0.dstNodata = .value(99) }),
      ("first", Array(quadrants.reversed()), [], { $0.method = .first }),
      ("promoted", [quadrants[0], quadrants[1], quadrants[2], float], [], { _ in }),
    ]
    for (name, oracleInputs, args, configure) in variants {
      let inputs = name == "promoted" ? oracleInputs : quadrants
      let ours = try mosaic(inputs, "\(name).tif", configure: configure)
      let vrtPath = dir.file("\(name)-gdal.vrt"), theirs = dir.file("\(name)-gdal.tif")
      var sources = oracleInputs
      if name == "promoted" {
        // gdalbuildvrt 3.6 skips a source of another type, so the oracle promotes every input first.
        sources = try oracleInputs.enumerated().map { i, path in
          let typed = dir.file("typed-\(i).vrt")
          try Oracle.tool("gdal_translate", ["-q", "-of", "VRT", "-ot", "Float32", path, typed])
          return typed
        }
      }
      try Oracle.tool("gdalbuildvrt", ["-q"] + args + [vrtPath] + sources)
      try Oracle.tool("gdal_translate", ["-q", vrtPath, theirs])
      let comparison = try PixelComparison.of(ours, theirs)
      XCTAssertTrue(comparison.identical, "\(name): \(comparison)")
    }
  }

  func testGlobsAndInputLists() throws {
    let pattern = Fixture.path("rasterio/rgb[1-4].tif")
    XCTAssertEqual(try SourceSet.expand([pattern]), quadrants)
    let list = dir.file("list.txt")
    try Data(("# quadrants\n" + quadrants.joined(separator: "\n") + "\n\n").utf8).write(to: URL(fileURLWithPath: list))
    XCTAssertEqual(try SourceSet.expand([], listFile: list), quadrants)
    XCTAssertThrowsError(try SourceSet.expand([dir.file("*.nothing")])) { error in
      XCTAssertEqual((error as? TesseraError)?.status, .noInput)
    }
  }
}
