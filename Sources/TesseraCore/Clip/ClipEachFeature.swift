import Foundation
import GDAL

extension Clip {
  /// The extension of each feature's file: that of the driver `--format` names, else the
  /// input's own GeoTIFF spelling (.tif or .tiff), else .tif.
  static func fileExtension(_ request: ClipRequest) throws -> String {
    if request.output.formatName != nil {
      let format = try RasterFormat.resolve(path: request.output.path, requested: request.output.formatName, allowsVRT: false)
      if format != .gtiff {
        guard let ext = format.primaryExtension else {
          throw TesseraError(.usage, "--format \(format.driver) names no file extension for the files of --each-feature; write GTiff or HFA")
        }
        return ext
      }
    }
    let own = (request.input as NSString).pathExtension
    return ["tif", "tiff"].contains(own.lowercased()) ? own : "tif"
  }

  /// One clip per feature of a cutline, into the folder `request.output.path`, named by
  /// `nameField` (made safe for file names) or the feature id: all or nothing — on any
  /// failure no file of the batch is left.
  public static func eachFeature(_ request: ClipRequest, nameField: String?, progress: ProgressHandler? = nil) throws -> OperationReport {
    let (path, layer, filter, crsText) = try ClipRequest.eachFeatureCutline(request.region)
    let folder = request.output.path
    try OutputPlace.checkFolder(folder)
    let source = try Dataset.open(request.input)
    let (grid, bands) = try prepare(request, source)
    let centre = try? source.centreLonLat()
    let read = try ClipRegion.features(path: path, layer: layer, where: filter,
                                       fallbackCRS: try crsText.map { try CRSInput.resolve($0, centre: centre) })
    if let nameField, !read.fields.contains(nameField) {
      throw TesseraError(.usage, "cutline \(path) has no field '\(nameField)' (fields: \(read.fields.joined(separator: ", ")))")
    }
    let ext = try fileExtension(request)
    let withGeometry = read.features.filter { $0.geometry != nil }
    let names = fileNames(withGeometry.map { feature in (feature.id, nameField.flatMap { feature.fields[$0] } ?? "") })
    var jobs: [(id: Int, name: String, job: ClipJob, region: ClipRegion, output: OutputSpec)] = []
    var skipped: [Int] = []
    for (feature, name) in zip(withGeometry, names) {
      guard let geometry = feature.geometry else { continue }
      let region = try ClipRegion.polygons([geometry], crs: read.crs, raster: grid, makeValid: request.makeValid,
                                           what: "feature \(feature.id) of \(path)")
      var one = request
      one.output.path = folder + "/" + name + "." + ext
      // A field the scene does not reach gets no file, and the report says so.
      guard try region.overlaps(grid) else {
        skipped.append(feature.id)
        continue
      }
      jobs.append((feature.id, name, try ClipJob(request: one, source: source, grid: grid, bands: bands, region: region), region, one.output))
    }
    if jobs.isEmpty { throw TesseraError(.dataError, "no feature of \(path) intersects \(request.input) (bounds \(grid.extent.text))") }
    let envelope = jobs.dropFirst().reduce(jobs[0].region.envelope) { $0.union($1.region.envelope) }
    let datumWarning = try ClipRegion(shape: nil, envelope: envelope, crs: read.crs, featureCount: jobs.count, given: envelope, crsOption: nil)
      .datumWarning(raster: grid.srs, datum: request.datum)
    let inputs = [request.input] + read.files + InputFiles.of([source])
    let createdFolder = try makeFolder(folder)
    let inside: [Int]
    do {
      let writes = try jobs.map {
        try RasterWrite($0.output, inputs: inputs, inputLabel: request.input, resources: request.resources, cache: .singlePass)
      }
      try OutputTarget.requireDistinct(writes.map { ("an output", $0.target) })
      inside = try writeAll(jobs.map(\.job), into: writes, progress: progress)
    } catch {
      if createdFolder { TemporaryFiles.shared.removeFolder(folder) }
      throw error
    }
    if createdFolder { TemporaryFiles.shared.keepFolder(folder) }
    var report = OperationReport(outputs: jobs.map(\.output.path), details: [
      ("input", .string(request.input)),
      // Each feature's bounds are in the raster's CRS, so "crs" is that one.
      ("region", .object([("kind", .string("cutline")), ("crs", try CRSDescription.json(grid.srs)),
                          ("feature_count", .int(jobs.count)), ("given_crs", try CRSDescription.json(read.crs))])),
      ("all_touched", .bool(request.allTouched)),
      ("features", .array(jobs.enumerated().map { i, entry in
        .object([("id", .int(entry.id)), ("name", .string(entry.name)), ("path", .string(entry.output.path)),
                 ("bounds", RasterInfo.extentJSON(entry.region.envelope)), ("pixels_inside", .int(inside[i]))])
      })),
      ("pixels_inside", .int(inside.reduce(0, +))),
      ("skipped", .array(skipped.map { .int($0) })),
    ])
    report.warnings = (datumWarning.map { [$0] } ?? []) + jobs.flatMap(\.job.warnings)
      + (skipped.isEmpty ? [] : ["\(skipped.count) feature(s) of \(path) miss \(request.input) and got no file (ids \(skipped.map(String.init).joined(separator: ", ")))"])
    report.addConversion(of: request.output)
    return report
  }

  /// Writes every output, then commits them together (all or nothing, old files restored on a
  /// failure); returns each one's pixels inside its region.
  private static func writeAll(_ jobs: [ClipJob], into writes: [RasterWrite], progress: ProgressHandler?) throws -> [Int] {
    let steps = Progress.steps(jobs.map { Double($0.output.width * $0.output.height) + 1 }, progress)
    do {
      var inside: [Int] = []
      for (job, (writer, step)) in zip(jobs, zip(writes, steps)) {
        inside.append(try writer.fillRaster(job.frame, try job.outputBandTemplate) { try job.write(into: $0, progress: step) })
      }
      try RasterWrite.finishAll(writes)
      return inside
    } catch {
      writes.forEach { $0.abort() }
      throw error
    }
  }

  /// Creates the output folder when it is missing (one level, like mkdir: a missing parent is
  /// 73); returns whether it did, so a failed run can remove it again.
  private static func makeFolder(_ folder: String) throws -> Bool {
    guard !folder.isEmpty else { throw TesseraError(.usage, "the output folder is empty; give --each-feature a folder with -o DIR") }
    var status = stat()
    if stat(folder, &status) == 0 { return false }
    guard mkdir(folder, 0o777) == 0 else {
      let code = errno
      if code == ENOENT || code == ENOTDIR {
        throw TesseraError(.cannotCreate, "cannot create the folder \(folder): \(OutputTarget.missingFolder(of: folder))")
      }
      throw TesseraError(.cannotCreate, "cannot create the folder \(folder): \(String(cString: strerror(code)))")
    }
    TemporaryFiles.shared.registerFolder(folder)
    return true
  }

  /// Each feature's file name: its field value made safe (`safeFileName`), or its id. A name an
  /// earlier feature took gets `-ID` (then `-ID-2`, …), a suffix no other feature's own name is,
  /// so `x`, `x-2`, `x` become `x`, `x-2`, `x-3` (or further) and never collide.
  static func fileNames(_ features: [(id: Int, value: String)]) -> [String] {
    let own = features.map { feature -> String in
      let name = safeFileName(feature.value)
      return name.isEmpty ? "\(feature.id)" : name
    }
    let reserved = Set(own)
    var used: Set<String> = []
    return zip(features, own).map { feature, name in
      var chosen = name
      if used.contains(chosen) {
        chosen = name + "-\(feature.id)"
        var n = 2
        while used.contains(chosen) || reserved.contains(chosen) {
          chosen = name + "-\(feature.id)-\(n)"
          n += 1
        }
      }
      used.insert(chosen)
      return chosen
    }
  }

  /// A field value as a file name: path separators, wildcards, quotes, control characters
  /// (Unicode Cc, U+0085 among them), format characters (Cf: the bidirectional overrides and
  /// marks that make a name read backwards, zero-width ones) and line or paragraph separators
  /// become `_`; leading dots and spaces go, and it is cut to 120 bytes.
  static func safeFileName(_ value: String) -> String {
    let forbidden = Set("/\\:*?\"<>|".unicodeScalars)
    var name = String(String.UnicodeScalarView(value.unicodeScalars.map { scalar -> Unicode.Scalar in
      switch scalar.properties.generalCategory {
      case .control, .format, .lineSeparator, .paragraphSeparator: return "_"
      default: return forbidden.contains(scalar) ? "_" : scalar
      }
    }))
    name = name.trimmingCharacters(in: .whitespaces)
    while name.hasPrefix(".") { name.removeFirst() }
    while name.utf8.count > 120 { name.removeLast() }
    return name
  }
}
