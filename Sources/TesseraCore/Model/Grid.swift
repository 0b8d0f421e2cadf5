import Foundation
import GDAL

/// A north-up pixel grid: a CRS, an origin, a pixel size and whole pixels. The output grid of
/// every command is one of these, and so is an input's own grid.
public struct Grid {
  public var srs: SpatialReference
  /// The top-left corner of the top-left pixel.
  public var minX: Double, maxY: Double
  public var resolution: (x: Double, y: Double)
  public var width: Int, height: Int

  public init(srs: SpatialReference, minX: Double, maxY: Double, resolution: (x: Double, y: Double), width: Int, height: Int) {
    self.srs = srs
    self.minX = minX
    self.maxY = maxY
    self.resolution = resolution
    self.width = width
    self.height = height
  }

  /// A dataset's own grid; nil when it has no CRS or is rotated or south-up.
  public init?(of dataset: Dataset) {
    guard let srs = dataset.spatialReference, let gt = dataset.geoTransform,
      gt[2] == 0, gt[4] == 0, gt[1] > 0, gt[5] < 0 else { return nil }
    self.init(srs: srs, minX: gt[0], maxY: gt[3], resolution: (gt[1], -gt[5]), width: dataset.width, height: dataset.height)
  }

  /// The smallest grid of pixels of `resolution` on the lattice through `anchor` that covers
  /// `extent` (snapped outward; a hair inside a pixel edge counts as on it). The anchor (0, 0)
  /// gives the grid gdalwarp -tap makes.
  public static func covering(_ extent: Extent, srs: SpatialReference, resolution: (x: Double, y: Double),
                              anchor: (x: Double, y: Double) = (0, 0), cause: String) throws -> Grid {
    let rx = resolution.x, ry = resolution.y
    func down(_ v: Double, _ a: Double, _ r: Double) -> Double { a + ((v - a) / r + 1e-6).rounded(.down) * r }
    func up(_ v: Double, _ a: Double, _ r: Double) -> Double { a + ((v - a) / r - 1e-6).rounded(.up) * r }
    let minX = down(extent.minX, anchor.x, rx), maxX = up(extent.maxX, anchor.x, rx)
    let minY = down(extent.minY, anchor.y, ry), maxY = up(extent.maxY, anchor.y, ry)
    let width = ((maxX - minX) / rx).rounded(), height = ((maxY - minY) / ry).rounded()
    try OutputSize.requireGrid(width: width, height: height, cause: cause)
    return Grid(srs: srs, minX: minX, maxY: maxY, resolution: resolution, width: Int(saturating: width), height: Int(saturating: height))
  }

  /// The point of the pixel lattice nearest the origin of `geoTransform`, reduced to within one
  /// pixel of (0, 0): two grids with the same anchor and resolution share pixel edges.
  public static func anchor(of geoTransform: [Double], resolution: (x: Double, y: Double)) -> (x: Double, y: Double) {
    (geoTransform[0] - (geoTransform[0] / resolution.x).rounded(.down) * resolution.x,
     geoTransform[3] - (geoTransform[3] / resolution.y).rounded(.down) * resolution.y)
  }

  public var geoTransform: [Double] { [minX, resolution.x, 0, maxY, 0, -resolution.y] }

  public var extent: Extent {
    Extent(minX: minX, minY: maxY - Double(height) * resolution.y, maxX: minX + Double(width) * resolution.x, maxY: maxY)
  }

  /// The window of whole pixels that covers `extent` (snapped outward), clipped to the grid.
  public func window(covering e: Extent) -> Window? {
    // Clamped while still floating point: a region of absurd coordinates (1e300) has pixel
    // offsets no Int holds.
    func pixel(_ v: Double, _ limit: Int) -> Int { Int(saturating: Swift.min(Swift.max(v, -1), Double(limit) + 1)) }
    let x0 = Swift.max(0, pixel(((e.minX - minX) / resolution.x + 1e-6).rounded(.down), width))
    let x1 = Swift.min(width, pixel(((e.maxX - minX) / resolution.x - 1e-6).rounded(.up), width))
    let y0 = Swift.max(0, pixel(((maxY - e.maxY) / resolution.y + 1e-6).rounded(.down), height))
    let y1 = Swift.min(height, pixel(((maxY - e.minY) / resolution.y - 1e-6).rounded(.up), height))
    guard x1 > x0, y1 > y0 else { return nil }
    return Window(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
  }

  /// The area a window of the grid covers.
  public func extent(of w: Window) -> Extent {
    Extent(minX: minX + Double(w.x) * resolution.x, minY: maxY - Double(w.y + w.height) * resolution.y,
           maxX: minX + Double(w.x + w.width) * resolution.x, maxY: maxY - Double(w.y) * resolution.y)
  }

  /// Where `dataset` lies on this grid when it shares the grid's pixel size and its pixel edges
  /// fall on the grid's (the offset of its first pixel in whole pixels, possibly negative or
  /// past the edge); nil when it would have to be resampled. The CRS is the caller's to check.
  public func placement(of dataset: Dataset) -> Window? {
    guard let s = dataset.geoTransform else { return nil }
    return placement(geoTransform: s, width: dataset.width, height: dataset.height)
  }

  /// Where another grid (of this grid's CRS) lies on this one, as `placement(of:)`.
  public func placement(of other: Grid) -> Window? {
    placement(geoTransform: other.geoTransform, width: other.width, height: other.height)
  }

  func placement(geoTransform s: [Double], width: Int, height: Int) -> Window? {
    guard s[2] == 0, s[4] == 0 else { return nil }
    guard abs(s[1] - resolution.x) <= 1e-9 * resolution.x, abs(-s[5] - resolution.y) <= 1e-9 * resolution.y else { return nil }
    let fx = (s[0] - minX) / resolution.x, fy = (maxY - s[3]) / resolution.y
    guard abs(fx - fx.rounded()) < 1e-6, abs(fy - fy.rounded()) < 1e-6, abs(fx) < 1e9, abs(fy) < 1e9 else { return nil }
    return Window(x: Int(saturating: fx, rounding: .toNearestOrAwayFromZero), y: Int(saturating: fy, rounding: .toNearestOrAwayFromZero),
                  width: width, height: height)
  }
}

extension Window {
  /// The pixels two windows of one grid share.
  public func intersection(_ other: Window) -> Window? {
    let x0 = Swift.max(x, other.x), y0 = Swift.max(y, other.y)
    let x1 = Swift.min(x + width, other.x + other.width), y1 = Swift.min(y + height, other.y + other.height)
    guard x1 > x0, y1 > y0 else { return nil }
    return Window(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
  }

  /// This window in the pixel coordinates of a raster whose first pixel lies at `origin`.
  public func relative(to origin: Window) -> Window {
    Window(x: x - origin.x, y: y - origin.y, width: width, height: height)
  }
}

extension Extent {
  /// The smallest extent holding both.
  public func union(_ other: Extent) -> Extent {
    Extent(minX: Swift.min(minX, other.minX), minY: Swift.min(minY, other.minY),
           maxX: Swift.max(maxX, other.maxX), maxY: Swift.max(maxY, other.maxY))
  }

  /// The area the two share; nil when they share none.
  public func intersection(_ other: Extent) -> Extent? {
    let common = Extent(minX: Swift.max(minX, other.minX), minY: Swift.max(minY, other.minY),
                        maxX: Swift.min(maxX, other.maxX), maxY: Swift.min(maxY, other.maxY))
    guard common.maxX > common.minX, common.maxY > common.minY else { return nil }
    return common
  }

  /// Whether the two share any area.
  public func intersects(_ other: Extent) -> Bool {
    minX < other.maxX && other.minX < maxX && minY < other.maxY && other.minY < maxY
  }

  var isFinite: Bool { [minX, minY, maxX, maxY].allSatisfy(\.isFinite) }
}
