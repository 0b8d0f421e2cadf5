import Foundation
import GDAL

/// A Sentinel-2 product as index input: each role bound to its band by name (blue B02 … swir2
/// B12), converted to reflectance with the product's own offset and quantification value.
struct ProductBinding {
  var bindings: [String: IndexRequest.Binding] = [:]
  /// Per role: reflectance = (DN + offset) / quantification.
  var reflectance: [String: (offset: Double, quantification: Double)] = [:]
  var mask: IndexRequest.Binding?
  var details: [(String, JSONValue)] = []
  /// Every file of the product that is read (the metadata too): no output may be one of them.
  var files: [String] = []

  static let bandOfRole: [String: Sentinel2Band] = [
    "A": .b01, "B": .b02, "G": .b03, "R": .b04, "RE1": .b05, "RE2": .b06, "RE3": .b07, "N": .b08, "N2": .b8a,
    "WV": .b09, "S1": .b11, "S2": .b12,
  ]

  static func bind(_ path: String, roles: [String], request: IndexRequest) throws -> ProductBinding {
    let products = try Sentinel2Product.open(path)
    guard products.count == 1, let product = products.first else {
      throw TesseraError(.usage, "\(path) holds \(products.count) tiles; index takes one (merge them with merge-memfile first)")
    }
    var result = ProductBinding()
    result.files = [product.source] + (product.metadataPath.map { [$0] } ?? []) + product.files.map(\.path)
    let bands = try roles.map { role -> (String, Sentinel2Band) in
      guard let band = bandOfRole[role] else {
        throw TesseraError(.usage, "\(SpectralIndex.displayName(role)) has no Sentinel-2 band; bind it with -i ROLE=FILE")
      }
      return (role, band)
    }
    // Which band files are read: the resolution given, or the rule's over the bands' own.
    let native = bands.map { Double($0.1.nativeResolution) }
    let resolution = try native.isEmpty ? 10 : SourceGrid.resolution(
      request.resolution ?? .highest, sizes: native.map { ($0, $0) }, name: { "\(bands[$0].1.rawValue)" }).x
    var entries: [JSONValue] = []
    for (role, listed) in bands {
      // L2A products carry B08 at 10 m only: at 20 and 60 m, nir is the narrow NIR band B8A.
      let band = listed == .b08 && resolution >= 20 && product.level == .l2a ? Sentinel2Band.b8a : listed
      let file = try product.file(for: band, resolution: resolution)
      result.bindings[role] = IndexRequest.Binding(path: file.path, band: 1)
      if !request.digitalNumbers, let q = product.quantification(for: band) {
        result.reflectance[role] = (product.offset(for: band), q)
      }
      entries.append(.object([("role", .string(SpectralIndex.displayName(role))), ("band", .string(band.rawValue)),
                              ("file", .string(file.path)), ("offset", .double(product.offset(for: band))),
                              ("quantification", .double(product.quantification(for: band)))]))
    }
    if let classes = request.maskClasses, !classes.isEmpty {
      guard product.level == .l2a else { throw TesseraError(.dataError, "\(path): --mask-clouds needs the SCL band of an L2A product") }
      result.mask = IndexRequest.Binding(path: try product.file(for: .scl, resolution: resolution).path, band: 1)
    }
    result.details = [("product", .object([
      ("id", .string(product.id)), ("level", .string(product.level.rawValue)),
      ("processing_baseline", product.processingBaseline.map { .string($0) } ?? .null),
      ("reflectance", .bool(!request.digitalNumbers)), ("resolution", .double(resolution)), ("bands", .array(entries)),
    ]))]
    return result
  }
}
