import Foundation
import GDAL

/// Every file a command reads, for the rule that no output may be one of them: each input's
/// own name and the files GDAL reads for it (a VRT's sources, a product's band files and
/// metadata, sidecars), archive members standing for their archive.
public enum InputFiles {
  /// The files behind open datasets.
  public static func of(_ datasets: [Dataset]) -> [String] {
    var files: [String] = []
    for dataset in datasets {
      files += [dataset.path] + dataset.fileList
      files += dataset.dependencyFiles
    }
    return unique(files.compactMap(local))
  }

  /// The local file a GDAL name reads: itself, or for `/vsizip/`, `/vsitar/`, `/vsigzip/` the
  /// archive; nil for names that are not local files (`/vsimem/`, network paths).
  public static func local(_ name: String) -> String? {
    if name.hasPrefix("/vsiwatch/") { return WatchedFiles.realPath(name) }
    for prefix in ["/vsizip/", "/vsitar/", "/vsigzip/", "/vsi7z/", "/vsirar/"] where name.hasPrefix(prefix) {
      // The archive is the longest leading part that is a file.
      var candidate = String(name.dropFirst(prefix.count))
      if candidate.hasPrefix("{"), let close = candidate.firstIndex(of: "}") {
        candidate = String(candidate[candidate.index(after: candidate.startIndex)..<close])
      }
      while !candidate.isEmpty && candidate != "/" {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue {
          return candidate
        }
        candidate = (candidate as NSString).deletingLastPathComponent
      }
      return nil
    }
    if name.hasPrefix("/vsi") { return nil }
    return name
  }

  static func unique(_ files: [String]) -> [String] {
    var seen = Set<String>()
    return files.filter { seen.insert($0).inserted }
  }
}
