import Foundation
import GDAL

/// The hint for a region that misses its raster because its numbers were read in one CRS when
/// the user meant another: longitude/latitude taken for metres, or the other way round.
enum NearMiss {
  /// "; did you mean OPTION CRS?" when the same numbers in the other CRS would reach one of
  /// `footprints` (each a raster's extent in its own CRS), else "". The other CRS is EPSG:4326
  /// for numbers read in a projected or other CRS, and the first raster's CRS for numbers read
  /// as EPSG:4326.
  static func hint(_ numbers: Extent, readIn crs: SpatialReference, option: String,
                   footprints: [(extent: Extent, crs: SpatialReference)]) -> String {
    guard let first = footprints.first, let wgs84 = try? SpatialReference(epsg: 4326) else { return "" }
    let other = crs.isSame(as: wgs84) ? first.crs : wgs84
    guard !other.isSame(as: crs), numbers.isFinite else { return "" }
    // Metres taken as degrees would wrap around the globe and hit by chance.
    if other.isGeographic, numbers.minX < -180 || numbers.maxX > 180 || numbers.minY < -90 || numbers.maxY > 90 { return "" }
    for footprint in footprints {
      // Only a hint: a footprint that cannot be placed in the other CRS gives none.
      let placed = footprint.crs.isSame(as: other)
        ? footprint.extent
        : try? CoordinateTransformation(from: footprint.crs, to: other).transformBounds(footprint.extent)
      if let placed, placed.isFinite, placed.intersects(numbers) {
        return "; did you mean \(option) \(CRSInput.label(other))?"
      }
    }
    return ""
  }
}
