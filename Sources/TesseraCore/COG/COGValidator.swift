import Foundation
import GDAL

/// Checks that a file is laid out as a Cloud Optimized GeoTIFF, by the rules of GDAL's
/// validate_cloud_optimized_geotiff.py, reading the TIFF structure itself. The block-level checks
/// (row-major order, leaders, trailers, masks interleaved with imagery) always run.
public struct COGValidation {
  public let path: String
  public var errors: [String] = []
  public var warnings: [String] = []
  public var details: [(String, JSONValue)] = []

  /// Valid when there are no errors; with `strict`, warnings count as errors too.
  public func isValid(strict: Bool) -> Bool { errors.isEmpty && (!strict || warnings.isEmpty) }

  public func json(strict: Bool) -> JSONValue {
    .object([
      ("path", .string(path)), ("valid", .bool(isValid(strict: strict))),
      ("errors", .array(errors.map { .string($0) })), ("warnings", .array(warnings.map { .string($0) })),
      ("details", .object(details)),
    ])
  }

  public func text(strict: Bool) -> String {
    var lines = [isValid(strict: strict) ? "\(path): valid cloud optimized GeoTIFF" : "\(path): not a valid cloud optimized GeoTIFF"]
    lines += errors.map { "  error: \($0)" }
    lines += warnings.map { "  warning: \($0)" }
    return lines.joined(separator: "\n")
  }
}

public enum COGValidator {
  /// - Throws: exit 66 when the file is missing, 65 when it is not a readable TIFF.
  public static func validate(path: String) throws -> COGValidation {
    try OpenError.check(path)
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
      throw TesseraError(.noInput, "\(path): is a directory")
    }
    do {
      let tiff = try TIFFStructure.read(path: path)
      guard let handle = FileHandle(forReadingAtPath: path) else { throw TesseraError(.noInput, "\(path): cannot be opened") }
      defer { try? handle.close() }
      let reader = ByteReader(handle: handle, size: tiff.fileSize, littleEndian: tiff.littleEndian)
      return try check(tiff, path: path, reader: reader)
    } catch let error as TIFFStructure.ReadError {
      throw TesseraError(.dataError, "\(path) \(error.description)")
    } catch let error as TesseraError {
      throw error
    } catch {
      // The file system failed to read it (EIO): the input is unreadable.
      throw TesseraError(.noInput, "\(path): cannot be read: \(error.localizedDescription)")
    }
  }

  static func check(_ tiff: TIFFStructure, path: String, reader: ByteReader) throws -> COGValidation {
    var result = COGValidation(path: path)
    let imagery = tiff.images.filter { !$0.isMask }
    guard let main = imagery.first, !main.isOverview else {
      throw TesseraError(.dataError, "\(path) has no full-resolution image")
    }
    let overviews = Array(imagery.dropFirst()).filter(\.isOverview) + externalOverviews(of: path, into: &result)
    let masks = tiff.images.filter(\.isMask)
    checkTiling(main, overviews: overviews, into: &result)
    checkHeader(tiff, main: main, into: &result)
    let lastIFD = checkIFDOrder(main, overviews: overviews, into: &result)
    // Imagery starts with the smallest overview and ends with full resolution.
    let dataOffsets = ([main] + overviews).map(firstBlockOffset)
    checkDataOrder(dataOffsets, lastIFD: lastIFD, into: &result)
    try checkBlocks(of: [main] + overviews, masks: masks, ghost: tiff.ghostText ?? "", reader: reader, into: &result)
    result.details = details(tiff, main: main, overviews: overviews, masks: masks, dataOffsets: dataOffsets)
    return result
  }

  /// The images of an external .ovr file: an error, yet GDAL counts them as the band's overviews,
  /// offsets and all; so do we.
  static func externalOverviews(of path: String, into result: inout COGValidation) -> [TIFFStructure.Image] {
    guard FileManager.default.fileExists(atPath: path + ".ovr") else { return [] }
    result.errors.append("Overviews found in external .ovr file. They should be internal")
    return (try? TIFFStructure.read(path: path + ".ovr"))?.images.filter { !$0.isMask } ?? []
  }

  /// A large image must be tiled and should have overviews.
  static func checkTiling(_ main: TIFFStructure.Image, overviews: [TIFFStructure.Image], into result: inout COGValidation) {
    guard main.width > 512 || main.height > 512 else { return }
    if !main.tiled && main.blockWidth == main.width && main.blockWidth > 1024 {
      result.errors.append("The file is greater than 512xH or Wx512, but is not tiled")
    }
    if overviews.isEmpty {
      result.warnings.append("The file is greater than 512xH or Wx512, it is recommended to include internal overviews")
    }
  }

  /// The ghost area's declarations and the main IFD right after the header (and the ghost area).
  static func checkHeader(_ tiff: TIFFStructure, main: TIFFStructure.Image, into result: inout COGValidation) {
    if (tiff.ghostText ?? "").contains("KNOWN_INCOMPATIBLE_EDITION=YES") {
      result.errors.append("KNOWN_INCOMPATIBLE_EDITION=YES is declared in the file")
    }
    let headerEnd: UInt64 = tiff.bigTIFF ? 16 : 8
    if main.offset != headerEnd && main.offset != tiff.expectedFirstIFDOffset {
      result.errors.append("The offset of the main IFD should be \(tiff.expectedFirstIFDOffset). It is \(main.offset) instead")
    }
  }

  /// Each overview smaller than the level before, tiled, its IFD after that level's; returns the
  /// offset of the last IFD.
  static func checkIFDOrder(_ main: TIFFStructure.Image, overviews: [TIFFStructure.Image], into result: inout COGValidation) -> UInt64 {
    var lastIFD = main.offset
    for (i, overview) in overviews.enumerated() {
      let previous = i == 0 ? main : overviews[i - 1]
      if overview.width > previous.width || overview.height > previous.height {
        result.errors.append(i == 0 ? "First overview has larger dimension than main band"
                                    : "Overview of index \(i) has larger dimension than overview of index \(i - 1)")
      }
      if !overview.tiled && overview.blockWidth == overview.width && overview.blockWidth > 1024 {
        result.errors.append("Overview of index \(i) is not tiled")
      }
      if overview.offset < lastIFD {
        let which = i == 0 ? "the one of the main image" : "the one of index \(i - 1)"
        result.errors.append("The offset of the IFD for overview of index \(i) is \(overview.offset), whereas it should be greater than \(which), which is at byte \(lastIFD)")
      }
      lastIFD = overview.offset
    }
    return lastIFD
  }

  /// The first blocks of the levels (`dataOffsets`: main, then overviews) after every IFD, the
  /// smallest overview's first, the main image's last.
  static func checkDataOrder(_ dataOffsets: [UInt64], lastIFD: UInt64, into result: inout COGValidation) {
    let overviewCount = dataOffsets.count - 1
    if let last = dataOffsets.last, last != 0, last < lastIFD {
      result.errors.append(overviewCount == 0 ? "The offset of the first block of the image should be after its IFD"
                                              : "The offset of the first block of the smallest overview should be after its IFD")
    }
    if dataOffsets.count > 2 {
      for i in stride(from: dataOffsets.count - 2, to: 0, by: -1) where dataOffsets[i] != 0 && dataOffsets[i] < dataOffsets[i + 1] {
        result.errors.append("The offset of the first block of overview of index \(i - 1) should be after the one of the overview of index \(i)")
      }
    }
    if dataOffsets.count >= 2, dataOffsets[0] != 0, dataOffsets[0] < dataOffsets[1] {
      result.errors.append("The offset of the first block of the main resolution image should be after the one of the overview of index \(overviewCount - 1)")
    }
  }

  /// Block leaders, trailers, order and interleaved masks, where the ghost area declares them.
  /// As GDAL's script does: band 1 of each level (`levels`: main, then overviews), then that
  /// level's internal mask on its own.
  static func checkBlocks(of levels: [TIFFStructure.Image], masks: [TIFFStructure.Image], ghost: String, reader: ByteReader,
                          into result: inout COGValidation) throws {
    let rowMajor = ghost.contains("BLOCK_ORDER=ROW_MAJOR")
    let leader = ghost.contains("BLOCK_LEADER=SIZE_AS_UINT4")
    let trailer = ghost.contains("BLOCK_TRAILER=LAST_4_BYTES_REPEATED")
    let interleavedMask = ghost.contains("MASK_INTERLEAVED_WITH_IMAGERY=YES")
    guard rowMajor || leader || trailer || interleavedMask else { return }
    for (level, image) in levels.enumerated() {
      let name = level == 0 ? "Main resolution image" : "Overview \(level - 1)"
      let mask = masks.first { $0.width == image.width && $0.height == image.height }
      try checkBlocks(image, mask: interleavedMask ? mask : nil, name: name, rowMajor: rowMajor, leader: leader,
                      trailer: trailer, reader: reader, into: &result)
      if let mask {
        let maskName = level == 0 ? "Mask band of main resolution image" : "Mask band of overview \(level - 1)"
        try checkBlocks(mask, mask: nil, name: maskName, rowMajor: rowMajor, leader: leader, trailer: trailer,
                        reader: reader, into: &result)
      }
    }
  }

  static func details(_ tiff: TIFFStructure, main: TIFFStructure.Image, overviews: [TIFFStructure.Image],
                      masks: [TIFFStructure.Image], dataOffsets: [UInt64]) -> [(String, JSONValue)] {
    [
      ("bigtiff", .bool(tiff.bigTIFF)),
      ("tiled", .bool(main.tiled)),
      ("block_size", .array([.int(main.blockWidth), .int(main.blockHeight)])),
      ("overview_count", .int(overviews.count)),
      ("mask", .bool(!masks.isEmpty)),
      ("ifd_offsets", .object([("main", .int(Int(clamping: main.offset)))] + overviews.enumerated().map { ("overview_\($0.offset)", .int(Int(clamping: $0.element.offset))) })),
      ("data_offsets", .object([("main", .int(Int(clamping: dataOffsets[0])))] + dataOffsets.dropFirst().enumerated().map { ("overview_\($0.offset)", .int(Int(clamping: $0.element))) })),
      ("ghost_metadata", tiff.ghostText.map { .string($0) } ?? .null),
    ]
  }

  /// The first non-empty block of band 1, in row-major order (0 when every block is empty).
  static func firstBlockOffset(_ image: TIFFStructure.Image) -> UInt64 {
    let count = Swift.min(image.firstBandBlockCount, image.blockOffsets.count)
    return image.blockOffsets.prefix(count).first { $0 != 0 } ?? 0
  }

  static func checkBlocks(
    _ image: TIFFStructure.Image, mask: TIFFStructure.Image?, name: String, rowMajor: Bool, leader: Bool, trailer: Bool,
    reader: ByteReader, into result: inout COGValidation
  ) throws {
    var last: UInt64 = 0
    var reported = 0
    func fail(_ text: String) {
      // A damaged file can have thousands of bad blocks; the first few say enough.
      if reported < 5 { result.errors.append(text) }
      reported += 1
    }
    for block in 0..<image.firstBandBlockCount {
      guard block < image.blockOffsets.count, block < image.blockByteCounts.count else { break }
      var offset = image.blockOffsets[block]
      let count = image.blockByteCounts[block]
      let (x, y) = (block % image.blocksAcross, block / image.blocksAcross)
      // A block must lie inside the file; the checks below read around it.
      if offset > 0 && (offset > reader.size || count > reader.size - offset) {
        fail("\(name): block (\(x), \(y)) at byte \(offset) of \(count) bytes lies past the end of the file")
        last = offset
        continue
      }
      if offset > 0 {
        if rowMajor && offset < last { fail("\(name): offset of block (\(x), \(y)) is smaller than previous block") }
        if leader, offset >= 4 {
          // GDAL writes the leader little-endian whatever the file's byte order, and its
          // validator reads it so.
          var littleEndian = reader
          littleEndian.littleEndian = true
          let size = UInt64(try littleEndian.u32(at: offset - 4))
          if size != count { fail("\(name): for block (\(x), \(y)), size in leader bytes is \(size) instead of \(count)") }
        }
        if trailer, count >= 4 {
          let bytes = try reader.bytes(at: offset + count - 4, count: 8)
          if bytes.count < 8 || Array(bytes[0..<4]) != Array(bytes[4..<8]) {
            fail("\(name): for block (\(x), \(y)), trailer bytes are invalid")
          }
        }
      }
      if let mask, block < mask.blockOffsets.count {
        let maskOffset = mask.blockOffsets[block]
        if offset > 0 && maskOffset > 0 {
          let expected = offset + count + (leader ? 4 : 0) + (trailer ? 4 : 0)
          if maskOffset != expected { fail("Mask of \(name): for block (\(x), \(y)), offset is \(maskOffset), whereas \(expected) was expected") }
        } else if offset == 0 && maskOffset > 0 {
          if rowMajor && maskOffset < last { fail("Mask of \(name): offset of block (\(x), \(y)) is smaller than previous block") }
          offset = maskOffset
        }
      }
      last = offset
    }
    if reported > 5 { result.errors.append("\(name): \(reported - 5) more block errors") }
  }
}
