import CGDAL

/// Questions about paths in GDAL's virtual file system: local files, /vsimem/, /vsizip/ and the rest.
public enum VirtualFiles {
  /// Whether a file can be opened for reading.
  public static func isReadableFile(_ path: String) -> Bool {
    GDALEnvironment.bootstrap()
    guard let handle = VSIFOpenL(path, "rb") else { return false }
    VSIFCloseL(handle)
    return true
  }

  /// The names in a folder (not recursive), or nil when it is not a folder GDAL can list.
  public static func list(_ folder: String) -> [String]? {
    GDALEnvironment.bootstrap()
    guard let names = VSIReadDir(folder) else { return nil }
    defer { CSLDestroy(names) }
    return CStringList.strings(names).filter { $0 != "." && $0 != ".." }
  }
}
