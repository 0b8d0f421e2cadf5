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

  public var shortName: String { String(cString: GDALGetDriverShortName(handle)) }

  public func metadataItem(_ name: String) -> String? {
    GDALGetMetadataItem(handle, name, nil).map { String(cString: $0) }
  }
}
