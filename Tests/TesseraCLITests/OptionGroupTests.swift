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
    XCTAssertEqual(try ResampleCommand.parse(["in.tif", "--output", "r.tif", "--size", "50%"]).output.path, "r.tif")
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
    let command = try ResampleCommand.parse(["in.tif", "o.tif", "--size", "200%", "-j", "3", "--cache-mb", "64",
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

  // MARK: - Option values

  /// The message a value's text is refused with, or nil when it parses.
  private func refusal<Value: ArgumentValue>(_ type: Value.Type, _ text: String) -> String? {
    do {
      _ = try Parsed<Value>(text).value()
      return nil
    } catch let error as ValidationError {
      return error.message
    } catch {
      return "not a ValidationError: \(error)"
    }
  }

  func testAValueKeepsItsTextAndRefusesWithTesserasOwnMessage() throws {
    let box = try XCTUnwrap(Parsed<Extent>(argument: "1,2"))
    XCTAssertEqual(box.text, "1,2")
    XCTAssertNil(box.valid)
    XCTAssertEqual(refusal(Extent.self, "1,2"), "bbox '1,2' is not xmin,ymin,xmax,ymax with finite numbers and min < max")
    XCTAssertEqual(try Parsed<Extent>("-78.5,24,-77.5,25").value(), Extent(minX: -78.5, minY: 24, maxX: -77.5, maxY: 25))
    XCTAssertEqual(Parsed<SceneClasses>("3,8,9,10").defaultValueDescription, "3,8,9,10")
    XCTAssertThrowsError(try ReprojectCommand.parse(["in.tif", "o.tif", "--dst-crs", "utm", "--bbox", "1,2"])) { error in
      XCTAssertEqual(ReprojectCommand.message(for: error), "bbox '1,2' is not xmin,ymin,xmax,ymax with finite numbers and min < max")
    }
  }

  func testResolutionsAndSizes() throws {
    XCTAssertEqual(try Parsed<MosaicRequest.ResolutionRule>("Highest").value(), .highest)
    XCTAssertEqual(try Parsed<MosaicRequest.ResolutionRule>("10").value(), .explicit(x: 10, y: 10))
    XCTAssertEqual(try Parsed<MosaicRequest.ResolutionRule>("10,20").value().pixelSize?.y, 20)
    XCTAssertEqual(refusal(MosaicRequest.ResolutionRule.self, "0"), "resolution '0' is not X or X,Y with positive numbers")
    XCTAssertEqual(try Parsed<OutputDimensions>("10, 20").value(), try Parsed<OutputDimensions>("10,20").value())
    XCTAssertEqual(try Parsed<OutputDimensions>("10,20").value().height, .pixels(20))
    XCTAssertEqual(try Parsed<OutputDimensions>("50%").value(), OutputDimensions(width: .percent(50), height: .percent(50)))
    XCTAssertEqual(try Parsed<OutputDimensions>("25%,0").value(), OutputDimensions(width: .percent(25), height: .pixels(0)))
    XCTAssertEqual(try Parsed<OutputDimensions>("50%").value().pixels(ofInput: 791, 718).width, 395)
    XCTAssertEqual(refusal(OutputDimensions.self, "10"), "--size '10' is not W,H in pixels, P% or P%,Q% of the input's size (0 for one side keeps the aspect ratio)")
    XCTAssertNotNil(refusal(OutputDimensions.self, "0,0"))
    XCTAssertNotNil(refusal(OutputDimensions.self, "-1,5"))
    XCTAssertNotNil(refusal(OutputDimensions.self, "0%"))
    let reproject = try ReprojectCommand.parse(["in.tif", "o.tif", "--dst-crs", "utm", "--resolution", "2,3"])
    XCTAssertEqual(try reproject.grid.pixelSize()?.x, 2)
    XCTAssertEqual(try reproject.grid.pixelSize()?.y, 3)
    XCTAssertThrowsError(try ReprojectCommand.parse(["in.tif", "o.tif", "--dst-crs", "utm", "--size", "2,3", "--resolution", "1"])) { error in
      XCTAssertEqual(ReprojectCommand.message(for: error), "--resolution and --size are alternatives; give one")
    }
  }

  func testBandListsAndNames() throws {
    XCTAssertEqual(try Parsed<BandList>("1, 2,3").value(), .numbers([1, 2, 3]))
    XCTAssertEqual(try Parsed<BandList>("B02,b8a").value(), .names(["B02", "b8a"]))
    XCTAssertEqual(refusal(BandList.self, "0"), "-b takes band numbers from 1, like -b 4,3,2")
    for bad in ["1,,2", ""] { XCTAssertEqual(refusal(BandList.self, bad)?.hasPrefix("-b '\(bad)' names no band"), true, bad) }
    XCTAssertEqual(refusal(BandList.self, "1,B02")?.hasPrefix("-b '1,B02' mixes band numbers and names"), true)
    let repeated = try MosaicCommand.parse(["a.tif", "-o", "m.tif", "-b", "4", "-b", "3,2", "--band", "1"])
    XCTAssertEqual(try repeated.bands.numbers(), [4, 3, 2, 1])
    XCTAssertEqual(try Parsed<NameList>(" a, b ,,c").value().names, ["a", "b", "c"])
    XCTAssertEqual(try Parsed<Sentinel2BandList>("B02, B8A").value().bands, [.b02, .b8a])
    XCTAssertEqual(refusal(Sentinel2BandList.self, ","), "-b names no band")
    XCTAssertTrue(refusal(Sentinel2BandList.self, "B99")?.hasPrefix("unknown band 'B99'; bands are B01") ?? false)
    XCTAssertEqual(try Parsed<SceneClasses>("3, 8").value().classes, [3, 8])
    XCTAssertEqual(refusal(SceneClasses.self, "12"), "--scl-classes takes scene classes 0-11, like 3,8,9,10")
    XCTAssertEqual(try Parsed<BandStackCommand.ColorInterpretations>("red, GREEN").value().names, ["red", "GREEN"])
    XCTAssertEqual(refusal(BandStackCommand.ColorInterpretations.self, ","), "--color-interp names no interpretation")
    XCTAssertTrue(refusal(BandStackCommand.ColorInterpretations.self, "red,purple")?.hasPrefix("--color-interp: unknown interpretation 'purple'") ?? false)
    XCTAssertEqual(try Parsed<DataType>("UInt16").value(), .uint16)
    XCTAssertTrue(refusal(DataType.self, "Foo")?.hasPrefix("--ot takes Byte") ?? false)
    XCTAssertThrowsError(try MosaicCommand.parse(["a.tif", "-o", "m.tif", "-b", "1,0"])) { error in
      XCTAssertEqual(MosaicCommand.message(for: error), "-b takes band numbers from 1, like -b 4,3,2")
    }
  }

  func testKeyValuesKeepEverythingAfterTheFirstEquals() throws {
    let pair = try Parsed<KeyValue>("A=b=c").value()
    XCTAssertEqual(pair.key, "A")
    XCTAssertEqual(pair.value, "b=c")
    XCTAssertNotNil(refusal(KeyValue.self, "=x"))
    XCTAssertNotNil(refusal(KeyValue.self, "x"))
    XCTAssertThrowsError(try [Parsed<KeyValue>("A=1"), Parsed<KeyValue>("B")].keyValues("--co")) { error in
      XCTAssertEqual((error as? ValidationError)?.message, "--co takes KEY=VALUE, got 'B'")
    }
    XCTAssertThrowsError(try InfoCommand.parse(["in.tif", "--config", "=1"])) { error in
      XCTAssertEqual(InfoCommand.message(for: error), "--config takes KEY=VALUE, got '=1'")
    }
  }

  func testIndexBindingsConstantsAndPerRoleNumbers() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-values-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("b4.tif").path
    XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data()))
    let picked = try Parsed<RoleBinding>("red=\(file):2").value()
    XCTAssertEqual(picked.role, "red")
    XCTAssertEqual(picked.file, "\(file):2")
    XCTAssertEqual(picked.source, .file(IndexRequest.Binding(path: file, band: 2)))
    XCTAssertEqual(try Parsed<RoleBinding>("nir=missing.tif").value().source, .file(IndexRequest.Binding(path: "missing.tif", band: 1)))
    XCTAssertEqual(try Parsed<RoleBinding>("nir=4").value().source, .inputBand(4), "all digits: band 4 of INPUT")
    XCTAssertEqual(try Parsed<RoleBinding>("nir=./4").value().source, .file(IndexRequest.Binding(path: "./4", band: 1)))
    XCTAssertNil(try Parsed<RoleBinding>("nir=4").value().file)
    XCTAssertEqual(refusal(RoleBinding.self, "red"), "-i takes ROLE=FILE[:N] or ROLE=N, got 'red'")
    XCTAssertEqual(refusal(RoleBinding.self, "=x.tif"), "-i takes ROLE=FILE[:N] or ROLE=N, got '=x.tif'")
    XCTAssertEqual(refusal(RoleBinding.self, "red=0"), "-i red=0: bands are numbered from 1")
    XCTAssertEqual(refusal(RoleBinding.self, "red=\(file):0"), "-i red: \(file):0 asks for band 0; bands are numbered from 1")

    // One -i splits only before ROLE=: a file name with a comma stays whole.
    let several = try Parsed<RoleBindings>("red=3, nir=4,swir1=a,b.tif,swir2=x,1.tif:2").value().bindings
    XCTAssertEqual(several.map(\.role), ["red", "nir", "swir1", "swir2"])
    XCTAssertEqual(several.map(\.source), [.inputBand(3), .inputBand(4), .file(IndexRequest.Binding(path: "a,b.tif", band: 1)),
                                           .file(IndexRequest.Binding(path: "x,1.tif:2", band: 1))])
    XCTAssertEqual(RoleBinding.split("red=a,,b"), ["red=a,,b"])
    XCTAssertEqual(refusal(RoleBindings.self, "red=3,nir="), "-i takes ROLE=FILE[:N] or ROLE=N, got 'nir='")

    XCTAssertEqual(try Parsed<ExpressionText>("(b1 - b2) / red").value().variables.sorted(), ["b1", "b2", "red"])
    XCTAssertEqual(try Parsed<ExpressionText>("(b1").value().variables, [], "the core reports the syntax error")
    let named = try Parsed<ExpressionText>("NDVI-2 = (nir - red) / (nir + red)").value()
    XCTAssertEqual(named.name, "NDVI-2")
    XCTAssertEqual(named.text, " (nir - red) / (nir + red)")
    for unnamed in ["b1 <= 2", "b1 == b2", "b1 != 2", "b1 >= 2", "(a)=b"] {
      XCTAssertNil(try Parsed<ExpressionText>(unnamed).value().name, unnamed)
      XCTAssertEqual(try Parsed<ExpressionText>(unnamed).value().text, unnamed)
    }

    XCTAssertEqual(try Parsed<FormulaConstant>("L=0.5").value().value, 0.5)
    XCTAssertEqual(refusal(FormulaConstant.self, "L"), "--param takes NAME=V, got 'L'")
    XCTAssertEqual(refusal(FormulaConstant.self, "L=inf"), "--param takes NAME=V, got 'L=inf'")

    XCTAssertEqual(try [Parsed<RoleNumber>("2"), Parsed<RoleNumber>("red=0.5")].perRole("--input-scale"), ["*": 2, "red": 0.5])
    for bad in ["", "=", "red=x", "nan"] {
      XCTAssertThrowsError(try [Parsed<RoleNumber>(bad)].perRole("--input-offset"), bad) { error in
        XCTAssertEqual((error as? ValidationError)?.message, "--input-offset takes [ROLE=]NUMBER, got '\(bad)'")
      }
    }
  }

  func testDatumRenderCOGAndTimelapseValues() throws {
    XCTAssertEqual(try Parsed<BursaWolf>("1, 2,3").parameters("--src-towgs84"), [1, 2, 3])
    XCTAssertThrowsError(try Parsed<BursaWolf>("1,2").parameters("--dst-towgs84")) { error in
      XCTAssertEqual((error as? ValidationError)?.message,
                     "--dst-towgs84 takes 3 or 7 numbers DX,DY,DZ[,RX,RY,RZ,DS] (metres, arc-seconds, ppm), got '1,2'")
    }
    XCTAssertEqual(try Parsed<Colormap>("VIRIDIS").value(), .viridis)
    XCTAssertEqual(refusal(Colormap.self, "foo"), "unknown colormap 'foo' (one of: \(Colormap.names))")
    XCTAssertEqual(try Parsed<RGBA>("#ff0000").value(), RGBA(255, 0, 0))
    XCTAssertEqual(refusal(RGBA.self, "red"), "--nodata-color takes transparent or #RRGGBB, got 'red'")
    XCTAssertNil(refusal(StretchSpec.self, "p2,p98"))
    XCTAssertTrue(refusal(StretchSpec.self, "foo")?.hasPrefix("--stretch takes minmax") ?? false)
    XCTAssertThrowsError(try QuicklookCommand.parse(["in.tif", "q.png", "-b", "1,2"])) { error in
      XCTAssertEqual(QuicklookCommand.message(for: error), "-b takes three bands drawn as red, green, blue (-b 4,3,2) or one drawn with a colour map (-b 1), not 2")
    }
    XCTAssertEqual(try Parsed<COGSettings.Overviews>("NONE").value(), COGSettings.Overviews.none)
    XCTAssertEqual(try Parsed<COGSettings.Overviews>("3").value(), .count(3))
    XCTAssertEqual(refusal(COGSettings.Overviews.self, "31"), "--overviews takes auto, none or a count from 0 to 30")
    XCTAssertEqual(try Parsed<TimelapseRequest.Labels>("name").value(), .name)
    XCTAssertEqual(refusal(TimelapseRequest.Labels.self, "Name"), "--labels takes date, name or none")
    XCTAssertEqual(refusal(TimelapseRequest.Order.self, "random"), "--order takes date or given")
    guard case .count(3) = try Parsed<ExpectedBands>("3").value() else { return XCTFail("a count") }
    guard case .names(let names) = try Parsed<ExpectedBands>("B02, B03").value() else { return XCTFail("names") }
    XCTAssertEqual(names, ["B02", "B03"])
    XCTAssertEqual(refusal(ExpectedBands.self, ","), "--expect-bands takes a count or band names")
  }

  func testOneRuleInTheCoreAndTheCommandLine() throws {
    var request = ReprojectRequest(input: "in.tif", output: OutputSpec(path: "o.tif"), dstCRS: "EPSG:4326")
    request.resolution = (1, 1)
    request.size = OutputDimensions(pixels: 2, 2)
    XCTAssertThrowsError(try request.validate()) { XCTAssertEqual(($0 as? TesseraError)?.message, "--resolution and --size are alternatives; give one") }
    request.size = nil
    request.bboxCRS = "EPSG:4326"
    XCTAssertThrowsError(try request.validate()) { XCTAssertEqual(($0 as? TesseraError)?.message, "--bbox-crs needs --bbox") }
    var mosaic = MosaicRequest(inputs: ["a.tif"], output: OutputSpec(path: "m.tif"))
    mosaic.bboxCRS = "EPSG:4326"
    XCTAssertThrowsError(try mosaic.validate()) { XCTAssertEqual(($0 as? TesseraError)?.message, "--bbox-crs needs --bbox") }
    XCTAssertThrowsError(try ClipCommand.parse(["in.tif", "o.tif", "--bbox", "1,2,3,4", "--each-feature"])) { error in
      XCTAssertEqual(ClipCommand.message(for: error), "--each-feature takes a --cutline")
    }
    XCTAssertThrowsError(try ClipRequest.eachFeatureCutline(.like("a.tif")))
    var cog = COGSettings()
    cog.level = 13
    XCTAssertThrowsError(try COGExportRequest(input: "in.tif", output: OutputSpec(path: "c.tif"), cog: cog).validate()) { error in
      XCTAssertEqual((error as? TesseraError)?.message, "--level takes 1 to 12 with deflate")
    }
    XCTAssertThrowsError(try COGExportCommand.parse(["in.tif", "c.tif", "--level", "13"])) { error in
      XCTAssertEqual(COGExportCommand.message(for: error), "--level takes 1 to 12 with deflate")
    }
    XCTAssertThrowsError(try MergeMemfileRequest(products: ["p"], output: OutputSpec(path: "m.tif"), bands: [.b02, .b02]).validate())
  }
}
