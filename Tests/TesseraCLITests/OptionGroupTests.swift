import ArgumentParser
import Foundation
import GDAL
import TesseraCore
import XCTest
@testable import TesseraCLI

/// The option groups and the output spelling rule, as the parser sees them.
final class OptionGroupTests: XCTestCase {
  func testOneInputTakesTheOutputAsAnArgumentOrWithO() throws {
    let positional = try ReprojectCommand.parse(["in.tif", "out.tif", "--dst-crs", "EPSG:4326"])
    XCTAssertEqual(positional.output.path, "out.tif")
    let flagged = try ReprojectCommand.parse(["in.tif", "-o", "out.tif", "--dst-crs", "EPSG:4326"])
    XCTAssertEqual(flagged.output.path, "out.tif")
    XCTAssertEqual(try ResampleCommand.parse(["in.tif", "--output", "r.tif", "--scale", "0.5"]).output.path, "r.tif")
    XCTAssertEqual(try COGExportCommand.parse(["in.tif", "-o", "c.tif"]).output.path, "c.tif")
    XCTAssertThrowsError(try ReprojectCommand.parse(["in.tif", "a.tif", "-o", "b.tif", "--dst-crs", "EPSG:4326"])) { error in
      XCTAssertTrue(ReprojectCommand.message(for: error).contains("not both"), ReprojectCommand.message(for: error))
    }
    XCTAssertThrowsError(try ReprojectCommand.parse(["in.tif", "--dst-crs", "EPSG:4326"])) { error in
      XCTAssertTrue(ReprojectCommand.message(for: error).contains("give the output file"), ReprojectCommand.message(for: error))
    }
  }

  func testManyInputsTakeTheOutputWithO() throws {
    let mosaic = try MosaicCommand.parse(["a.tif", "b.tif", "-o", "m.tif"])
    XCTAssertEqual(mosaic.inputs.inputs, ["a.tif", "b.tif"])
    XCTAssertEqual(mosaic.output.path, "m.tif")
    XCTAssertThrowsError(try MosaicCommand.parse(["a.tif", "b.tif"]))
    XCTAssertEqual(try MergeMemfileCommand.parse(["p.SAFE", "-o", "m.tif"]).output.path, "m.tif")
  }

  func testSharedGroupsParseTheSameWayInEveryCommand() throws {
    // Negative numbers are values, not options.
    let reproject = try ReprojectCommand.parse(["in.tif", "o.tif", "--dst-crs", "utm", "--bbox", "-78.5,24,-77.5,25",
                                                "--bbox-crs", "EPSG:4326", "--dst-nodata", "-9999", "--resampling", "cubic_spline"])
    XCTAssertEqual(try reproject.bounds.extent(), Extent(minX: -78.5, minY: 24, maxX: -77.5, maxY: 25))
    XCTAssertEqual(reproject.nodata.dstNodata, .value(-9999))
    XCTAssertEqual(reproject.resampling.resampling, .cubicspline)
    let mosaic = try MosaicCommand.parse(["a.tif", "-o", "m.tif", "--bbox", "-78.5,24,-77.5,25", "--bbox-crs", "EPSG:4326",
                                          "--dst-nodata", "-9999", "--resampling", "cubic_spline"])
    XCTAssertEqual(try mosaic.bounds.extent(), try reproject.bounds.extent())
    XCTAssertEqual(mosaic.bounds.bboxCRS, reproject.bounds.bboxCRS)
    XCTAssertEqual(mosaic.nodata.dstNodata, reproject.nodata.dstNodata)
    XCTAssertEqual(mosaic.resampling.resampling, reproject.resampling.resampling)
    XCTAssertEqual(try mosaic.resolutionRule(), .highest)
    XCTAssertEqual(try MosaicCommand.parse(["a.tif", "-o", "m.tif", "--resolution", "lowest"]).resolutionRule(), .lowest)
    XCTAssertThrowsError(try MosaicCommand.parse(["a.tif", "-o", "m.tif", "--bbox-crs", "EPSG:4326"]), "--bbox-crs needs --bbox")
    XCTAssertThrowsError(try ReprojectCommand.parse(["in.tif", "o.tif", "--dst-crs", "utm", "--resolution", "highest"]),
                         "a rule is mosaic's only")
  }

  func testOneOutputDescriptionCarriesEveryOutputOption() throws {
    let command = try ReprojectCommand.parse(["in.tif", "o.vrt", "--dst-crs", "EPSG:4326", "--format", "vrt", "--co", "COMPRESS=ZSTD",
                                              "--overwrite", "--force-size"])
    let spec = command.outputOptions.spec(command.output.path, format: command.format, allowsVRT: true)
    XCTAssertEqual(spec.path, "o.vrt")
    XCTAssertEqual(spec.formatName, "vrt")
    XCTAssertEqual(spec.format, .vrt)
    XCTAssertEqual(spec.creationOptions, ["COMPRESS=ZSTD"])
    XCTAssertTrue(spec.overwrite)
    XCTAssertTrue(spec.forceSize)
    XCTAssertThrowsError(try ReprojectCommand.parse(["in.tif", "o.tif", "--dst-crs", "EPSG:4326", "--co", "BLOCKXSIZE"]))
  }

  func testResourcesCarryThreadsCacheAndTheUsersConfig() throws {
    let command = try ResampleCommand.parse(["in.tif", "o.tif", "--scale", "2", "--threads", "3", "--cache-mb", "64",
                                             "--config", "GDAL_CACHEMAX=32", "--config", "A=b=c"])
    let resources = command.global.resources
    XCTAssertEqual(resources.threads, 3)
    XCTAssertEqual(resources.cacheMB, 64)
    XCTAssertEqual(resources.config, ["GDAL_CACHEMAX": "32", "A": "b=c"])
  }

  func testEachDefaultIsSaidOnce() throws {
    for command in Tessera.configuration.subcommands {
      let help = Tessera.helpMessage(for: command)
      XCTAssertFalse(help.contains("(default: deflate). (values"), "\(command): \(help)")
      for line in help.split(separator: "\n") {
        XCTAssertLessThanOrEqual(line.components(separatedBy: "default:").count, 2, "a default said twice in \(command): \(line)")
      }
    }
  }

  func testTheErrorObjectIsTheDocumentedOne() {
    let json = CommandRunner.errorJSON(command: "mosaic", status: .dataError, message: "input 2 (b.tif) has no georeferencing")
    XCTAssertEqual(json.serialized(), #"{"command":"mosaic","status":"error","exit_code":65,"error":"input 2 (b.tif) has no georeferencing"}"#)
  }
}
