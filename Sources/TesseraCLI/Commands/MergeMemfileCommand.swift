import ArgumentParser
import Foundation
import GDAL
import TesseraCore

struct MergeMemfileCommand: ParsableCommand, HelpExamples {
  static let configuration = CommandConfiguration(
    commandName: "merge-memfile",
    abstract: "Merge Sentinel-2 products' bands through in-memory staging, optionally to a COG.",
    discussion: """
      PRODUCT is a .SAFE folder, a .zip of one (read through /vsizip/, never unpacked), an \
      MTD_MSIL2A.xml or MTD_MSIL1C.xml, or a folder of band files named the Sentinel-2 way \
      (T33UUU_20170216T102101_B04.jp2). L2A and L1C both work.

      Each product's bands are warped onto one output grid aligned to --resolution and staged in \
      MEM datasets (or /vsimem/ GTiffs, or temporary files beside the output when the staged size \
      passes --mem-limit), each closed before the merge reads it. Products in other UTM zones are \
      reprojected to --dst-crs, or to the zone that covers most of the output. A band's file is \
      the one at --resolution, else the closest finer one; a file the metadata lists but that is \
      missing is an error (exit 65), never a silent fallback.

      Overlap: --method last (default) lets later products win, first earlier ones; DN 0 is nodata and never wins. \
      --mask-clouds makes the --scl-classes of each product nodata first, so another product \
      shows through. --reflectance writes float32 (DN + BOA_ADD_OFFSET) / QUANTIFICATION_VALUE \
      from each product's own metadata, with NaN as nodata. --dst-nodata sets the output's nodata \
      and the value where no product has data (default 0 for DN, NaN with --reflectance), with or \
      without --cog; none declares none. --cog makes the output a validated \
      COG through the cog-export path, as the final copy. -b names the bands (default \
      B02,B03,B04,B08); --resampling defaults to average for bands made coarser and nearest for \
      bands made finer (SCL always nearest).
      """)

  static let examples = [
    "tessera merge-memfile A.SAFE B.zip -o merged.tif -b B02,B03,B04,B08 --res 10 --reflectance",
    "tessera merge-memfile A.SAFE B.SAFE -o rgb.tif -b B04,B03,B02 --mask-clouds --method first --cog",
  ]

  @Argument(help: ArgumentHelp("Sentinel-2 products.", valueName: "PRODUCT")) var products: [String]
  @OptionGroup var output: OutputOption
  @OptionGroup var bands: BandOption
  @Option(name: [.customLong("resolution"), .customLong("res")], parsing: .unconditional, help: ArgumentHelp(
    "Output pixel size in metres, which also chooses the band files read (those at it, else the closest finer); default: the finest native resolution of the bands.",
    valueName: "10|20|60"))
  var resolution: Double?
  @OptionGroup var crs: CRSOption
  @OptionGroup var datum: DatumOptions
  @Flag(help: "Write float32 reflectance, from each product's offset and quantification value.") var reflectance = false
  @OptionGroup var clouds: CloudMaskOptions
  @OptionGroup var resampling: ResamplingOption
  @Option(parsing: .unconditional, help: SharedHelp.method)
  var method: MosaicRequest.Order = .last
  @Option(parsing: .unconditional, help: "Staging: mem (uncompressed MEM datasets), vsimem (ZSTD GTiffs in /vsimem/, about half the memory) or disk.")
  var stage: MergeMemfileRequest.Staging = .mem
  @Option(name: .customLong("mem-limit"), parsing: .unconditional, help: ArgumentHelp("Largest in-memory staging in MiB before staging moves to disk (default: a quarter of RAM).", valueName: "MB"))
  var memLimit: Int?
  @Option(parsing: .unconditional, help: ArgumentHelp("Also write the JSON report to this file.", valueName: "FILE.json")) var report: String?
  @OptionGroup var nodata: DstNodataOption
  @Flag(help: "Write a Cloud Optimized GeoTIFF (the cog-export options below apply).") var cog = false

  @OptionGroup(title: "COG options (with --cog)") var cogOptions: COGOptions
  @OptionGroup var format: FormatOption
  @OptionGroup var outputType: OutputTypeOption
  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    _ = try sentinel2Bands()
    if let memLimit, !(1...(1 << 30)).contains(memLimit) { throw ValidationError("--mem-limit takes a positive number of MiB") }
    if let resolution, !(resolution.isFinite && resolution > 0) { throw ValidationError("--resolution must be a positive number") }
  }

  /// `-b` by name, B02,B03,B04,B08 when none is given.
  func sentinel2Bands() throws -> [Sentinel2Band] {
    let names = try bands.names("merge-memfile") ?? ["B02", "B03", "B04", "B08"]
    return try Sentinel2BandList(argumentText: names.joined(separator: ",")).bands
  }

  func run() throws {
    try CommandRunner("merge-memfile", global).run { runner in
      var request = MergeMemfileRequest(products: products, output: outputOptions.spec(output.path, format: format, type: outputType), bands: try sentinel2Bands(),
                                        resources: global.resources)
      request.resolution = resolution
      request.dstCRS = crs.dstCRS
      request.datum = try datum.shift()
      request.reflectance = reflectance
      request.maskClouds = clouds.maskClouds
      request.sclClasses = try clouds.classes()
      request.resampling = resampling.given
      request.order = method
      request.staging = stage
      request.memLimitBytes = memLimit.map { UInt64($0) << 20 }
      request.dstNodata = nodata.dstNodata
      request.cog = cog ? try cogOptions.settings() : nil
      if cog {
        if format.format != nil { throw TesseraError(.usage, "--cog writes a COG; give --cog or --format, not both") }
        request.output.ownDriver = "COG"
      }
      request.reportPath = report
      let bar = runner.progress("merge-memfile")
      let result = try MergeMemfile.run(request, progress: bar?.handler)
      bar?.finish()
      return try runner.result(result, text: summary(result))
    }
  }

  func summary(_ report: OperationReport) -> String {
    let details = JSONValue.object(report.details)
    func number(_ value: JSONValue?) -> Double? {
      switch value {
      case .int(let v)?: return Double(v)
      case .number(let v)?: return v
      default: return nil
      }
    }
    var lines = ["wrote \(output.path)"]
    if let grid = details["grid"], let w = number(grid["width"]), let h = number(grid["height"]), let r = number(grid["resolution"]) {
      lines.append("  grid \(Int(saturating: w)) x \(Int(saturating: h)) pixels of \(r.formatted()) m")
    }
    if case .array(let products)? = details["products"] {
      lines.append("  \(products.count) product tile(s) merged, \(method.rawValue) wins")
    }
    if case .array(let bands)? = details["bands"] {
      for band in bands {
        if case .string(let name)? = band["name"], let f = number(band["valid_fraction"]) {
          lines.append("  \(name): \(String(format: "%.1f", f * 100)) % valid")
        }
      }
    }
    if case .string(let mode)? = details["staging"]?["mode"] { lines.append("  staged in \(mode)") }
    return lines.joined(separator: "\n")
  }
}
