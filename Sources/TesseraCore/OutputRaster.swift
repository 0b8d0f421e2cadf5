import Foundation
import GDAL

/// The GTiff a command writes into: its grid, CRS, creation options, and the band nodata,
/// descriptions, colour interpretation and colour table it takes over from a template.
enum OutputRaster {
  /// A GTiff on `template`'s own grid.
  static func create(like template: Dataset, path: String, bands: Int, type: DataType, write: WriteOptions,
                     nodata: NodataSetting? = nil) throws -> Dataset {
    try create(path: path, width: template.width, height: template.height, geoTransform: template.geoTransform,
               bandsFrom: template, bands: bands, type: type, write: write, nodata: nodata)
  }

  /// A GTiff of the given grid, taking CRS and band properties from `template`. `nodata`
  /// overrides the template's (`.none` leaves bands without).
  static func create(
    path: String, width: Int, height: Int, geoTransform: [Double]?, bandsFrom template: Dataset, bands: Int,
    type: DataType, write: WriteOptions, nodata: NodataSetting? = nil
  ) throws -> Dataset {
    let output = try Dataset.create(
      driver: "GTiff", path: path, width: width, height: height, bands: bands, type: type,
      options: write.resolvedCreationOptions(for: type, width: width, height: height, bands: bands))
    if let geoTransform { try output.setGeoTransform(geoTransform) }
    try output.setSpatialReference(template.spatialReference)
    for i in 1...bands {
      let out = try output.band(i)
      if i <= template.bandCount {
        let src = try template.band(i)
        if let nodata {
          if case .value(let v) = nodata { try out.setNoDataValue(v) }
        } else if let v = src.noDataValue {
          try out.setNoDataValue(v)
        }
        if !src.description.isEmpty { out.setDescription(src.description) }
        out.copyPresentation(from: src)
      } else if case .value(let v)? = nodata {
        try out.setNoDataValue(v)
      }
    }
    return output
  }
}
