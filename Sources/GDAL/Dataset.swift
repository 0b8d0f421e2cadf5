import CGDAL
import Foundation

/// Why a dataset could not be opened. Lets callers tell "missing" from "not a raster".
public enum OpenError: Error, Equatable, CustomStringConvertible {
  case notFound(path: String)
  case permissionDenied(path: String)
  /// The path cannot be reached as a file: a directory no driver reads, a loop of symbolic
  /// links, a name too long. `reason` says which.
  case unreachable(path: String, reason: String)
  /// A FIFO, socket or device: reading one could block forever, or never end.
  case notRegular(path: String, kind: String)
  /// GDAL could not read it as a raster: corrupt, empty, truncated or of no known format.
  case unreadable(path: String, gdalMessage: String)
  /// The system refused what opening it needs (a descriptor under `ulimit -n`, memory): the
  /// file is not at fault. `reason` names the limit.
  case systemLimit(path: String, reason: String)

  public var path: String {
    switch self {
    case .notFound(let p), .permissionDenied(let p), .unreachable(let p, _), .notRegular(let p, _), .unreadable(let p, _),
      .systemLimit(let p, _):
      return p
    }
  }

  public var description: String {
    switch self {
    case .notFound(let path): return "\(path): no such file"
    case .permissionDenied(let path): return "\(path): permission denied"
    case .unreachable(let path, let reason): return "\(path): \(reason)"
    case .notRegular(let path, let kind): return "\(path): is \(kind), not a regular file"
    case .unreadable(let path, let message):
      return message.isEmpty ? "\(path): not a raster GDAL can read" : "\(path): not a raster GDAL can read (\(message))"
    case .systemLimit(let path, let reason): return "\(reason): \(path) cannot be opened"
    }
  }

  /// Checks a local path before anything opens it: it must exist, be readable, and be a file or
  /// a directory (some formats are folders). Paths GDAL resolves itself (`/vsi…`, subdatasets
  /// such as `SENTINEL2_L2A:…`) pass unchecked.
  public static func check(_ path: String) throws {
    guard !path.hasPrefix("/vsi"), !path.contains(":") || FileManager.default.fileExists(atPath: path) else { return }
    var status = stat()
    guard stat(path, &status) == 0 else {
      if let reason = SystemLimits.refusal(errno) { throw OpenError.systemLimit(path: path, reason: reason) }
      switch errno {
      case ENOENT: throw OpenError.notFound(path: path)
      case EACCES: throw OpenError.permissionDenied(path: path)
      default: throw OpenError.unreachable(path: path, reason: String(cString: strerror(errno)).lowercased())
      }
    }
    switch status.st_mode & S_IFMT {
    case S_IFREG, S_IFDIR: break
    case S_IFIFO: throw OpenError.notRegular(path: path, kind: "a FIFO (named pipe)")
    case S_IFCHR: throw OpenError.notRegular(path: path, kind: "a character device")
    case S_IFBLK: throw OpenError.notRegular(path: path, kind: "a block device")
    case S_IFSOCK: throw OpenError.notRegular(path: path, kind: "a socket")
    default: throw OpenError.notRegular(path: path, kind: "not a file")
    }
    guard access(path, R_OK) == 0 else { throw OpenError.permissionDenied(path: path) }
  }

  /// A failed open's cause when it was the system's refusal: the errno GDAL left, or failing
  /// that whether a descriptor can be had now (GDAL may have overwritten errno on its way back).
  static func systemRefusal(errno code: Int32) -> String? {
    if code == EMFILE || code == ENFILE { SystemLimits.note(code); return SystemLimits.refusal(code) }
    return SystemLimits.descriptorRefusal()
  }
}

/// A GDAL dataset this object owns. Closing is explicit and may throw; `deinit` closes as a safety net.
public final class Dataset {
  public enum Access: Sendable { case readOnly, update }

  /// nil once closed.
  private(set) var handle: GDALDatasetH?
  /// The name it was opened or created with.
  public let path: String
  public let access: Access
  /// Datasets this one reads through GDAL handles (a VRT's or warped VRT's sources): they must
  /// outlive it, so it holds them until it is closed.
  var dependencies: [Dataset] = []
  /// Set when the file's own handle was given up for a VRT of it (`detachFile`): what the
  /// file was, and the VRT's in-memory file, which lives as long as this object.
  private var detached: (driver: String, files: [String], vrt: MemoryFile)?

  init(adopting handle: GDALDatasetH, path: String, access: Access) {
    self.handle = handle
    self.path = path
    self.access = access
  }

  deinit {
    // Closed before `dependencies` are released (stored properties go after deinit's body).
    if let handle { GDALClose(handle) }
  }

  // MARK: - Opening and creating

  /// Opens a raster. Read-only unless `access` says otherwise, and with verbose errors.
  public static func open(
    _ path: String, access: Access = .readOnly, drivers: [String]? = nil, openOptions: [String] = []
  ) throws -> Dataset {
    GDALEnvironment.bootstrap()
    // Local paths get a precise reason before GDAL gives its generic one.
    try OpenError.check(path)
    var flags = UInt32(GDAL_OF_RASTER | GDAL_OF_VERBOSE_ERROR)
    flags |= UInt32(access == .update ? GDAL_OF_UPDATE : GDAL_OF_READONLY)
    let allowed = drivers.map(CStringList.init)
    let options = CStringList(openOptions)
    var openErrno: Int32 = 0
    let (opened, messages) = GDALCall.capturing { () -> GDALDatasetH? in
      errno = 0
      defer { openErrno = errno }
      return GDALOpenEx(path, flags, allowed?.constPointer, options.constPointer, nil)
    }
    // A failure reported while opening means part of the file could not be read, even when
    // GDAL hands back a dataset.
    if let opened, let failure = messages.first(where: \.isFailure) {
      GDALClose(opened)
      throw OpenError.unreadable(path: path, gdalMessage: cleaned(failure.message, path: path))
    }
    guard let handle = opened else {
      if let reason = OpenError.systemRefusal(errno: openErrno) { throw OpenError.systemLimit(path: path, reason: reason) }
      let error = GDALCall.error("opening \(path)", messages)
      if error.message.contains("No such file") { throw OpenError.notFound(path: path) }
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw OpenError.unreachable(path: path, reason: "is a directory, not a raster GDAL can read")
      }
      throw OpenError.unreadable(path: path, gdalMessage: cleaned(error.message, path: path))
    }
    let dataset = Dataset(adopting: handle, path: path, access: access)
    if access == .readOnly { ThreadedDecodeCheck.noteOpened(dataset) }
    return dataset
  }

  /// GDAL's messages often start with the path; the caller names the path already.
  private static func cleaned(_ message: String, path: String) -> String {
    var text = message
    if text.hasPrefix(path) { text = String(text.dropFirst(path.count)) }
    return text.trimmingCharacters(in: CharacterSet(charactersIn: ": ").union(.whitespacesAndNewlines))
  }

  /// Creates a dataset with `Create` (not for COG, which only copies).
  public static func create(
    driver driverName: String, path: String, width: Int, height: Int, bands: Int, type: DataType,
    options: [String] = []
  ) throws -> Dataset {
    let driver = try Driver(named: driverName)
    let list = CStringList(options)
    let handle = try GDALCall.handle("creating \(path) with \(driverName)", dataset: path, release: { (h: GDALDatasetH) in GDALClose(h) }) {
      GDALCreate(driver.handle, path, Int32(width), Int32(height), Int32(bands), type.gdal, list.pointer)
    }
    return Dataset(adopting: handle, path: path, access: .update)
  }

  /// Copies `source` with a driver's CreateCopy (the only way COG is written).
  public static func createCopy(
    of source: Dataset, driver driverName: String, path: String, options: [String] = [],
    progress: ProgressHandler? = nil
  ) throws -> Dataset {
    let driver = try Driver(named: driverName)
    let list = CStringList(options)
    let src = try source.liveHandle()
    let handle = try withProgress(progress) { fn, data in
      try GDALCall.handle("writing \(path) with \(driverName)", release: { (h: GDALDatasetH) in GDALClose(h) }) {
        GDALCreateCopy(driver.handle, path, src, 0, list.pointer, fn, data)
      }
    }
    return Dataset(adopting: handle, path: path, access: .update)
  }

  // MARK: - Holding few files

  /// Gives up this dataset's own file handle for an in-memory VRT of it: the same size,
  /// georeferencing, bands, types, nodata, masks and metadata, whose pixels GDAL reads from the
  /// file through its pool of datasets (GDAL_MAX_DATASET_POOL_SIZE), opening it only while it
  /// reads. For commands that hold many inputs open while planning: a descriptor each would
  /// run out under `ulimit -n`. A read-only local file only; others are left as they are.
  /// Bands fetched before this call must not be used after it.
  public func detachFile() throws {
    let h = try liveHandle()
    let driver = driverName
    guard access == .readOnly, detached == nil, dependencies.isEmpty, !path.hasPrefix("/vsimem/"),
      !["VRT", "MEM"].contains(driver) else { return }
    let files = fileList
    let vrt = MemoryFile(name: "detached.vrt")
    let vrtDriver = try Driver(named: "VRT")
    let copy = try GDALCall.handle("describing \(path)", dataset: path, release: { (c: GDALDatasetH) in GDALClose(c) }) {
      GDALCreateCopy(vrtDriver.handle, vrt.path, h, 0, nil, nil, nil)
    }
    try GDALCall.run("describing \(path)", dataset: path) { GDALClose(copy) }
    let shell = try GDALCall.handle("describing \(path)", dataset: path, release: { (c: GDALDatasetH) in GDALClose(c) }) {
      GDALOpenEx(vrt.path, UInt32(GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR), nil, nil, nil)
    }
    handle = shell
    detached = (driver, files, vrt)
    GDALClose(h)
  }

  // MARK: - Closing

  /// Flushes and closes. Throws if GDAL reported a failure while writing; safe to call twice.
  public func close() throws {
    guard let handle else { return }
    self.handle = nil
    defer { dependencies = [] }
    try GDALCall.run("closing \(path)", dataset: path) { GDALClose(handle) }
  }

  public var isClosed: Bool { handle == nil }

  /// Writes cached blocks to the file; throws if GDAL reported a failure.
  public func flush() throws {
    let h = try liveHandle()
    try GDALCall.run("flushing \(path)", dataset: path) { GDALFlushCache(h) }
  }

  func liveHandle() throws -> GDALDatasetH {
    guard let handle else { throw GDALError(context: "using \(path)", message: "the dataset is closed") }
    return handle
  }

  /// The handle for calls this layer does not wrap yet. Precondition: not closed.
  var rawHandle: GDALDatasetH {
    guard let handle else { preconditionFailure("\(path) was used after close()") }
    return handle
  }

  // MARK: - Properties

  public var width: Int { Int(GDALGetRasterXSize(rawHandle)) }
  public var height: Int { Int(GDALGetRasterYSize(rawHandle)) }
  public var bandCount: Int { Int(GDALGetRasterCount(rawHandle)) }

  public var driverName: String {
    if let detached { return detached.driver }
    guard let driver = GDALGetDatasetDriver(rawHandle) else { return "" }
    return String(cString: GDALGetDriverShortName(driver))
  }

  /// The six affine coefficients, or nil when the dataset has none.
  public var geoTransform: [Double]? {
    var gt = [Double](repeating: 0, count: 6)
    let status = GDALCall.capturing { GDALGetGeoTransform(rawHandle, &gt) }.value
    return status == CE_None ? gt : nil
  }

  public func setGeoTransform(_ gt: [Double]) throws {
    precondition(gt.count == 6)
    var copy = gt
    try GDALCall.check("setting the geotransform of \(path)", dataset: path) { GDALSetGeoTransform(rawHandle, &copy) }
  }

  /// The dataset's CRS (a copy this object owns), or nil when it has none.
  public var spatialReference: SpatialReference? {
    guard let srs = GDALGetSpatialRef(rawHandle) else { return nil }
    return SpatialReference(cloning: srs)
  }

  public func setSpatialReference(_ srs: SpatialReference?) throws {
    try GDALCall.check("setting the CRS of \(path)", dataset: path) { GDALSetSpatialRef(rawHandle, srs?.handle) }
  }

  public func band(_ index: Int) throws -> RasterBand {
    guard index >= 1, index <= bandCount else {
      throw GDALError(context: "reading \(path)", message: "band \(index) does not exist (the dataset has \(bandCount))")
    }
    guard let h = GDALGetRasterBand(rawHandle, Int32(index)) else {
      throw GDALError(context: "reading \(path)", message: "band \(index) could not be fetched")
    }
    return RasterBand(dataset: self, handle: h, index: index)
  }

  public var bands: [RasterBand] { (1...max(bandCount, 1)).compactMap { bandCount == 0 ? nil : try? band($0) } }

  /// Metadata of a domain (nil: the default domain) as ordered key/value pairs.
  public func metadata(domain: String? = nil) -> [(key: String, value: String)] {
    keyValuePairs(CStringList.strings(GDALGetMetadata(rawHandle, domain)))
  }

  public func metadataItem(_ name: String, domain: String? = nil) -> String? {
    GDALGetMetadataItem(rawHandle, name, domain).map { String(cString: $0) }
  }

  /// The files of the datasets this one reads through handles (a VRT built from open datasets,
  /// a warped VRT), and theirs in turn.
  public var dependencyFiles: [String] {
    dependencies.flatMap { [$0.path] + ($0.isClosed ? [] : $0.fileList) + $0.dependencyFiles }
  }

  /// The files GDAL reads for this dataset (the main file first).
  public var fileList: [String] {
    if let detached { return detached.files }
    guard let list = GDALGetFileList(rawHandle) else { return [] }
    defer { CSLDestroy(list) }
    return CStringList.strings(list)
  }

  /// Subdatasets as (name, description), e.g. the resolutions of a Sentinel-2 product.
  public var subdatasets: [(name: String, description: String)] {
    let items = Dictionary(metadata(domain: "SUBDATASETS").map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    var result: [(String, String)] = []
    var i = 1
    while let name = items["SUBDATASET_\(i)_NAME"] {
      result.append((name, items["SUBDATASET_\(i)_DESC"] ?? ""))
      i += 1
    }
    return result
  }

  /// Reads a window of several bands into `buffer`, band after band, converting to `type`.
  public func read(_ window: Window, bands: [Int], type: DataType, into buffer: UnsafeMutableRawBufferPointer) throws {
    try rasterIO(GF_Read, window, bands: bands, type: type, buffer: buffer.baseAddress, count: buffer.count)
  }

  /// One RasterIO of whole pixels between `window` of `bands` and a buffer of `count` bytes.
  private func rasterIO(_ direction: GDALRWFlag, _ window: Window, bands: [Int], type: DataType,
                        buffer: UnsafeMutableRawPointer?, count: Int) throws {
    precondition(count >= window.pixelCount * bands.count * type.byteSize, "buffer smaller than the window")
    var map = bands.map { Int32($0) }
    let h = try liveHandle()
    try GDALCall.check("\(direction == GF_Read ? "reading" : "writing") \(window) of \(path)", dataset: path) {
      GDALDatasetRasterIO(
        h, direction, Int32(window.x), Int32(window.y), Int32(window.width), Int32(window.height), buffer,
        Int32(window.width), Int32(window.height), type.gdal, Int32(bands.count), &map, 0, 0, 0)
    }
  }

  /// Reads a window of several bands resampled to `size` with GDAL's RasterIO resampling
  /// (`"average"`, `"mode"`, `"nearest"`, …), band after band, converting to `type`.
  public func read(
    _ window: Window, resampledTo size: (width: Int, height: Int), resampling: String, bands: [Int], type: DataType,
    into buffer: UnsafeMutableRawBufferPointer
  ) throws {
    precondition(buffer.count >= size.width * size.height * bands.count * type.byteSize, "buffer smaller than the output")
    var map = bands.map { Int32($0) }
    var extra = GDALRasterIOExtraArg()
    extra.nVersion = 1
    extra.eResampleAlg = Dataset.rasterIOResampling(resampling)
    extra.pfnProgress = nil
    extra.pProgressData = nil
    extra.bFloatingPointWindowValidity = 0
    let h = try liveHandle()
    try GDALCall.check("reading \(window) of \(path)", dataset: path) {
      GDALDatasetRasterIOEx(
        h, GF_Read, Int32(window.x), Int32(window.y), Int32(window.width), Int32(window.height), buffer.baseAddress,
        Int32(size.width), Int32(size.height), type.gdal, Int32(bands.count), &map, 0, 0, 0, &extra)
    }
  }

  static func rasterIOResampling(_ name: String) -> GDALRIOResampleAlg {
    switch name.lowercased() {
    case "average": return GRIORA_Average
    case "mode": return GRIORA_Mode
    case "bilinear": return GRIORA_Bilinear
    case "cubic": return GRIORA_Cubic
    case "cubicspline": return GRIORA_CubicSpline
    case "lanczos": return GRIORA_Lanczos
    case "rms": return GRIORA_RMS
    default: return GRIORA_NearestNeighbour
    }
  }

  /// Writes a window of several bands from `buffer`, band after band, converting from `type`.
  public func write(_ window: Window, bands: [Int], type: DataType, from buffer: UnsafeRawBufferPointer) throws {
    // GDAL takes one pointer type for both directions; a write only reads the buffer.
    try rasterIO(GF_Write, window, bands: bands, type: type, buffer: UnsafeMutableRawPointer(mutating: buffer.baseAddress),
                 count: buffer.count)
  }
}
