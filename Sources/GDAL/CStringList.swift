import CGDAL

/// A NULL-terminated `char**` owned by Swift, for GDAL's option and argument lists.
final class CStringList {
  private(set) var pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?

  init(_ strings: [String]) {
    for string in strings { pointer = CSLAddString(pointer, string) }
  }

  /// `KEY=VALUE` pairs, in the given order.
  convenience init(pairs: [(String, String)]) {
    self.init(pairs.map { "\($0.0)=\($0.1)" })
  }

  deinit { CSLDestroy(pointer) }

  var constPointer: UnsafePointer<UnsafePointer<CChar>?>? {
    pointer.map { UnsafeRawPointer($0).assumingMemoryBound(to: UnsafePointer<CChar>?.self) }
  }

  /// Reads a GDAL-owned list (not freed here).
  static func strings(_ list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String] {
    guard let list else { return [] }
    var result: [String] = []
    var i = 0
    while let item = list[i] {
      result.append(String(cString: item))
      i += 1
    }
    return result
  }
}

/// Splits `KEY=VALUE` metadata items into ordered pairs (items without `=` are skipped).
func keyValuePairs(_ items: [String]) -> [(key: String, value: String)] {
  items.compactMap { item in
    guard let eq = item.firstIndex(of: "=") else { return nil }
    return (String(item[..<eq]), String(item[item.index(after: eq)...]))
  }
}
