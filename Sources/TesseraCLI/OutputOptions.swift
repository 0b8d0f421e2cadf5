import ArgumentParser
import TesseraCore

/// Options of every command that writes a raster.
struct OutputOptions: ParsableArguments {
  @Option(name: .customLong("co"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
    "A GDAL creation option; repeatable. Defaults: TILED=YES, 512x512 blocks, COMPRESS=DEFLATE, PREDICTOR 2 (integers) or 3 (floats), BIGTIFF=IF_SAFER.",
    valueName: "KEY=VALUE"))
  var creationOptions: [String] = []

  @Flag(help: "Replace the output if it exists.")
  var overwrite = false

  @Flag(name: .customLong("force-size"), help: "Write even when the output's estimated size does not fit the free disk space.")
  var forceSize = false

  func validate() throws {
    _ = try parsed { try CreationOptionCheck.validate(creationOptions) }
  }

  func write(_ global: GlobalOptions, format: OutputFormat = .gtiff) -> WriteOptions {
    WriteOptions(format: format, creationOptions: creationOptions, overwrite: overwrite, forceSize: forceSize,
                 processing: global.processing)
  }
}

/// Parsing helpers: the core throws usage errors for bad values, the CLI turns them into exit 64.
extension Resampling: ExpressibleByArgument {
  public init?(argument: String) { self.init(name: argument) }
  public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension OutputFormat: ExpressibleByArgument {
  public init?(argument: String) { self.init(name: argument) }
  public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension NodataSetting: ExpressibleByArgument {
  public init?(argument: String) { self.init(argument) }
}

/// Wraps a core parse so ArgumentParser reports its message as a usage error.
func parsed<T>(_ body: () throws -> T) throws -> T {
  do { return try body() } catch let error as TesseraError { throw ValidationError(error.message) }
}
