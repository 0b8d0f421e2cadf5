import Foundation

/// Every index of the Awesome Spectral Indices catalogue (MIT licence; generated into
/// `SpectralCatalogData.swift` by `Tools/spectral_catalog.py`), by name.
public enum SpectralCatalog {
  public struct Entry: Sendable {
    public let name: String
    /// Its name in the catalogue (Tessera's RVI is the catalogue's SR; the catalogue's RVI is RERVI).
    public let catalogueName: String
    public let longName: String
    public let formula: String
    /// Band codes (N, R, RE1, S1, …) and constants (L, g, C1, …) the formula reads.
    public let roles: [String]
    public let domain: String
    public let platforms: [String]
    public let reference: String
  }

  public struct Band: Sendable {
    public let code: String
    /// The catalogue's common name (nir, red, swir16, …).
    public let commonName: String
    public let longName: String
    public let minWavelength: Double, maxWavelength: Double
  }

  public struct Constant: Sendable {
    public let name: String
    public let description: String
    /// nil: the user must give it (`--param`).
    public let defaultValue: Double?
  }

  /// The long role names users type, by band code (and the other way round through `code(for:)`).
  public static let roleNames: [String: String] = [
    "A": "coastal", "B": "blue", "G": "green", "G1": "green1", "Y": "yellow", "R": "red",
    "RE1": "rededge1", "RE2": "rededge2", "RE3": "rededge3", "N": "nir", "N2": "nir2", "WV": "wv",
    "S1": "swir1", "S2": "swir2", "T": "thermal", "T1": "thermal1", "T2": "thermal2",
    "HH": "hh", "HV": "hv", "VV": "vv", "VH": "vh",
  ]

  /// The band code a user's role name stands for: a code (`N`, `RE1`, case as in the catalogue
  /// or any case) or a long name (`nir`, `rededge1`).
  public static func code(for role: String) -> String? {
    let lowered = role.lowercased()
    if let match = roleNames.first(where: { $0.key.lowercased() == lowered || $0.value == lowered }) { return match.key }
    return nil
  }

  /// The entry named `name`: exactly, else in any case when only one name matches (the
  /// catalogue has names that differ by case only, such as BAI and BaI).
  public static func entry(_ name: String) -> Entry? {
    if let exact = entries.first(where: { $0.name == name }) { return exact }
    let matches = caseInsensitiveMatches(name)
    return matches.count == 1 ? matches[0] : nil
  }

  /// Every entry whose name is `name` in some case.
  public static func caseInsensitiveMatches(_ name: String) -> [Entry] {
    let lowered = name.lowercased()
    return entries.filter { $0.name.lowercased() == lowered }
  }

  /// Names close to `name`, for "did you mean" (edit distance ≤ 2, or sharing its start).
  public static func suggestions(for name: String) -> [String] {
    let lowered = name.lowercased()
    let scored = entries.map { ($0.name, distance($0.name.lowercased(), lowered)) }
    let close = scored.filter { $0.1 <= 2 || $0.0.lowercased().hasPrefix(lowered) }.sorted { $0.1 < $1.1 }
    return Array(close.prefix(5).map(\.0))
  }

  /// Edit distance counting a swap of neighbours as one edit (ndiv is one edit from ndvi).
  static func distance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty, !b.isEmpty else { return Swift.max(a.count, b.count) }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        d[i][j] = Swift.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
        if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = Swift.min(d[i][j], d[i - 2][j - 2] + 1) }
      }
    }
    return d[a.count][b.count]
  }

  /// The roles of surface reflectance bands (not thermal, radar or kernel terms).
  static let reflectanceRoles: Set<String> = ["A", "B", "G", "G1", "Y", "R", "RE1", "RE2", "RE3", "N", "N2", "WV", "S1", "S2"]

  /// Whether an index reads reflectance: it reads at least one band, and only reflectance bands.
  public static func isReflectance(_ entry: Entry) -> Bool {
    let bands = entry.roles.filter { constant($0) == nil }
    return !bands.isEmpty && bands.allSatisfy(reflectanceRoles.contains)
  }

  /// Whether a role is a constant (L, g, C1, …) rather than a band.
  public static func constant(_ role: String) -> Constant? { constants.first { $0.name == role } }
}
