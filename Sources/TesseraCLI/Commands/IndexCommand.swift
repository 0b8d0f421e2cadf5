import ArgumentParser
import Foundation
import GDAL
import TesseraCore

extension IndexRequest.Precision: ExpressibleByArgument {}
extension Sensor: ExpressibleByArgument {}

struct IndexCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "index",
    abstract: "Spectral indices by name (all of Awesome Spectral Indices) and safe band math.",
    discussion: """
      tessera index NAME[,NAME…] [INPUT] -o OUT [bindings]     one output band per index
      tessera index --expr EXPR [INPUT] -o OUT [bindings]
      tessera index --list [--domain vegetation|water|burn|…]  |  --describe NAME

      Bindings give each role (blue, green, red, rededge1-3, nir, nir2, swir1, swir2, coastal, or the \
      catalogue's codes B, G, R, RE1, N, S1, …) its pixels: --bands red=3,nir=4 takes bands of the \
      one INPUT; --band red=B04.tif[:N] takes a file (band N, default 1). --expr reads roles or \
      b1…bn of INPUT. A pixel that is nodata in any input, and a result that is not a finite number \
      (a division by zero), is nodata in the output (NaN unless --dst-nodata). Inputs on other grids \
      are resampled onto the finest one (--resampling, default bilinear); other CRSs are an error.

      RVI is NIR/Red (the textbook ratio vegetation index; the catalogue's SR); the catalogue's own \
      RVI (RE2/R) is RERVI. The catalogue is Awesome Spectral Indices (MIT licence, David Montero \
      Loaiza et al.).
      """)

  @Argument(help: ArgumentHelp("Index names (comma-separated) then the input; with --expr only the input.", valueName: "NAME[,NAME…] [INPUT]"))
  var positional: [String] = []
  @Option(name: [.customShort("o"), .customLong("output")], parsing: .unconditional, help: ArgumentHelp("The output file.", valueName: "OUT"))
  var output: String?
  @Option(parsing: .unconditional, help: ArgumentHelp("Band math over roles or b1…bn.", valueName: "EXPR")) var expr: Parsed<ExpressionText>?
  @Option(parsing: .unconditional, help: ArgumentHelp("Roles from bands of INPUT.", valueName: "red=3,nir=4")) var bands: Parsed<RoleBands>?
  @Option(name: .customLong("band"), parsing: .unconditionalSingleValue, help: ArgumentHelp("A role from a file (band N, default 1); repeatable.", valueName: "ROLE=FILE[:N]"))
  var bandFiles: [Parsed<RoleBinding>] = []
  @Option(name: .customLong("param"), parsing: .unconditionalSingleValue, help: ArgumentHelp("A formula constant (L, g, C1, …); repeatable.", valueName: "NAME=V"))
  var parameters: [Parsed<FormulaConstant>] = []
  @Option(parsing: .unconditional, help: "Output precision: float (float32) or double (float64).") var precision: IndexRequest.Precision = .float
  @Option(name: .customLong("dst-nodata"), parsing: .unconditional, help: ArgumentHelp(
    "The output's nodata (default: NaN; with --ot the type's lowest value if signed, highest if unsigned, kept out of the clamp range).", valueName: "V"))
  var dstNodata: NodataSetting = .inherit
  @Option(parsing: .unconditional, help: "Resampling of inputs on another grid.") var resampling: Resampling = .bilinear
  @Option(name: .customLong("input-scale"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
    "Multiply a role's values (or every role's, without ROLE=) before any formula; repeatable.", valueName: "[ROLE=]S"))
  var inputScale: [Parsed<RoleNumber>] = []
  @Option(name: .customLong("input-offset"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
    "Add to a role's values after --input-scale; repeatable.", valueName: "[ROLE=]O"))
  var inputOffset: [Parsed<RoleNumber>] = []
  @Option(parsing: .unconditional, help: "INPUT is a folder of this sensor's band files, found by name (…_B04.jp2, LC08_…_B5.TIF).")
  var sensor: Sensor?
  @Flag(help: "With a Sentinel-2 product: use digital numbers, not reflectance.") var dn = false
  @Option(parsing: .unconditional, help: ArgumentHelp(
    "Output pixel size (default: the finest input's); with a Sentinel-2 product also which band files are read.", valueName: "X"))
  var resolution: Double?
  @OptionGroup var clouds: CloudMaskOptions
  @Option(parsing: .unconditional, help: ArgumentHelp("An integer output type for scaled indices (with --scale).", valueName: "Int16|UInt16|Int32|Byte"))
  var ot: Parsed<DataType>?
  @Option(parsing: .unconditional, help: ArgumentHelp("With --ot: the multiplier (10000 stores 0.1234 as 1234).", valueName: "S"))
  var scale: Double?
  @Flag(help: "List the catalogue.") var list = false
  @Option(parsing: .unconditional, help: ArgumentHelp("With --list: only this application domain.", valueName: "DOMAIN")) var domain: String?
  @Option(parsing: .unconditional, help: ArgumentHelp("Show one index: formula, roles, constants, reference.", valueName: "NAME")) var describe: String?
  @OptionGroup var format: FormatOption
  @OptionGroup var outputOptions: OutputOptions
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if list || describe != nil { return }
    guard output != nil else { throw ValidationError("give the output file with -o OUT") }
    let expected = expr == nil ? 1...2 : 0...1
    guard expected.contains(positional.count) else {
      throw ValidationError(expr == nil ? "give the index names, then at most one input" : "with --expr give at most one input")
    }
    if bands != nil && input == nil { throw ValidationError("--bands picks bands of INPUT; give INPUT") }
    if bands != nil && (sensor != nil || inputIsProduct) {
      throw ValidationError("--bands picks bands of a raster INPUT; with \(sensor != nil ? "--sensor" : "a Sentinel-2 product") the roles are found by name (bind one otherwise with --band ROLE=FILE)")
    }
    _ = try parameters.values()
    _ = try bindings()
    _ = try inputScale.perRole("--input-scale")
    _ = try inputOffset.perRole("--input-offset")
    if sensor != nil && input == nil { throw ValidationError("--sensor takes INPUT, the folder of band files") }
    if (dn || clouds.maskClouds) && (!inputIsProduct || sensor != nil) { throw ValidationError("--dn and --mask-clouds go with a Sentinel-2 product as INPUT") }
    if let resolution, !(resolution.isFinite && resolution > 0) { throw ValidationError("--resolution must be a positive number") }
    _ = try integerType()
    if scale != nil && ot == nil { throw ValidationError("--scale goes with --ot") }
    if let scale, !(scale.isFinite && scale != 0) { throw ValidationError("--scale must be a finite number other than 0") }
  }

  var input: String? { expr == nil ? (positional.count == 2 ? positional[1] : nil) : positional.first }

  /// A Sentinel-2 product rather than a raster: a folder, a .zip, or product metadata.
  var inputIsProduct: Bool {
    guard let input else { return false }
    return Sentinel2Product.looksLikeProduct(input)
  }

  /// --ot: the types whose every value a Double holds exactly, so clamping and nodata stay exact.
  func integerType() throws -> DataType? {
    guard let ot else { return nil }
    guard let type = ot.valid, [.byte, .int16, .uint16, .int32, .uint32].contains(type) else {
      throw ValidationError("--ot takes an integer type: Byte, Int16, UInt16, Int32, UInt32")
    }
    return type
  }

  func bindings() throws -> [String: IndexRequest.Binding] {
    var result: [String: IndexRequest.Binding] = [:]
    if let picks = try bands.value(), let input, !inputIsProduct, sensor == nil {
      for (role, band) in picks.bands { result[role] = IndexRequest.Binding(path: input, band: band) }
    }
    for item in bandFiles {
      let file = try item.value()
      guard result[file.role] == nil else { throw ValidationError("\(file.role) is bound twice (--band \(item.text))") }
      result[file.role] = file.binding
    }
    // --expr over b1…bn of INPUT.
    if let variables = expr?.valid?.variables, let input {
      for name in variables where result[name] == nil {
        if name.lowercased().hasPrefix("b"), let n = Int(name.dropFirst()), n >= 1 { result[name] = IndexRequest.Binding(path: input, band: n) }
      }
    }
    return result
  }

  func run() throws {
    try CommandRunner("index", global).run { runner in
      if list { return try listCatalogue(runner) }
      if let describe { return try describeIndex(describe, runner) }
      var request = IndexRequest(bindings: try bindings(), output: outputOptions.spec(output ?? "", format: format), resources: global.resources)
      if let expr {
        request.expression = expr.text
        request.gridInput = input
      } else {
        request.indices = positional[0].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
      }
      request.parameters = Dictionary(try parameters.values().map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
      request.precision = precision
      request.dstNodata = dstNodata
      request.resampling = resampling
      request.inputScale = try inputScale.perRole("--input-scale")
      request.inputOffset = try inputOffset.perRole("--input-offset")
      if let sensor, let input {
        request.sensor = (sensor, input)
      } else if inputIsProduct {
        request.product = input
        request.digitalNumbers = dn
        if clouds.maskClouds { request.maskClasses = try clouds.classes() }
      }
      request.resolution = resolution
      request.integerType = try integerType()
      request.scale = scale ?? 1
      return try runner.perform { try SpectralIndex.run(request, progress: $0) }
    }
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
