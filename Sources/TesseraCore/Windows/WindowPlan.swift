import GDAL

/// Splits a raster into windows that follow its block layout, so reads hit whole blocks and
/// memory stays at one window whatever the raster's size.
public struct WindowPlan: Sequence {
  public let width: Int, height: Int
  public let windowWidth: Int, windowHeight: Int

  /// - Parameter targetPixels: roughly how many pixels a window holds; windows are whole
  ///   multiples of the block size (striped files get many rows at once).
  public init(width: Int, height: Int, blockWidth: Int, blockHeight: Int, targetPixels: Int = 1 << 20) {
    self.width = width
    self.height = height
    let bw = Swift.max(1, Swift.min(blockWidth, width)), bh = Swift.max(1, Swift.min(blockHeight, height))
    // As many whole blocks across as the target allows, then as many block rows: each block is read once.
    let columns = Swift.max(1, Swift.min(width / bw + (width % bw == 0 ? 0 : 1), Swift.max(1, targetPixels / (bw * bh))))
    windowWidth = Swift.min(width, columns * bw)
    let rows = Swift.max(1, targetPixels / Swift.max(1, windowWidth * bh))
    windowHeight = Swift.min(height, rows * bh)
  }

  public init(band: RasterBand, targetPixels: Int = 1 << 20) {
    let block = band.blockSize
    self.init(width: band.width, height: band.height, blockWidth: block.width, blockHeight: block.height,
              targetPixels: targetPixels)
  }

  public var count: Int {
    guard width > 0, height > 0 else { return 0 }
    return ((width + windowWidth - 1) / windowWidth) * ((height + windowHeight - 1) / windowHeight)
  }

  public func makeIterator() -> AnyIterator<Window> {
    var x = 0, y = 0
    return AnyIterator {
      guard width > 0, height > 0, y < height else { return nil }
      let window = Window(x: x, y: y, width: Swift.min(windowWidth, width - x), height: Swift.min(windowHeight, height - y))
      x += windowWidth
      if x >= width { x = 0; y += windowHeight }
      return window
    }
  }
}
