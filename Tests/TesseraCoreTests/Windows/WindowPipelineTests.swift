import Foundation
import GDAL
import XCTest
@testable import TesseraCore

final class WindowPipelineTests: XCTestCase {
  /// More workers than cores: Dispatch starts some only when others end, and the run must still
  /// finish, with every window written once, in order.
  func testMoreWorkersThanCoresWriteEveryWindowInOrder() throws {
    let windows = (0..<40).map { Window(x: 0, y: $0, width: 5, height: 1) }
    let pipeline = WindowPipeline(windows: windows, workers: ProcessInfo.processInfo.activeProcessorCount + 3)
    let done = expectation(description: "pipeline finished")
    let record = Record()
    Thread {
      do {
        try pipeline.run(
          makeState: { -1 },
          compute: { state, window in state = window.y },
          write: { state, _ in record.add(state) },
          progress: nil,
          finish: { _, _ in })
      } catch {
        record.fail(error)
      }
      done.fulfill()
    }.start()
    wait(for: [done], timeout: 60)
    XCTAssertNil(record.failure)
    XCTAssertEqual(record.written, Array(0..<40))
  }

  private final class Record: @unchecked Sendable {
    private let lock = NSLock()
    private var rows: [Int] = []
    private var error: Error?

    func add(_ row: Int) { lock.lock(); rows.append(row); lock.unlock() }
    func fail(_ error: Error) { lock.lock(); self.error = error; lock.unlock() }
    var written: [Int] { lock.lock(); defer { lock.unlock() }; return rows }
    var failure: Error? { lock.lock(); defer { lock.unlock() }; return error }
  }
}
