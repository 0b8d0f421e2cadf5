import Foundation
import GDAL

/// Guards against outputs that cannot be made, checked before anything is written: a grid
/// with more pixels a side than GDAL counts (or none), and a file larger than the output's file
/// system can hold.
public enum OutputSize {
  /// - Parameters:
  ///   - cause: what decided the grid, for the message ("--resolution 1e-300").
  ///   - fromInput: the grid follows from the inputs' own georeferencing, not from an option:
  ///     then an impossible one is bad input data (65) rather than a bad option (64).
  /// - Throws: when `width` x `height` (as computed, before rounding) is no raster GDAL can make.
  public static func requireGrid(width: Double, height: Double, cause: String, fromInput: Bool = false) throws {
    let status: ExitStatus = fromInput ? .dataError : .usage
    guard width.isFinite, height.isFinite, width.rounded() >= 1, height.rounded() >= 1 else {
      throw TesseraError(status, "\(cause) leaves no whole pixel in the output")
    }
    guard width <= Double(maximumRasterSide), height <= Double(maximumRasterSide) else {
      throw TesseraError(
        status,
        "\(cause) makes an output of \(count(width)) x \(count(height)) pixels, more than GDAL's limit of \(maximumRasterSide) a side")
    }
  }

  /// How much more than the free space a compressed output may be estimated at: lossless
  /// compression of imagery seldom passes 4:1, so an estimate above that will not fit.
  static let compressionAllowance = 4.0

  /// - Parameters:
  ///   - bytes: the output's uncompressed size.
  ///   - compressed: whether the output is compressed (then it may exceed the free space by
  ///     `compressionAllowance`).
  /// - Throws: exit 65 stating both sizes when the output cannot fit, unless `force`.
  public static func requireSpace(bytes: Double, compressed: Bool, for output: String, force: Bool) throws {
    // A special file is no output at all; its "free space" (0 in /proc) would blame the size.
    try OutputPlace.check(output)
    guard !force else { return }
    let directory = (URL(fileURLWithPath: output).standardizedFileURL.path as NSString).deletingLastPathComponent
    var info = statvfs()
    guard statvfs(directory, &info) == 0 else { return }
    let free = Double(info.f_bavail) * Double(info.f_frsize)
    let allowed = compressed ? free * compressionAllowance : free
    if bytes > allowed {
      let kind = compressed ? "uncompressed, over \(Int(saturating: compressionAllowance)) times" : "more than"
      throw TesseraError(
        .dataError,
        "\(output) would be about \(human(bytes)) (\(kind) the \(human(free)) free in \(directory)); pass --force-size to write it anyway")
    }
  }

  /// Bytes of a raster of `width` x `height` x `bands` values of `type`.
  public static func bytes(width: Int, height: Int, bands: Int, type: DataType) -> Double {
    Double(width) * Double(height) * Double(bands) * Double(type.byteSize)
  }

  static func count(_ value: Double) -> String {
    abs(value) < 1e15 ? String(Int(saturating: value, rounding: .toNearestOrAwayFromZero)) : String(format: "%.3g", value)
  }

  static func human(_ bytes: Double) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var value = bytes, unit = 0
    while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
    return unit == 0 ? "\(Int(saturating: value)) bytes" : String(format: "%.1f %@", value, units[unit])
  }
}
