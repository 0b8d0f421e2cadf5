import CGDAL
import Foundation

/// One message GDAL emitted through CPLError.
public struct GDALMessage: Equatable, Sendable, CustomStringConvertible {
  public enum Severity: Int, Sendable {
    case debug = 1, warning = 2, failure = 3, fatal = 4
  }
  public let severity: Severity
  /// CPLErrorNum: CPLE_OpenFailed, CPLE_FileIO, CPLE_UserInterrupt, ...
  public let number: Int32
  public let message: String

  public init(severity: Severity, number: Int32, message: String) {
    self.severity = severity
    self.number = number
    self.message = message
  }

  public var description: String { message }
}

/// A GDAL call that failed, carrying GDAL's own words.
public struct GDALError: Error, Equatable, Sendable, CustomStringConvertible {
  /// What Tessera was doing, e.g. "opening a.tif".
  public let context: String
  public let number: Int32
  public let message: String
  /// The name of the dataset the failing call was made on, when it was made on one (a read,
  /// a write, a flush or a close); nil for calls that involve several (warp, translate, copy).
  /// It says whose fault a failure is without reading GDAL's wording.
  public var dataset: String?

  public init(context: String, number: Int32 = 1, message: String, dataset: String? = nil) {
    self.context = context
    self.number = number
    self.message = message
    self.dataset = dataset
  }

  /// Out of memory, as GDAL says it (CPLE_OutOfMemory).
  public var isOutOfMemory: Bool { number == Int32(CPLE_OutOfMemory) }

  /// A file GDAL needed could not be opened (CPLE_OpenFailed): a VRT's missing source, say.
  public var isOpenFailure: Bool { number == Int32(CPLE_OpenFailed) }

  /// True when the failure was a user interrupt from a progress callback.
  public var isUserInterrupt: Bool { number == Int32(CPLE_UserInterrupt) }

  /// The error GDAL reports when a progress callback cancels, for Tessera's own loops that
  /// stop the same way.
  public static func userInterrupt(context: String) -> GDALError {
    GDALError(context: context, number: Int32(CPLE_UserInterrupt), message: "interrupted")
  }

  public var description: String {
    message.isEmpty ? context : "\(context): \(message)"
  }
}

// MARK: - Capture

/// Collects the messages GDAL emits on this thread while one call runs.
final class ErrorCapture {
  var messages: [GDALMessage] = []
  /// False inside `GDALProbe.run`: the warnings stay with the call, never reach the user.
  let showsWarnings = !GDALProbe.isActive
}

/// Internal looks at how GDAL would lay out a job (a warped VRT made only for its size or
/// pixel size). GDAL's warnings from them are about the probe, not the user's command (a VRT
/// of several warped sources "just takes into account the first source dataset" while the real
/// job holds every input), so they are kept from `GDALWarnings`; failures still throw.
public enum GDALProbe {
  private static let key = "tessera.gdal-probe"

  /// Runs `body` with GDAL's warnings on this thread dropped.
  public static func run<T>(_ body: () throws -> T) rethrows -> T {
    let dictionary = Thread.current.threadDictionary
    let outer = dictionary[key] as? Bool ?? false
    dictionary[key] = true
    defer { dictionary[key] = outer }
    return try body()
  }

  static var isActive: Bool { Thread.current.threadDictionary[key] as? Bool ?? false }
}

private func message(_ text: UnsafePointer<CChar>?) -> String {
  guard let text else { return "" }
  return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// PROJ's own words for a coordinate it cannot transform (its PROJ_ERR_COORD_TRANSFM class):
/// a point outside a projection's domain, outside a grid. GDAL reports each as a failure, yet
/// warping a raster whose footprint leaves the target projection's domain is normal, and the
/// warp (like gdalwarp's) succeeds with those pixels empty. They say nothing about the data.
private let coordinateFailures: Set<String> = {
  var messages = Set<String>()
  for code in Int32(PROJ_ERR_COORD_TRANSFM)..<Int32(PROJ_ERR_COORD_TRANSFM + 32) {
    if let text = proj_context_errno_string(nil, code) { messages.insert(String(cString: text)) }
  }
  return messages
}()

/// Whether a failure is only a coordinate that could not be transformed (see above), also in
/// GDAL's wrapping of it.
func isCoordinateFailure(_ text: String) -> Bool {
  coordinateFailures.contains(text) || text.hasPrefix("Reprojection failed, err = ")
}

/// Receives CPLError while a capture is pushed on this thread's handler stack.
private let captureHandler: CPLErrorHandler = { errClass, number, text in
  SystemLimits.note(errno)
  guard let context = CPLGetErrorHandlerUserData() else { return }
  let capture = Unmanaged<ErrorCapture>.fromOpaque(context).takeUnretainedValue()
  let severity = GDALMessage.Severity(rawValue: Int(errClass.rawValue)) ?? .failure
  if severity == .failure, isCoordinateFailure(message(text)) { return }
  if severity == .debug {
    // CPL_DEBUG output keeps going to stderr as GDAL would print it.
    StandardStreams.write(message(text) + "\n", to: STDERR_FILENO)
    return
  }
  let entry = GDALMessage(severity: severity, number: number, message: message(text))
  capture.messages.append(entry)
  if severity == .warning, capture.showsWarnings { GDALWarnings.shared.record(entry.message) }
}

/// Receives CPLError where no capture is pushed: GDAL's worker threads (warping, overviews,
/// decompression), and calls on this thread that have no status of their own (property reads
/// that make a driver scan a file).
private let strayHandler: CPLErrorHandler = { errClass, number, text in
  SystemLimits.note(errno)
  let severity = GDALMessage.Severity(rawValue: Int(errClass.rawValue)) ?? .failure
  if severity == .failure, isCoordinateFailure(message(text)) { return }
  switch severity {
  case .debug:
    StandardStreams.write(message(text) + "\n", to: STDERR_FILENO)
  case .warning:
    GDALWarnings.shared.record(message(text))
  case .failure, .fatal:
    // Such a failure often leaves no trace in the status of the call that caused it (a block
    // that a worker could not read arrives as zeros), so it is kept for the operation to fail on.
    let entry = GDALMessage(severity: severity, number: number, message: message(text))
    if severity == .failure, ThreadedDecodeCheck.isHeaderFailure(entry.message) {
      // Only on a worker thread: GDAL 3.6's decode jobs run there (see ThreadedDecodeCheck).
      GDALFailures.shared.recordSuspect(entry)
    } else {
      GDALFailures.shared.record(entry)
    }
  }
}

func installStrayErrorHandler() {
  CPLSetErrorHandler(strayHandler)
}

/// Runs GDAL calls with CPLError captured on this thread.
enum GDALCall {
  /// Runs `body` and returns its value with the messages GDAL emitted meanwhile.
  static func capturing<T>(_ body: () throws -> T) rethrows -> (value: T, messages: [GDALMessage]) {
    GDALEnvironment.bootstrap()
    let capture = ErrorCapture()
    let unmanaged = Unmanaged.passRetained(capture)
    CPLPushErrorHandlerEx(captureHandler, unmanaged.toOpaque())
    defer {
      CPLPopErrorHandler()
      unmanaged.release()
    }
    CPLErrorReset()
    let value = try body()
    return (value, capture.messages)
  }

  // A failure GDAL reports fails the call even when the call returns success: GDAL 3.6's
  // multi-threaded GTiff reader reports a block it could not read and returns CE_None with
  // zeros in its place. Data that could not be read must never pass for data.

  /// Runs a call that returns a handle; nil, or any failure reported, becomes a thrown
  /// `GDALError` with GDAL's message (a handle returned with a failure is released by `release`).
  static func handle<T>(
    _ context: @autoclosure () -> String, dataset: String? = nil, release: ((T) -> Void)? = nil, _ body: () -> T?
  ) throws -> T {
    let mark = GDALFailures.shared.mark
    let (value, messages) = capturing(body)
    if let value, !messages.contains(where: \.isFailure) { return value }
    if let value { release?(value) }
    throw error(context(), messages, dataset: dataset, strays: mark)
  }

  /// Runs a call that returns CPLErr; anything but CE_None, or any failure reported, becomes a
  /// thrown `GDALError`.
  static func check(_ context: @autoclosure () -> String, dataset: String? = nil, _ body: () -> CPLErr) throws {
    let mark = GDALFailures.shared.mark
    let (value, messages) = capturing(body)
    if value == CE_None, !messages.contains(where: \.isFailure) { return }
    throw error(context(), messages, dataset: dataset, strays: mark)
  }

  /// Runs a call that has no status of its own (GDALClose, GDALFlushCache in GDAL 3.6):
  /// any CE_Failure it reported is thrown.
  static func run<T>(_ context: @autoclosure () -> String, dataset: String? = nil, _ body: () -> T) throws -> T {
    let (value, messages) = capturing(body)
    if messages.contains(where: \.isFailure) { throw error(context(), messages, dataset: dataset) }
    return value
  }

  /// The error of a failed call; with `strays`, a call that failed without a word on this
  /// thread takes the first failure a worker reported since (GDAL 3.6's threaded decoder
  /// reports a block it could not decode on its own thread, then fails the read silently).
  static func error(
    _ context: String, _ messages: [GDALMessage], dataset: String? = nil, strays: GDALFailures.Mark? = nil
  ) -> GDALError {
    // The last failure usually says most; a user interrupt wins because it explains the rest.
    let failures = messages.filter(\.isFailure)
    if let interrupt = failures.first(where: { $0.number == Int32(CPLE_UserInterrupt) }) {
      return GDALError(context: context, number: interrupt.number, message: interrupt.message, dataset: dataset)
    }
    if let last = failures.last {
      return GDALError(context: context, number: last.number, message: last.message, dataset: dataset)
    }
    let lastText = message(CPLGetLastErrorMsg())
    if lastText.isEmpty, let strays, let stray = GDALFailures.shared.first(since: strays) {
      return GDALError(context: context, number: stray.number, message: stray.message, dataset: dataset)
    }
    return GDALError(context: context, number: Int32(CPLGetLastErrorNo()), message: lastText, dataset: dataset)
  }
}

extension GDALMessage {
  var isFailure: Bool { severity.rawValue >= Severity.failure.rawValue }
}

// MARK: - Failures outside a call

/// Failures GDAL reported where no call was waiting for them (see `strayHandler`), in order.
/// An operation takes a `mark` when it starts and fails if any arrived since.
///
/// Suspects are kept apart: failures of one kind known to be spurious when the data proves it
/// (`ThreadedDecodeCheck`). They fail an operation too, unless that proof succeeds.
public final class GDALFailures: @unchecked Sendable {
  public static let shared = GDALFailures()
  private let lock = NSLock()
  private var items: [GDALMessage] = []
  /// The sequence number of `items[0]`: old failures are dropped, the count goes on.
  private var base = 0
  /// Suspects are only counted (a decode reports one per block), and the latest kept.
  private var suspectCount = 0
  private var lastSuspect: GDALMessage?

  /// A position in both sequences, to compare with later.
  public struct Mark: Sendable, Equatable {
    let failures: Int
    let suspects: Int
  }

  func record(_ message: GDALMessage) {
    lock.lock(); defer { lock.unlock() }
    // Kept bounded: a damaged file can fail on every block.
    if items.count >= 256 {
      items.removeFirst(128)
      base += 128
    }
    items.append(message)
  }

  func recordSuspect(_ message: GDALMessage) {
    lock.lock(); defer { lock.unlock() }
    suspectCount += 1
    lastSuspect = message
  }

  public var mark: Mark {
    lock.lock(); defer { lock.unlock() }
    return Mark(failures: base + items.count, suspects: suspectCount)
  }

  /// The first failure reported after `mark`, if any (suspects aside).
  public func first(since mark: Mark) -> GDALMessage? {
    lock.lock(); defer { lock.unlock() }
    guard base + items.count > mark.failures else { return nil }
    return items[Swift.max(0, mark.failures - base)]
  }

  /// The latest suspect reported after `mark`, if any.
  func suspect(since mark: Mark) -> GDALMessage? {
    lock.lock(); defer { lock.unlock() }
    return suspectCount > mark.suspects ? lastSuspect : nil
  }

  /// Throws the first failure reported since `mark` as a `GDALError`; suspects since `mark`
  /// are thrown too unless `ThreadedDecodeCheck` proves them spurious.
  public func check(since mark: Mark, context: @autoclosure () -> String, dataset: String? = nil) throws {
    if let failure = first(since: mark) {
      throw GDALError(context: context(), number: failure.number, message: failure.message, dataset: dataset)
    }
    guard let suspect = suspect(since: mark) else { return }
    try ThreadedDecodeCheck.verify(suspect, context: context(), dataset: dataset)
  }
}

// MARK: - Warnings

/// Warnings GDAL emitted during the run, in order, for the CLI to show as `warning: …`.
public final class GDALWarnings: @unchecked Sendable {
  public static let shared = GDALWarnings()
  private let lock = NSLock()
  private var items: [String] = []

  public func record(_ text: String) {
    lock.lock(); defer { lock.unlock() }
    // GDAL repeats some warnings per block; one of each is enough.
    if !items.contains(text) { items.append(text) }
  }

  /// All warnings so far, without removing them.
  public var all: [String] {
    lock.lock(); defer { lock.unlock() }
    return items
  }

  public func reset() {
    lock.lock(); defer { lock.unlock() }
    items.removeAll()
  }
}
