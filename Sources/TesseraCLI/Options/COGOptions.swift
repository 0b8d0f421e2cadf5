import ArgumentParser
import Foundation
import TesseraCore

/// The COG options of cog-export, shared by every command that can end in a COG.
struct COGOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: "Compression: deflate, zstd, lzw, lzma, webp, jpeg, lerc, lerc_deflate, lerc_zstd or raw.")
  var profile: COGSettings.Profile = .deflate
  @Option(parsing: .unconditional, help: "Compression level.") var level: Int?
  @Option(parsing: .unconditional, help: "Quality for jpeg and webp (1-100).") var quality: Int?
  @Option(parsing: .unconditional, help: "Predictor: auto, none, 2 or 3.") var predictor: COGSettings.Predictor = .auto
  @Option(parsing: .unconditional, help: "Tile size: 256, 512 or 1024.") var blocksize: Int = 512
  @Option(parsing: .unconditional, help: ArgumentHelp("Overviews: auto, none, or how many.", valueName: "auto|none|N"))
  var overviews = Parsed<COGSettings.Overviews>("auto")
  @Option(name: .customLong("overview-resampling"), parsing: .unconditional, help: "Overview resampling (default: nearest if categorical, else average).")
  var overviewResampling: Resampling?
  @Flag(help: "The data are classes: overviews use nearest.") var categorical = false
  @Flag(name: .customLong("web-optimized"), help: "Tile on the GoogleMapsCompatible (web mercator) grid.") var webOptimized = false
  @Option(name: .customLong("warp-resampling"), parsing: .unconditional,
          help: "With --web-optimized: resampling onto the web mercator grid (default: the overview resampling).")
  var warpResampling: Resampling?
  @Flag(name: .customLong("add-mask"), help: "Write an internal mask from band 1's nodata.") var addMask = false
  /// The old spelling of --dst-nodata, refused with the new one's name.
  @Option(name: .customLong("nodata"), parsing: .unconditional, help: .hidden) var oldNodata: String?
  @Option(parsing: .unconditional, help: "BigTIFF: auto (from the estimated size), yes or no.") var bigtiff: COGSettings.BigTIFF = .auto
  @Flag(name: .customLong("no-validate"), help: "Skip the validation of the output.") var noValidate = false

  func validate() throws {
    if oldNodata != nil { throw ValidationError("--nodata is now --dst-nodata (the same option as every command's)") }
    try parsed { try COGSettings.requireBlockSize(blocksize) }
    _ = try overviews.value()
    try parsed { try settings().check() }
  }

  /// The settings, with `nodata` for the output (cog-export's --dst-nodata; a command that
  /// declares nodata on what it copies leaves it `inherit`).
  func settings(nodata: NodataSetting = .inherit) throws -> COGSettings {
    var s = COGSettings()
    (s.profile, s.level, s.quality, s.predictor, s.blockSize) = (profile, level, quality, predictor, blocksize)
    (s.overviews, s.overviewResampling, s.categorical) = (try overviews.value(), overviewResampling, categorical)
    (s.webOptimized, s.warpResampling, s.addMask, s.nodata) = (webOptimized, warpResampling, addMask, nodata)
    (s.bigTIFF, s.validate) = (bigtiff, !noValidate)
    return s
  }
}

extension COGSettings.Overviews: ArgumentValue {
  init(argumentText text: String) throws {
    switch text.lowercased() {
    case "auto": self = .auto
    case "none": self = .none
    default:
      guard let n = Int(text), (0...30).contains(n) else { throw ValidationError("--overviews takes auto, none or a count from 0 to 30") }
      self = .count(n)
    }
  }
}
