import ArgumentParser
import Foundation
import TesseraCore

struct QuicklookCommand: ParsableCommand, HelpExamples {
  static let configuration = CommandConfiguration(
    commandName: "quicklook",
    abstract: "A coloured preview of a raster: PNG, JPEG or WebP.",
    discussion: """
      Reads at the preview's size only (overviews when the raster has them), so a preview of a huge \
      raster takes about the time of reading its overview. Three bands are drawn as red, green and blue, \
      each stretched (p2,p98 by default; --stretch-joint for one range); one band through a colour map \
      (\(Colormap.names)). A band with a colour table keeps its colours, a Sentinel-2 SCL band gets the \
      SCL colours, --categorical gives classes distinct colours, --color-table FILE your own. Nodata is \
      transparent unless --nodata-color says otherwise (JPEG: black). --json reports the stretch used. \
      -b takes the three bands drawn as red, green and blue (default 1,2,3 when there are three or \
      more), or the one band drawn through the colour map.
      """)

  static let examples = [
    "tessera quicklook scene.tif scene.png -b 4,3,2 --stretch-joint",
    "tessera quicklook ndvi.tif ndvi.png -b 1 --colormap rdylgn --stretch -1,1 --legend",
    "tessera quicklook classes.tif classes.png --categorical -r mode",
  ]

  @Argument(help: "The raster.") var input: String
  @OptionGroup var output: OutputArgument
  @OptionGroup var bands: BandOption
  @OptionGroup var render: RenderOptionGroup
  @Flag(help: "Replace the output if it exists.") var overwrite = false
  @OptionGroup var global: GlobalOptions

  func validate() throws { try RenderOptionGroup.requireDrawable(bands.numbers()) }

  func run() throws {
    try CommandRunner("quicklook", global).run { runner in
      let request = QuicklookRequest(input: input, output: OutputSpec.ownFile(path: output.path, overwrite: overwrite),
                                     options: try render.options(bands: bands.numbers()), resources: global.resources)
      return try runner.perform { try Quicklook.run(request, progress: $0) }
    }
  }
}
