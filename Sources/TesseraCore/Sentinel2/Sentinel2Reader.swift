import Foundation
import GDAL

// MARK: - Reading products

extension Sentinel2Product {
  static let metadataNames = ["MTD_MSIL2A.xml", "MTD_MSIL1C.xml"]

  /// Whether `path` is to be read as a Sentinel-2 product rather than a raster: a folder, a
  /// .zip, a .SAFE, or product metadata.
  public static func looksLikeProduct(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    let name = URL(fileURLWithPath: path).lastPathComponent.uppercased()
    return (exists && isDirectory.boolValue) || name.hasSuffix(".ZIP") || name.hasSuffix(".SAFE") || name.hasPrefix("MTD_MSIL")
  }

  /// The tiles of the product at `path`: a .SAFE folder, a .zip of one (read through /vsizip/),
  /// an MTD_MSIL2A.xml or MTD_MSIL1C.xml, or a folder of band files named the Sentinel-2 way.
  public static func open(_ path: String) throws -> [Sentinel2Product] {
    try OpenError.check(path)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw TesseraError(.noInput, "\(path): no such file or folder")
    }
    guard FileManager.default.isReadableFile(atPath: path) else {
      throw TesseraError(.noInput, "\(path): permission denied")
    }
    if !isDirectory.boolValue {
      if path.lowercased().hasSuffix(".zip") { return try openZip(path) }
      if path.lowercased().hasSuffix(".xml") { return try openSAFE(metadata: path, source: path) }
      throw TesseraError(.dataError, "\(path): not a Sentinel-2 product (give a .SAFE folder, a .zip, an MTD_MSIL2A.xml or MTD_MSIL1C.xml, or a folder of band files)")
    }
    let root = URL(fileURLWithPath: path).standardizedFileURL.path
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
    if let mtd = metadataNames.first(where: names.contains) {
      return try openSAFE(metadata: root + "/" + mtd, source: path)
    }
    return try openBandFolder(root, names: names, source: path)
  }

  static func openZip(_ path: String) throws -> [Sentinel2Product] {
    let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
    let root = "/vsizip/" + absolute
    guard let top = VirtualFiles.list(root) else {
      throw TesseraError(.dataError, "\(path): not a zip archive GDAL can read")
    }
    // A zipped product holds NAME.SAFE/ at its top, or (less often) the SAFE's content directly.
    let folders = [root] + top.filter { $0.uppercased().hasSuffix(".SAFE") }.map { root + "/" + $0 }
    for folder in folders {
      for name in metadataNames where VirtualFiles.isReadableFile(folder + "/" + name) {
        return try openSAFE(metadata: folder + "/" + name, source: path)
      }
    }
    throw TesseraError(.dataError, "\(path): the archive holds no MTD_MSIL2A.xml or MTD_MSIL1C.xml")
  }

  /// A compact-naming SAFE (processing baselines 02.04 on): product metadata, its granules' image files.
  static func openSAFE(metadata: String, source: String) throws -> [Sentinel2Product] {
    let tree: XMLTree
    do {
      tree = try XMLTree(path: metadata)
    } catch {
      throw TesseraError(.dataError, "\(metadata): not readable XML (\(TesseraError.oneLine(String(describing: error))))")
    }
    let doc = tree.document
    // Plain string surgery: NSString's path methods would fold /vsizip//abs/path into a relative path.
    let safeRoot = metadata.lastIndex(of: "/").map { String(metadata[..<$0]) } ?? "."
    let isL2A = (metadata as NSString).lastPathComponent.uppercased().contains("L2A")
      || doc.first("BOA_QUANTIFICATION_VALUE") != nil
    guard let info = doc.first("Product_Info") else {
      throw TesseraError(.dataError, "\(metadata): no Product_Info element; not a Sentinel-2 product metadata file")
    }
    var productURI = info.first("PRODUCT_URI")?.text ?? ""
    if productURI.uppercased().hasSuffix(".SAFE") { productURI = String(productURI.dropLast(5)) }
    if productURI.isEmpty {
      let folder = safeRoot.split(separator: "/").last.map(String.init) ?? ""
      productURI = folder.uppercased().hasSuffix(".SAFE") ? String(folder.dropLast(5)) : folder
    }
    let baseline = info.first("PROCESSING_BASELINE")?.text
    // The values that turn DN into reflectance are parsed strictly: a wrong one would give a
    // plausible-looking wrong product. A default stands in only for a field that is absent.
    var warnings: [String] = []
    func divisor(_ element: String, default value: Double) throws -> Double {
      guard let item = doc.first(element) else {
        warnings.append("\(element) is absent; \(Int(saturating: value)) assumed")
        return value
      }
      return try MetadataValue.positive(item.text, field: element, in: metadata)
    }
    let quantification = try divisor(isL2A ? "BOA_QUANTIFICATION_VALUE" : "QUANTIFICATION_VALUE", default: 10000)
    let aotQuantification = isL2A ? try divisor("AOT_QUANTIFICATION_VALUE", default: 1000) : 1000
    let wvpQuantification = isL2A ? try divisor("WVP_QUANTIFICATION_VALUE", default: 1000) : 1000
    let listedOffsets = try offsets(in: doc, element: isL2A ? "BOA_ADD_OFFSET" : "RADIO_ADD_OFFSET", metadata: metadata)
    let (offsets, offsetSource) = resolvedOffsets(listedOffsets, baseline: baseline, sensingTime: nil)

    let granules = doc.all("Granule")
    guard !granules.isEmpty else {
      throw TesseraError(.dataError, "\(metadata): lists no granule (older SAFE layouts before baseline 02.04 are not supported)")
    }
    return try granules.map { granule in
      let stems = granule.all("IMAGE_FILE").map(\.text)
      guard !stems.isEmpty else {
        throw TesseraError(.dataError, "\(metadata): granule lists no IMAGE_FILE (older SAFE layouts before baseline 02.04 are not supported)")
      }
      let files = stems.compactMap { stem -> Sentinel2BandFile? in
        let name = (stem as NSString).lastPathComponent
        guard let (band, resolution) = parseBandName(name) else { return nil }
        let base = safeRoot + "/" + stem
        // The metadata names files without extension: JPEG 2000 in ESA's products, GeoTIFF in
        // re-packaged ones (Microsoft's Planetary Computer).
        let found = [".jp2", ".tif", ".TIF"].map { base + $0 }.first(where: VirtualFiles.isReadableFile)
        return Sentinel2BandFile(band: band, resolution: resolution ?? band.nativeResolution,
                                 path: found ?? base + ".jp2", exists: found != nil)
      }
      let tile = tileID(granule.attribute("granuleIdentifier") ?? "")
        ?? files.lazy.compactMap { tileID(($0.path as NSString).lastPathComponent) }.first ?? "unknown"
      return Sentinel2Product(
        source: source, id: productURI, level: isL2A ? .l2a : .l1c, tile: tile,
        sensingTime: info.first("PRODUCT_START_TIME")?.text ?? "", processingBaseline: baseline,
        spacecraft: info.first("SPACECRAFT_NAME")?.text, relativeOrbit: Int(info.first("SENSING_ORBIT_NUMBER")?.text ?? ""),
        quantification: quantification, aotQuantification: aotQuantification, wvpQuantification: wvpQuantification,
        offsets: offsets, offsetSource: offsetSource, files: files, metadataPath: metadata, warnings: warnings)
    }
  }

  /// A folder of band files such as `T33UUU_20170216T102101_B04.jp2` or
  /// `T29UNU_20221005T115411_B04_60m.jp2`; one product per tile and sensing time.
  static func openBandFolder(_ root: String, names: [String], source: String) throws -> [Sentinel2Product] {
    var groups: [String: [Sentinel2BandFile]] = [:]
    // L2A names carry a resolution (`_B04_10m`); L1C names do not.
    var withResolution: Set<String> = []
    for name in names.sorted() {
      let lower = name.lowercased()
      guard lower.hasSuffix(".jp2") || lower.hasSuffix(".tif") || lower.hasSuffix(".tiff") else { continue }
      let stem = (name as NSString).deletingPathExtension
      let parts = stem.split(separator: "_")
      guard parts.count >= 3, tileID(String(parts[0])) != nil, let (band, resolution) = parseBandName(stem) else { continue }
      let key = "\(parts[0])_\(parts[1])"
      if resolution != nil { withResolution.insert(key) }
      groups[key, default: []].append(Sentinel2BandFile(
        band: band, resolution: resolution ?? band.nativeResolution, path: root + "/" + name, exists: true))
    }
    guard !groups.isEmpty else {
      throw TesseraError(.dataError, "\(source): no Sentinel-2 metadata (MTD_MSIL2A.xml, MTD_MSIL1C.xml) and no band files named like T33UUU_20170216T102101_B04.jp2")
    }
    return groups.keys.sorted().map { key in
      let parts = key.split(separator: "_").map(String.init)
      let files = groups[key] ?? []
      let time = formattedTime(parts[1])
      let isL2A = files.contains { $0.band.isL2AOnly } || withResolution.contains(key)
      let (offsets, offsetSource) = resolvedOffsets([:], baseline: nil, sensingTime: time)
      return Sentinel2Product(
        source: source, id: key, level: isL2A ? .l2a : .l1c, tile: tileID(parts[0]) ?? parts[0], sensingTime: time,
        processingBaseline: nil, spacecraft: nil, relativeOrbit: nil, quantification: 10000,
        aotQuantification: 1000, wvpQuantification: 1000, offsets: offsets, offsetSource: offsetSource,
        files: files, metadataPath: nil)
    }
  }

  // MARK: - Names and metadata

  /// `T29UNU_20221005T115411_B04_10m` -> (B04, 10); `T33UUU_20170216T102101_B8A` -> (B8A, nil).
  static func parseBandName(_ stem: String) -> (Sentinel2Band, Int?)? {
    let parts = stem.split(separator: "_").map(String.init)
    guard let index = parts.lastIndex(where: { Sentinel2Band(rawValue: $0) != nil }),
      let band = Sentinel2Band(rawValue: parts[index]) else { return nil }
    var resolution: Int?
    if index + 1 < parts.count, parts[index + 1].hasSuffix("m") {
      resolution = Int(parts[index + 1].dropLast())
    }
    return (band, resolution)
  }

  /// `29UNU` from `T29UNU` or from a granule identifier containing `_T29UNU_`.
  static func tileID(_ text: String) -> String? {
    for part in text.split(separator: "_") where part.count == 6 && part.hasPrefix("T") {
      let body = Array(part.dropFirst())
      if body[0].isNumber, body[1].isNumber, body[2...].allSatisfy({ $0.isUppercase && $0.isLetter }) {
        return String(body)
      }
    }
    return nil
  }

  /// `20221005T115411` -> `2022-10-05T11:54:11Z`.
  static func formattedTime(_ compact: String) -> String {
    let c = Array(compact)
    guard c.count == 15 else { return compact }
    return "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8]))T\(String(c[9..<11])):\(String(c[11..<13])):\(String(c[13..<15]))Z"
  }

  static func offsets(in doc: XMLElement, element: String, metadata: String) throws -> [Sentinel2Band: Double] {
    var result: [Sentinel2Band: Double] = [:]
    for item in doc.all(element) {
      let idText = (item.attribute("band_id") ?? "").trimmingCharacters(in: .whitespaces)
      guard let id = Int(idText), let band = Sentinel2Band.allCases.first(where: { $0.metadataID == id }) else {
        throw TesseraError(.dataError, "\(metadata): \(element) has band_id '\(idText.prefix(40))', not a band from 0 to 12")
      }
      result[band] = try MetadataValue.offset(item.text, field: "\(element) of band_id \(id)", in: metadata)
    }
    return result
  }

  /// ESA added a radiometric offset of -1000 DN from processing baseline 04.00 (January 2022) on.
  /// Products before it have none. The metadata's own list wins; a band folder without metadata
  /// is judged by its sensing date, which is right for every product not reprocessed since.
  static func resolvedOffsets(_ listed: [Sentinel2Band: Double], baseline: String?, sensingTime: String?)
    -> ([Sentinel2Band: Double], String)
  {
    let everyBand = { (value: Double) in
      Dictionary(uniqueKeysWithValues: Sentinel2Band.allCases.filter(\.isReflectance).map { ($0, value) })
    }
    if let baseline, let number = Double(baseline) {
      if number < 4 { return ([:], "none before baseline 04.00") }
      if !listed.isEmpty { return (listed, "metadata") }
      return (everyBand(-1000), "baseline \(baseline) without an offset list: -1000")
    }
    if !listed.isEmpty { return (listed, "metadata") }
    if let sensingTime, sensingTime >= "2022-01-25" {
      return (everyBand(-1000), "no metadata; sensed on or after 2022-01-25 (baseline 04.00): -1000")
    }
    return ([:], "no metadata; sensed before baseline 04.00: none")
  }
}

/// Numbers read from product metadata, refused when they cannot be what they claim to be.
enum MetadataValue {
  /// A quantification value: a finite number above zero (ESA uses 10000, 1000, 100).
  static func positive(_ text: String, field: String, in file: String) throws -> Double {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard let value = Double(trimmed), value.isFinite, value > 0, value <= 1e9 else {
      throw TesseraError(.dataError, "\(file): \(field) is '\(trimmed.prefix(40))', not a positive number")
    }
    return value
  }

  /// A radiometric offset in DN: finite and within the range of the 16-bit data it shifts.
  static func offset(_ text: String, field: String, in file: String) throws -> Double {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard let value = Double(trimmed), value.isFinite, abs(value) <= 65535 else {
      throw TesseraError(.dataError, "\(file): \(field) is '\(trimmed.prefix(40))', not an offset between -65535 and 65535")
    }
    return value
  }
}
