import CGDAL

/// Thin calls of GDAL's utility library (gdal_utils.h), with arguments as the command-line tools take them.
public enum GDALUtilities {
  /// `gdalinfo` as a library call; returns its text (JSON with `-json`).
  public static func info(_ dataset: Dataset, arguments: [String] = []) throws -> String {
    let args = CStringList(arguments)
    let options = try GDALCall.handle("parsing gdalinfo options") { GDALInfoOptionsNew(args.pointer, nil) }
    defer { GDALInfoOptionsFree(options) }
    let src = try dataset.liveHandle()
    let text = try GDALCall.handle("describing \(dataset.path)", release: { VSIFree($0) }) { GDALInfo(src, options) }
    defer { VSIFree(text) }
    return String(cString: text)
  }

  /// `gdal_translate` as a library call.
  public static func translate(
    _ source: Dataset, to path: String, arguments: [String], progress: ProgressHandler? = nil
  ) throws -> Dataset {
    let args = CStringList(arguments)
    let options = try GDALCall.handle("parsing gdal_translate options") { GDALTranslateOptionsNew(args.pointer, nil) }
    defer { GDALTranslateOptionsFree(options) }
    let src = try source.liveHandle()
    let handle = try withProgress(progress) { fn, data in
      GDALTranslateOptionsSetProgress(options, fn, data)
      return try GDALCall.handle("writing \(path)", release: { (h: GDALDatasetH) in GDALClose(h) }) {
        var usageError: Int32 = 0
        return GDALTranslate(path, src, options, &usageError)
      }
    }
    let result = Dataset(adopting: handle, path: path, access: .update)
    result.dependencies = [source]
    return result
  }

  /// `gdalwarp` as a library call, to a new file.
  public static func warp(
    _ sources: [Dataset], to path: String, arguments: [String], progress: ProgressHandler? = nil
  ) throws -> Dataset {
    let args = CStringList(arguments)
    let options = try GDALCall.handle("parsing gdalwarp options") { GDALWarpAppOptionsNew(args.pointer, nil) }
    defer { GDALWarpAppOptionsFree(options) }
    var handles: [GDALDatasetH?] = try sources.map { try $0.liveHandle() }
    let handle = try withProgress(progress) { fn, data in
      GDALWarpAppOptionsSetProgress(options, fn, data)
      return try GDALCall.handle("warping to \(path)", release: { (h: GDALDatasetH) in GDALClose(h) }) {
        var usageError: Int32 = 0
        return GDALWarp(path, nil, Int32(handles.count), &handles, options, &usageError)
      }
    }
    let result = Dataset(adopting: handle, path: path, access: .update)
    result.dependencies = sources
    return result
  }

  /// A warped VRT in memory made only to learn the grid (or source level) gdalwarp would choose:
  /// GDAL's warnings about the probe itself are not shown (see `GDALProbe`).
  public static func probeWarp(_ sources: [Dataset], arguments: [String]) throws -> Dataset {
    try GDALProbe.run { try warp(sources, to: "", arguments: arguments + ["-of", "VRT"]) }
  }

  /// `gdalbuildvrt` as a library call, from open datasets.
  public static func buildVRT(
    _ sources: [Dataset], to path: String, arguments: [String], progress: ProgressHandler? = nil
  ) throws -> Dataset {
    let args = CStringList(arguments)
    let options = try GDALCall.handle("parsing gdalbuildvrt options") { GDALBuildVRTOptionsNew(args.pointer, nil) }
    defer { GDALBuildVRTOptionsFree(options) }
    var handles: [GDALDatasetH?] = try sources.map { try $0.liveHandle() }
    let (handle, messages) = withProgress(progress) { fn, data in
      GDALBuildVRTOptionsSetProgress(options, fn, data)
      return GDALCall.capturing { () -> GDALDatasetH? in
        var usageError: Int32 = 0
        return GDALBuildVRT(path, Int32(handles.count), &handles, nil, options, &usageError)
      }
    }
    guard let handle, !messages.contains(where: \.isFailure) else {
      if let handle { GDALClose(handle) }
      throw GDALCall.error("building \(path)", messages)
    }
    let dataset = Dataset(adopting: handle, path: path, access: .update)
    dataset.dependencies = sources
    // gdalbuildvrt leaves out a source it cannot place (another data type, a rotated grid, a
    // different palette) with only a warning. A silently missing input is a wrong result.
    if let skipped = messages.first(where: { $0.severity == .warning && $0.message.contains("Skipping") }) {
      try? dataset.close()
      throw GDALError(context: "building \(path)", number: 1, message: skipped.message)
    }
    return dataset
  }

  /// `gdalbuildvrt` from file names: GDAL opens each file in turn to describe it, so no more
  /// than one is open at a time, and the VRT names the files as given.
  public static func buildVRT(names: [String], to path: String, arguments: [String]) throws -> Dataset {
    let args = CStringList(arguments)
    let options = try GDALCall.handle("parsing gdalbuildvrt options") { GDALBuildVRTOptionsNew(args.pointer, nil) }
    defer { GDALBuildVRTOptionsFree(options) }
    let list = CStringList(names)
    let (handle, messages) = GDALCall.capturing { () -> GDALDatasetH? in
      var usageError: Int32 = 0
      return GDALBuildVRT(path, Int32(names.count), nil, list.constPointer, options, &usageError)
    }
    guard let handle, !messages.contains(where: \.isFailure) else {
      if let handle { GDALClose(handle) }
      throw GDALCall.error("building \(path)", messages)
    }
    let dataset = Dataset(adopting: handle, path: path, access: .update)
    if let skipped = messages.first(where: { $0.severity == .warning && $0.message.contains("Skipping") }) {
      try? dataset.close()
      throw GDALError(context: "building \(path)", number: 1, message: skipped.message)
    }
    return dataset
  }
}
