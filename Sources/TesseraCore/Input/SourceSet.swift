import Foundation
import GDAL

/// The rasters a command reads together: named by paths, quoted globs, a list file or band picks
/// (`FILE:N`), opened and checked before anything is written, with the bands read from each and
/// one data type that holds every input's values. Mosaic reads through one; band-stack and index
/// take their bands one by one (`BandSource`); all of them go onto a grid by `SourceGrid`.
public struct SourceSet {
  /// An input as named: a file, and the one band picked from it with `FILE:N`.
  public struct Pick: Equatable, Sendable {
    public var path: String
    /// nil: the bands the whole set reads.
    public var band: Int?
  }

  /// The inputs as the user named them, globs expanded.
  public let paths: [String]
  /// The file the inputs were listed in (`--input-list`), read like any input.
  public let listFile: String?
  /// What each input is read through: the file itself, or for a band pick a `/vsimem/` VRT of
  /// that one band.
  public let datasets: [Dataset]
  /// The files as opened, before any band pick.
  private let files: [Dataset]
  /// Keeps the band picks' VRTs alive as long as the set.
  private let pickFiles: [MemoryFile]
  /// The bands read from every input.
  public let bands: [Int]
  /// The smallest type holding every input's values in those bands.
  public let type: DataType

  /// Opens every input and picks the bands: `requested`, which every input must have, or all
  /// bands, whose count must then agree.
  public init(paths: [String], listFile: String? = nil, bands requested: [Int]? = nil) throws {
    guard !paths.isEmpty else { throw TesseraError(.usage, "give at least one input") }
    self.paths = paths
    self.listFile = listFile
    let picks = paths.map(SourceSet.pick)
    let detach = SourceSet.mustDetach(picks.count)
    files = try picks.map { try SourceSet.open($0.path, detach: detach) }
    if requested != nil, picks.contains(where: { $0.band != nil }) {
      throw TesseraError(.usage, "-b and FILE:N band picks are alternatives; give one")
    }
    var pickFiles: [MemoryFile] = []
    var datasets: [Dataset] = []
    for (i, (pick, file)) in zip(picks, files).enumerated() {
      guard let band = pick.band else { datasets.append(file); continue }
      try BandSource.requireBand(band, of: file, path: pick.path, askedBy: "input \(i + 1) (\(paths[i]))")
      // Written and closed before anything reads it, and read by name from every worker.
      let vrt = MemoryFile(name: "pick-\(i + 1).vrt")
      try GDALUtilities.translate(file, to: vrt.path, arguments: ["-of", "VRT", "-b", "\(band)"]).close()
      pickFiles.append(vrt)
      datasets.append(try Dataset.open(vrt.path))
    }
    self.pickFiles = pickFiles
    self.datasets = datasets
    let names = paths.indices.map { SourceSet.name($0, paths) }
    bands = try SourceSet.selectBands(requested, datasets, names: names)
    type = try SourceSet.commonType(datasets, bands)
  }

  /// Whether `count` inputs are more than a command may hold open (`DescriptorBudget`).
  static func mustDetach(_ count: Int) -> Bool { count > DescriptorBudget.heldInputs }

  /// Opens an input; with `detach`, gives up its file handle once it is described, so that
  /// hundreds of inputs can be planned under `ulimit -n` (pixels are read later by name).
  static func open(_ path: String, detach: Bool) throws -> Dataset {
    let dataset = try Dataset.open(path)
    if detach { try dataset.detachFile() }
    return dataset
  }

  /// Splits a band pick: `scene.tif:4` is band 4 of scene.tif when scene.tif exists and no file
  /// is called `scene.tif:4`; anything else (a subdataset name, a path with a colon) is a path.
  public static func pick(_ argument: String) -> Pick {
    guard let (path, digits) = pickParts(argument), digits.allSatisfy({ ("0"..."9").contains($0) }), let band = Int(digits), band >= 1
    else { return Pick(path: argument, band: nil) }
    return Pick(path: path, band: band)
  }

  /// Why `argument` is a band pick no file can answer (`scene.tif:0`, `scene.tif:-2`,
  /// `scene.tif:+1`, a number no Int holds, of an existing scene.tif), or nil: a usage error,
  /// where `pick` would call it a missing file.
  public static func badPick(_ argument: String) -> String? {
    guard pick(argument).band == nil, let (_, text) = pickParts(argument) else { return nil }
    let unsigned = text.first == "+" || text.first == "-" ? text.dropFirst() : Substring(text)
    guard !unsigned.isEmpty, unsigned.allSatisfy({ ("0"..."9").contains($0) }) else { return nil }
    if text.first == "+" { return "\(argument): write the band number as plain digits (\(argument.dropLast(text.count))\(unsigned))" }
    if let band = Int(text) { return "\(argument) asks for band \(band); bands are numbered from 1" }
    return "\(argument) asks for band \(text), more than any raster holds"
  }

  /// The file and the text after its last colon, when the file exists and the whole argument
  /// names no file.
  private static func pickParts(_ argument: String) -> (path: String, band: String)? {
    guard let colon = argument.lastIndex(of: ":"), !FileManager.default.fileExists(atPath: argument) else { return nil }
    let path = String(argument[..<colon])
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    return (path, String(argument[argument.index(after: colon)...]))
  }

  /// Whether any input is a band pick.
  public var hasPicks: Bool { !pickFiles.isEmpty }

  /// Every file the set reads: the inputs, the list they came from, and the files they refer
  /// to (a VRT's sources); no output may be one of them.
  public var inputFiles: [String] {
    paths.map { SourceSet.pick($0).path } + (listFile.flatMap { $0 == "-" ? nil : $0 }.map { [$0] } ?? []) + InputFiles.of(files)
  }

  /// How messages name the input whose data failed to read: the input itself when there is one.
  public var label: String? { paths.count == 1 ? SourceSet.pick(paths[0]).path : nil }

  /// `input 3 (b.tif)`, for messages about one input.
  func name(_ i: Int) -> String { SourceSet.name(i, paths) }

  static func name(_ i: Int, _ paths: [String]) -> String { "input \(i + 1) (\((paths[i] as NSString).lastPathComponent))" }

  // MARK: - Naming inputs

  /// Input lists: paths, glob patterns the shell left unexpanded, and `--input-list` files.
  public static func expand(_ arguments: [String], listFile: String? = nil) throws -> [String] {
    var paths: [String] = []
    if let listFile {
      let text = try readList(listFile)
      for line in text.split(whereSeparator: \.isNewline) {
        let entry = line.trimmingCharacters(in: .whitespaces)
        if !entry.isEmpty, !entry.hasPrefix("#") { paths.append(entry) }
      }
      // Like a pattern that matches nothing (an empty `find … |`, stdin closed): said as such.
      if paths.isEmpty && arguments.isEmpty {
        throw TesseraError(.noInput, "input list \(listFile == "-" ? "on stdin" : listFile) names no file")
      }
    }
    for argument in arguments {
      let isPattern = argument.contains(where: { "*?[".contains($0) })
      if isPattern && !FileManager.default.fileExists(atPath: argument) {
        let matches = try glob(argument)
        if matches.isEmpty { throw TesseraError(.noInput, "pattern '\(argument)' matches no file") }
        paths += matches
      } else {
        paths.append(argument)
      }
    }
    return paths
  }

  /// The text of a list file: a file, a pipe (`--input-list <(find …)`), or `-` for stdin.
  static func readList(_ path: String) throws -> String {
    // A list is names, one a line; more than 64 MiB of them is not a list.
    try TextInput.text(path, role: "input list", limit: 64 << 20)
  }

  /// Sorted matches, so a pattern always gives the same order. A match whose name is not UTF-8
  /// is refused (64): as a Swift string it would name another file.
  static func glob(_ pattern: String) throws -> [String] {
    var result = glob_t()
    defer { globfree(&result) }
    guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
    var matches: [String] = []
    for i in 0..<Int(result.gl_pathc) {
      guard let name = result.gl_pathv[i] else { continue }
      guard let text = String(validatingCString: name) else {
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self), count: strlen(name))
        let shown = bytes.map { (0x20..<0x7f).contains($0) && $0 != 0x5c ? String(UnicodeScalar($0)) : String(format: "\\x%02x", $0) }
        throw TesseraError(.usage, "pattern '\(pattern)' matches \(shown.joined()), a name that is not UTF-8; Tessera takes file names in UTF-8 only: rename the file")
      }
      matches.append(text)
    }
    return matches.sorted()
  }

  // MARK: - Bands and types

  /// The bands to mosaic; every input must have them, and without -b all must agree.
  static func selectBands(_ requested: [Int]?, _ sources: [Dataset], names: [String]) throws -> [Int] {
    if let requested {
      guard !requested.isEmpty, requested.allSatisfy({ $0 >= 1 }) else {
        throw TesseraError(.usage, "-b takes band numbers from 1")
      }
      let highest = requested.max() ?? 1
      for (i, ds) in sources.enumerated() where highest > ds.bandCount {
        throw TesseraError(.dataError, "\(names[i]) has \(ds.bandCount) band(s); -b asks for band \(highest)")
      }
      return requested
    }
    let counts = sources.map(\.bandCount)
    let common = mostCommon(counts)
    let odd = sources.enumerated().filter { $0.element.bandCount != common }
    if !odd.isEmpty {
      let list = odd.map { "\(names[$0.offset]) has \($0.element.bandCount)" }.joined(separator: ", ")
      throw TesseraError(.dataError, "band counts differ: \(list), the others \(common); pick bands with -b or FILE:N")
    }
    guard common > 0 else { throw TesseraError(.dataError, "\(names[0]) has no raster band") }
    return Array(1...common)
  }

  /// The most frequent value; ties go to the one seen first, so the first input sets the norm.
  static func mostCommon(_ values: [Int]) -> Int {
    var counts: [Int: Int] = [:]
    for v in values { counts[v, default: 0] += 1 }
    var best = values.first ?? 0
    for v in values where counts[v, default: 0] > counts[best, default: 0] { best = v }
    return best
  }

  /// The smallest type holding every input's values.
  static func commonType(_ sources: [Dataset], _ bands: [Int]) throws -> DataType {
    var type: DataType?
    for ds in sources {
      for b in bands {
        let t = try ds.band(b).dataType
        type = type.map { $0.union(t) } ?? t
      }
    }
    return type ?? .byte
  }

  /// gdalbuildvrt only composes sources of one data type and one colour interpretation per
  /// band; when they differ, every source becomes a `/vsimem/` VRT of the common type with the
  /// first source's colour interpretations (closed, so the mosaic VRT can point at them by name).
  static func homogeneous(_ sources: [Dataset], type: DataType) throws -> ([Dataset], [MemoryFile]) {
    let interpretations = try sources.map { ds in try (1...Swift.max(1, ds.bandCount)).map { try ds.band($0).colorInterpretation } }
    let differ = try sources.contains { ds in try (1...Swift.max(1, ds.bandCount)).contains { try ds.band($0).dataType != type } }
      || interpretations.contains { $0 != interpretations[0] }
    guard differ else { return (sources, []) }
    var files: [MemoryFile] = []
    var wrapped: [Dataset] = []
    for (i, source) in sources.enumerated() {
      let file = MemoryFile(name: "typed-\(i).vrt")
      files.append(file)
      var arguments = ["-of", "VRT", "-ot", type.rawValue]
      for (b, name) in interpretations[0].enumerated() where b < interpretations[i].count && interpretations[i][b] != name {
        arguments += ["-colorinterp_\(b + 1)", settableInterpretation(name)]
      }
      try GDALUtilities.translate(source, to: file.path, arguments: arguments).close()
      wrapped.append(try Dataset.open(file.path))
    }
    return (wrapped, files)
  }

  /// A colour interpretation gdal_translate can set (GDAL 3.6: red, green, blue, alpha, gray,
  /// undefined); any other, a palette's included, is undefined.
  static func settableInterpretation(_ name: String) -> String {
    let lower = name.lowercased()
    return ["red", "green", "blue", "alpha", "gray", "undefined"].contains(lower) ? lower : "undefined"
  }

  /// The dataset itself when it has exactly `bands`, else an in-memory VRT of those bands
  /// (GDAL 3.6's gdalwarp has no -b).
  static func bandSubset(_ source: Dataset, _ bands: [Int]) throws -> Dataset {
    if bands == Array(1...Swift.max(1, source.bandCount)) { return source }
    var args: [String] = []
    for b in bands { args += ["-b", "\(b)"] }
    return try GDALUtilities.buildVRT([source], to: "", arguments: args)
  }
}
