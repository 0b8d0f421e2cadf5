import Foundation
import GDAL

/// Processes windows of an output on several threads and writes them in order.
///
/// Each worker makes its own state once (its own GDAL handles: a handle is never shared between
/// threads), takes the next window not yet taken, computes it into its own buffer, then waits its
/// turn to write. Writes therefore reach the output in raster order, one at a time, so the file's
/// bytes do not depend on the thread count, and memory holds at most one window per worker.
/// Compositors use it through `WindowedWriter`.
///
/// Windows are taken, not dealt out in advance: Dispatch runs no more workers at once than there
/// are cores, and a worker waiting for a window dealt to one that has not started would wait for
/// ever. A window taken is always being computed, so the earliest one unwritten is never waiting.
struct WindowPipeline {
  var windows: [Window]
  var workers: Int
  /// Whole rows of output blocks, about `targetBytes` each, so each output block is written once.
  /// A row of blocks too wide for that (more than four times `targetBytes`) is cut into runs of
  /// whole blocks, unless `wholeRows` is asked for (a consumer that hashes rows in order): then
  /// memory is one block row per worker, however wide.
  static func rows(of output: Dataset, bytesPerPixel: Int, targetBytes: Int = 1 << 22, wholeRows: Bool = false) throws -> [Window] {
    let block = try output.band(1).blockSize
    let perRow = Swift.max(1, output.width * bytesPerPixel)
    let blockHeight = Swift.max(1, Swift.min(block.height, output.height))
    if !wholeRows, perRow * blockHeight > 4 * targetBytes {
      let blockWidth = Swift.max(1, Swift.min(block.width, output.width))
      let blocksAcross = Swift.max(1, targetBytes / Swift.max(1, blockWidth * blockHeight * bytesPerPixel))
      let step = blocksAcross * blockWidth
      var windows: [Window] = []
      for y in stride(from: 0, to: output.height, by: blockHeight) {
        for x in stride(from: 0, to: output.width, by: step) {
          windows.append(Window(x: x, y: y, width: Swift.min(step, output.width - x), height: Swift.min(blockHeight, output.height - y)))
        }
      }
      return windows
    }
    let rows = Swift.max(block.height, (targetBytes / perRow) / block.height * block.height)
    return stride(from: 0, to: output.height, by: rows).map {
      Window(x: 0, y: $0, width: output.width, height: Swift.min(rows, output.height - $0))
    }
  }

  /// - Parameters:
  ///   - makeState: opens what one worker needs (called on the worker's thread).
  ///   - compute: fills the worker's buffer for a window (runs concurrently with other workers).
  ///   - write: writes a computed window (runs alone, in window order).
  ///   - finish: hands back worker `i`'s state when it has no more windows (on its thread).
  func run<State>(
    makeState: () throws -> State,
    compute: (inout State, Window) throws -> Void,
    write: (inout State, Window) throws -> Void,
    progress: ProgressHandler?,
    finish: (Int, inout State) -> Void
  ) throws {
    let count = windows.count
    let workerCount = Swift.max(1, Swift.min(workers, count))
    let turn = NSCondition()
    var nextToTake = 0, nextToWrite = 0
    var failure: Error?

    let failed = { (error: Error) in turn.lock(); failure = failure ?? error; turn.broadcast(); turn.unlock() }
    WindowPipeline.onWorkers(workerCount, makeState: makeState, failed: failed, finish: finish) { _, state in
      while true {
        turn.lock()
        let index = nextToTake
        nextToTake += 1
        let done = index >= count || failure != nil
        turn.unlock()
        if done { return }
        let window = windows[index]
        var computeError: Error?
        do { try compute(&state, window) } catch { computeError = error }
        turn.lock()
        while nextToWrite != index && failure == nil { turn.wait() }
        if failure == nil {
          failure = computeError ?? WindowPipeline.write(window, &state, write, done: index + 1, of: count, progress: progress)
        }
        nextToWrite += 1
        turn.broadcast()
        let stop = failure != nil
        turn.unlock()
        if stop { return }
      }
    }
    if let failure { throw failure }
  }

  /// Runs `body` on `count` threads, each with a state of its own made on its thread and handed
  /// to `finish` at the end; a state that cannot be made goes to `failed` instead.
  private static func onWorkers<State>(
    _ count: Int, makeState: () throws -> State, failed: (Error) -> Void, finish: (Int, inout State) -> Void,
    _ body: (Int, inout State) -> Void
  ) {
    DispatchQueue.concurrentPerform(iterations: count) { worker in
      // The workers are the parallelism: a GTiff read must not also fan its decoding out to
      // GDAL's global thread pool. When the block cache is full, a decoding job on a pool thread
      // can have to flush the output's dirty blocks, whose compression waits for the same pool
      // — with every pool thread so occupied, GDAL 3.6 deadlocks. Reads on the worker's own
      // thread leave the pool to the output's compression.
      GDALEnvironment.withConfig(["GDAL_NUM_THREADS": "1"]) {
        var state: State
        do {
          state = try makeState()
        } catch {
          failed(error)
          return
        }
        defer { finish(worker, &state) }
        body(worker, &state)
      }
    }
  }

  /// Writes one computed window and reports progress; the error that stops the run, if any
  /// (a cancelled progress is a user interrupt).
  private static func write<State>(
    _ window: Window, _ state: inout State, _ write: (inout State, Window) throws -> Void, done: Int, of count: Int,
    progress: ProgressHandler?
  ) -> Error? {
    do {
      try write(&state, window)
    } catch {
      return error
    }
    if let progress, !progress(Double(done) / Double(count), nil) { return GDALError.userInterrupt(context: "writing") }
    return nil
  }
}
