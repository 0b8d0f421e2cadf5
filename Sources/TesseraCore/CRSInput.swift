import Foundation
import GDAL

/// A CRS as the user typed it: EPSG:n, WKT, a PROJ string, a .prj file, or an alias.
public enum CRSInput {
  /// Aliases for the systems analysts name most, China's national and legacy datums among them.
  public static let aliases: [String: Int] = [
    "wgs84": 4326, "cgcs2000": 4490, "xian1980": 4610, "beijing1954": 4214, "webmercator": 3857,
  ]

  /// Resolves `text`. `utm` needs `centre`, the data's centre in WGS 84 longitude/latitude.
  /// - Throws: exit 64 naming the text, with GDAL's own message, when nothing matches.
  public static func resolve(_ text: String, centre: (lon: Double, lat: Double)? = nil) throws -> SpatialReference {
    let key = text.trimmingCharacters(in: .whitespaces).lowercased()
    if let epsg = aliases[key] { return try SpatialReference(epsg: epsg) }
    if key == "utm" {
      guard let centre else {
        throw TesseraError(.usage, "the utm alias needs a raster to take the zone from")
      }
      guard centre.lon.isFinite, centre.lat.isFinite, abs(centre.lat) <= 90 else {
        throw TesseraError(.dataError, "the raster's centre (\(centre.lon), \(centre.lat)) is no place on Earth to take a UTM zone from")
      }
      return try SpatialReference(epsg: utmEPSG(lon: centre.lon, lat: centre.lat))
    }
    do {
      return try SpatialReference(userInput: text)
    } catch let error as GDALError {
      throw TesseraError(.usage, "unknown CRS '\(text.prefix(120))': \(error.message)")
    }
  }

  /// The WGS 84 / UTM EPSG code for a point, with the Norway and Svalbard exceptions.
  public static func utmEPSG(lon: Double, lat: Double) -> Int {
    // A remainder, not a loop: a longitude of 1e300 is unchanged by subtracting 360.
    var lon = (lon + 180).truncatingRemainder(dividingBy: 360)
    if lon < 0 { lon += 360 }
    lon -= 180
    var zone = Int(saturating: (lon + 180) / 6, rounding: .down) + 1
    if lat >= 56, lat < 64, lon >= 3, lon < 12 { zone = 32 }
    if lat >= 72, lat < 84 {
      if lon >= 0, lon < 9 { zone = 31 } else if lon >= 9, lon < 21 { zone = 33 }
      else if lon >= 21, lon < 33 { zone = 35 } else if lon >= 33, lon < 42 { zone = 37 }
    }
    zone = Swift.min(Swift.max(zone, 1), 60)
    return (lat >= 0 ? 32600 : 32700) + zone
  }

  /// Short form for messages: `EPSG:32633`, else the CRS name.
  public static func label(_ srs: SpatialReference?) -> String {
    guard let srs else { return "no CRS" }
    if let epsg = srs.epsg { return "EPSG:\(epsg)" }
    return srs.name ?? "an unnamed CRS"
  }
}
