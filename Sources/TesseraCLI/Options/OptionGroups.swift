import ArgumentParser
import Foundation
import GDAL
import TesseraCore

// The option groups commands are assembled from. Each option is declared once here, so its
// spelling, help and parsing are the same in every command that takes it.

// MARK: - Outputs

/// The output of a command that reads one input: `IN OUT`, or `IN -o OUT`.
struct OutputArgument: ParsableArguments {
  @Argument(help: ArgumentHelp("The output file (or give it with -o).", valueName: "OUT")) var positional: String?
  @Option(name: [.customShort("o"), .customLong("output")], parsing: .unconditional, help: ArgumentHelp("The output file.", valueName: "OUT"))
  var option: String?

  func validate() throws {
    switch (positional, option) {
    case (nil, nil): throw ValidationError("give the output file, as OUT or -o OUT")
    case (.some, .some): throw ValidationError("give the output file once, as OUT or -o OUT, not both")
    default: break
    }
  }

  var path: String { positional ?? option ?? "" }
}

/// The output of a command that reads many inputs: `-o OUT`.
struct OutputOption: ParsableArguments {
  @Option(name: [.customShort("o"), .customLong("output")], parsing: .unconditional, help: ArgumentHelp("The output file.", valueName: "OUT"))
  var path: String
}

/// How every command that writes a raster writes it.
struct OutputOptions: ParsableArguments {
  @Option(name: .customLong("co"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
    "A creation option of the output's driver; repeatable. GeoTIFF defaults: TILED=YES, 512x512 blocks, COMPRESS=DEFLATE, PREDICTOR 2 (integers) or 3 (floats), BIGTIFF=IF_SAFER; .img (HFA): COMPRESSED=YES.",
    valueName: "KEY=VALUE"))
  var creationOptions: [Parsed<KeyValue>] = []

  @Flag(help: "Replace the output if it exists.")
  var overwrite = false

  @Flag(name: .customLong("force-size"), help: "Write even when the output's estimated size does not fit the free disk space.")
  var forceSize = false

  func validate() throws { _ = try creationOptions.keyValues("--co") }

  /// The one description of the output, made once per run. The creation options are checked
  /// against the output's driver when the command starts (`OutputSpec.target`).
  func spec(_ path: String, format: FormatOption? = nil, type: OutputTypeOption? = nil, allowsVRT: Bool = false) -> OutputSpec {
    OutputSpec(path: path, formatName: format?.format, allowsVRT: allowsVRT, creationOptions: creationOptions.map(\.text),
               overwrite: overwrite, forceSize: forceSize, outputType: type?.type?.valid)
  }
}

/// The output's data type, `--ot` as GDAL's tools take it: one declaration for every command
/// that writes a raster.
struct OutputTypeOption: ParsableArguments {
  @Option(name: .customLong("ot"), parsing: .unconditional, help: ArgumentHelp(
    "The output's data type: \(TypeConversion.choices.map(\.rawValue).joined(separator: ", ")). Values are converted as gdal_translate -ot converts them: no scaling, rounded half away from zero, clamped to the type's range (the clamped pixels counted in the report).",
    valueName: "TYPE"))
  var type: Parsed<DataType>?

  func validate() throws { _ = try type.value() }
}

/// The file format of a raster output; without it, the output's extension decides.
struct FormatOption: ParsableArguments {
  @Option(name: [.customShort("f"), .customLong("format"), .customLong("of")], parsing: .unconditional, help: ArgumentHelp(
    "The output's GDAL driver (GTiff, HFA, PNG, JP2OpenJPEG, ...); default: the one the output's extension asks for (.tif GeoTIFF, .img Erdas Imagine).",
    valueName: "DRIVER"))
  var format: String?
}

// MARK: - Inputs

/// Many inputs: paths, quoted globs, or a list file.
struct InputOptions: ParsableArguments {
  @Argument(help: ArgumentHelp("Input rasters (FILE:N reads band N of FILE); quoted glob patterns are expanded (sorted).", valueName: "INPUT"))
  var inputs: [String] = []
  @Option(name: .customLong("input-list"), parsing: .unconditional, help: ArgumentHelp("A file of input paths, one a line ('-': stdin).", valueName: "FILE"))
  var inputList: String?

  func validate() throws {
    if inputs.isEmpty && inputList == nil { throw ValidationError("give input rasters or --input-list") }
  }

  func expanded() throws -> [String] { try SourceSet.expand(inputs, listFile: inputList) }
}

/// `-b/--band`: bands by number, in every command that reads bands; by name where the input is a
/// Sentinel-2 product. Repeatable: `-b 4 -b 3 -b 2` is `-b 4,3,2`.
struct BandOption: ParsableArguments {
  @Option(name: [.customShort("b"), .customLong("band")], parsing: .unconditionalSingleValue, help: ArgumentHelp(
    "Bands by number from 1, in order; repeatable (-b 4 -b 3 -b 2 is -b 4,3,2). Of Sentinel-2 products: by name (-b B04,B03,B02).",
    valueName: "N[,N…]"))
  var band: [Parsed<BandList>] = []

  func validate() throws { _ = try list() }

  /// Every `-b` joined in order; nil when none was given.
  func list() throws -> BandList? {
    let lists = try band.values()
    guard var joined = lists.first else { return nil }
    for next in lists.dropFirst() { joined = try joined.appending(next) }
    return joined
  }

  /// Band numbers, for an input that is no Sentinel-2 product: names are refused.
  func numbers() throws -> [Int]? {
    switch try list() {
    case nil: return nil
    case .numbers(let numbers)?: return numbers
    case .names(let names)?:
      throw ValidationError("-b \(names.joined(separator: ",")): band names are for Sentinel-2 products; give band numbers, like -b 4,3,2")
    }
  }

  /// Band names of Sentinel-2 products: numbers are refused.
  func names(_ command: String) throws -> [String]? {
    switch try list() {
    case nil: return nil
    case .names(let names)?: return names
    case .numbers(let numbers)?:
      throw ValidationError("-b \(numbers.map(String.init).joined(separator: ",")): \(command) reads Sentinel-2 bands by name, like -b B02,B03,B04,B08")
    }
  }
}

// MARK: - Grid

/// The output CRS.
struct CRSOption: ParsableArguments {
  @Option(name: .customLong("dst-crs"), parsing: .unconditional, help: ArgumentHelp(
    "The output CRS: EPSG:n, WKT, a PROJ string, a .prj file, or an alias: \(CRSInput.aliasHelp).",
    valueName: "CRS"))
  var dstCRS: String?
}

/// How a command that changes CRS crosses datums; see `DatumShift`.
struct DatumOptions: ParsableArguments {
  @Option(name: .customLong("ct"), parsing: .unconditional, help: ArgumentHelp(
    "The coordinate operation, as gdalwarp -ct: a PROJ pipeline, the WKT of an operation, or urn:ogc:def:coordinateOperation:EPSG::N.",
    valueName: "PIPELINE"))
  var coordinateOperation: String?
  @Option(name: .customLong("src-towgs84"), parsing: .unconditional, help: ArgumentHelp(
    "Bind the input CRS to WGS 84 by 3 or 7 Bursa-Wolf parameters (metres, arc-seconds, ppm; position vector, as PROJ's +towgs84).",
    valueName: "DX,DY,DZ[,RX,RY,RZ,DS]"))
  var srcTOWGS84: Parsed<BursaWolf>?
  @Option(name: .customLong("dst-towgs84"), parsing: .unconditional, help: ArgumentHelp(
    "Bind the output CRS to WGS 84 the same way (0,0,0 takes it as WGS 84).", valueName: "DX,DY,DZ[,RX,RY,RZ,DS]"))
  var dstTOWGS84: Parsed<BursaWolf>?
  @OptionGroup var strict: StrictDatumOption

  func validate() throws { _ = try parsed { try shift() } }

  func shift() throws -> DatumShift {
    var shift = DatumShift()
    if let ct = coordinateOperation {
      guard !ct.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw TesseraError(.usage, "--ct is empty") }
      shift.coordinateOperation = ct
    }
    shift.sourceTOWGS84 = try srcTOWGS84.map { try $0.parameters("--src-towgs84") }
    shift.targetTOWGS84 = try dstTOWGS84.map { try $0.parameters("--dst-towgs84") }
    shift.strict = strict.strictDatum
    return shift
  }
}

/// `DX,DY,DZ[,RX,RY,RZ,DS]`: Bursa-Wolf parameters of `--src-towgs84` or `--dst-towgs84`.
struct BursaWolf: ArgumentValue {
  var parameters: [Double]

  init(argumentText text: String) throws {
    guard let parameters = DatumShift.towgs84Values(text) else { throw ValidationError("takes 3 or 7 numbers") }
    self.parameters = parameters
  }
}

extension Parsed<BursaWolf> {
  /// The parameters, or the usage error naming `option`.
  func parameters(_ option: String) throws -> [Double] {
    guard let given = valid else { throw ValidationError(DatumShift.towgs84Refusal(text, option: option).message) }
    return given.parameters
  }
}

/// Whether a ballpark datum change is refused; alone in commands that change CRS without warping
/// (clip's regions), part of `DatumOptions` elsewhere.
struct StrictDatumOption: ParsableArguments {
  @Flag(name: .customLong("strict-datum"), help: "Refuse (exit 65) a datum change PROJ can only do as a ballpark (null) shift, instead of warning.")
  var strictDatum = false
}

/// The output's bounds.
struct BoundsOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: ArgumentHelp("Output bounds.", valueName: "xmin,ymin,xmax,ymax")) var bbox: Parsed<Extent>?
  @Option(name: .customLong("bbox-crs"), parsing: .unconditional, help: ArgumentHelp("The CRS of --bbox (default: the output's).", valueName: "CRS"))
  var bboxCRS: String?

  func validate() throws {
    let box = try extent()
    try parsed { try OptionRule.requireBBox(forCRS: bboxCRS, bbox: box) }
  }

  func extent() throws -> Extent? { try bbox.value() }
}

/// The output's pixel size or dimensions, and their alignment.
struct GridOptions: ParsableArguments {
  @Option(name: [.customLong("resolution"), .customLong("res")], parsing: .unconditional, help: ArgumentHelp(
    "Output pixel size X or X,Y, in the output CRS's units; where several inputs meet (mosaic, band-stack) also a rule: highest, lowest, average or same.",
    valueName: "X[,Y]|RULE"))
  var resolution: Parsed<MosaicRequest.ResolutionRule>?
  @Option(parsing: .unconditional, help: ArgumentHelp(
    "Output size: W,H in pixels, or P% or P%,Q% of the input's size (as gdal_translate -outsize); 0 for one side keeps the aspect ratio (as gdalwarp -ts).",
    valueName: "W,H|P%"))
  var size: Parsed<OutputDimensions>?
  @Flag(name: .customLong("target-aligned-pixels"), help: "Align the output's bounds to multiples of the resolution.")
  var targetAlignedPixels = false

  func validate() throws {
    _ = try pixelCount()
    try parsed { try OptionRule.requireOne(resolution: resolution != nil, size: size != nil) }
  }

  /// --resolution as a pixel size: a rule word is mosaic's and band-stack's only, where several
  /// inputs meet.
  func pixelSize() throws -> (x: Double, y: Double)? {
    guard let resolution else { return nil }
    guard let size = try resolution.value().pixelSize else {
      throw ValidationError("--resolution '\(resolution.text)': this command takes a pixel size X or X,Y (positive numbers); rules such as highest are for several inputs (mosaic, band-stack)")
    }
    return size
  }

  func pixelCount() throws -> OutputDimensions? { try size.value() }
}

/// Nodata on the way in and out.
struct NodataOptions: ParsableArguments {
  @OptionGroup var source: SrcNodataOption
  @OptionGroup var destination: DstNodataOption

  var srcNodata: NodataSetting { source.srcNodata }
  var dstNodata: NodataSetting { destination.dstNodata }
}

/// The input's nodata: one value for every band or one per band, as gdalwarp -srcnodata takes
/// them; a list follows gdalwarp's rule (a pixel is nodata when every band holds its own value).
struct SrcNodataOption: ParsableArguments {
  @Option(name: .customLong("src-nodata"), parsing: .unconditional, help: ArgumentHelp(
    "Input nodata: V for every band, V,V,... one per band (a pixel of one input is nodata when every band holds its value, as gdalwarp -srcnodata; band-stack's bands, each from its own file, each on its own, as gdalbuildvrt -separate), none (no input pixel is nodata), or inherit (the input's own; the default).",
    valueName: "V[,V...]|none|inherit"))
  var srcNodata: NodataSetting = .inherit
}

/// The output's nodata: one value for every band or one per band, as gdalwarp -dstnodata.
struct DstNodataOption: ParsableArguments {
  @Option(name: .customLong("dst-nodata"), parsing: .unconditional, help: ArgumentHelp(
    "Output nodata: V for every band, V,V,... one per band, none (declare none), or inherit (the input's; the default).",
    valueName: "V[,V...]|none|inherit"))
  var dstNodata: NodataSetting = .inherit
}

/// How pixels are resampled where the grid changes.
struct ResamplingOption: ParsableArguments {
  @Option(name: [.customShort("r"), .customLong("resampling")], parsing: .unconditional, help: ArgumentHelp(
    "How pixels are resampled where the grid changes: GDAL's names (nearest, bilinear, cubic, cubicspline, lanczos, average, mode, …), rasterio's spellings (near, cubic_spline) too. Default nearest unless the command's description says otherwise.",
    valueName: "METHOD"))
  var given: Resampling?

  /// The method given, else nearest.
  var resampling: Resampling { given ?? .nearest }
}

/// Sentinel-2 cloud masking from the scene classification (SCL) of L2A products.
struct CloudMaskOptions: ParsableArguments {
  @Flag(name: .customLong("mask-clouds"), help: "Make the --scl-classes of each Sentinel-2 L2A product nodata.")
  var maskClouds = false
  @Option(name: .customLong("scl-classes"), parsing: .unconditional, help: ArgumentHelp("Scene classes masked by --mask-clouds.", valueName: "3,8,9,10"))
  var sclClasses = Parsed<SceneClasses>("3,8,9,10")

  func validate() throws { _ = try classes() }

  /// The classes, each a scene class from 0 to 11.
  func classes() throws -> Set<Int> { try sclClasses.value().classes }
}

/// Help of an option that is declared per command because its values differ (`--method`:
/// mosaic combines in more ways than merge-memfile), so its text still is one.
enum SharedHelp {
  static let method: ArgumentHelp = "How the pixels of overlapping inputs combine: first or last (that input wins; default last, as GDAL's tools), or, where listed, the min, max, mean or count of the valid ones."
}

// MARK: - Values

/// Core types as option values. A type with its own spellings and no refusal of its own is
/// `ExpressibleByArgument`; one that refuses text in Tessera's words is an `ArgumentValue`, held in
/// `Parsed`.
extension Resampling: ExpressibleByArgument {
  public init?(argument: String) { self.init(name: argument) }
  public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension NodataSetting: ExpressibleByArgument {
  public init?(argument: String) { self.init(argument) }
  public var defaultValueDescription: String { description }
}

extension Extent: ArgumentValue {
  init(argumentText text: String) throws { self = try parseBounds(text) }
}

extension OutputDimensions: ArgumentValue {
  init(argumentText text: String) throws { try self.init(parsing: text) }
}

extension MosaicRequest.ResolutionRule: ArgumentValue {
  init(argumentText text: String) throws { try self.init(text) }
}

extension DataType: ArgumentValue {
  /// `--ot`'s types, in any case (`TypeConversion.parse`).
  init(argumentText text: String) throws { self = try TypeConversion.parse(text) }
}

extension COGSettings.Profile: ExpressibleByArgument {}
extension COGSettings.Predictor: ExpressibleByArgument {}
extension COGSettings.BigTIFF: ExpressibleByArgument {}
extension MosaicRequest.Method: ExpressibleByArgument {}
extension MosaicRequest.Order: ExpressibleByArgument {}
extension MergeMemfileRequest.Staging: ExpressibleByArgument {}
extension BandStackRequest.Coverage: ExpressibleByArgument {}
extension BandStackRequest.Interleave: ExpressibleByArgument {}

/// Runs a core check (a request's rule, a core parse) so that ArgumentParser reports its usage
/// error as Tessera's own message, with exit 64; a non-ValidationError thrown from `validate()`
/// would be exit 1.
func parsed<T>(_ body: () throws -> T) throws -> T {
  do { return try body() } catch let error as TesseraError { throw ValidationError(error.message) }
}

// MARK: - Previews

/// How quicklook and timelapse draw a raster.
struct RenderOptionGroup: ParsableArguments {
  @Option(parsing: .unconditional, help: ArgumentHelp("minmax, pLOW,pHIGH (default p2,p98), LOW,HIGH, or none.", valueName: "STRETCH"))
  var stretch: Parsed<StretchSpec>?
  @Flag(name: .customLong("stretch-joint"), help: "One stretch for the three bands of an RGB preview instead of one each.")
  var stretchJoint = false
  @Option(parsing: .unconditional, help: ArgumentHelp("Colour map of one band: \(Colormap.names) (default gray).", valueName: "NAME"))
  var colormap: Parsed<Colormap>?
  @Option(name: .customLong("color-table"), parsing: .unconditional, help: ArgumentHelp("Class colours, one 'VALUE R G B [A]' a line.", valueName: "FILE"))
  var colorTable: String?
  @Flag(help: "The band holds classes: its colour table, or distinct colours.")
  var categorical = false
  @Option(parsing: .unconditional, help: "Width in pixels (never wider than the raster).")
  var width = 1024
  @Flag(help: "Draw a colour bar with the stretch's ends and the band's name under the image.")
  var legend = false
  @Option(name: .customLong("nodata-color"), parsing: .unconditional, help: ArgumentHelp("transparent (default) or #RRGGBB.", valueName: "COLOR"))
  var nodataColor = Parsed<RGBA>("transparent")
  @OptionGroup var resampling: ResamplingOption

  func validate() throws {
    if !(1...16384).contains(width) { throw ValidationError("--width takes 1 to 16384 pixels") }
    if colormap != nil && colorTable != nil { throw ValidationError("give --colormap or --color-table, not both") }
    _ = try options(readingTable: false)
  }

  /// `-b` of a preview: three bands drawn as red, green and blue, or one through a colour map.
  static func requireDrawable(_ numbers: [Int]?) throws {
    guard let numbers, numbers.count != 3 && numbers.count != 1 else { return }
    throw ValidationError("-b takes three bands drawn as red, green, blue (-b 4,3,2) or one drawn with a colour map (-b 1), not \(numbers.count)")
  }

  /// The render options, drawing `bands`; the colour table file is read only when `readingTable`.
  func options(bands: [Int]? = nil, readingTable: Bool = true) throws -> RenderOptions {
    var options = RenderOptions()
    if let bands { options.bands = bands }
    if let stretch = try stretch.value() { options.stretch = stretch }
    options.stretchJoint = stretchJoint
    if let colormap = try colormap.value() { options.colormap = colormap }
    if readingTable, let colorTable { options.colorTable = try ClassColors.read(colorTable) }
    options.categorical = categorical
    options.width = width
    options.legend = legend
    options.nodataColor = try nodataColor.value()
    options.resampling = resampling.resampling
    return options
  }
}

extension StretchSpec: ArgumentValue {
  init(argumentText text: String) throws { try self.init(parsing: text) }
}

extension Colormap: ArgumentValue {
  init(argumentText text: String) throws {
    guard let map = Colormap(rawValue: text.lowercased()) else { throw ValidationError("unknown colormap '\(text)' (one of: \(Colormap.names))") }
    self = map
  }
}

extension RGBA: ArgumentValue {
  init(argumentText text: String) throws {
    guard let color = RGBA(parsing: text) else { throw ValidationError("--nodata-color takes transparent or #RRGGBB, got '\(text)'") }
    self = color
  }
}
