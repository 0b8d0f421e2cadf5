import ArgumentParser
import Foundation
import TesseraCore

/// Band numbers from 1, comma-separated (`1,2,3`): `--bands` of the commands that read bands of
/// every input.
struct BandNumbers: ArgumentValue, Equatable {
  var numbers: [Int]

  init(argumentText text: String) throws {
    let values = commaItems(text).map { Int($0) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
      throw ValidationError("--bands takes band numbers from 1, like 1,2,3")
    }
    numbers = values.compactMap { $0 }
  }
}

/// The pixel dimensions `W,H` of `--size`.
struct PixelCount: ArgumentValue, Equatable {
  var width: Int, height: Int

  init(argumentText text: String) throws { (width, height) = try parseSize(text) }
}

/// Comma-separated names, trimmed (`B04, B03` is B04 and B03).
struct NameList: ArgumentValue, Equatable {
  var names: [String]

  init(argumentText text: String) throws { names = commaItems(text, omittingEmpty: true) }
}

/// `KEY=VALUE` of `--co` and `--config`: a key that is not empty and the text after the first `=`.
struct KeyValue: ArgumentValue, Equatable {
  var key: String, value: String

  init(argumentText text: String) throws {
    guard let eq = text.firstIndex(of: "="), eq != text.startIndex else { throw ValidationError("takes KEY=VALUE") }
    key = String(text[..<eq])
    value = String(text[text.index(after: eq)...])
  }

  var text: String { "\(key)=\(value)" }
}

extension Array {
  /// `--co` or `--config` items, each KEY=VALUE, or the usage error naming the first bad one.
  func keyValues(_ option: String) throws -> [KeyValue] where Element == Parsed<KeyValue> {
    try map { item in
      guard let pair = item.valid else { throw ValidationError("\(option) takes KEY=VALUE, got '\(item.text)'") }
      return pair
    }
  }
}

/// The scene classes of a Sentinel-2 SCL band that `--mask-clouds` makes nodata, each 0 to 11.
struct SceneClasses: ArgumentValue, Equatable {
  var classes: Set<Int>

  init(argumentText text: String) throws {
    let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ $0.map { (0...11).contains($0) } ?? false }) else {
      throw ValidationError("--scl-classes takes scene classes 0-11, like 3,8,9,10")
    }
    classes = Set(values.compactMap { $0 })
  }
}

/// Sentinel-2 bands by name (`B02,B03,B04,B08`), in order.
struct Sentinel2BandList: ArgumentValue, Equatable {
  var bands: [Sentinel2Band]

  init(argumentText text: String) throws {
    let names = commaItems(text, omittingEmpty: true).filter { !$0.isEmpty }
    guard !names.isEmpty else { throw MergeMemfileRequest.noBand }
    bands = try names.map { name in
      guard let band = Sentinel2Band(name: name) else {
        throw ValidationError("unknown band '\(name)'; bands are \(Sentinel2Band.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      return band
    }
  }
}
