import ArgumentParser
import Foundation
import TesseraCore

/// One `-b` value: band numbers from 1 (`4,3,2`), or band names of Sentinel-2 products
/// (`B04,B03,B02`), never a mix.
enum BandList: ArgumentValue, Equatable {
  case numbers([Int])
  case names([String])

  init(argumentText text: String) throws {
    let items = commaItems(text)
    guard !items.isEmpty, !items.contains("") else { throw ValidationError("-b '\(text)' names no band; give band numbers from 1, like -b 4,3,2") }
    let numbers = items.compactMap { Int($0) }
    if numbers.count == items.count {
      guard numbers.allSatisfy({ $0 >= 1 }) else { throw ValidationError("-b takes band numbers from 1, like -b 4,3,2") }
      self = .numbers(numbers)
    } else if numbers.isEmpty {
      self = .names(items)
    } else {
      throw ValidationError("-b '\(text)' mixes band numbers and names; give numbers (-b 4,3,2) or, of Sentinel-2 products, names (-b B04,B03,B02)")
    }
  }

  /// Two `-b` given one after the other: one list, when both are numbers or both names.
  func appending(_ next: BandList) throws -> BandList {
    switch (self, next) {
    case (.numbers(let a), .numbers(let b)): return .numbers(a + b)
    case (.names(let a), .names(let b)): return .names(a + b)
    default: throw ValidationError("-b mixes band numbers and names; give numbers (-b 4,3,2) or, of Sentinel-2 products, names (-b B04,B03,B02)")
    }
  }
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
