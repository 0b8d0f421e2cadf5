import Foundation

// MARK: - An encoder that keeps key order

/// A node of the tree an `OrderedEncoder` builds: containers are classes, so nested encoders
/// fill them in place.
final class EncodedNode {
  enum Content {
    case value(JSONValue)
    case object([(String, EncodedNode)])
    case array([EncodedNode])
  }

  var content: Content = .value(.null)

  var value: JSONValue {
    switch content {
    case .value(let v): return v
    case .object(let pairs): return .object(pairs.map { ($0.0, $0.1.value) })
    case .array(let items): return .array(items.map(\.value))
    }
  }

  func child(_ key: String) -> EncodedNode {
    let node = EncodedNode()
    if case .object(var pairs) = content {
      pairs.removeAll { $0.0 == key }
      pairs.append((key, node))
      content = .object(pairs)
    } else {
      content = .object([(key, node)])
    }
    return node
  }

  func appended() -> EncodedNode {
    let node = EncodedNode()
    if case .array(var items) = content { items.append(node); content = .array(items) } else { content = .array([node]) }
    return node
  }
}

/// Encodes into `EncodedNode`s: keys snake_case in encoding order, doubles as `JSONValue.double`.
struct OrderedEncoder: Encoder {
  let root: EncodedNode
  var codingPath: [CodingKey] = []
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  init(_ node: EncodedNode = EncodedNode()) { root = node }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    if case .object = root.content {} else { root.content = .object([]) }
    return KeyedEncodingContainer(Keyed<Key>(node: root))
  }

  func unkeyedContainer() -> UnkeyedEncodingContainer {
    if case .array = root.content {} else { root.content = .array([]) }
    return Unkeyed(node: root)
  }

  func singleValueContainer() -> SingleValueEncodingContainer { Single(node: root) }

  static func snakeCase(_ key: String) -> String {
    var out = ""
    for character in key {
      if character.isUppercase {
        if !out.isEmpty { out += "_" }
        out += character.lowercased()
      } else {
        out.append(character)
      }
    }
    return out
  }

  static func encode<T: Encodable>(_ value: T, into node: EncodedNode) throws {
    switch value {
    case let v as Double: node.content = .value(.double(v))
    case let v as Float: node.content = .value(.double(Double(v)))
    case let v as JSONValue: node.content = .value(v)
    default: try value.encode(to: OrderedEncoder(node))
    }
  }

  struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodedNode
    var codingPath: [CodingKey] { [] }

    func child(_ key: Key) -> EncodedNode { node.child(OrderedEncoder.snakeCase(key.stringValue)) }
    mutating func encodeNil(forKey key: Key) throws { child(key).content = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try OrderedEncoder.encode(value, into: child(key)) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
      -> KeyedEncodingContainer<NestedKey> { OrderedEncoder(child(key)).container(keyedBy: keyType) }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer { OrderedEncoder(child(key)).unkeyedContainer() }
    mutating func superEncoder() -> Encoder { OrderedEncoder(node.child("super")) }
    mutating func superEncoder(forKey key: Key) -> Encoder { OrderedEncoder(child(key)) }
  }

  struct Unkeyed: UnkeyedEncodingContainer {
    let node: EncodedNode
    var codingPath: [CodingKey] { [] }
    var count: Int { if case .array(let items) = node.content { return items.count } else { return 0 } }

    mutating func encodeNil() throws { node.appended().content = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws { try OrderedEncoder.encode(value, into: node.appended()) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
      OrderedEncoder(node.appended()).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer { OrderedEncoder(node.appended()).unkeyedContainer() }
    mutating func superEncoder() -> Encoder { OrderedEncoder(node.appended()) }
  }

  struct Single: SingleValueEncodingContainer {
    let node: EncodedNode
    var codingPath: [CodingKey] { [] }

    mutating func encodeNil() throws { node.content = .value(.null) }
    mutating func encode(_ value: Bool) throws { node.content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { node.content = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { node.content = .value(.double(value)) }
    mutating func encode(_ value: Float) throws { node.content = .value(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { node.content = .value(.int(value)) }
    mutating func encode(_ value: Int8) throws { node.content = .value(.int(Int(value))) }
    mutating func encode(_ value: Int16) throws { node.content = .value(.int(Int(value))) }
    mutating func encode(_ value: Int32) throws { node.content = .value(.int(Int(value))) }
    mutating func encode(_ value: Int64) throws { node.content = .value(.int(Int(value))) }
    mutating func encode(_ value: UInt) throws { node.content = .value(.double(Double(value))) }
    mutating func encode(_ value: UInt8) throws { node.content = .value(.int(Int(value))) }
    mutating func encode(_ value: UInt16) throws { node.content = .value(.int(Int(value))) }
    mutating func encode(_ value: UInt32) throws { node.content = .value(.int(Int(value))) }
    mutating func encode(_ value: UInt64) throws { node.content = .value(.double(Double(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws { try OrderedEncoder.encode(value, into: node) }
  }
}
