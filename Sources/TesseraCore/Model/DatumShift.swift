import Foundation
import GDAL

/// How a command that changes CRS moves between datums: the transformation the user gives
/// (`--ct`, `--src-towgs84`, `--dst-towgs84`), and what happens when PROJ knows none over the
/// data and falls back to a ballpark (null) shift: a warning, or with `--strict-datum` exit 65.
public struct DatumShift: Sendable {
  /// A coordinate operation for the warper, as `gdalwarp -ct`: a PROJ pipeline, the WKT of an
  /// operation, or `urn:ogc:def:coordinateOperation:EPSG::N`.
  public var coordinateOperation: String?
  /// Bursa-Wolf parameters binding the source (or target) CRS to WGS 84, 3 or 7.
  public var sourceTOWGS84: [Double]?
  public var targetTOWGS84: [Double]?
  /// A ballpark datum change is an error (65), not a warning.
  public var strict = false

  public init() {}

  /// Parses `DX,DY,DZ[,RX,RY,RZ,DS]` (metres, arc-seconds, ppm; position vector, as +towgs84).
  /// - Throws: 64 naming `option` when it is not 3 or 7 finite numbers.
  public static func parseTOWGS84(_ text: String, option: String) throws -> [Double] {
    guard let values = towgs84Values(text) else { throw towgs84Refusal(text, option: option) }
    return values
  }

  /// `DX,DY,DZ[,RX,RY,RZ,DS]` as numbers; nil when it is not 3 or 7 finite numbers.
  public static func towgs84Values(_ text: String) -> [Double]? {
    let values = text.split(separator: ",", omittingEmptySubsequences: false)
      .map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard values.count == 3 || values.count == 7, values.allSatisfy({ $0?.isFinite ?? false }) else { return nil }
    return values.compactMap { $0 }
  }

  /// The usage error of `option` given `text` that is not 3 or 7 numbers.
  public static func towgs84Refusal(_ text: String, option: String) -> TesseraError {
    TesseraError(.usage, "\(option) takes 3 or 7 numbers DX,DY,DZ[,RX,RY,RZ,DS] (metres, arc-seconds, ppm), got '\(text.prefix(80))'")
  }

  // MARK: - Applying

  /// The source CRS as the warp sees it: bound to WGS 84 by `--src-towgs84`.
  func source(_ srs: SpatialReference) throws -> SpatialReference {
    guard let p = sourceTOWGS84 else { return srs }
    return try bind(srs, p, option: "--src-towgs84")
  }

  /// The target CRS as the warp sees it: bound to WGS 84 by `--dst-towgs84`.
  func target(_ srs: SpatialReference) throws -> SpatialReference {
    guard let p = targetTOWGS84 else { return srs }
    return try bind(srs, p, option: "--dst-towgs84")
  }

  private func bind(_ srs: SpatialReference, _ p: [Double], option: String) throws -> SpatialReference {
    do { return try srs.bound(toWGS84: p) } catch let error as GDALError {
      throw TesseraError(.usage, "\(option) cannot be applied to \(CRSInput.label(srs)): \(error.message)")
    }
  }

  /// `ds` as the warp should read it: with `--src-towgs84`, a VRT over it whose CRS is bound to
  /// WGS 84 (what `gdalwarp -s_srs` does for one source, per source, so inputs in different
  /// CRSs each keep theirs).
  func wrap(_ ds: Dataset) throws -> Dataset {
    guard sourceTOWGS84 != nil, let srs = ds.spatialReference else { return ds }
    let bound = try source(srs)
    return try GDALUtilities.buildVRT([ds], to: "", arguments: ["-a_srs", try bound.wkt(.wkt2, multiline: false)])
  }

  /// gdalwarp's arguments for the operation (`-ct`), to add to a warp's.
  var warpArguments: [String] {
    coordinateOperation.map { ["-ct", $0] } ?? []
  }

  /// Refuses a `--ct` PROJ cannot read (64), before anything is written.
  func requireReadableOperation() throws {
    guard let text = coordinateOperation else { return }
    // The operation says the whole way from one CRS to the other: towgs84 parameters beside it
    // would be silently ignored by one or the other.
    if sourceTOWGS84 != nil || targetTOWGS84 != nil {
      throw TesseraError(.usage, "--ct gives the whole transformation; --src-towgs84 and --dst-towgs84 go without it (give one or the other)")
    }
    do { try DatumTransformation.requireOperation(text) } catch let error as GDALError {
      throw TesseraError(.usage, "--ct: \(error.message)")
    }
  }

  // MARK: - Checking

  /// Datums that are realisations of the same terrestrial frame to within a few centimetres to
  /// a metre (CGCS2000 is ITRF97 at epoch 2000.0): PROJ's null shift between them is no error
  /// worth a warning.
  static let frameAlignedDatums = ["World Geodetic System 1984", "China 2000", "International Terrestrial Reference Frame"]

  static func isFrameAligned(_ datum: String) -> Bool {
    frameAlignedDatums.contains { datum.hasPrefix($0) }
  }

  /// The warning for a warp of `footprint` (in `source`'s CRS) from `source` to `target` (both as
  /// the warp sees them, towgs84 applied), or nil; with `strict`, the warning is thrown as 65.
  /// `what` names the data in the message (a file, "the region").
  /// `remedy` replaces the advice for commands that take no transformation.
  func check(from source: SpatialReference, to target: SpatialReference, footprint: Extent, what: String,
             remedy: String? = nil) throws -> String? {
    let warning = try self.warning(from: source, to: target, footprint: footprint, what: what, remedy: remedy)
    if strict, let warning { throw TesseraError(.dataError, warning + " (refused by --strict-datum)") }
    return warning
  }

  /// `check` for every source of a warp: one warning per datum change, naming the inputs that
  /// make it (a mosaic of a hundred tiles says it once).
  func check(sources: [Dataset], sourceCRS: (Dataset) throws -> SpatialReference?, to target: SpatialReference,
             label: (Int) -> String) throws -> [String] {
    let placeholder = "\u{1}"
    var groups: [(text: String, names: [String])] = []
    for (i, ds) in sources.enumerated() {
      guard let srs = try sourceCRS(ds), let extent = ds.extent,
        let text = try warning(from: srs, to: target, footprint: extent, what: placeholder, remedy: nil)
      else { continue }
      if let k = groups.firstIndex(where: { $0.text == text }) { groups[k].names.append(label(i)) } else { groups.append((text, [label(i)])) }
    }
    let warnings = groups.map { group -> String in
      let names = group.names.count <= 3 ? group.names.joined(separator: ", ")
        : group.names.prefix(3).joined(separator: ", ") + " and \(group.names.count - 3) more inputs"
      return group.text.replacingOccurrences(of: placeholder, with: names)
    }
    if strict, let first = warnings.first { throw TesseraError(.dataError, first + " (refused by --strict-datum)") }
    return warnings
  }

  private func warning(from source: SpatialReference, to target: SpatialReference, footprint: Extent, what: String,
                       remedy: String?) throws -> String? {
    if coordinateOperation != nil { return nil }
    if source.isSame(as: target) { return nil }
    let found: DatumTransformation
    do {
      found = try DatumTransformation.examine(from: source, to: target, footprint: footprint)
    } catch let error as GDALError {
      // The check advises; a CRS PROJ cannot examine is left to the warp itself, unless the
      // user asked that no unexamined datum change pass.
      guard strict else { return nil }
      throw TesseraError(.dataError, "\(what): cannot tell whether the datum change is a ballpark one (\(error.message)) (refused by --strict-datum)")
    }
    guard found.ballparkSamples > 0, !found.sameDatum,
      !(DatumShift.isFrameAligned(found.sourceDatum) && DatumShift.isFrameAligned(found.targetDatum))
    else { return nil }
    return message(found, from: source, to: target, what: what, remedy: remedy)
  }

  private func message(_ found: DatumTransformation, from source: SpatialReference, to target: SpatialReference,
                       what: String, remedy: String?) -> String {
    let part = found.ballparkSamples == found.samples ? "" : " over part of it"
    var hint = "give the transformation with --ct PIPELINE (a PROJ pipeline, WKT or urn:ogc:def:coordinateOperation:EPSG::N) or --src-towgs84 DX,DY,DZ[,RX,RY,RZ,DS]"
    if sourceTOWGS84 != nil && targetTOWGS84 == nil {
      hint = "--src-towgs84 leads to WGS 84 only: add --dst-towgs84 (0,0,0 takes \(found.targetDatum) as WGS 84) or give --ct PIPELINE"
    } else if targetTOWGS84 != nil && sourceTOWGS84 == nil {
      hint = "--dst-towgs84 leads from WGS 84 only: add --src-towgs84 DX,DY,DZ[,RX,RY,RZ,DS] or give --ct PIPELINE"
    }
    if let remedy { hint = remedy }
    return "datum change from \(found.sourceDatum) (\(CRSInput.label(source))) to \(found.targetDatum) (\(CRSInput.label(target))): "
      + "PROJ knows no transformation over \(what)\(part) and uses a ballpark (null) shift, often tens of metres off; \(hint)"
  }
}
