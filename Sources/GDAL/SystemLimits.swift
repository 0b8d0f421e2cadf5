import Foundation

/// The operating system's limits on what a process may hold, for telling "the system refused"
/// (exit 71) from "this input is bad": by errno, never by the wording of GDAL's message.
public enum SystemLimits {
  /// The soft limit on open descriptors (`ulimit -n`); nil when unlimited.
  public static var openFiles: Int? {
    var limit = rlimit()
    guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
    return Int(clamping: limit.rlim_cur)
  }

  /// Descriptors open now.
  public static var openDescriptors: Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count).map { Swift.max(0, $0 - 1) } ?? 3
  }

  /// What refused a resource, when `code` (an errno) is one of the system's refusals: "too many
  /// open files (ulimit -n 256)", the system-wide table, or memory; nil for any other error.
  public static func refusal(_ code: Int32) -> String? {
    switch code {
    case EMFILE: return "too many open files (ulimit -n \(openFiles.map(String.init) ?? "unlimited"))"
    case ENFILE: return "too many open files in the system (the kernel's file table is full)"
    case ENOMEM: return "out of memory"
    default: return nil
    }
  }

  // MARK: - Refusals seen

  private static let lock = NSLock()
  nonisolated(unsafe) private static var seen: Int32 = 0

  /// Records `code` (the errno when GDAL reported an error) if it is the system refusing a
  /// descriptor: GDAL, PROJ and SQLite report such a failure in their own words ("Cannot find
  /// proj.db"), without the cause.
  public static func note(_ code: Int32) {
    guard code == EMFILE || code == ENFILE else { return }
    lock.lock(); seen = code; lock.unlock()
  }

  /// The refusal seen during this run, if any, in words naming the limit.
  public static var refusalSeen: String? {
    lock.lock(); defer { lock.unlock() }
    return seen == 0 ? nil : refusal(seen)
  }

  /// Whether this process can open one more descriptor right now; nil when it can, else why not.
  /// Asked after a failed open, whose errno GDAL may have overwritten on its way back.
  public static func descriptorRefusal() -> String? {
    let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
    if fd >= 0 { Glibc.close(fd); return nil }
    let code = errno
    note(code)
    return code == EMFILE || code == ENFILE ? refusal(code) : nil
  }
}
