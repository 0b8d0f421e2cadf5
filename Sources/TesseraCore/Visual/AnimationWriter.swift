import CGIF
import Foundation
import GDAL

/// Where a timelapse's frames go, one at a time.
protocol AnimationWriter {
  /// Appends a frame (RGBA, row by row) shown for `delay` seconds.
  func add(_ pixels: [UInt8], delay: Double) throws
  func finish() throws
}

/// An animated GIF through giflib: a palette per frame (the frame's own colours when they fit
/// in 256, else a median cut), a transparent index for nodata, the NETSCAPE2.0 extension that
/// loops forever, and each frame's delay in a graphic control extension.
final class GIFWriter: AnimationWriter {
  private var file: UnsafeMutablePointer<GifFileType>?
  private let width: Int, height: Int
  private let path: String

  init(path: String, width: Int, height: Int) throws {
    self.path = path
    self.width = width
    self.height = height
    var error: Int32 = 0
    guard let file = EGifOpenFileName(path, false, &error) else {
      // The system refusing a descriptor is not the output's fault (71, not 73).
      let code = errno
      SystemLimits.note(code)
      if let refusal = SystemLimits.refusal(code) { throw TesseraError(.osError, "\(refusal): cannot create \(path)") }
      throw TesseraError(.cannotCreate, "cannot create \(path): \(GIFWriter.message(error))")
    }
    self.file = file
    EGifSetGifVersion(file, true)
    try check(EGifPutScreenDesc(file, Int32(width), Int32(height), 8, 0, nil))
    // Loop forever: NETSCAPE2.0, sub-block 1, loop count 0.
    try check(EGifPutExtensionLeader(file, APPLICATION_EXT_FUNC_CODE))
    var name = Array("NETSCAPE2.0".utf8)
    try check(EGifPutExtensionBlock(file, 11, &name))
    var loop: [UInt8] = [1, 0, 0]
    try check(EGifPutExtensionBlock(file, 3, &loop))
    try check(EGifPutExtensionTrailer(file))
  }

  deinit {
    if let file { var error: Int32 = 0; EGifCloseFile(file, &error) }
  }

  func add(_ pixels: [UInt8], delay: Double) throws {
    guard let file else { return }
    let palette = Palette(rgba: pixels)
    var control = GraphicsControlBlock()
    control.DisposalMode = Int32(DISPOSE_BACKGROUND)
    control.UserInputFlag = false
    control.DelayTime = Int32(saturating: delay * 100, rounding: .toNearestOrAwayFromZero)
    control.TransparentColor = palette.transparent.map { Int32($0) } ?? Int32(NO_TRANSPARENT_COLOR)
    var extensionBytes = [UInt8](repeating: 0, count: 4)
    _ = EGifGCBToExtension(&control, &extensionBytes)
    try check(EGifPutExtension(file, GRAPHICS_EXT_FUNC_CODE, 4, &extensionBytes))
    var colors = (0..<256).map { index -> GifColorType in
      let c = index < palette.colors.count ? palette.colors[index] : RGBA(0, 0, 0)
      return GifColorType(Red: c.r, Green: c.g, Blue: c.b)
    }
    guard let map = GifMakeMapObject(256, &colors) else { throw TesseraError(.internalError, "giflib: no colour map") }
    defer { GifFreeMapObject(map) }
    try check(EGifPutImageDesc(file, 0, 0, Int32(width), Int32(height), false, map))
    var indices = palette.indices
    try indices.withUnsafeMutableBufferPointer { buffer in
      for row in 0..<height {
        try check(EGifPutLine(file, buffer.baseAddress! + row * width, Int32(width)))
      }
    }
  }

  func finish() throws {
    guard let file else { return }
    self.file = nil
    var error: Int32 = 0
    if EGifCloseFile(file, &error) != GIF_OK {
      throw TesseraError(.ioError, "writing \(path) failed: \(GIFWriter.message(error))")
    }
  }

  private func check(_ status: Int32) throws {
    guard status == GIF_OK else {
      let code = file?.pointee.Error ?? 0
      throw TesseraError(.ioError, "writing \(path) failed: \(GIFWriter.message(code))")
    }
  }

  /// A frame's delay in the GIF's unit, hundredths of a second in 16 bits: exit 64 when --fps
  /// asks for frames longer than 655.35 s.
  static func delay(fps: Double) throws -> UInt16 {
    guard let centiseconds = UInt16(checked: 100 / fps, rounding: .toNearestOrAwayFromZero) else {
      throw TesseraError(.usage, "--fps \(fps): a GIF frame lasts at most 655.35 s, so --fps is at least 0.0016")
    }
    return centiseconds
  }

  static func message(_ code: Int32) -> String {
    if let text = GifErrorString(code) { return String(cString: text) + (errno != 0 ? " (\(String(cString: strerror(errno))))" : "") }
    return "giflib error \(code)"
  }
}

/// The colours of one frame as a GIF palette of at most 256 entries.
struct Palette {
  var colors: [RGBA] = []
  var indices: [UInt8]
  var transparent: Int?

  /// Exact when the frame's opaque colours (plus a transparent entry if any pixel is
  /// transparent) fit in 256; otherwise a median cut of its colours on 5 bits a channel.
  init(rgba pixels: [UInt8]) {
    let count = pixels.count / 4
    indices = [UInt8](repeating: 0, count: count)
    var hasTransparent = false
    var exact: [UInt32: Int] = [:]
    var fits = true
    for i in 0..<count {
      if pixels[4 * i + 3] < 128 { hasTransparent = true; continue }
      let key = UInt32(pixels[4 * i]) << 16 | UInt32(pixels[4 * i + 1]) << 8 | UInt32(pixels[4 * i + 2])
      if exact[key] == nil {
        if exact.count >= 256 { fits = false; break }
        exact[key] = exact.count
      }
    }
    let room = hasTransparent ? 255 : 256
    if fits && exact.count <= room {
      colors = [RGBA](repeating: RGBA(0, 0, 0), count: exact.count)
      for (key, index) in exact { colors[index] = RGBA(UInt8(key >> 16), UInt8(key >> 8 & 0xff), UInt8(key & 0xff)) }
      if hasTransparent { transparent = colors.count; colors.append(RGBA(0, 0, 0)) }
      for i in 0..<count {
        if pixels[4 * i + 3] < 128 { indices[i] = UInt8(transparent!); continue }
        let key = UInt32(pixels[4 * i]) << 16 | UInt32(pixels[4 * i + 1]) << 8 | UInt32(pixels[4 * i + 2])
        indices[i] = UInt8(exact[key]!)
      }
      return
    }
    // Median cut over a 32 x 32 x 32 histogram.
    var histogram = [Int](repeating: 0, count: 32768)
    for i in 0..<count where pixels[4 * i + 3] >= 128 {
      histogram[Int(pixels[4 * i] >> 3) << 10 | Int(pixels[4 * i + 1] >> 3) << 5 | Int(pixels[4 * i + 2] >> 3)] += 1
    }
    var boxes = [Array(histogram.indices.filter { histogram[$0] > 0 })]
    func channel(_ cell: Int, _ c: Int) -> Int { (cell >> (10 - 5 * c)) & 31 }
    while boxes.count < room {
      // Split the box with the widest channel range (weighted by its pixels).
      var best = -1, bestChannel = 0, bestScore = 0
      for (index, box) in boxes.enumerated() where box.count > 1 {
        for c in 0..<3 {
          let values = box.map { channel($0, c) }
          let spread = (values.max()! - values.min()!) * box.reduce(0) { $0 + histogram[$1] }
          if spread > bestScore { bestScore = spread; best = index; bestChannel = c }
        }
      }
      guard best >= 0 else { break }
      let sorted = boxes[best].sorted { channel($0, bestChannel) < channel($1, bestChannel) }
      let total = sorted.reduce(0) { $0 + histogram[$1] }
      var running = 0, cut = 1
      for (position, cell) in sorted.enumerated() {
        running += histogram[cell]
        if running * 2 >= total { cut = max(1, min(sorted.count - 1, position + 1)); break }
      }
      boxes[best] = Array(sorted[..<cut])
      boxes.append(Array(sorted[cut...]))
    }
    var lookup = [UInt8](repeating: 0, count: 32768)
    for (index, box) in boxes.enumerated() {
      var r = 0, g = 0, b = 0, n = 0
      for cell in box {
        let weight = histogram[cell]
        r += (channel(cell, 0) * 8 + 4) * weight; g += (channel(cell, 1) * 8 + 4) * weight; b += (channel(cell, 2) * 8 + 4) * weight
        n += weight
        lookup[cell] = UInt8(index)
      }
      n = max(1, n)
      colors.append(RGBA(UInt8(r / n), UInt8(g / n), UInt8(b / n)))
    }
    if hasTransparent { transparent = colors.count; colors.append(RGBA(0, 0, 0)) }
    for i in 0..<count {
      if pixels[4 * i + 3] < 128 { indices[i] = UInt8(transparent!); continue }
      indices[i] = lookup[Int(pixels[4 * i] >> 3) << 10 | Int(pixels[4 * i + 1] >> 3) << 5 | Int(pixels[4 * i + 2] >> 3)]
    }
  }
}

/// An H.264 MP4 through ffmpeg: frames piped as raw RGB (nodata in its colour, black when it is
/// transparent), padded to even dimensions, yuv420p so every player shows it. ffmpeg's exit
/// status alone is not trusted (5.1 exits 0 after a short write on a full disk): any error it
/// prints, or a file whose boxes do not add up to its size or hold fewer frames than were sent,
/// fails the write.
final class MP4Writer: AnimationWriter {
  private let process: ChildProcess
  private let input: Int32
  private let errorPath: String
  private let path: String
  private let width: Int, height: Int
  private var sent = 0
  private var finished = false

  /// ffmpeg on the PATH, or nil.
  static var ffmpeg: String? {
    for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
      let candidate = String(folder) + "/ffmpeg"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }

  init(path: String, width: Int, height: Int, fps: Double, scratch: String) throws {
    guard let ffmpeg = MP4Writer.ffmpeg else {
      throw TesseraError(.unavailable, "writing MP4 needs ffmpeg, which is not on the PATH (Debian: apt-get install ffmpeg), or write a .gif")
    }
    self.path = path
    self.width = width
    self.height = height
    errorPath = scratch
    var ends: [Int32] = [-1, -1]
    guard pipe(&ends) == 0 else {
      throw TesseraError(.osError, "cannot make a pipe to ffmpeg: \(String(cString: strerror(errno)))")
    }
    // Not inherited by the batch jobs or other helpers started meanwhile.
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    input = ends[1]
    defer { close(ends[0]) }
    // -xerror: stop at the first error instead of carrying on to a damaged file.
    let arguments = ["-hide_banner", "-loglevel", "error", "-xerror", "-nostdin", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
                     "-s", "\(width)x\(height)", "-framerate", String(fps), "-i", "pipe:0",
                     "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                     "-movflags", "+faststart", "-f", "mp4", path]
    do {
      // SIGXFSZ is reset to its default in ffmpeg: past `ulimit -f` it dies by the signal
      // rather than ignoring EFBIG as it would with Tessera's disposition.
      process = try ChildProcess.spawn(executable: ffmpeg, arguments: arguments, environment: ProcessInfo.processInfo.environment,
                                       stderrPath: scratch, standardInput: ends[0], tracked: true)
    } catch {
      close(ends[1])
      throw TesseraError(.unavailable, "cannot start \(ffmpeg): \(error.localizedDescription)")
    }
  }

  deinit {
    if !finished {
      close(input)
      process.send(SIGKILL)
      _ = process.wait()
      unlink(errorPath)
    }
  }

  func add(_ pixels: [UInt8], delay: Double) throws {
    var rgb = [UInt8](repeating: 0, count: width * height * 3)
    for i in 0..<(width * height) where pixels[4 * i + 3] >= 128 {
      rgb[3 * i] = pixels[4 * i]; rgb[3 * i + 1] = pixels[4 * i + 1]; rgb[3 * i + 2] = pixels[4 * i + 2]
    }
    var offset = 0
    while offset < rgb.count {
      let n = rgb.withUnsafeBytes { buffer in buffer.baseAddress.map { write(input, $0 + offset, rgb.count - offset) } ?? -1 }
      if n > 0 { offset += n; continue }
      if n < 0 && errno == EINTR { continue }
      let reason = String(cString: strerror(errno))
      let exit = stop()
      throw TesseraError(.ioError, "ffmpeg stopped taking frames for \(path): \(message(exit) ?? reason)")
    }
    sent += 1
  }

  func finish() throws {
    let exit = stop()
    if let failure = message(exit) {
      throw TesseraError(.ioError, "ffmpeg failed writing \(path): \(failure)")
    }
    if let problem = MP4Check.problem(path: path, frames: sent) {
      let cause = MP4Writer.diskFull(path) ?? "is a file size limit set?"
      throw TesseraError(.ioError, "ffmpeg wrote a damaged \(path) (\(problem)); \(cause)")
    }
  }

  /// Closes the pipe and reaps ffmpeg; what it printed stays readable until `message` runs.
  private func stop() -> ChildProcess.Exit {
    finished = true
    close(input)
    return process.wait()
  }

  /// Why ffmpeg failed: a signal, an exit status, or any error it printed; nil when none.
  private func message(_ exit: ChildProcess.Exit) -> String? {
    defer { unlink(errorPath) }
    let text = ((try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
      .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    if let signal = exit.signal {
      let name = signal == SIGXFSZ ? "SIGXFSZ, past the file size limit (ulimit -f)" : "signal \(signal)"
      return "ended by \(name)"
    }
    if exit.status != 0 || !text.isEmpty {
      return text.last.map { String($0) } ?? MP4Writer.diskFull(path) ?? "exit status \(exit.status ?? -1)"
    }
    return nil
  }

  /// ENOSPC as the parent sees it, when ffmpeg says nothing: the output's file system with
  /// less free than one more frame could take.
  static func diskFull(_ path: String) -> String? {
    var stats = statvfs()
    let folder = (path as NSString).deletingLastPathComponent
    guard statvfs(folder.isEmpty ? "." : folder, &stats) == 0 else { return nil }
    let free = UInt64(stats.f_bavail) * UInt64(stats.f_frsize)
    return free < 1 << 20 ? "no space left on the device (\(free / 1024) KB free)" : nil
  }
}

/// An independent look at an MP4 a helper wrote: its top-level boxes fill the file exactly,
/// it has a `moov` and an `mdat`, and its video track's sample table holds every frame sent.
enum MP4Check {
  static func problem(path: String, frames: Int) -> String? {
    guard let data = FileManager.default.contents(atPath: path) else { return "cannot read it back" }
    let bytes = [UInt8](data)
    guard let top = boxes(bytes, 0, bytes.count) else { return "its boxes do not add up to its \(bytes.count) bytes" }
    guard top.contains(where: { $0.type == "mdat" }), let moov = top.first(where: { $0.type == "moov" }) else {
      return "no moov or mdat box"
    }
    var counts: [Int] = []
    for trak in boxes(bytes, moov.body, moov.end) ?? [] where trak.type == "trak" {
      if let count = sampleCount(bytes, trak) { counts.append(count) }
    }
    guard let count = counts.max() else { return "no sample table" }
    return count == frames ? nil : "\(count) of \(frames) frames"
  }

  struct Box { var type: String; var body: Int; var end: Int }

  /// The boxes from `start` to `end`, or nil when they do not fill it exactly.
  static func boxes(_ bytes: [UInt8], _ start: Int, _ end: Int) -> [Box]? {
    var result: [Box] = []
    var at = start
    while at < end {
      guard end - at >= 8 else { return nil }
      var size = Int(be32(bytes, at)), header = 8
      if size == 1 {
        guard end - at >= 16 else { return nil }
        let big = UInt64(be32(bytes, at + 8)) << 32 | UInt64(be32(bytes, at + 12))
        guard big <= UInt64(Int.max) else { return nil }
        size = Int(big); header = 16
      } else if size == 0 {
        size = end - at
      }
      guard size >= header, size <= end - at else { return nil }
      let type = String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self)
      result.append(Box(type: type, body: at + header, end: at + size))
      at += size
    }
    return result
  }

  /// trak → mdia → minf → stbl → stsz: the number of samples.
  static func sampleCount(_ bytes: [UInt8], _ trak: Box) -> Int? {
    var box = trak
    for name in ["mdia", "minf", "stbl", "stsz"] {
      guard let next = boxes(bytes, box.body, box.end)?.first(where: { $0.type == name }) else { return nil }
      box = next
    }
    guard box.end - box.body >= 12 else { return nil }
    return Int(be32(bytes, box.body + 8))
  }

  static func be32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
  }
}
