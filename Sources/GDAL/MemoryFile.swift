import CGDAL
import Foundation

/// A file in GDAL's `/vsimem/` whose lifetime Swift owns: it is unlinked on `remove()` or `deinit`.
public final class MemoryFile {
  public let path: String
  private var removed = false

  /// A new, unique path under `/vsimem/tessera/`; `name` keeps the extension drivers look at.
  public init(name: String = "data.tif") {
    GDALEnvironment.bootstrap()
    path = "/vsimem/tessera/\(UUID().uuidString)/\(name)"
  }

  /// A memory file holding a copy of `data`.
  public convenience init(name: String, data: Data) throws {
    self.init(name: name)
    let handle = try GDALCall.handle("creating \(path)") { VSIFOpenL(path, "wb") }
    let written = data.withUnsafeBytes { VSIFWriteL($0.baseAddress, 1, $0.count, handle) }
    VSIFCloseL(handle)
    guard written == data.count else { throw GDALError(context: "writing \(path)", message: "short write") }
  }

  deinit { remove() }

  /// Unlinks the file and its folder, along with any sidecars GDAL put beside it.
  public func remove() {
    guard !removed else { return }
    removed = true
    let folder = (path as NSString).deletingLastPathComponent
    VSIRmdirRecursive(folder)
    VSIUnlink(path)
  }

  public var exists: Bool {
    // VSIStatBufL is a platform struct macro Swift cannot import; opening answers the same question.
    guard let handle = VSIFOpenL(path, "rb") else { return false }
    VSIFCloseL(handle)
    return true
  }

  /// A copy of the bytes.
  public func contents() throws -> Data {
    var length: vsi_l_offset = 0
    guard let buffer = VSIGetMemFileBuffer(path, &length, 0) else {
      throw GDALError(context: "reading \(path)", message: "no such memory file")
    }
    return Data(bytes: buffer, count: Int(length))
  }

  /// Removes a `/vsimem/` folder and everything in it.
  public static func removeTree(_ folder: String) {
    GDALEnvironment.bootstrap()
    VSIRmdirRecursive(folder)
  }

  /// Names in a `/vsimem/` folder (or any VSI folder), for checking nothing is left behind.
  public static func list(_ folder: String) -> [String] {
    GDALEnvironment.bootstrap()
    guard let list = VSIReadDirRecursive(folder) else { return [] }
    defer { CSLDestroy(list) }
    return CStringList.strings(list)
  }
}
