import Foundation

// MARK: - Typed values in and out of JSONValue

extension JSONValue {
  /// The JSON of an Encodable value, keys snake_case and in the order the value encodes them
  /// (a report's documented order), NaN and infinities as the strings JSONValue uses.
  public init(encoding value: some Encodable) throws {
    // Foundation's JSONEncoder forgets the order keys were encoded in (and hashes them in a
    // per-process order), so Tessera encodes into its own ordered tree.
    let encoder = OrderedEncoder()
    try value.encode(to: encoder)
    self = encoder.root.value
  }

  /// Decodes a value written by `init(encoding:)` (or read from a file).
  public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return try decoder.decode(type, from: data)
  }

  /// Parses JSON text, keeping the order of object keys (JSONSerialization does not).
  public static func parse(_ data: Data) throws -> JSONValue {
    var parser = Parser(bytes: Array(data))
    let value = try parser.value()
    parser.skipSpace()
    guard parser.index == parser.bytes.count else { throw parser.failure("text after the JSON value") }
    return value
  }

  /// A JSON text that is not one value.
  public struct ParseError: Error, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
  }

  private struct Parser {
    let bytes: [UInt8]
    var index = 0
    var depth = 0

    func failure(_ reason: String) -> ParseError { ParseError(offset: index, reason: reason) }

    mutating func skipSpace() {
      while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    mutating func literal(_ text: String, _ value: JSONValue) throws -> JSONValue {
      let expected = Array(text.utf8)
      guard index + expected.count <= bytes.count, Array(bytes[index..<(index + expected.count)]) == expected else {
        throw failure("expected \(text)")
      }
      index += expected.count
      return value
    }

    mutating func value() throws -> JSONValue {
      skipSpace()
      guard index < bytes.count else { throw failure("unexpected end") }
      switch bytes[index] {
      case UInt8(ascii: "{"): return try container(close: UInt8(ascii: "}"), keyed: true)
      case UInt8(ascii: "["): return try container(close: UInt8(ascii: "]"), keyed: false)
      case UInt8(ascii: "\""): return .string(try string())
      case UInt8(ascii: "t"): return try literal("true", .bool(true))
      case UInt8(ascii: "f"): return try literal("false", .bool(false))
      case UInt8(ascii: "n"): return try literal("null", .null)
      default: return try number()
      }
    }

    mutating func container(close: UInt8, keyed: Bool) throws -> JSONValue {
      depth += 1
      defer { depth -= 1 }
      // Deeper than any report: a hostile file must not exhaust the stack.
      guard depth <= 512 else { throw failure("nested too deeply") }
      index += 1
      var pairs: [(String, JSONValue)] = []
      var items: [JSONValue] = []
      skipSpace()
      if index < bytes.count, bytes[index] == close {
        index += 1
        return keyed ? .object([]) : .array([])
      }
      while true {
        skipSpace()
        if keyed {
          guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a key") }
          let key = try string()
          skipSpace()
          guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':'") }
          index += 1
          pairs.append((key, try value()))
        } else {
          items.append(try value())
        }
        skipSpace()
        guard index < bytes.count else { throw failure("unexpected end") }
        if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
        guard bytes[index] == close else { throw failure("expected ',' or the container's end") }
        index += 1
        return keyed ? .object(pairs) : .array(items)
      }
    }

    mutating func string() throws -> String {
      index += 1
      var scalars = String.UnicodeScalarView()
      var start = index
      func flush(_ end: Int) throws {
        guard let text = String(bytes: bytes[start..<end], encoding: .utf8) else { throw failure("invalid UTF-8") }
        scalars.append(contentsOf: text.unicodeScalars)
      }
      while index < bytes.count {
        let byte = bytes[index]
        if byte == UInt8(ascii: "\"") {
          try flush(index)
          index += 1
          return String(scalars)
        }
        if byte < 0x20 { throw failure("control character in a string") }
        if byte != UInt8(ascii: "\\") { index += 1; continue }
        try flush(index)
        index += 1
        guard index < bytes.count else { break }
        let escape = bytes[index]
        index += 1
        switch escape {
        case UInt8(ascii: "\""): scalars.append("\"")
        case UInt8(ascii: "\\"): scalars.append("\\")
        case UInt8(ascii: "/"): scalars.append("/")
        case UInt8(ascii: "b"): scalars.append("\u{08}")
        case UInt8(ascii: "f"): scalars.append("\u{0C}")
        case UInt8(ascii: "n"): scalars.append("\n")
        case UInt8(ascii: "r"): scalars.append("\r")
        case UInt8(ascii: "t"): scalars.append("\t")
        case UInt8(ascii: "u"):
          var code = try hex4()
          if (0xD800..<0xDC00).contains(code), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
            bytes[index + 1] == UInt8(ascii: "u") {
            index += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
          }
          guard let scalar = Unicode.Scalar(code) else { throw failure("invalid \\u escape") }
          scalars.append(scalar)
        default: throw failure("invalid escape")
        }
        start = index
      }
      throw failure("unterminated string")
    }

    mutating func hex4() throws -> UInt32 {
      guard index + 4 <= bytes.count, let text = String(bytes: bytes[index..<(index + 4)], encoding: .ascii),
        let code = UInt32(text, radix: 16) else { throw failure("invalid \\u escape") }
      index += 4
      return code
    }

    mutating func number() throws -> JSONValue {
      let start = index
      while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
      guard index > start, let text = String(bytes: bytes[start..<index], encoding: .ascii) else { throw failure("unexpected character") }
      if let int = Int(text) { return .int(int) }
      guard let double = Double(text), double.isFinite else { throw failure("invalid number \(text)") }
      // Whole numbers print as integers, as everywhere in Tessera's JSON.
      return .double(double)
    }
  }
}

extension JSONValue: Codable {
  private struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  public func encode(to encoder: Encoder) throws {
    switch self {
    case .null:
      var c = encoder.singleValueContainer(); try c.encodeNil()
    case .bool(let b):
      var c = encoder.singleValueContainer(); try c.encode(b)
    case .int(let i):
      var c = encoder.singleValueContainer(); try c.encode(i)
    case .number(let d):
      var c = encoder.singleValueContainer(); try c.encode(d)
    case .string(let s):
      var c = encoder.singleValueContainer(); try c.encode(s)
    case .array(let items):
      var c = encoder.unkeyedContainer()
      for item in items { try c.encode(item) }
    case .object(let pairs):
      var c = encoder.container(keyedBy: Key.self)
      for (key, value) in pairs { try c.encode(value, forKey: Key(stringValue: key)) }
    }
  }

  public init(from decoder: Decoder) throws {
    if let keyed = try? decoder.container(keyedBy: Key.self) {
      self = .object(try keyed.allKeys.map { ($0.stringValue, try keyed.decode(JSONValue.self, forKey: $0)) })
      return
    }
    if var unkeyed = try? decoder.unkeyedContainer() {
      var items: [JSONValue] = []
      while !unkeyed.isAtEnd { items.append(try unkeyed.decode(JSONValue.self)) }
      self = .array(items)
      return
    }
    let single = try decoder.singleValueContainer()
    if single.decodeNil() { self = .null }
    else if let b = try? single.decode(Bool.self) { self = .bool(b) }
    else if let i = try? single.decode(Int.self) { self = .int(i) }
    else if let d = try? single.decode(Double.self) { self = .number(d) }
    else { self = .string(try single.decode(String.self)) }
  }
}

/// An optional that a report always writes: `null` when absent, so the key is there for
/// scripts either way. Reading, a missing key is nil too.
@propertyWrapper
public struct Reported<Value: Codable & Sendable>: Codable, Sendable {
  public var wrappedValue: Value?
  public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    if let wrappedValue { try c.encode(wrappedValue) } else { try c.encodeNil() }
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    wrappedValue = c.decodeNil() ? nil : try c.decode(Value.self)
  }
}

extension KeyedDecodingContainer {
  /// A `Reported` key may be missing altogether.
  public func decode<V>(_ type: Reported<V>.Type, forKey key: Key) throws -> Reported<V> {
    try decodeIfPresent(type, forKey: key) ?? Reported(wrappedValue: nil)
  }
}
