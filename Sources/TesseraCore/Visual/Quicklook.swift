import Foundation
import GDAL

/// How a preview looks: which bands, how they are stretched and coloured, its size, legend and
/// nodata colour. Shared by quicklook and timelapse.
public struct RenderOptions: Sendable {
  /// Three bands (RGB) or one; nil: bands 1-3 of a raster with three or more, else band 1.
  public var bands: [Int]?
  /// nil: p2,p98 for continuous values; classes are never stretched.
  public var stretch: StretchSpec?
  /// One range for the three bands of an RGB preview instead of one each.
  public var stretchJoint = false
  public var colormap: Colormap?
  /// Colours of classes from a file (`--color-table`).
  public var colorTable: [Int: RGBA]?
  /// Values are classes: colour table of the band, else distinct colours.
  public var categorical = false
  public var width = 1024
  public var legend = false
  public var nodataColor = RGBA(0, 0, 0, 0)
  /// How display pixels are sampled from the raster's: nearest (as gdal_translate -outsize and
  /// a viewer without overviews do; fastest) or an average and the like (smoother). Classes are
  /// always sampled nearest.
  public var resampling: Resampling = .nearest

  public init() {}
}

public struct QuicklookRequest: Sendable {
  public var input: String
  public var output: OutputSpec
  public var options: RenderOptions
  public var resources: Resources

  public init(input: String, output: OutputSpec, options: RenderOptions, resources: Resources = Resources()) {
    self.input = input
    self.output = output
    self.options = options
    self.resources = resources
  }
}

/// A coloured preview of a raster, read at the size it is shown at.
public enum Quicklook {
  public static func run(_ request: QuicklookRequest, progress: ProgressHandler? = nil) throws -> OperationReport {
    let driver = try ImageFile.driver(for: request.output.path)
    let source = try Dataset.open(request.input)
    let bands = try Quicklook.bands(of: source, request.options, label: request.input)
    let size = Quicklook.displaySize(width: source.width, height: source.height, requested: request.options.width)
    let writer = try RasterWrite(request.output.asOwnFile, inputs: InputFiles.of([source]), inputLabel: request.input,
                                 resources: request.resources,
                                 cache: .blockRows(bytes: try FrameReader.blockRowBytes(source, bands: bands, threads: request.resources.threads)))
    let kind = try Quicklook.kind(of: source, bands: bands, options: request.options, path: request.input)
    let frame = try FrameReader.read(path: request.input, bands: bands, size: size,
                                     resampling: kind.isClasses ? "nearest" : request.options.resampling.rasterIOName, threads: request.resources.threads)
    if kind.isClasses { try frame.requireClasses(label: request.input) }
    let style = Quicklook.style(kind, options: request.options, samples: { frame.validValues($0) })
    var pixels = Renderer.render(frame, style: style, nodataColor: request.options.nodataColor)
    var height = size.height
    let names = bands.map { Quicklook.bandName(source, $0, path: request.input) }
    if request.options.legend {
      // The classes the picture shows (the 24 lowest, when there are more than a legend holds).
      let present = kind.isClasses
        ? Set(frame.validValues(0).compactMap { Int(checked: $0, rounding: .toNearestOrAwayFromZero) }).sorted().prefix(24) : []
      let strip = Renderer.legend(for: style, bandNames: names, width: size.width, present: Set(present))
      pixels += strip.pixels
      height += strip.height
    }
    var warnings = kind.isClasses ? [] : Quicklook.infinityWarnings(bands.indices.map { frame.infiniteCount($0) }, names: names)
    if driver == "JPEG", request.options.nodataColor.a != 255, frame.valid.contains(false) {
      warnings.append("JPEG has no transparency: nodata is drawn black (--nodata-color sets another colour)")
    }
    try writer.write {
      try ImageFile.write(pixels, width: size.width, height: height, driver: driver, to: writer.gdalPath)
    }
    _ = progress?(1, nil)
    return writer.report([
      ("input", .string(request.input)), ("width", .int(size.width)), ("height", .int(height)),
      ("bands", .array(names.map { .string($0) })), ("style", .string(kind.name)),
      ("colormap", kind.colormap(request.options).map { .string($0.rawValue) } ?? .null),
      ("stretch", kind.isClasses ? .null : .string((request.options.stretch ?? .percentiles(2, 98)).description)),
      ("stretch_values", style.json(bandNames: names)),
      ("nodata_color", .string(request.options.nodataColor.a == 0 ? "transparent" : request.options.nodataColor.hex)),
      ("valid_fraction", .double(Double(frame.valid.filter { $0 }.count) / Double(max(1, frame.valid.count)))),
    ], warnings: warnings)
  }

  /// The bands shown: checked against the raster.
  static func bands(of source: Dataset, _ options: RenderOptions, label: String) throws -> [Int] {
    let bands = options.bands ?? (source.bandCount >= 3 ? [1, 2, 3] : [1])
    guard bands.count == 1 || bands.count == 3 else {
      throw TesseraError(.usage, "a preview shows three bands (red, green, blue) or one; got \(bands.count)")
    }
    if let bad = bands.first(where: { !(1...max(1, source.bandCount)).contains($0) }) {
      throw TesseraError(.dataError, "\(label) has \(source.bandCount) band\(source.bandCount == 1 ? "" : "s"); there is no band \(bad)")
    }
    return bands
  }

  /// The preview's size: `requested` wide (never wider than the raster), the raster's aspect.
  static func displaySize(width: Int, height: Int, requested: Int) -> (width: Int, height: Int) {
    let w = max(1, min(requested, width))
    return (w, max(1, Int(saturating: Double(height) * Double(w) / Double(width), rounding: .toNearestOrAwayFromZero)))
  }

  /// Says how many infinite values each band had, left out of its stretch and drawn at its ends.
  static func infinityWarnings(_ counts: [Int], names: [String]) -> [String] {
    zip(counts, names).compactMap { count, name in
      count == 0 ? nil : "\(name): \(count) infinite value\(count == 1 ? "" : "s") (or beyond Float32's ±3.4e38) left out of the stretch, drawn at its ends"
    }
  }

  static func bandName(_ source: Dataset, _ index: Int, path: String) -> String {
    if let band = try? source.band(index), !band.description.isEmpty { return band.description }
    if source.bandCount == 1 { return URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent }
    return "band \(index)"
  }

  /// What kind of picture the bands make.
  enum Kind {
    case rgb
    case ramp
    case classes([Int: RGBA], source: String)

    var isClasses: Bool { if case .classes = self { return true } else { return false } }
    var name: String {
      switch self {
      case .rgb: return "rgb"
      case .ramp: return "colormap"
      case .classes(_, let source): return "classes (\(source))"
      }
    }
    func colormap(_ options: RenderOptions) -> Colormap? {
      if case .ramp = self { return options.colormap ?? .gray }
      return nil
    }
  }

  static func kind(of source: Dataset, bands: [Int], options: RenderOptions, path: String) throws -> Kind {
    if bands.count == 3 { return .rgb }
    if let table = options.colorTable { return .classes(table, source: "color table file") }
    if options.colormap == nil {
      let band = try source.band(bands[0])
      if let entries = band.colorEntries {
        var table: [Int: RGBA] = [:]
        for (index, e) in entries.enumerated() { table[index] = RGBA(UInt8(clamping: e.r), UInt8(clamping: e.g), UInt8(clamping: e.b), UInt8(clamping: e.a)) }
        return .classes(table, source: "color table")
      }
      if isSCL(band: band, path: path) { return .classes(ClassColors.scl, source: "Sentinel-2 SCL") }
    }
    if options.categorical { return .classes([:], source: "distinct colours") }
    return .ramp
  }

  /// A Sentinel-2 scene classification: the band is described as SCL, or the file is named so.
  static func isSCL(band: RasterBand, path: String) -> Bool {
    if band.description.uppercased() == "SCL" { return true }
    let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent.uppercased()
    return band.dataType == .byte && (name == "SCL" || name.hasSuffix("_SCL") || name.hasSuffix("_SCL_20M") || name.hasSuffix("_SCL_60M"))
  }

  /// The style for a kind, with stretch ranges from the valid values `samples(band)` gives.
  static func style(_ kind: Kind, options: RenderOptions, samples: (Int) -> [Float]) -> RenderStyle {
    let spec = options.stretch ?? .percentiles(2, 98)
    let empty = StretchRange(low: 0, high: 0)
    switch kind {
    case .classes(let table, let source):
      return .classes(table, source: source)
    case .ramp:
      return .ramp(options.colormap ?? .gray, spec.range(of: samples(0)) ?? empty)
    case .rgb:
      if options.stretchJoint {
        let range = spec.range(of: samples(0) + samples(1) + samples(2)) ?? empty
        return .rgb([range, range, range])
      }
      return .rgb((0..<3).map { spec.range(of: samples($0)) ?? empty })
    }
  }
}

/// Reads bands at display size: the rows split among threads, each with its own handle, each
/// strip reading the fractional source rows of its display rows (so the result is the same as
/// one read of the whole); overviews are used when the raster has them.
enum FrameReader {
  /// The bytes of the rows of source blocks the strips read at once (two each, for the row a
  /// strip leaves and the one it enters), so none is decoded twice.
  static func blockRowBytes(_ source: Dataset, bands: [Int], threads: Int) throws -> Int {
    var total = 0
    for index in bands {
      let band = try source.band(index)
      let block = band.blockSize
      let blocksAcross = (source.width + block.width - 1) / block.width
      total += blocksAcross * block.width * block.height * band.dataType.byteSize
    }
    return total * 2 * max(1, threads)
  }

  /// Display rows cut into about `count` strips at the edges of source block rows, so no block
  /// is decoded by two strips (each strip has its own dataset and so its own blocks).
  static func strips(displayRows: Int, scaleY: Double, blockHeight: Int, count: Int) -> [Range<Int>] {
    // The block row each display row samples (its centre's source row).
    let blockRow = { (row: Int) in Int(saturating: (Double(row) + 0.5) * scaleY) / max(1, blockHeight) }
    var starts = [0]
    for row in 1..<max(1, displayRows) where blockRow(row) != blockRow(row - 1) { starts.append(row) }
    let groups = starts.count
    let wanted = max(1, min(count, groups))
    var result: [Range<Int>] = []
    for index in 0..<wanted {
      let first = starts[index * groups / wanted]
      let last = index + 1 == wanted ? displayRows : starts[(index + 1) * groups / wanted]
      result.append(first..<last)
    }
    return result
  }

  static func read(path: String, bands: [Int], size: (width: Int, height: Int), resampling: String, threads: Int) throws -> FrameValues {
    let probe = try Dataset.open(path)
    let sourceWidth = Double(probe.width), sourceHeight = Double(probe.height)
    let count = size.width * size.height
    // Shared buffers the strips fill side by side (each its own rows).
    let planes = bands.map { _ in UnsafeMutableBufferPointer<Float>.allocate(capacity: count) }
    let validity = UnsafeMutableBufferPointer<Bool>.allocate(capacity: count)
    validity.initialize(repeating: true)
    defer {
      for plane in planes { plane.deallocate() }
      validity.deallocate()
    }
    let scaleY = sourceHeight / Double(size.height)
    let strips = FrameReader.strips(displayRows: size.height, scaleY: scaleY, blockHeight: try probe.band(bands[0]).blockSize.height,
                                    count: max(1, 2 * threads))
    let lock = NSLock()
    var failure: Error?
    DispatchQueue.concurrentPerform(iterations: strips.count) { strip in
      let first = strips[strip].lowerBound, last = strips[strip].upperBound
      guard first < last else { return }
      do {
        let dataset = try Dataset.open(path)
        let rows = last - first
        let offset = first * size.width
        var mask = [UInt8](repeating: 0, count: rows * size.width)
        for (index, bandNumber) in bands.enumerated() {
          let band = try dataset.band(bandNumber)
          let part = UnsafeMutableBufferPointer(rebasing: planes[index][offset..<(offset + rows * size.width)])
          try band.read(x: 0, y: Double(first) * scaleY, width: sourceWidth, height: Double(rows) * scaleY,
                        resampledTo: (size.width, rows), resampling: resampling, into: part)
          let validPart = UnsafeMutableBufferPointer(rebasing: validity[offset..<(offset + rows * size.width)])
          switch band.maskKind {
          case .allValid:
            for i in 0..<part.count where part[i].isNaN { validPart[i] = false }
          case .nodata:
            let nodata = band.noDataValue.map { Float($0) }
            for i in 0..<part.count where part[i].isNaN || part[i] == nodata { validPart[i] = false }
          default:
            // An alpha band, an internal mask, a dataset mask: GDAL's mask says.
            guard let maskBand = band.maskBand else { continue }
            try mask.withUnsafeMutableBufferPointer { buffer in
              try maskBand.read(x: 0, y: Double(first) * scaleY, width: sourceWidth, height: Double(rows) * scaleY,
                                resampledTo: (size.width, rows), resampling: "nearest", into: buffer)
            }
            for i in 0..<part.count where mask[i] == 0 || part[i].isNaN { validPart[i] = false }
          }
        }
      } catch {
        lock.lock(); if failure == nil { failure = error }; lock.unlock()
      }
    }
    if let failure { throw failure }
    return FrameValues(width: size.width, height: size.height, bands: planes.map { Array($0) }, valid: Array(validity))
  }
}
