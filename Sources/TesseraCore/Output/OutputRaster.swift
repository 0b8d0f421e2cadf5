import Foundation
import GDAL

/// The raster a command writes into: created with its grid, CRS and creation options, then given
/// the band nodata, descriptions, colour interpretation and colour table of a template.
enum OutputRaster {
  /// A raster of `width` x `height` through `driver` (GTiff, or MEM for a dataset that only a
  /// final COG copy reads), georeferenced when a geotransform and CRS are given.
  static func create(
    driver: String = "GTiff", path: String, width: Int, height: Int, geoTransform: [Double]?, srs: SpatialReference?,
    bands: Int, type: DataType, options: [String]
  ) throws -> Dataset {
    let output = try Dataset.create(driver: driver, path: path, width: width, height: height, bands: bands, type: type,
                                    options: options)
    if let geoTransform { try output.setGeoTransform(geoTransform) }
    if let srs { try output.setSpatialReference(srs) }
    return output
  }

  /// The output's GTiff on `template`'s own grid.
  static func create(like template: Dataset, in target: OutputTarget, bands: Int, type: DataType, spec: OutputSpec,
                     threads: Int, nodata: NodataSetting = .inherit) throws -> Dataset {
    try create(in: target, width: template.width, height: template.height, geoTransform: template.geoTransform,
               bandsFrom: template, bands: bands, type: type, spec: spec, threads: threads, nodata: nodata)
  }

  /// The output's GTiff of the given grid, taking CRS and band properties from `template`.
  /// `nodata` overrides the template's (`.none` leaves bands without, `.inherit` takes the template's).
  static func create(
    in target: OutputTarget, width: Int, height: Int, geoTransform: [Double]?, bandsFrom template: Dataset, bands: Int,
    type: DataType, spec: OutputSpec, threads: Int, nodata: NodataSetting = .inherit
  ) throws -> Dataset {
    let output = try create(
      path: target.gdalPath, width: width, height: height, geoTransform: geoTransform, srs: template.spatialReference,
      bands: bands, type: type,
      options: spec.gtiffOptions(for: type, threads: threads, width: width, height: height, bands: bands))
    try takeBands(of: template, into: output, nodata: nodata)
    // Before any pixel is computed: a lossy format cannot keep the nodata just declared.
    let declaresNodata = output.bands.contains { $0.noDataValue != nil }
    try spec.requireHoldsNodata(declaresNodata)
    return output
  }

  /// Gives `output`'s bands the nodata (as `nodata` says), descriptions, colour interpretation
  /// and colour table of `template`'s; bands past the template's get only a given nodata.
  static func takeBands(of template: Dataset, into output: Dataset, nodata: NodataSetting) throws {
    for i in 1...output.bandCount {
      let out = try output.band(i)
      if i <= template.bandCount {
        let src = try template.band(i)
        if let v = nodata.forBand(i - 1).resolved(inherited: src.noDataValue) { try out.setNoDataValue(TypeConversion.nodata(v, as: out.dataType)) }
        if !src.description.isEmpty { out.setDescription(src.description) }
        out.copyPresentation(from: src)
      } else if case .value(let v) = nodata.forBand(i - 1) {
        try out.setNoDataValue(TypeConversion.nodata(v, as: out.dataType))
      }
    }
  }
}
