import Foundation
import GDAL

/// A CRS as the user typed it: EPSG:n, WKT, a PROJ string, a .prj file, or an alias.
public enum CRSInput {
  /// Aliases for the systems analysts name most, China's national and legacy datums among them.
  public static let aliases: [String: Int] = [
    "wgs84": 4326, "cgcs2000": 4490, "xian1980": 4610, "xian80": 4610, "beijing1954": 4214, "bj54": 4214,
    "beijing54": 4214, "webmercator": 3857,
  ]

  /// China's Gauss-Krüger projections per datum, in their central-meridian form (no zone number
  /// in the false easting): the EPSG codes of CM 75E, in PROJ's database (proj.db), for 3° and
  /// 6° zones. The codes run on by one per zone up to CM 135E.
  struct GaussKruger {
    let name: String
    let cm3At75: Int
    let cm6At75: Int
  }

  static let gaussKruger: [String: GaussKruger] = {
    let cgcs = GaussKruger(name: "CGCS2000", cm3At75: 4534, cm6At75: 4502)
    let xian = GaussKruger(name: "Xian 1980", cm3At75: 2370, cm6At75: 2338)
    let beijing = GaussKruger(name: "Beijing 1954", cm3At75: 2422, cm6At75: 21453)
    return ["cgcs2000": cgcs, "xian1980": xian, "xian80": xian, "beijing1954": beijing, "bj54": beijing, "beijing54": beijing]
  }()

  /// The central meridians China's Gauss-Krüger zones have codes for.
  static let gaussKrugerMeridians = 75...135

  /// Every alias with what it stands for, for --help and `info --crs`.
  public static let aliasHelp = """
    wgs84 (EPSG:4326), cgcs2000 (EPSG:4490), xian1980/xian80 (EPSG:4610), beijing1954/bj54/beijing54 (EPSG:4214), \
    webmercator (EPSG:3857), utm (the WGS 84 UTM zone of the data's centre, EPSG:326NN/327NN), \
    DATUM-gk3 and DATUM-gk6 for cgcs2000, xian1980 or beijing1954 (the 3° or 6° Gauss-Krüger zone of the data's centre, \
    central-meridian form: cgcs2000 EPSG:4534-4554 and 4502-4512, xian1980 EPSG:2370-2390 and 2338-2348, \
    beijing1954 EPSG:2422-2442 and 21453-21463), DATUM-gk3:CM or DATUM-gk6:CM for a given central meridian \
    (cgcs2000-gk3:114 = EPSG:4547)
    """

  /// The EPSG code `text` stands for when it is an alias, nil when it is not one.
  /// `centre` (WGS 84 longitude/latitude of the data) places `utm` and the Gauss-Krüger zones.
  public static func aliasCode(_ text: String, centre: (lon: Double, lat: Double)? = nil) throws -> Int? {
    let key = text.trimmingCharacters(in: .whitespaces).lowercased()
    if let epsg = aliases[key] { return epsg }
    if key == "utm" {
      let c = try placedCentre(centre, alias: "utm")
      return utmEPSG(lon: c.lon, lat: c.lat)
    }
    return try gaussKrugerCode(key, centre: centre)
  }

  /// Resolves `text`. `utm` and the Gauss-Krüger zones need `centre`, the data's centre in WGS 84
  /// longitude/latitude.
  /// - Throws: exit 64 naming the text, with GDAL's own message, when nothing matches.
  public static func resolve(_ text: String, centre: (lon: Double, lat: Double)? = nil) throws -> SpatialReference {
    let code = try aliasCode(text, centre: centre) ?? bareEPSG(text)
    do {
      if let code { return try SpatialReference(epsg: code) }
      return try SpatialReference(userInput: text)
    } catch let error as GDALError {
      throw TesseraError(.usage, "unknown CRS '\(text.prefix(120))': \(error.message)")
    }
  }

  /// A bare number is an EPSG code (`--dst-crs 4490` is EPSG:4490), as GDAL and rasterio users
  /// type it; nil for other text.
  public static func bareEPSG(_ text: String) -> Int? {
    guard let code = Int(text.trimmingCharacters(in: .whitespaces)), code > 0 else { return nil }
    return code
  }

  private static func placedCentre(_ centre: (lon: Double, lat: Double)?, alias: String) throws -> (lon: Double, lat: Double) {
    guard let centre else {
      throw TesseraError(.usage, "the \(alias) alias needs a raster to take the zone from")
    }
    guard centre.lon.isFinite, centre.lat.isFinite, abs(centre.lat) <= 90 else {
      throw TesseraError(.dataError, "the raster's centre (\(centre.lon), \(centre.lat)) is no place on Earth to take a zone from")
    }
    return centre
  }

  /// `DATUM-gk3`, `DATUM-gk6` (zone of the centre) or `DATUM-gk3:CM`; nil for other text.
  static func gaussKrugerCode(_ key: String, centre: (lon: Double, lat: Double)?) throws -> Int? {
    let parts = key.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
    let head = String(parts[0])
    let width: Int
    if head.hasSuffix("-gk3") { width = 3 } else if head.hasSuffix("-gk6") { width = 6 } else { return nil }
    guard let family = gaussKruger[String(head.dropLast(4))] else { return nil }
    let cm: Int
    if parts.count == 2 {
      var text = parts[1].trimmingCharacters(in: .whitespaces)
      if text.hasSuffix("e") { text.removeLast() }
      guard let given = Int(text), isMeridian(given, width: width) else {
        throw TesseraError(.usage, "\(key): \(family.name) \(width)° Gauss-Krüger zones have central meridians \(meridianList(width)) (degrees east)")
      }
      cm = given
    } else {
      let c = try placedCentre(centre, alias: head)
      let lon = (c.lon + 180).truncatingRemainder(dividingBy: 360) - 180
      let raw = width == 3 ? 3 * (lon / 3).rounded() : 6 * (lon / 6).rounded(.down) + 3
      guard let meridian = Int(checked: raw), isMeridian(meridian, width: width) else {
        throw TesseraError(.dataError, String(format: "the raster's centre (%.4f°E) lies outside China's %d° Gauss-Krüger zones (central meridians %dE-%dE); name a zone as %@:CM",
                                              lon, width, gaussKrugerMeridians.lowerBound, gaussKrugerMeridians.upperBound, head))
      }
      cm = meridian
    }
    let first = width == 3 ? family.cm3At75 : family.cm6At75
    return first + (cm - gaussKrugerMeridians.lowerBound) / width
  }

  static func isMeridian(_ cm: Int, width: Int) -> Bool {
    gaussKrugerMeridians.contains(cm) && (cm - gaussKrugerMeridians.lowerBound) % width == 0
  }

  static func meridianList(_ width: Int) -> String {
    "\(gaussKrugerMeridians.lowerBound), \(gaussKrugerMeridians.lowerBound + width), … \(gaussKrugerMeridians.upperBound)"
  }

  /// The centre of a raster in WGS 84 longitude/latitude, where `utm` and the Gauss-Krüger
  /// aliases take their zone from.
  public static func centre(ofRaster path: String) throws -> (lon: Double, lat: Double) {
    try Dataset.open(path).centreLonLat()
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
