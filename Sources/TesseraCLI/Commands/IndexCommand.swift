import ArgumentParser
import Foundation
import GDAL
import TesseraCore

extension Sensor: ExpressibleByArgument {}

struct IndexCommand: ParsableCommand, HelpExamples {
  static let configuration = CommandConfiguration(
    commandName: "index",
    abstract: "Spectral indices by name (all of Awesome Spectral Indices) and safe band math.",
    discussion: """
      tessera index NAME[,NAME…] [INPUT] -o OUT [-i ROLE=…]…     one output band per index
      tessera index --expr [NAME=]EXPR … [INPUT] -o OUT [-i ROLE=…]…   one band per --expr
      tessera index --list [--domain vegetation|water|burn|…]  |  --describe NAME

      -i gives each role (blue, green, red, rededge1-3, nir, nir2, swir1, swir2, coastal, or the \
      catalogue's codes B, G, R, RE1, N, S1, …) its pixels: -i red=B04.tif[:N] takes band N \
      (default 1) of a file, -i red=3 band 3 of INPUT (a file named like a number is written ./3). \
      One -i may hold several, split at each comma followed by ROLE= (-i red=3,nir=4), so a file \
      name with a comma stays whole. Roles nothing binds are taken from INPUT's band descriptions \
      (B04 or red for red, B08 or nir for nir, …), each said on stderr. --expr reads roles or \
      b1…bn of INPUT; index names and --expr mix, the names' bands first (with --expr, a lone \
      argument that lists catalogue names is the names: write a file named like an index ./ndvi). \
      A pixel that is nodata in any input, and a result that is not a finite number (a division \
      by zero), is nodata in the output (NaN unless --dst-nodata). --output-scale S and \
      --output-offset O store (index - O) / S, rounded and clamped in an integer --ot, and write \
      S and O on each band as GDAL's scale and offset. Inputs on other grids are resampled onto \
      the output's (-r, default bilinear); other CRSs are an error.

      RVI is NIR/Red (the textbook ratio vegetation index; the catalogue's SR); the catalogue's own \
      RVI (RE2/R) is RERVI. The catalogue is Awesome Spectral Indices (MIT licence, David Montero \
      Loaiza et al.).
      """)

  /// The examples ending the help (the HelpExamples block of #26).
  static let examples = [
    "tessera index ndvi -i red=B04.jp2 -i nir=B08.jp2 -o ndvi.tif",
    "tessera index ndvi,ndwi s2.tif -o idx.tif --ot Int16 --output-scale 0.0001   # bands described B03, B04, B08",
    "tessera index --expr NDVI='(nir - red) / (nir + red)' --expr 'ratio=b4 / b3' scene.tif -i red=3,nir=4 -o expr.tif",
  ]

  @Argument(help: ArgumentHelp("Index names (comma-separated; optional with --expr), then the input.", valueName: "NAME[,NAME…] [INPUT]"))
  var positional: [String] = []
  @Option(name: [.customShort("o"), .customLong("output")], parsing: .unconditional, help: ArgumentHelp("The output file.", valueName: "OUT"))
  var output: String?
  @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp(
    "Band math over roles or b1…bn, one band each, named NAME; repeatable.", valueName: "[NAME=]EXPR"))
  var expr: [Parsed<ExpressionText>] = []
  @Option(name: [.customShort("i"), .customLong("input")], parsing: .unconditionalSingleValue, help: ArgumentHelp(
    "Bind a formula role to pixels: band N (default 1) of FILE, or band N of INPUT; repeatable, or several split at ',ROLE='.",
    valueName: "ROLE=FILE[:N]|ROLE=N"))
  var inputBindings: [Parsed<RoleBindings>] = []
  @Option(name: .customLong("param"), parsing: .unconditionalSingleValue, help: ArgumentHelp("A formula constant (L, g, C1, …); repeatable.", valueName: "NAME=V"))
  var parameters: [Parsed<FormulaConstant>] = []
  @Option(name: .customLong("dst-nodata"), parsing: .unconditional, help: ArgumentHelp(
    "The output's nodata (default: NaN; with an integer --ot the type's lowest value if signed, highest if unsigned, kept out of the clamp range).", valueName: "V"))
  var dstNodata: NodataSetting = .inherit
  @OptionGroup var resampling: ResamplingOption
  @Option(name: .customLong("input-scale"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
    "Multiply a role's values (or every role's, without ROLE=) before any formula; repeatable.", valueName: "[ROLE=]S"))
  var inputScale: [Parsed<RoleNumber>] = []
  @Option(name: .customLong("input-offset"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
    "Add to a role's values after --input-scale; repeatable.", valueName: "[ROLE=]O"))
  var inputOffset: [Parsed<RoleNumber>] = []
  @Option(parsing: .unconditional, help: "INPUT is a folder of this sensor's band files, found by name (…_B04.jp2, LC08_…_B5.TIF).")
  var sensor: Sensor?
  @Flag(help: "With a Sentinel-2 product: use digital numbers, not reflectance.") var dn = false
  @Option(name: [.customLong("resolution"), .customLong("res")], parsing: .unconditional, help: ArgumentHelp(
    "Output pixel size, or a rule over the inputs' sizes: highest (default), lowest, average, same; with a Sentinel-2 product also which band files are read.",
    valueName: "X[,Y]|RULE"))
  var resolution: Parsed<MosaicRequest.ResolutionRule>?
  @OptionGroup var clouds: CloudMaskOptions
  @Option(parsing: .unconditional, help: ArgumentHelp(
    "The output data type (default Float32); integers are rounded half away from zero and clamped, the clamped pixels counted.",
    valueName: "TYPE"))
  var ot: Parsed<DataType>?
  @Option(name: .customLong("output-scale"), parsing: .unconditional, help: ArgumentHelp(
    "GDAL's scale of the output bands: (index - offset) / S is stored, S written on each band (0.0001 stores 0.1234 as 1234).",
    valueName: "S"))
  var outputScale: Double?
  @Option(name: .customLong("output-offset"), parsing: .unconditional, help: ArgumentHelp(
    "GDAL's offset of the output bands, subtracted before --output-scale divides and written on each band.", valueName: "O"))
  var outputOffset: Double?
  @Flag(help: "List the catalogue.") var list = false
  @Option(parsing: .unconditional, help: ArgumentHelp("With --list: only this application domain.", valueName: "DOMAIN")) var domain: String?
  @Option(parsing: .unconditional, help: ArgumentHelp("Show one index: formula, roles, constants, reference.", valueName: "NAME")) var describe: String?
  @OptionGroup var format: FormatOption
  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var global: GlobalOptions
  @OptionGroup var retired: IndexRetiredOptions

  func validate() throws {
    try retired.refuse()
    if list || describe != nil { return }
    guard output != nil else { throw ValidationError("give the output file with -o OUT") }
    guard (expr.isEmpty ? 1...2 : 0...2).contains(positional.count) else {
      throw ValidationError(expr.isEmpty ? "give the index names, then at most one input" : "with --expr give at most index names and one input")
    }
    _ = try parameters.values()
    _ = try bindings()
    _ = try inputScale.perRole("--input-scale")
    _ = try inputOffset.perRole("--input-offset")
    if sensor != nil && input == nil { throw ValidationError("--sensor takes INPUT, the folder of band files") }
    if (dn || clouds.maskClouds) && (!inputIsProduct || sensor != nil) { throw ValidationError("--dn and --mask-clouds go with a Sentinel-2 product as INPUT") }
    _ = try resolution.value()
    _ = try outputType()
    if let outputScale, !(outputScale.isFinite && outputScale != 0) { throw ValidationError("--output-scale must be a finite number other than 0") }
    if let outputOffset, !outputOffset.isFinite { throw ValidationError("--output-offset must be a finite number") }
  }

  /// The index names: the first argument without --expr; with --expr, the first of two, or a
  /// lone one every item of which is a catalogue name.
  var names: [String] {
    guard let first = positional.first else { return [] }
    let items = first.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    if expr.isEmpty || positional.count == 2 { return items }
    return items.allSatisfy { SpectralCatalog.entry($0) != nil } ? items : []
  }

  var input: String? { positional.count > (names.isEmpty ? 0 : 1) ? positional.last : nil }

  /// A Sentinel-2 product rather than a raster: a folder, a .zip, or product metadata.
  var inputIsProduct: Bool {
    guard let input else { return false }
    return Sentinel2Product.looksLikeProduct(input)
  }

  /// --ot: GDAL's real types, whose every value a Double holds exactly.
  func outputType() throws -> DataType? {
    guard let ot else { return nil }
    let types: [DataType] = [.byte, .int8, .uint16, .int16, .uint32, .int32, .float32, .float64]
    // Index computes every stored value itself, so it can write GDAL 3.6's signed byte, which the
    // shared --ot (converted by GDAL) refuses.
    if ot.text.lowercased() == "int8" { return .int8 }
    guard let type = ot.valid, types.contains(type) else {
      throw ValidationError("--ot takes \(types.map(\.rawValue).joined(separator: ", ")), got '\(ot.text)'")
    }
    return type
  }

  func bindings() throws -> [String: IndexRequest.Binding] {
    var result: [String: IndexRequest.Binding] = [:]
    for item in inputBindings {
      for binding in try item.value().bindings {
        guard result[binding.role] == nil else { throw ValidationError("\(binding.role) is bound twice (-i \(binding.text))") }
        result[binding.role] = try resolve(binding)
      }
    }
    // --expr over b1…bn of INPUT.
    if let input {
      for name in expr.flatMap({ $0.valid?.variables ?? [] }) where result[name] == nil {
        if name.lowercased().hasPrefix("b"), let n = Int(name.dropFirst()), n >= 1 { result[name] = IndexRequest.Binding(path: input, band: n) }
      }
    }
    return result
  }

  /// A binding's band: a file's, or one of INPUT's when INPUT is a raster.
  func resolve(_ binding: RoleBinding) throws -> IndexRequest.Binding {
    switch binding.source {
    case .file(let band): return band
    case .inputBand(let n):
      guard let input else { throw ValidationError("-i \(binding.text) takes band \(n) of INPUT; give INPUT, or a file: -i \(binding.role)=FILE[:N]") }
      guard sensor == nil, !inputIsProduct else {
        throw ValidationError("-i \(binding.text) picks a band of a raster INPUT; with \(sensor != nil ? "--sensor" : "a Sentinel-2 product") the roles are found by name (bind one to a file with -i \(binding.role)=FILE)")
      }
      return IndexRequest.Binding(path: input, band: n)
    }
  }

  func run() throws {
    try CommandRunner("index", global).run { runner in
      if list { return try listCatalogue(runner) }
      if let describe { return try describeIndex(describe, runner) }
      return try runner.perform { try SpectralIndex.run(try request(), progress: $0) }
    }
  }

  func request() throws -> IndexRequest {
    var request = IndexRequest(bindings: try bindings(), output: outputOptions.spec(output ?? "", format: format), resources: global.resources)
    request.indices = names
    request.expressions = expr.compactMap(\.valid).map { IndexRequest.Expression($0.text, name: $0.name) }
    request.gridInput = input
    request.parameters = Dictionary(try parameters.values().map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
    request.dstNodata = dstNodata
    request.resampling = resampling.given ?? .bilinear
    request.inputScale = try inputScale.perRole("--input-scale")
    request.inputOffset = try inputOffset.perRole("--input-offset")
    if let sensor, let input {
      request.sensor = (sensor, input)
    } else if inputIsProduct {
      request.product = input
      request.digitalNumbers = dn
      if clouds.maskClouds { request.maskClasses = try clouds.classes() }
    } else {
      request.describedInput = input
    }
    request.resolution = try resolution.value()
    request.type = try outputType() ?? .float32
    request.outputScale = outputScale ?? 1
    request.outputOffset = outputOffset ?? 0
    return request
  }

  func roleText(_ roles: [String]) -> String { roles.map { SpectralCatalog.roleNames[$0] ?? $0 }.joined(separator: ", ") }

  func listCatalogue(_ runner: CommandRunner) throws -> CommandResult {
    let entries = SpectralCatalog.entries.filter { domain == nil || $0.domain == domain?.lowercased() }
    if entries.isEmpty {
      throw TesseraError(.usage, "no index in domain '\(domain ?? "")'; domains: \(Set(SpectralCatalog.entries.map(\.domain)).sorted().joined(separator: ", "))")
    }
    let list = JSONValue.array(entries.map { e in
      .object([("name", .string(e.name)), ("long_name", .string(e.longName)), ("formula", .string(e.formula)),
               ("roles", .array(e.roles.map { .string(SpectralCatalog.roleNames[$0] ?? $0) })), ("domain", .string(e.domain)),
               ("platforms", .array(e.platforms.map { .string($0) })), ("reference", .string(e.reference))])
    })
    let text = entries.map { "\($0.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \($0.longName)\n             \($0.formula)   [\(roleText($0.roles))]" }
    // The list is what was asked for: on stdout, as a table or JSON.
    return CommandResult(json: runner.okJSON([("indices", list)]), report: text.joined(separator: "\n"))
  }

  func describeIndex(_ name: String, _ runner: CommandRunner) throws -> CommandResult {
    guard let e = SpectralCatalog.entry(name) else {
      let close = SpectralCatalog.suggestions(for: name)
      throw TesseraError(.usage, "unknown index '\(name)'" + (close.isEmpty ? "" : "; did you mean \(close.joined(separator: ", "))?"))
    }
    let constants = e.roles.compactMap { SpectralCatalog.constant($0) }
    let bands = e.roles.filter { SpectralCatalog.constant($0) == nil }
    var lines = ["\(e.name): \(e.longName)", "  formula:   \(e.formula)", "  roles:     \(roleText(bands))"]
    for c in constants { lines.append("  constant:  \(c.name) = \(c.defaultValue.map { "\($0)" } ?? "(no default: --param \(c.name)=V)")  \(c.description)") }
    lines += ["  domain:    \(e.domain)", "  platforms: \(e.platforms.joined(separator: ", "))", "  reference: \(e.reference)"]
    if e.catalogueName != e.name { lines.append("  (the catalogue's \(e.catalogueName))") }
    lines.append("  from Awesome Spectral Indices (MIT licence, David Montero Loaiza et al.)")
    let description = JSONValue.object([
      ("name", .string(e.name)), ("catalogue_name", .string(e.catalogueName)), ("long_name", .string(e.longName)),
      ("formula", .string(e.formula)), ("roles", .array(bands.map { .string(SpectralCatalog.roleNames[$0] ?? $0) })),
      ("constants", .array(constants.map { .object([("name", .string($0.name)), ("default", .double($0.defaultValue)), ("description", .string($0.description))]) })),
      ("domain", .string(e.domain)), ("platforms", .array(e.platforms.map { .string($0) })), ("reference", .string(e.reference)),
    ])
    return CommandResult(json: runner.okJSON([("index", description)]), report: lines.joined(separator: "\n"))
  }
}
