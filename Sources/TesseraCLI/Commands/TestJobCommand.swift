import ArgumentParser
import Foundation
import TesseraCore

/// A job that fails, crashes, hangs or writes on demand: what the batch tests run. Hidden, and
/// refused unless TESSERA_TEST_HOOKS=1, so no user meets it.
struct TestJobCommand: ParsableCommand {
  static let name = "test-job"
  static let configuration = CommandConfiguration(commandName: name, abstract: "For Tessera's own tests.", shouldDisplay: false)
  static var enabled: Bool { ProcessInfo.processInfo.environment["TESSERA_TEST_HOOKS"] == "1" }

  @Option(help: "Exit with this status.") var exit: Int32 = 0
  @Option(help: "Fail only the first N runs that share --state.") var times: Int?
  @Option(help: "A counter file for --times.") var state: String?
  @Flag(help: "Abort (SIGABRT).") var crash = false
  @Option(help: "Sleep this many seconds first.") var sleep: Double = 0
  @Flag(help: "Ignore SIGTERM while sleeping (a job that must be killed).") var stubborn = false
  @Option(help: "Write this output (a small text file through Tessera's output target).") var write: String?
  @Option(help: "A file it reads (recorded as an input of --write).") var read: String?
  @Option(name: .customLong("read-hidden"), help: "A file it reads that its arguments do not tell the batch (as a VRT's source).")
  var readHidden: String?
  @Option(help: "Fail with this exit code after --write is in place.") var failAfterWrite: Int32?
  @Option(help: "Append a line to this file each run.") var log: String?
  @Flag var overwrite = false
  @OptionGroup var global: GlobalOptions

  func run() throws {
    guard TestJobCommand.enabled else {
      throw ValidationError("test-job is for Tessera's own tests (TESSERA_TEST_HOOKS=1)")
    }
    if let log, let handle = FileHandle(forWritingAtPath: log) ?? (FileManager.default.createFile(atPath: log, contents: nil) ? FileHandle(forWritingAtPath: log) : nil) {
      handle.seekToEndOfFile()
      handle.write(Data("run \(getpid())\n".utf8))
      try? handle.close()
    }
    try CommandRunner(TestJobCommand.name, global).run { _ in
      var target: OutputTarget?
      if let write {
        let made = try OutputSpec.ownFile(path: write, overwrite: overwrite).target(inputs: [read, readHidden].compactMap { $0 })
        try made.writeContents(Data("partial\n".utf8))
        target = made
      }
      if stubborn { signal(SIGTERM, SIG_IGN) }
      if sleep > 0 {
        let until = Date().addingTimeInterval(sleep)
        while Date() < until && (stubborn || !Interruption.requested) { usleep(10_000) }
      }
      if crash {
        // Dies by SIGABRT whatever crash handler a runtime installed (Swift's backtracer takes
        // seconds; AddressSanitizer's turns abort into exit 1).
        signal(SIGABRT, SIG_DFL)
        raise(SIGABRT)
        abort()
      }
      var failing = true
      if let times, let state {
        let count = (try? String(contentsOfFile: state, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
        try String(count + 1).write(toFile: state, atomically: true, encoding: .utf8)
        failing = count < times
      }
      if exit != 0 && failing {
        throw TesseraError(ExitStatus(rawValue: exit) ?? .internalError, "failing on purpose with \(exit)")
      }
      if let target {
        let contents = read.flatMap { FileManager.default.contents(atPath: $0) } ?? Data()
        truncate(target.temporaryPath, 0)
        try target.writeContents(Data("done\n".utf8) + contents)
        try target.commit()
      }
      if let failAfterWrite {
        throw TesseraError(ExitStatus(rawValue: failAfterWrite) ?? .internalError, "failing on purpose with \(failAfterWrite) after the output")
      }
      return CommandResult(json: .object([("command", .string(TestJobCommand.name)), ("status", .string("ok"))]), text: "")
    }
  }
}

