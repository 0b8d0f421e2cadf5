import Foundation
import GDAL

extension Clip {
  /// One clip per feature of a cutline, into the folder `request.output.path`, named by
  /// `nameField` (made safe for file names) or the feature id: all or nothing — on any
  /// failure no file of the batch is left.
  public static func eachFeature(_ request: ClipRequest, nameField: String?, progress: ProgressHandler? = nil) throws -> OperationReport {
    guard case .cutline(let path, let layer, let filter, let crsText) = request.region else {
      throw TesseraError(.usage, "--each-feature takes a --cutline")
    }
    let folder = request.output.path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw TesseraError(.cannotCreate, "--each-feature writes into a folder; \(folder) is not one")
    }
    let source = try Dataset.open(request.input)
    let (grid, bands) = try prepare(request, source)
    let centre = try? source.centreLonLat()
    let read = try ClipRegion.features(path: path, layer: layer, where: filter,
                                       fallbackCRS: try crsText.map { try CRSInput.resolve($0, centre: centre) })
    if let nameField, !read.fields.contains(nameField) {
      throw TesseraError(.usage, "cutline \(path) has no field '\(nameField)' (fields: \(read.fields.joined(separator: ", ")))")
    }
    let ext = ["tif", "tiff"].contains((request.input as NSString).pathExtension.lowercased()) ? (request.input as NSString).pathExtension : "tif"
    var used: Set<String> = []
    var jobs: [(id: Int, name: String, job: ClipJob, region: ClipRegion, output: OutputSpec)] = []
    var skipped: [Int] = []
    for feature in read.features {
      guard let geometry = feature.geometry else { continue }
      var name = nameField.flatMap { feature.fields[$0] }.map(safeFileName) ?? ""
      if name.isEmpty { name = "\(feature.id)" }
      if used.contains(name) { name += "-\(feature.id)" }
      used.insert(name)
      let region = try ClipRegion.polygons([geometry], crs: read.crs, raster: grid.srs, makeValid: request.makeValid,
                                           what: "feature \(feature.id) of \(path)")
      var one = request
      one.output.path = folder + "/" + name + "." + ext
      // A field the scene does not reach gets no file, and the report says so.
      guard region.envelope.intersects(grid.extent), try region.shape?.intersects(try Geometry.rectangle(grid.extent)) ?? true else {
        skipped.append(feature.id)
        continue
      }
      jobs.append((feature.id, name, try ClipJob(request: one, source: source, grid: grid, bands: bands, region: region), region, one.output))
    }
    if jobs.isEmpty { throw TesseraError(.dataError, "no feature of \(path) intersects \(request.input) (bounds \(grid.extent.text))") }
    let inputs = [request.input] + read.files + InputFiles.of([source])
    let targets = try jobs.map { try $0.output.target(inputs: inputs, inputLabel: request.input) }
    try OutputTarget.requireDistinct(targets.map { ("an output", $0) })
    request.resources.limitCache(for: .singlePass)
    let steps = Progress.steps(jobs.map { Double($0.job.output.width * $0.job.output.height) + 1 }, progress)
    var inside: [Int] = []
    var committed: [OutputTarget] = []
    do {
      for (i, entry) in jobs.enumerated() {
        inside.append(try targets[i].fill { try entry.job.write(into: targets[i], progress: steps[i]) })
      }
      for target in targets {
        try target.commit()
        committed.append(target)
      }
    } catch {
      targets.forEach { $0.abort() }
      committed.forEach { $0.withdraw() }
      throw error
    }
    var report = OperationReport(outputs: jobs.map(\.output.path), details: [
      ("input", .string(request.input)),
      ("region", .object([("kind", .string("cutline")), ("crs", .string(CRSInput.label(read.crs))),
                          ("feature_count", .int(jobs.count))])),
      ("all_touched", .bool(request.allTouched)),
      ("features", .array(jobs.enumerated().map { i, entry in
        .object([("id", .int(entry.id)), ("name", .string(entry.name)), ("path", .string(entry.output.path)),
                 ("bounds", RasterInfo.extentJSON(entry.region.envelope)), ("pixels_inside", .int(inside[i]))])
      })),
      ("pixels_inside", .int(inside.reduce(0, +))),
      ("skipped", .array(skipped.map { .int($0) })),
    ])
    report.warnings = jobs.flatMap(\.job.warnings)
      + (skipped.isEmpty ? [] : ["\(skipped.count) feature(s) of \(path) miss \(request.input) and got no file (ids \(skipped.map(String.init).joined(separator: ", ")))"])
    return report
  }

  /// A field value as a file name: path separators, wildcards, quotes and control characters
  /// become `_`, leading dots and spaces go, and it is cut to 120 bytes.
  static func safeFileName(_ value: String) -> String {
    let forbidden = Set("/\\:*?\"<>|")
    var name = String(value.unicodeScalars.map { scalar -> Character in
      scalar.value < 0x20 || scalar.value == 0x7F || forbidden.contains(Character(scalar)) ? "_" : Character(scalar)
    })
    name = name.trimmingCharacters(in: .whitespaces)
    while name.hasPrefix(".") { name.removeFirst() }
    while name.utf8.count > 120 { name.removeLast() }
    return name
  }
}
