import CGDAL

/// A registered GDAL driver.
public struct Driver {
  let handle: GDALDriverH

  public init(named name: String) throws {
    GDALEnvironment.bootstrap()
    guard let handle = GDALGetDriverByName(name) else {
      throw GDALError(context: "finding the \(name) driver", message: "GDAL has no driver named \(name)")
    }
    self.handle = handle
  }

  init(handle: GDALDriverH) { self.handle = handle }

  /// Every registered driver, in GDAL's registration order.
  public static var all: [Driver] {
    GDALEnvironment.bootstrap()
    return (0..<GDALGetDriverCount()).compactMap { GDALGetDriver($0).map(Driver.init(handle:)) }
  }

  public var shortName: String { String(cString: GDALGetDriverShortName(handle)) }

  public func metadataItem(_ name: String) -> String? {
    GDALGetMetadataItem(handle, name, nil).map { String(cString: $0) }
  }

  /// Whether the driver declares a capability (`DCAP_RASTER`, `DCAP_CREATE`, ...).
  public func has(_ capability: String) -> Bool {
    metadataItem(capability)?.uppercased() == "YES"
  }

  /// The file extensions the driver claims (`DMD_EXTENSIONS`, or the single `DMD_EXTENSION`), lower case.
  public var extensions: [String] {
    let text = metadataItem("DMD_EXTENSIONS") ?? metadataItem("DMD_EXTENSION") ?? ""
    return text.split(separator: " ").map { $0.lowercased() }
  }

  /// The data types the driver can create (`DMD_CREATIONDATATYPES`); nil when it does not say.
  public var creationDataTypes: [String]? {
    metadataItem("DMD_CREATIONDATATYPES").map { $0.split(separator: " ").map(String.init) }
  }

  /// The names of the driver's creation options, upper case, from `DMD_CREATIONOPTIONLIST`.
  public var creationOptionNames: [String] {
    guard let xml = metadataItem("DMD_CREATIONOPTIONLIST"), let root = CPLParseXMLString(xml) else { return [] }
    defer { CPLDestroyXMLNode(root) }
    var names: [String] = []
    var node = root
    // The list may sit behind an XML declaration sibling.
    while String(cString: node.pointee.pszValue) != "CreationOptionList", let next = node.pointee.psNext { node = next }
    var child = node.pointee.psChild
    while let option = child {
      if option.pointee.eType == CXT_Element, String(cString: option.pointee.pszValue) == "Option",
        let name = CPLGetXMLValue(option, "name", nil)
      {
        names.append(String(cString: name).uppercased())
      }
      child = option.pointee.psNext
    }
    return names
  }
}
