import Foundation
import GDAL

/// Rules between options that hold for several requests. A request's `validate()` checks them
/// for a caller of the core; the command line checks the same rule as soon as it has read the
/// options, so both say it in the same words.
public enum OptionRule {
  /// `--bbox-crs` says the CRS of a `--bbox`, so it needs one.
  public static func requireBBox(forCRS crs: String?, bbox: Extent?) throws {
    if crs != nil && bbox == nil { throw TesseraError(.usage, "--bbox-crs needs --bbox") }
  }

  /// The output grid is given by its pixel size or by its dimensions, not both.
  public static func requireOne(resolution: Bool, size: Bool) throws {
    if resolution && size { throw TesseraError(.usage, "--resolution and --size are alternatives; give one") }
  }

  /// Aligning the bounds to the pixel size needs a pixel size.
  public static func requireResolution(forTargetAlignedPixels aligned: Bool, resolution: Bool) throws {
    if aligned && !resolution { throw TesseraError(.usage, "--target-aligned-pixels needs --resolution") }
  }
}
