import Foundation

/// Band files named a sensor's way, found by name in a folder: `…_B04.jp2` for Sentinel-2,
/// `…_B5.TIF` for Landsat 8/9, `…_B4.TIF` for Landsat 4-7 (any case, `_b4` too).
public enum Sensor: String, CaseIterable, Sendable {
  case sentinel2, landsat8, landsat9, landsat7, landsat5

  /// The band number of each role code on this sensor.
  var bands: [String: String] {
    switch self {
    case .sentinel2:
      return ["A": "01", "B": "02", "G": "03", "R": "04", "RE1": "05", "RE2": "06", "RE3": "07", "N": "08", "N2": "8A",
              "WV": "09", "S1": "11", "S2": "12"]
    case .landsat8, .landsat9:
      return ["A": "1", "B": "2", "G": "3", "R": "4", "N": "5", "S1": "6", "S2": "7", "T1": "10", "T2": "11"]
    case .landsat7, .landsat5:
      return ["B": "1", "G": "2", "R": "3", "N": "4", "S1": "5", "T": "6", "S2": "7"]
    }
  }

  /// The file in `folder` for each role: the one whose name has `_B<n>` (or `_b<n>`) followed by
  /// `_`, `.` or the end. Exactly one must match.
  public func files(in folder: String, roles: [String]) throws -> [String: String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder))?.sorted() ?? []
    guard !names.isEmpty else { throw TesseraError(.noInput, "\(folder): no band files (a folder of \(rawValue) band files is expected)") }
    var result: [String: String] = [:]
    for role in roles {
      guard let number = bands[role] else {
        throw TesseraError(.usage, "\(SpectralCatalog.roleNames[role] ?? role) is not a \(rawValue) band; bind it with -i ROLE=FILE")
      }
      let matches = names.filter { name in
        let stem = (name as NSString).deletingPathExtension.uppercased()
        let ext = (name as NSString).pathExtension.lowercased()
        guard ["tif", "tiff", "jp2", "img"].contains(ext) else { return false }
        let parts = stem.split(separator: "_")
        let tag = "B" + number.uppercased()
        // Sentinel-2 names may end in a resolution (_B04_10m): the band part is any underscore part.
        return parts.contains { $0 == tag || (number.count == 1 && $0 == "B0" + number) && self == .sentinel2 }
      }
      guard matches.count == 1 else {
        throw TesseraError(matches.isEmpty ? .noInput : .usage,
                           matches.isEmpty ? "\(folder): no \(rawValue) band B\(number) file for \(SpectralCatalog.roleNames[role] ?? role)"
                                           : "\(folder): several files for band B\(number) (\(matches.joined(separator: ", "))); bind it with -i ROLE=FILE")
      }
      result[role] = folder + "/" + matches[0]
    }
    return result
  }
}
