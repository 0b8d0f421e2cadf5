import Foundation

/// Crashes on purpose, for Tessera's own tests of the crash cleanup: with TESSERA_TEST_HOOKS=1
/// and TESSERA_TEST_CRASH=POINT:KIND (KIND segv, bus, fpe, abort, trap or stack), the process
/// dies at POINT as a real fault would. No user meets it.
enum CrashTestHook {
  static func trigger(_ point: String) {
    let environment = ProcessInfo.processInfo.environment
    guard environment["TESSERA_TEST_HOOKS"] == "1", let spec = environment["TESSERA_TEST_CRASH"], spec.hasPrefix(point + ":") else { return }
    switch spec.dropFirst(point.count + 1) {
    case "segv": raise(SIGSEGV)
    case "bus": raise(SIGBUS)
    case "fpe": raise(SIGFPE)
    case "abort": abort()
    case "trap": fatalError("crashing on purpose at \(point)")
    case "stack": _ = overflow(0)
    default: return
    }
  }

  /// Recurses until the stack is gone.
  @inline(never)
  private static func overflow(_ depth: Int) -> Int {
    var frame = [Int](repeating: depth, count: 64)
    return frame.withUnsafeMutableBufferPointer { buffer in
      withUnsafeTemporaryAllocation(of: Int.self, capacity: 512) { local in
        local.initialize(repeating: depth)
        return overflow(depth + 1) &+ buffer[0] &+ local[511]
      }
    }
  }
}
