import CGDAL
import Foundation

/// GDAL 3.6's multi-threaded GeoTIFF decoder and the one failure it reports without cause.
///
/// With GDAL_NUM_THREADS above 1, GDAL 3.6 decodes the blocks of a read that spans several on
/// its thread pool. Each job writes a one-block TIFF header, `/vsimem/decompress_<job>.tif`,
/// with the file's tags, and decodes the block through it. For a band-interleaved file (planar
/// configuration "separate") that header holds one sample per pixel but is given the file's
/// count of extra samples (the bands beyond the first of a MINISBLACK file), and from two extra
/// samples on libtiff refuses the tag, once per block:
/// `_TIFFVSetField:/vsimem/decompress_0x…tif: Bad value 2 for "ExtraSamples" tag`.
/// GDAL ignores that call's status and decodes the block all the same; the tag means nothing to
/// a one-sample block (GDAL 3.7.1 stopped setting it, OSGeo/gdal#7921).
///
/// The same code of 3.6 had real faults on such files too (OSGeo/gdal#7963: wrong reads band by
/// band), so the message is not dropped on its word. It is a suspect: an operation that saw one
/// passes only when every band-interleaved GeoTIFF of 3 or more bands the process opened for
/// reading gives the same bytes read on one thread and on several, with no failure at all on
/// either. Otherwise — a block that does not decode, other pixels, no such file open — it
/// fails as any failure does, with the single-threaded read's own message where there is one.
/// A file proven once is not read again while it stays the same file.
public enum ThreadedDecodeCheck {
  /// Whether `text` is exactly libtiff's refusal of ExtraSamples on GDAL's per-job decode header.
  public static func isHeaderFailure(_ text: String) -> Bool {
    let prefix = "_TIFFVSetField:/vsimem/decompress_"
    let middle = ".tif: Bad value "
    let suffix = " for \"ExtraSamples\" tag"
    guard text.hasPrefix(prefix), text.hasSuffix(suffix), text.count > prefix.count + suffix.count else { return false }
    let inner = text.dropFirst(prefix.count).dropLast(suffix.count)
    guard let split = inner.range(of: middle) else { return false }
    var job = inner[..<split.lowerBound]
    if job.hasPrefix("0x") { job = job.dropFirst(2) }
    let value = inner[split.upperBound...]
    return !job.isEmpty && job.allSatisfy(\.isHexDigit) && !value.isEmpty && value.allSatisfy { $0.isASCII && $0.isNumber }
  }

  /// Notes a dataset just opened for reading if it has the layout GDAL 3.6 decodes with the
  /// suspect failure.
  static func noteOpened(_ dataset: Dataset) {
    switch dataset.driverName {
    case "GTiff":
      if hasSuspectLayout(dataset) { DecodeCandidates.shared.add(dataset.path) }
    case "VRT":
      // GDAL opens a VRT's sources itself; which of them have the layout is seen at proof time.
      for file in dataset.fileList.dropFirst() where !file.hasPrefix("/vsi") { DecodeCandidates.shared.add(file) }
    default:
      break
    }
  }

  /// Band-interleaved with 3 or more bands: what GDAL 3.6 decodes with the suspect failure.
  static func hasSuspectLayout(_ dataset: Dataset) -> Bool {
    dataset.driverName == "GTiff" && dataset.bandCount >= 3
      && dataset.metadataItem("INTERLEAVE", domain: "IMAGE_STRUCTURE") == "BAND"
  }

  /// Throws `suspect` as the failure of `context` unless every candidate file proves it spurious.
  static func verify(_ suspect: GDALMessage, context: String, dataset: String?) throws {
    let (all, pending) = DecodeCandidates.shared.snapshot()
    // Proven earlier files count; a pending path turns out to have the layout or not.
    var affected = all.count - pending.count
    // A file removed since it was opened (a long-lived process, a test runner) proves nothing
    // either way: it is passed over, and cannot count as proof.
    for path in pending where access(path, F_OK) == 0 {
      do {
        let identity = FileIdentity(path)
        guard try compare(path) else { continue }
        affected += 1
        DecodeCandidates.shared.proven(path, identity)
      } catch let error as GDALError {
        throw GDALError(context: context, number: error.number, message: error.message, dataset: dataset ?? path)
      } catch {
        throw GDALError(context: context, number: suspect.number, message: "\(error)", dataset: dataset ?? path)
      }
    }
    // No file the run opened has the layout: nothing proves this one spurious.
    guard affected > 0 else {
      throw GDALError(context: context, number: suspect.number, message: suspect.message, dataset: dataset)
    }
  }

  // MARK: - Proof

  /// Reads all of `path` on one thread and on several, window by window, and throws on any
  /// failure of either, or on the first window whose bytes differ. False, and nothing read,
  /// when `path` is not a GeoTIFF of the suspect layout (a VRT's source of another kind).
  @discardableResult
  static func compare(_ path: String) throws -> Bool {
    let single: Dataset
    do {
      single = try Dataset.open(path, drivers: ["GTiff"], openOptions: ["NUM_THREADS=1"])
    } catch let error as OpenError {
      if case .unreadable = error { return false }
      throw GDALError(context: "opening \(path)", message: "\(error)", dataset: path)
    }
    defer { try? single.close() }
    guard hasSuspectLayout(single) else { return false }
    let threaded = try Dataset.open(path, drivers: ["GTiff"], openOptions: ["NUM_THREADS=\(decodeThreads)"])
    defer { try? threaded.close() }
    let band = try single.band(1)
    let type = band.dataType
    let bands = Array(1...single.bandCount)
    let size = (width: single.width, height: single.height)
    let windows = proofWindows(size: size, block: band.blockSize, bytesPerPixel: bands.count * type.byteSize)
    let capacity = windows.map(\.pixelCount).max().map { $0 * bands.count * type.byteSize } ?? 0
    let one = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, 1), alignment: 16)
    defer { one.deallocate() }
    let several = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, 1), alignment: 16)
    defer { several.deallocate() }
    for window in windows {
      let bytes = window.pixelCount * bands.count * type.byteSize
      let mark = GDALFailures.shared.mark
      try single.read(window, bands: bands, type: type, into: UnsafeMutableRawBufferPointer(rebasing: one[0..<bytes]))
      try threaded.read(window, bands: bands, type: type, into: UnsafeMutableRawBufferPointer(rebasing: several[0..<bytes]))
      // A worker's real failure reaches only the shared record (suspects are kept apart there).
      if let failure = GDALFailures.shared.first(since: mark) {
        throw GDALError(context: "reading \(window) of \(path)", number: failure.number, message: failure.message, dataset: path)
      }
      if let a = one.baseAddress, let b = several.baseAddress, memcmp(a, b, bytes) != 0 {
        throw GDALError(
          context: "reading \(window) of \(path)",
          message: "\(path): GDAL's multi-threaded decoding of \(window) gives other pixels than a single-threaded read",
          dataset: path)
      }
    }
    return true
  }

  /// The thread count the run decodes with, at least 2 so that the threaded path is taken.
  private static var decodeThreads: Int {
    let setting = GDALEnvironment.config("GDAL_NUM_THREADS") ?? ""
    let count = Int(setting) ?? (setting.uppercased() == "ALL_CPUS" ? ProcessInfo.processInfo.activeProcessorCount : 2)
    return max(2, count)
  }

  /// Windows covering the raster, each spanning several blocks where the raster has them (GDAL
  /// decodes on its pool only then), of about 4 MiB of all bands.
  static func proofWindows(size: (width: Int, height: Int), block: (width: Int, height: Int), bytesPerPixel: Int) -> [Window] {
    guard size.width > 0, size.height > 0 else { return [] }
    let blockWidth = max(1, block.width), blockHeight = max(1, block.height)
    // A strip is as wide as the raster; part of its width still decodes whole strips.
    let width = blockWidth >= size.width ? min(size.width, 4096) : min(size.width, blockWidth * 4)
    let budget = max(1, (4 << 20) / max(1, bytesPerPixel) / width)
    let height = min(size.height, max(blockHeight, budget / blockHeight * blockHeight, min(2 * blockHeight, budget)))
    var windows: [Window] = []
    for y in stride(from: 0, to: size.height, by: height) {
      for x in stride(from: 0, to: size.width, by: width) {
        windows.append(Window(x: x, y: y, width: min(width, size.width - x), height: min(height, size.height - y)))
      }
    }
    return windows
  }
}

/// A file's identity and version: a path proven once stays proven while this holds.
struct FileIdentity: Equatable {
  let device: UInt64, inode: UInt64, size: Int64, modified: Int, modifiedNanoseconds: Int

  init?(_ path: String) {
    var status = stat()
    guard stat(path, &status) == 0 else { return nil }
    device = UInt64(status.st_dev)
    inode = UInt64(status.st_ino)
    size = Int64(status.st_size)
    modified = status.st_mtim.tv_sec
    modifiedNanoseconds = status.st_mtim.tv_nsec
  }
}

/// The band-interleaved GeoTIFFs the process opened for reading, and which are proven.
final class DecodeCandidates: @unchecked Sendable {
  static let shared = DecodeCandidates()
  private let lock = NSLock()
  private var paths: [String] = []
  private var provenAs: [String: FileIdentity] = [:]

  func add(_ path: String) {
    lock.lock(); defer { lock.unlock() }
    if !paths.contains(path) { paths.append(path) }
  }

  /// Every candidate, and those not proven in their present version.
  func snapshot() -> (all: [String], pending: [String]) {
    lock.lock(); let all = paths; let known = provenAs; lock.unlock()
    let pending = all.filter { path in
      guard let identity = known[path] else { return true }
      return FileIdentity(path) != identity
    }
    return (all, pending)
  }

  func proven(_ path: String, _ identity: FileIdentity?) {
    guard let identity, FileIdentity(path) == identity else { return }
    lock.lock(); defer { lock.unlock() }
    provenAs[path] = identity
  }
}
