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

  public init(context: String, number: Int32 = 1, message: String) {
    self.context = context
    self.number = number
    self.message = message
  }

  /// True when the failure was a user interrupt from a progress callback.
  public var isUserInterrupt: Bool { number == Int32(CPLE_UserInterrupt) }

  public var description: String {
    message.isEmpty ? context : "\(context): \(message)"
  }
}

// MARK: - Capture

/// Collects the messages GDAL emits on this thread while one call runs.
final class ErrorCapture {
  var messages: [GDALMessage] = []
  var failures: [GDALMessage] { messages.filter { $0.severity.rawValue >= GDALMessage.Severity.failure.rawValue } }
}

private func message(_ text: UnsafePointer<CChar>?) -> String {
  guard let text else { return "" }
  return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Receives CPLError while a capture is pushed on this thread's handler stack.
private let captureHandler: CPLErrorHandler = { errClass, number, text in
  guard let context = CPLGetErrorHandlerUserData() else { return }
  let capture = Unmanaged<ErrorCapture>.fromOpaque(context).takeUnretainedValue()
  let severity = GDALMessage.Severity(rawValue: Int(errClass.rawValue)) ?? .failure
  if severity == .debug {
    // CPL_DEBUG output keeps going to stderr as GDAL would print it.
    FileHandle.standardError.write(Data((message(text) + "\n").utf8))
    return
  }
  let entry = GDALMessage(severity: severity, number: number, message: message(text))
  capture.messages.append(entry)
  if severity == .warning { GDALWarnings.shared.record(entry.message) }
}

/// Receives CPLError from threads with no capture pushed (GDAL's worker threads).
private let strayHandler: CPLErrorHandler = { errClass, number, text in
  let severity = GDALMessage.Severity(rawValue: Int(errClass.rawValue)) ?? .failure
  switch severity {
  case .debug:
    FileHandle.standardError.write(Data((message(text) + "\n").utf8))
  case .warning:
    GDALWarnings.shared.record(message(text))
  case .failure, .fatal:
    // A worker thread's failure normally fails the call that started it too; say it anyway.
    GDALWarnings.shared.record("GDAL worker: " + message(text))
  }
}

func installStrayErrorHandler() {
  CPLSetErrorHandler(strayHandler)
}

/// Runs GDAL calls with CPLError captured on this thread.
public enum GDALCall {
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

  /// Runs a call that returns a handle; nil becomes a thrown `GDALError` with GDAL's message.
  public static func handle<T>(_ context: @autoclosure () -> String, _ body: () -> T?) throws -> T {
    let (value, messages) = capturing(body)
    if let value { return value }
    throw error(context(), messages)
  }

  /// Runs a call that returns CPLErr; anything but CE_None becomes a thrown `GDALError`.
  public static func check(_ context: @autoclosure () -> String, _ body: () -> CPLErr) throws {
    let (value, messages) = capturing(body)
    if value == CE_None { return }
    throw error(context(), messages)
  }

  /// Runs a call that has no status of its own (GDALClose, GDALFlushCache in GDAL 3.6):
  /// any CE_Failure it reported is thrown.
  public static func run<T>(_ context: @autoclosure () -> String, _ body: () -> T) throws -> T {
    let (value, messages) = capturing(body)
    if messages.contains(where: { $0.severity.rawValue >= GDALMessage.Severity.failure.rawValue }) {
      throw error(context(), messages)
    }
    return value
  }

  static func error(_ context: String, _ messages: [GDALMessage]) -> GDALError {
    // The last failure usually says most; a user interrupt wins because it explains the rest.
    let failures = messages.filter { $0.severity.rawValue >= GDALMessage.Severity.failure.rawValue }
    if let interrupt = failures.first(where: { $0.number == Int32(CPLE_UserInterrupt) }) {
      return GDALError(context: context, number: interrupt.number, message: interrupt.message)
    }
    if let last = failures.last {
      return GDALError(context: context, number: last.number, message: last.message)
    }
    let lastText = message(CPLGetLastErrorMsg())
    return GDALError(context: context, number: Int32(CPLGetLastErrorNo()), message: lastText)
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
