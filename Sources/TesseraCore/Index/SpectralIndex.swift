import Foundation
import GDAL

/// Spectral indices and band math, computed window by window on every core: each input block is
/// read once, every index of the request evaluated from it, one output band per index.
public struct IndexRequest {
  /// Where a role's pixels come from.
  public struct Binding: Equatable, Sendable {
    public var path: String
    public var band: Int
    public init(path: String, band: Int) {
      self.path = path
      self.band = band
    }
  }

  /// Band math over role names or b1…bn, and the name of its band (nil: the expression itself).
  public struct Expression: Equatable, Sendable {
    public var name: String?
    public var text: String
    public init(_ text: String, name: String? = nil) {
      self.text = text
      self.name = name
    }
  }

  /// Catalogue names (ndvi, evi, …): one band each, first.
  public var indices: [String] = []
  /// One band each, after the indices'.
  public var expressions: [Expression] = []
  /// Role (long name, code, or bN) to pixels.
  public var bindings: [String: Binding]
  public var output: OutputSpec
  /// Values for the formulas' constants (L, g, C1, …) over the catalogue's defaults.
  public var parameters: [String: Double] = [:]
  /// The output type: any of GDAL's real types (Byte … Float64).
  public var type: DataType = .float32
  /// inherit: NaN for floats; for integer outputs the type's lowest value when signed, its
  /// highest when unsigned (and results are clamped short of it). none is refused: missing
  /// inputs and non-finite results must be marked.
  public var dstNodata: NodataSetting = .inherit
  /// How inputs on other grids are put on the output's (the finest input's).
  public var resampling: Resampling = .bilinear
  /// Per role (or "*" for every role): value = DN × scale + offset, before any formula.
  public var inputScale: [String: Double] = [:]
  public var inputOffset: [String: Double] = [:]
  /// A Sentinel-2 product (.SAFE, .zip, MTD_MSIL*.xml or a band folder): roles bound to its bands
  /// by name, converted to reflectance unless `digitalNumbers`.
  public var product: String?
  public var digitalNumbers = false
  /// The output's pixel size (inputs resampled onto it), or the rule that picks it from the
  /// inputs' (nil: highest, the finest input's); with a product also which band files are read.
  public var resolution: MosaicRequest.ResolutionRule?
  /// Band files named the sensor's way in a folder, for roles not bound otherwise.
  public var sensor: (sensor: Sensor, folder: String)?
  /// With a product: scene classes (SCL) that become nodata.
  public var maskClasses: Set<Int>?
  /// GDAL's scale and offset of every output band: value = stored × scale + offset, so
  /// (index − offset) / scale is stored (rounded half away from zero and clamped in an integer
  /// type) and the pair is written on each band for readers to undo.
  public var outputScale: Double = 1
  public var outputOffset: Double = 0
  /// A raster INPUT whose band descriptions (B04, red, …) bind the roles nothing else binds.
  public var describedInput: String?
  /// The raster whose grid a constant expression (one that reads no band) fills.
  public var gridInput: String?
  public var resources: Resources

  public init(bindings: [String: Binding], output: OutputSpec, resources: Resources = Resources()) {
    self.bindings = bindings
    self.output = output
    self.resources = resources
  }
}

public enum SpectralIndex {
  /// One output band: its name and its program over the bound inputs.
  struct Formula {
    let name: String
    let text: String
    let program: BandExpression.Program
    /// The inputs (positions in the role list) the formula reads: nodata in any of them is
    /// nodata in its band.
    let reads: [Int]
    /// The value of a formula that reads no band.
    var constant: Double?
    /// A catalogue index over reflectance: digital numbers in its inputs are worth a warning.
    var reflectance = false
  }

  /// What a Sentinel-2 product adds to the request: its roles' reflectance conversion, the SCL
  /// band that masks, the files it reads and the report's notes.
  struct ProductInputs {
    var reflectance: [String: (offset: Double, quantification: Double)] = [:]
    var mask: IndexRequest.Binding?
    var files: [String] = []
    var notes: [(String, JSONValue)] = []
  }

  /// A role and the band it reads.
  typealias Input = (role: String, binding: IndexRequest.Binding)

  public static func run(_ request: IndexRequest, progress: ProgressHandler? = nil) throws -> OperationReport {
    var request = request
    // GDAL 3.6 has no Int8 type: a Byte band the GeoTIFF and HFA drivers mark signed.
    if request.type == .int8 { request.output.creationOptions.append("PIXELTYPE=SIGNEDBYTE") }
    try requireDistinctRoles(request.bindings)
    let (formulas, roles) = try compile(request)
    let product = try bindProduct(&request, roles: roles)
    try bindSensorFiles(&request, roles: roles)
    let described = try bindByDescription(&request, roles: roles)
    let inputs = try boundInputs(request, roles: roles)
    let gridInputs = try withGridInput(request, inputs)
    let sources = try open(gridInputs)
    let grid = try outputGrid(request, sources, names: gridInputs.map { displayName($0.role) })
    var allInputs = gridInputs
    var allSources = sources
    if let mask = product.mask {
      allInputs.append(("SCL", mask))
      allSources.append(try BandSource(path: mask.path, band: mask.band, dataset: try Dataset.open(mask.path), askedBy: "SCL"))
    }
    // Inputs on another lattice are resampled onto the grid by GDAL's warper into VRTs.
    let placed = try PlacedInputs(allSources, on: grid) { allInputs[$0].role == "SCL" ? .nearest : request.resampling }
    defer { placed.remove() }
    // Sentinel-2 band files mark no data by DN 0, whether or not they declare it.
    let nodata = try zip(allInputs, allSources).map { input, source in
      request.product != nil && input.role != "SCL" ? 0 : try source.noDataValue
    }
    let type = request.type
    let fill = try outputNodata(request.dstNodata, type: type)
    let conversions = transforms(request, inputs, reflectance: product.reflectance)
    let engine = IndexEngine(sources: placed.sources, bands: placed.bands, nodata: nodata, transforms: conversions, formulas: formulas,
                             storage: IndexStorage(type: type, fill: fill, scale: request.outputScale, offset: request.outputOffset),
                             cloudy: request.maskClasses)
    let writer = try RasterWrite(
      request.output, inputs: allInputs.map(\.binding.path) + InputFiles.of(allSources.map(\.dataset)) + product.files,
      inputLabel: Set(gridInputs.map(\.binding.path)).count == 1 ? gridInputs.first?.binding.path : nil,
      resources: request.resources, cache: .singlePass
    ) { RasterWrite.Layout(grid: grid, bands: formulas.count, type: type.stored) }
    var bands = RasterWrite.Bands(count: formulas.count, type: type.stored)
    bands.descriptions = formulas.map(\.name)
    bands.declaredNodata = Array(repeating: fill, count: formulas.count)
    let counts = try writer.raster(RasterWrite.Frame(grid), bands) { output in
      try writeScale(request, on: output)
      return try engine.write(to: output, threads: request.resources.threads, progress: progress)
    }
    let digitalNumbers = request.digitalNumbers ? [] : digitalNumberWarning(formulas, inputs, sources, conversions)
    var report = writer.report(
      details(formulas, inputs, type: type, fill: fill, counts: counts, grid: grid, request: request) + product.notes,
      warnings: constantWarnings(formulas) + collisionWarnings(formulas, counts.collisions, fill: fill) + digitalNumbers)
    report.notes = described
    return report
  }

  /// The report's keys of the index command.
  static func details(_ formulas: [Formula], _ inputs: [Input], type: DataType, fill: Double, counts: IndexCounts, grid: Grid,
                      request: IndexRequest) -> [(String, JSONValue)] {
    [
      ("indices", .array(formulas.map { .object([("name", .string($0.name)), ("formula", .string($0.text))]) })),
      ("inputs", .array(inputs.map { .object([("role", .string(displayName($0.role))), ("path", .string($0.binding.path)),
                                              ("band", .int($0.binding.band))]) })),
      ("data_type", .string(type.rawValue)),
      ("nodata", .double(fill)),
      ("scale", .double(request.outputScale)),
      ("offset", .double(request.outputOffset)),
      ("valid_pixels", .array(counts.valid.map { .int($0) })),
      ("clamped_pixels", .int(counts.clamped.reduce(0, +))),
      ("nodata_collisions", .array(counts.collisions.map { .int($0) })),
      ("resolution", .array([.double(grid.resolution.x), .double(grid.resolution.y)])),
    ]
  }

  /// The output grid: the inputs' union on the finest input's lattice, with pixels of the
  /// request's resolution or rule (default: the finest input's).
  static func outputGrid(_ request: IndexRequest, _ sources: [BandSource], names: [String]) throws -> Grid {
    let grids = try SourceGrid.ownGrids(sources)
    let finest = SourceGrid.finest(grids)
    let resolution = try SourceGrid.resolution(request.resolution ?? .highest, sizes: grids.map(\.resolution), name: { names[$0] })
    return try SourceGrid.covering(grids, .union, resolution: resolution, lattice: finest, cause: "--resolution")
  }

  /// `--output-scale` and `--output-offset` on every band, as GDAL's scale and offset.
  static func writeScale(_ request: IndexRequest, on output: Dataset) throws {
    guard request.outputScale != 1 || request.outputOffset != 0 else { return }
    for band in output.bands { try band.setScaleOffset(scale: request.outputScale, offset: request.outputOffset) }
  }

  /// A reflectance index over values that look like digital numbers (a role's values past 2,
  /// by GDAL's approximate scan, after --input-scale): one warning naming the roles.
  static func digitalNumberWarning(_ formulas: [Formula], _ inputs: [Input], _ sources: [BandSource],
                                   _ conversions: [IndexEngine.Transform]) -> [String] {
    let read = Set(formulas.filter(\.reflectance).flatMap(\.reads))
    let large = inputs.indices.filter { k in
      guard read.contains(k), k < sources.count, let band = try? sources[k].dataset.band(sources[k].band),
            let range = band.approximateRange() else { return false }
      return Swift.max(abs(conversions[k].apply(range.min)), abs(conversions[k].apply(range.max))) > 2
    }
    guard !large.isEmpty else { return [] }
    let names = large.map { displayName(inputs[$0].role) }.joined(separator: ", ")
    let indices = formulas.filter(\.reflectance).map(\.name)
    return ["\(indices.joined(separator: ",")) \(indices.count == 1 ? "expects" : "expect") reflectance (0 to 1), but \(names) hold values far above 1, like digital numbers: scale them with --input-scale 0.0001 (or give the Sentinel-2 product as INPUT)"]
  }

  /// With a raster INPUT: the roles nothing else binds, bound to INPUT's bands by their
  /// descriptions (B04 or red for red, …); a note for each.
  static func bindByDescription(_ request: inout IndexRequest, roles: [String]) throws -> [String] {
    guard let path = request.describedInput, request.product == nil, request.sensor == nil else { return [] }
    let unbound = roles.filter { binding(for: $0, in: request.bindings) == nil }
    guard !unbound.isEmpty else { return [] }
    let descriptions = try Dataset.open(path).bands.map(\.description)
    var notes: [String] = []
    for role in unbound {
      guard let band = descriptions.indices.first(where: { describes(descriptions[$0], role: role) }) else { continue }
      request.bindings[role] = IndexRequest.Binding(path: path, band: band + 1)
      notes.append("\(displayName(role)) is band \(band + 1) of \(path) (described \(descriptions[band]))")
    }
    return notes
  }

  /// Whether a band's description names a role: its long name or code (red, R), or its
  /// Sentinel-2 band (B04, B4, B8A).
  static func describes(_ description: String, role: String) -> Bool {
    let text = description.trimmingCharacters(in: .whitespaces)
    guard !text.isEmpty else { return false }
    if term(text) == .role(role), SpectralCatalog.roleNames[role] != nil { return true }
    return ProductBinding.bandOfRole[role].map { Sentinel2Band(name: text) == $0 } ?? false
  }

  /// With a product: its bands bound to the roles the user left unbound (a role bound with
  /// -i keeps the user's file, and its values as they are).
  static func bindProduct(_ request: inout IndexRequest, roles: [String]) throws -> ProductInputs {
    guard let product = request.product else { return ProductInputs() }
    let bound = try ProductBinding.bind(product, roles: roles, request: request)
    let own = Set(roles.filter { binding(for: $0, in: request.bindings) != nil })
    request.bindings.merge(bound.bindings.filter { !own.contains($0.key) }) { old, _ in old }
    return ProductInputs(reflectance: bound.reflectance.filter { !own.contains($0.key) }, mask: bound.mask, files: bound.files,
                         notes: bound.details)
  }

  /// With --sensor: the roles still unbound, bound to the band files named the sensor's way.
  static func bindSensorFiles(_ request: inout IndexRequest, roles: [String]) throws {
    guard let (sensor, folder) = request.sensor else { return }
    let unbound = roles.filter { binding(for: $0, in: request.bindings) == nil }
    for (role, path) in try sensor.files(in: folder, roles: unbound) { request.bindings[role] = IndexRequest.Binding(path: path, band: 1) }
  }

  /// Every role that is read, with its binding; roles bound to the same band share one input.
  static func boundInputs(_ request: IndexRequest, roles: [String]) throws -> [Input] {
    let missing = roles.filter { binding(for: $0, in: request.bindings) == nil }
    guard missing.isEmpty else {
      let given = request.bindings.keys.map { key in
        if case .role(let role) = term(key) { return displayName(role) }
        return key
      }.sorted().joined(separator: ", ")
      throw TesseraError(.usage, "\(formulaLabel(request)) needs \(roles.map(displayName).joined(separator: ", ")); bound: \(given.isEmpty ? "nothing" : given) (missing \(missing.map(displayName).joined(separator: ", ")); bind each with -i ROLE=FILE[:N] or -i ROLE=N)")
    }
    return roles.compactMap { role in binding(for: role, in: request.bindings).map { (role, $0) } }
  }

  /// A formula that reads no band (`--expr 1`) fills INPUT's grid: band 1 is read for the grid
  /// only, after the formulas' inputs, as the SCL mask is.
  static func withGridInput(_ request: IndexRequest, _ inputs: [Input]) throws -> [Input] {
    guard inputs.isEmpty else { return inputs }
    guard let path = request.gridInput, request.product == nil, request.sensor == nil else {
      throw TesseraError(.usage, "\(formulaLabel(request)) reads no band: a constant expression needs INPUT, a raster whose grid it fills")
    }
    return [("grid", IndexRequest.Binding(path: path, band: 1))]
  }

  /// Every input opened, then each band checked.
  static func open(_ inputs: [Input]) throws -> [BandSource] {
    let datasets = try inputs.map { try Dataset.open($0.binding.path) }
    return try zip(inputs, datasets).map { input, dataset in
      try BandSource(path: input.binding.path, band: input.binding.band, dataset: dataset, askedBy: displayName(input.role))
    }
  }

  /// Per input: the product's reflectance conversion, then --input-scale and --input-offset (by
  /// role, its long name, or "*").
  static func transforms(_ request: IndexRequest, _ inputs: [Input], reflectance: [String: (offset: Double, quantification: Double)])
    -> [IndexEngine.Transform]
  {
    inputs.map { input in
      let name = displayName(input.role)
      let scale = request.inputScale[input.role] ?? request.inputScale[name] ?? request.inputScale["*"] ?? 1
      let offset = request.inputOffset[input.role] ?? request.inputOffset[name] ?? request.inputOffset["*"] ?? 0
      let product = reflectance[input.role] ?? (0, 1)
      return IndexEngine.Transform(productOffset: product.offset, quantification: product.quantification, scale: scale, offset: offset)
    }
  }

  /// The output's nodata: the given value if `type` holds it, else NaN for floats, the lowest
  /// value of a signed integer type and the highest of an unsigned one (outside the clamp range).
  static func outputNodata(_ setting: NodataSetting, type: DataType) throws -> Double {
    switch setting {
    case .none:
      throw TesseraError(.usage, "--dst-nodata none: index marks missing inputs and non-finite results as nodata; give a value")
    case .value(let v):
      try NodataSetting.requireFits(v, type, option: "--dst-nodata")
      return v
    case .perBand:
      throw TesseraError(.usage, "--dst-nodata \(setting): index takes one value for all its bands")
    case .inherit:
      if type.isFloatingPoint { return .nan }
      let range = type.integerRange
      return range.lowerBound < 0 ? range.lowerBound : range.upperBound
    }
  }

  /// Results that are stored as the nodata value read as nodata: said, with how many.
  static func collisionWarnings(_ formulas: [Formula], _ collisions: [Int], fill: Double) -> [String] {
    zip(formulas, collisions).compactMap { formula, count in
      guard count > 0 else { return nil }
      return "\(formula.name): \(count) pixel\(count == 1 ? "" : "s") computed to the nodata value \(NodataSetting.text(fill)) and read as nodata (counted in nodata_collisions, not valid_pixels); choose another --dst-nodata"
    }
  }

  /// A constant formula whose value is not a finite number (`0/0`, `1/0`) makes a band of
  /// nodata only: valid, but worth saying.
  static func constantWarnings(_ formulas: [Formula]) -> [String] {
    formulas.compactMap { formula in
      guard let value = formula.constant, !value.isFinite else { return nil }
      let what = value.isNaN ? "not a number" : (value > 0 ? "+infinity" : "-infinity")
      return "\(formula.name) '\(formula.text)' is \(what) at every pixel, not a finite number: every pixel is nodata"
    }
  }

  /// The formulas of the request and the band roles they read, in first-use order.
  static func compile(_ request: IndexRequest) throws -> ([Formula], [String]) {
    let texts = try formulaTexts(request)
    var constants: [String: Double] = [:]
    for constant in SpectralCatalog.constants { if let v = constant.defaultValue { constants[constant.name] = v } }
    for (k, v) in request.parameters { constants[k] = v }
    var roles: [String] = []
    var parsed: [(String, String, BandExpression, Bool)] = []
    for (name, text, reflectance) in texts {
      let expression: BandExpression
      do { expression = try BandExpression(text) } catch let error as BandExpression.SyntaxError {
        // The caret goes under the column, in the expression quoted at the end of the line (an
        // excerpt around the column when the expression is long: one line, not 100 kB).
        let (shown, caret) = excerpt(text, column: error.column)
        let message = "--expr: \(error.reason) at column \(error.column) of '\(shown)'"
        throw TesseraError(.usage, message, mark: message.count - shown.count - 1 + caret)
      }
      for variable in expression.variables {
        switch term(variable) {
        case .constant(let constant):
          guard constants[constant] != nil else {
            throw TesseraError(.usage, "\(name) needs the constant \(constant) (\(SpectralCatalog.constant(constant)?.description ?? "")); give --param \(constant)=V")
          }
        case .role(let role):
          if !roles.contains(role) { roles.append(role) }
        }
      }
      parsed.append((name, text, expression, reflectance))
    }
    let formulas = try parsed.map { name, text, expression, reflectance -> Formula in
      // The program reads the inputs in the order of `roles`, each by the name this formula uses
      // for it; a role the formula does not read gets a name no formula can spell.
      let names = expression.variables
      let inputNames = roles.map { role in names.first { term($0) == .role(role) } ?? "\u{0}" + role }
      let reads = roles.indices.filter { !inputNames[$0].hasPrefix("\u{0}") }
      let program = try expression.program(inputs: inputNames, constants: constants)
      let constant = names.contains { if case .role = term($0) { return true } else { return false } } ? nil : try expression.evaluate(constants)
      return Formula(name: name, text: text, program: program, reads: reads, constant: constant, reflectance: reflectance)
    }
    return (formulas, roles)
  }

  /// Each band's name and formula: the named indices' first, then each expression's; and
  /// whether the formula is a reflectance index of the catalogue.
  static func formulaTexts(_ request: IndexRequest) throws -> [(name: String, text: String, reflectance: Bool)] {
    guard !request.indices.isEmpty || !request.expressions.isEmpty else { throw TesseraError(.usage, "name an index or give --expr") }
    let named = try request.indices.map { name -> (String, String, Bool) in
      guard let entry = SpectralCatalog.entry(name) else {
        let several = SpectralCatalog.caseInsensitiveMatches(name)
        if !several.isEmpty {
          throw TesseraError(.usage, "'\(name)' could be \(several.map(\.name).joined(separator: " or ")); give the name as written")
        }
        let close = SpectralCatalog.suggestions(for: name)
        throw TesseraError(.usage, "unknown index '\(name)'" + (close.isEmpty ? "; see --list" : "; did you mean \(close.joined(separator: ", "))?"))
      }
      return (entry.name, entry.formula, SpectralCatalog.isReflectance(entry))
    }
    return named + request.expressions.map { ($0.name ?? $0.text, $0.text, false) }
  }

  /// `text`, or about 80 characters of it around `column` (1-based) marked with … where cut;
  /// and the 0-based position of the column in what is shown.
  static func excerpt(_ text: String, column: Int) -> (String, Int) {
    let characters = Array(text)
    guard characters.count > 120 else { return (text, column - 1) }
    let start = Swift.max(0, Swift.min(column - 1 - 40, characters.count - 80))
    let end = Swift.min(characters.count, start + 80)
    let head = start > 0 ? "…" : "", tail = end < characters.count ? "…" : ""
    return (head + String(characters[start..<end]) + tail, column - 1 - start + head.count)
  }

  /// What a name in a formula is: a band role (by its code, or `bN`) or a constant. Codes and
  /// constants match exactly first (G is green, g the gain constant), then long names and codes
  /// in any case (nir, NIR, n).
  enum Term: Equatable {
    case role(String)
    case constant(String)
  }

  static func term(_ name: String) -> Term {
    if SpectralCatalog.roleNames[name] != nil { return .role(name) }
    if SpectralCatalog.constant(name) != nil { return .constant(name) }
    if let code = SpectralCatalog.code(for: name) { return .role(code) }
    return .role(name.lowercased())
  }

  static func displayName(_ role: String) -> String { SpectralCatalog.roleNames[role] ?? role }

  static func formulaLabel(_ request: IndexRequest) -> String {
    (request.indices + request.expressions.map { "'\($0.text)'" }).joined(separator: ",")
  }

  /// One binding per role: `red` and `R` (or `Red`, `nir` and `N`) name the same role, and which
  /// of two a dictionary would yield first is chance, so two are a usage error naming both.
  static func requireDistinctRoles(_ bindings: [String: IndexRequest.Binding]) throws {
    var keysOfRole: [String: [String]] = [:]
    for key in bindings.keys { if case .role(let role) = term(key) { keysOfRole[role, default: []].append(key) } }
    for (role, keys) in keysOfRole.sorted(by: { $0.key < $1.key }) where keys.count > 1 {
      let names = keys.sorted().map { "'\($0)'" }.joined(separator: " and ")
      throw TesseraError(.usage, "\(names) both bind the role \(displayName(role)); give each role once")
    }
  }

  /// The binding for a role, under any of its spellings.
  static func binding(for role: String, in bindings: [String: IndexRequest.Binding]) -> IndexRequest.Binding? {
    bindings.first { term($0.key) == .role(role) }?.value
  }
}
