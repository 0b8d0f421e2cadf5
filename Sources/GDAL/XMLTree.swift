import CGDAL

/// An XML document parsed by GDAL's minixml, read through GDAL's virtual file system, so
/// metadata inside a /vsizip/ archive reads like any other file. Namespace prefixes are dropped
/// (`n1:Level-2A_User_Product` is `Level-2A_User_Product`).
public final class XMLTree {
  private let root: UnsafeMutablePointer<CPLXMLNode>
  public let path: String

  public init(path: String) throws {
    GDALEnvironment.bootstrap()
    self.path = path
    let node = try GDALCall.handle("reading XML \(path)") { CPLParseXMLFile(path) }
    CPLStripXMLNamespace(node, nil, 1)
    root = node
  }

  deinit { CPLDestroyXMLNode(root) }

  /// The document element (after any `<?xml?>` declaration, which minixml keeps as a sibling).
  public var document: XMLElement {
    var node: UnsafeMutablePointer<CPLXMLNode>? = root
    while let n = node {
      if n.pointee.eType == CXT_Element, n.pointee.pszValue.pointee != UInt8(ascii: "?") { return XMLElement(node: n, owner: self) }
      node = n.pointee.psNext
    }
    return XMLElement(node: root, owner: self)
  }
}

/// One element of an `XMLTree`; it keeps its tree alive.
public struct XMLElement {
  let node: UnsafeMutablePointer<CPLXMLNode>
  let owner: XMLTree

  public var name: String { String(cString: node.pointee.pszValue) }

  /// The element's text (its first text child), trimmed.
  public var text: String {
    var child = node.pointee.psChild
    while let c = child {
      if c.pointee.eType == CXT_Text { return String(cString: c.pointee.pszValue).trimmingWhitespace() }
      child = c.pointee.psNext
    }
    return ""
  }

  public func attribute(_ name: String) -> String? {
    var child = node.pointee.psChild
    while let c = child {
      if c.pointee.eType == CXT_Attribute, String(cString: c.pointee.pszValue) == name {
        return c.pointee.psChild.map { String(cString: $0.pointee.pszValue) }
      }
      child = c.pointee.psNext
    }
    return nil
  }

  /// Direct child elements.
  public var children: [XMLElement] {
    var result: [XMLElement] = []
    var child = node.pointee.psChild
    while let c = child {
      if c.pointee.eType == CXT_Element { result.append(XMLElement(node: c, owner: owner)) }
      child = c.pointee.psNext
    }
    return result
  }

  /// Every element named `name` below this one, in document order.
  public func all(_ name: String) -> [XMLElement] {
    var result: [XMLElement] = []
    func visit(_ element: XMLElement) {
      for child in element.children {
        if child.name == name { result.append(child) }
        visit(child)
      }
    }
    visit(self)
    return result
  }

  /// The first element named `name` below this one.
  public func first(_ name: String) -> XMLElement? { all(name).first }
}

extension String {
  func trimmingWhitespace() -> String {
    var s = Substring(self)
    while let f = s.first, f.isWhitespace { s.removeFirst() }
    while let l = s.last, l.isWhitespace { s.removeLast() }
    return String(s)
  }
}
