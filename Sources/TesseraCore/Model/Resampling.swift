/// Resampling methods, spelled as GDAL spells them; rasterio's spellings are accepted too.
public enum Resampling: String, CaseIterable, Sendable {
  case nearest, bilinear, cubic, cubicspline, lanczos, average, rms, mode, min, max, med, q1, q3, sum

  /// Accepts `near`/`nearest` and `cubicspline`/`cubic_spline`, case-insensitively.
  public init?(name: String) {
    let key = name.lowercased().replacingOccurrences(of: "_", with: "")
    if key == "near" { self = .nearest; return }
    guard let match = Resampling(rawValue: key) else { return nil }
    self = match
  }

  /// The name gdalwarp's `-r` takes.
  public var gdalName: String { self == .nearest ? "near" : rawValue }

  /// The name RasterIO's resampling takes (`Dataset.rasterIOResampling`); methods RasterIO
  /// lacks (min, max, med, quartiles, sum) fall back to nearest there.
  public var rasterIOName: String { rawValue }

  /// Every accepted spelling, for help text and error messages.
  public static var spellings: String {
    allCases.map { $0 == .nearest ? "nearest|near" : $0 == .cubicspline ? "cubicspline|cubic_spline" : $0.rawValue }
      .joined(separator: ", ")
  }
}
