import Foundation

/// The layout of a TIFF file as its bytes declare it: header, IFD chain, tile or strip offsets,
/// and GDAL's "ghost" structural metadata. Read directly, without GDAL, so a validator can see
/// exactly where everything sits.
struct TIFFStructure {
  struct Image {
    /// Where this IFD starts.
    let offset: UInt64
    let width: Int
    let height: Int
    /// Tile size, or (width, rows per strip) for a striped image.
    let blockWidth: Int
    let blockHeight: Int
    let tiled: Bool
    /// NewSubfileType: bit 0 reduced resolution (overview), bit 2 transparency mask.
    let subfileType: UInt64
    let samplesPerPixel: Int
    /// 1 chunky (pixel interleaved), 2 planar (one set of blocks per band).
    let planarConfiguration: Int
    let blockOffsets: [UInt64]
    let blockByteCounts: [UInt64]

    var isOverview: Bool { subfileType & 1 != 0 }
    var isMask: Bool { subfileType & 4 != 0 }
    var blocksAcross: Int { (width + blockWidth - 1) / Swift.max(1, blockWidth) }
    var blocksDown: Int { (height + blockHeight - 1) / Swift.max(1, blockHeight) }
    /// Blocks of the first band, in row-major order.
    var firstBandBlockCount: Int {
      let (product, overflow) = blocksAcross.multipliedReportingOverflow(by: blocksDown)
      return overflow ? Int.max : product
    }
  }

  let bigTIFF: Bool
  let littleEndian: Bool
  let fileSize: UInt64
  let images: [Image]
  /// GDAL's structural metadata block right after the header, when present.
  let ghostText: String?
  /// Where the first IFD would sit right after the header and ghost area.
  let expectedFirstIFDOffset: UInt64

  struct ReadError: Error, CustomStringConvertible {
    let description: String
  }

  // MARK: - Reading

  static func read(path: String) throws -> TIFFStructure {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw ReadError(description: "cannot be opened for reading")
    }
    defer { try? handle.close() }
    let size = (try? handle.seekToEnd()) ?? 0
    var reader = ByteReader(handle: handle, size: size, littleEndian: true)
    let header = try reader.bytes(at: 0, count: 16)
    guard header.count >= 8 else { throw ReadError(description: "is too short to be a TIFF") }
    let order = (header[0], header[1])
    guard order == (0x49, 0x49) || order == (0x4D, 0x4D) else { throw ReadError(description: "is not a TIFF file") }
    reader.littleEndian = order == (0x49, 0x49)
    let magic = try reader.u16(at: 2)
    let bigTIFF: Bool
    let firstIFD: UInt64
    switch magic {
    case 42:
      bigTIFF = false
      firstIFD = UInt64(try reader.u32(at: 4))
    case 43:
      guard try reader.u16(at: 4) == 8 else { throw ReadError(description: "has a BigTIFF header with an unknown offset size") }
      bigTIFF = true
      firstIFD = try reader.u64(at: 8)
    default:
      throw ReadError(description: "is not a TIFF file (magic number \(magic))")
    }

    // GDAL writes "GDAL_STRUCTURAL_METADATA_SIZE=nnnnnn bytes\n" and the metadata right after the header.
    var expected: UInt64 = bigTIFF ? 16 : 8
    var ghost: String?
    let prefix = "GDAL_STRUCTURAL_METADATA_SIZE="
    let pattern = prefix + "000000 bytes\n"
    let lead = try reader.bytes(at: expected, count: pattern.utf8.count)
    if let text = String(bytes: lead, encoding: .isoLatin1), text.count == pattern.count, text.hasPrefix(prefix),
      let metadataSize = Int(text.dropFirst(prefix.count).prefix(6))
    {
      let body = try reader.bytes(at: expected + UInt64(pattern.utf8.count), count: metadataSize)
      ghost = String(bytes: body, encoding: .isoLatin1) ?? ""
      expected += UInt64(pattern.utf8.count + metadataSize)
      expected += expected % 2
    }

    var images: [Image] = []
    var seen = Set<UInt64>()
    var next = firstIFD
    while next != 0 {
      guard next < size, !seen.contains(next), images.count < 10_000 else {
        throw ReadError(description: next >= size ? "has an IFD offset past the end of the file" : "has a looping IFD chain")
      }
      seen.insert(next)
      let (image, following) = try readIFD(&reader, at: next, bigTIFF: bigTIFF)
      images.append(image)
      next = following
    }
    guard !images.isEmpty else { throw ReadError(description: "has no image") }
    return TIFFStructure(bigTIFF: bigTIFF, littleEndian: reader.littleEndian, fileSize: size, images: images,
                         ghostText: ghost, expectedFirstIFDOffset: expected)
  }

  /// The most pixels a side a TIFF may declare (its ImageWidth is a 32-bit count).
  static let maximumSide: UInt64 = 0xFFFF_FFFF

  /// Reads one IFD. Every field is untrusted: types, counts and offsets are checked against
  /// the file before use, and an image whose geometry cannot be real is an error for the file.
  private static func readIFD(_ r: inout ByteReader, at offset: UInt64, bigTIFF: Bool) throws -> (Image, UInt64) {
    let count = bigTIFF ? try r.u64(at: offset) : UInt64(try r.u16(at: offset))
    let entrySize: UInt64 = bigTIFF ? 20 : 12
    let first = offset + (bigTIFF ? 8 : 2)
    guard count < 10_000, first <= r.size, count * entrySize <= r.size - first else {
      throw ReadError(description: "has a corrupt IFD at byte \(offset)")
    }
    var tags: [UInt16: [UInt64]] = [:]
    for i in 0..<count {
      let entry = first + i * entrySize
      let tag = try r.u16(at: entry)
      let type = try r.u16(at: entry + 2)
      let n = bigTIFF ? try r.u64(at: entry + 4) : UInt64(try r.u32(at: entry + 4))
      // Only the integer tags the layout depends on are decoded.
      guard [254, 256, 257, 273, 277, 278, 279, 284, 322, 323, 324, 325].contains(tag) else { continue }
      let width: UInt64
      switch type {
      case 3: width = 2
      case 4, 13: width = 4
      case 16, 18: width = 8
      default:
        throw ReadError(description: "has tag \(tag) of type \(type) in the IFD at byte \(offset); it must be an unsigned integer")
      }
      guard n >= 1, n < 50_000_000 else { throw ReadError(description: "declares \(n) values for tag \(tag)") }
      let inlineSize: UInt64 = bigTIFF ? 8 : 4
      let valueField = entry + (bigTIFF ? 12 : 8)
      let location = n * width <= inlineSize ? valueField : (bigTIFF ? try r.u64(at: valueField) : UInt64(try r.u32(at: valueField)))
      guard location <= r.size, n * width <= r.size - location else {
        throw ReadError(description: "has tag \(tag) pointing past the end of the file")
      }
      tags[tag] = try r.integers(at: location, count: Int(n), width: Int(width))
    }
    let next = bigTIFF ? try r.u64(at: first + count * entrySize) : UInt64(try r.u32(at: first + count * entrySize))

    func dimension(_ tag: UInt16, _ name: String) throws -> Int {
      guard let value = tags[tag]?.first, value >= 1, value <= maximumSide else {
        let found = tags[tag]?.first.map { "\($0)" } ?? "none"
        throw ReadError(description: "has an IFD at byte \(offset) whose \(name) is \(found)")
      }
      return Int(value)
    }
    let width = try dimension(256, "ImageWidth"), height = try dimension(257, "ImageLength")
    let tiled = tags[322] != nil || tags[323] != nil
    let blockWidth = tiled ? try dimension(322, "TileWidth") : width
    let blockHeight = tiled
      ? try dimension(323, "TileLength")
      : Int(Swift.min(Swift.max(tags[278]?.first ?? UInt64(height), 1), UInt64(height)))
    let samples = tags[277]?.first ?? 1
    let planar = tags[284]?.first ?? 1
    guard (1...65535).contains(samples), planar == 1 || planar == 2 else {
      throw ReadError(description: "has an IFD at byte \(offset) with \(samples) samples per pixel, planar configuration \(planar)")
    }
    let image = Image(
      offset: offset, width: width, height: height, blockWidth: blockWidth, blockHeight: blockHeight,
      tiled: tiled, subfileType: tags[254]?.first ?? 0, samplesPerPixel: Int(samples), planarConfiguration: Int(planar),
      blockOffsets: tiled ? tags[324] ?? [] : tags[273] ?? [], blockByteCounts: tiled ? tags[325] ?? [] : tags[279] ?? [])
    return (image, next)
  }
}

/// Positioned reads of a file in either byte order.
struct ByteReader {
  let handle: FileHandle
  let size: UInt64
  var littleEndian: Bool

  func bytes(at offset: UInt64, count: Int) throws -> [UInt8] {
    guard offset < size, count > 0 else { return [] }
    try handle.seek(toOffset: offset)
    return [UInt8](try handle.read(upToCount: count) ?? Data())
  }

  func exact(at offset: UInt64, count: Int) throws -> [UInt8] {
    let b = try bytes(at: offset, count: count)
    guard b.count == count else { throw TIFFStructure.ReadError(description: "ends before byte \(offset + UInt64(count))") }
    return b
  }

  func value(_ b: ArraySlice<UInt8>) -> UInt64 {
    let ordered = littleEndian ? Array(b.reversed()) : Array(b)
    return ordered.reduce(0) { $0 << 8 | UInt64($1) }
  }

  func u16(at offset: UInt64) throws -> UInt16 { UInt16(value(try exact(at: offset, count: 2)[...])) }
  func u32(at offset: UInt64) throws -> UInt32 { UInt32(value(try exact(at: offset, count: 4)[...])) }
  func u64(at offset: UInt64) throws -> UInt64 { value(try exact(at: offset, count: 8)[...]) }

  func integers(at offset: UInt64, count: Int, width: Int) throws -> [UInt64] {
    let b = try exact(at: offset, count: count * width)
    return (0..<count).map { value(b[($0 * width)..<(($0 + 1) * width)]) }
  }
}
