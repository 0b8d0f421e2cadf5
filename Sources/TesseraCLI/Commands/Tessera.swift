import ArgumentParser
import Foundation
import GDAL
import TesseraCore

/// The root command.
public struct Tessera: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "tessera",
    abstract: "Raster processing over GDAL: correct to the pixel, safe with your data, made for scripts.",
    discussion: """
      Exit codes: 0 ok, 1 a check failed, 64 usage, 65 bad input data, 66 input missing or \
      unreadable, 69 a program it needs is missing (ffmpeg), 70 internal error, 71 the system \
      refused a resource (open files, memory), 73 output cannot be created or exists, 74 write \
      failure, 129 hung up, 130 interrupted, 143 terminated.
      """,
    version: TesseraVersion.string,
    subcommands: [InfoCommand.self, MosaicCommand.self, ClipCommand.self, BandStackCommand.self, IndexCommand.self, ReprojectCommand.self, ResampleCommand.self, COGExportCommand.self, ValidateCOGCommand.self, MergeMemfileCommand.self, ValidateMergeCommand.self, BatchCommand.self, BatchReportCommand.self, QuicklookCommand.self, TimelapseCommand.self, TestJobCommand.self])

  public init() {}

  /// Parses, runs, and exits with the documented status. Parse errors with --json also
  /// print the error object on stdout, so a script always gets JSON when it asked for it.
  /// libdispatch makes its event loop (an epoll, an eventfd, a timer descriptor) the first time
  /// a worker thread starts, and traps (SIGILL) if the system refuses a descriptor then. Started
  /// here, before any input is opened, it takes its descriptors while they are free; a limit too
  /// low even for that is exit 71 naming it (below), never a crash.
  static func warmUpDispatch() {
    let started = DispatchSemaphore(value: 0)
    DispatchQueue.global().async { started.signal() }
    started.wait()
  }

  /// The descriptors the program needs before it opens any file: the standard streams, the
  /// signal pipe, libdispatch's event loop and GDAL's start-up (proj.db, plugins).
  static let descriptorsToStart: rlim_t = 10

  static func requireDescriptorsToStart() {
    var limit = rlimit()
    guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < descriptorsToStart else { return }
    Terminal.err("tessera: too many open files (ulimit -n \(limit.rlim_cur)): Tessera needs at least \(descriptorsToStart) to start")
    Foundation.exit(ExitStatus.osError.rawValue)
  }

  public static func main(_ arguments: [String]? = nil) -> Never {
    Interruption.install()
    requireDescriptorsToStart()
    warmUpDispatch()
    GDALEnvironment.bootstrap()
    if arguments == nil, CommandLine.argc < 1 { refuseUnreadableCommandLine() }
    let args = arguments ?? Array(CommandLine.arguments.dropFirst())
    if arguments == nil, let bad = ArgumentBytes.firstInvalid() { refuseNonUTF8(bad, args) }
    if let type = subcommandType(args), let name = subcommandName(args),
       let refusal = OptionSpellings.refusal(args, command: name, options: CommandOptions(type)) {
      refuseUsage(refusal, args, pointingToHelp: true)
    }
    do {
      var command = try parseAsRoot(args)
      try command.run()
      Foundation.exit(0)
    } catch let thrown as CommandFailure {
      let failure = thrown.blamingSystemLimits()
      // Every failure of a run: GDAL's warnings first, then the one line, then the JSON object.
      if !failure.quiet { CommandRunner.printGDALWarnings() }
      let line = "tessera \(failure.command): \(failure.error.message)"
      Terminal.err(line)
      if let mark = failure.error.mark {
        // The one hint line a failure may have: a caret under the column it names.
        Terminal.err(String(repeating: " ", count: line.count - failure.error.message.count + mark) + "^")
      }
      if failure.json {
        try? Terminal.out(CommandRunner.errorJSON(command: failure.command, status: failure.error.status,
                                             message: failure.error.message).serialized(pretty: true))
      }
      Foundation.exit(failure.error.status.rawValue)
    } catch {
      let code = exitCode(for: error)
      if code.rawValue == 0 {
        if let name = nameReadAsHelp(args) { refuseDashName(name, args) }
        printAsked(fullMessage(for: error) + examples(helpOf: args))
      }
      guard code.rawValue == ExitStatus.usage.rawValue else { exit(withError: error) }
      // A usage error is one line, like every other failure, prefixed with the subcommand. An
      // unknown option comes first: ArgumentParser names it only after a missing one.
      var message = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "usage error"
      if message.hasPrefix("Error: ") { message = String(message.dropFirst("Error: ".count)) }
      if let type = subcommandType(args), let unknown = OptionSpellings.unknown(args, options: CommandOptions(type)) { message = unknown }
      refuseUsage(message, args, pointingToHelp: true)
    }
  }
}

extension Tessera {
  /// --help and --version: what was asked for, on stdout like any report (74 when it cannot
  /// be written, where ArgumentParser's own print would exit 0).
  static func printAsked(_ text: String) -> Never {
    do { try Terminal.out(text) } catch {
      Terminal.err("tessera: \(TesseraError.from(error).message)")
      Foundation.exit(ExitStatus.ioError.rawValue)
    }
    Foundation.exit(0)
  }

  /// The examples ending a subcommand's help (`tessera mosaic --help`, `tessera help mosaic`);
  /// empty for anything else asked for.
  static func examples(helpOf args: [String]) -> String {
    let options = args.prefix { $0 != "--" }
    guard args.first == "help" || options.contains("-h") || options.contains("--help"), !options.contains("--version") else { return "" }
    guard let type = subcommandType(args.first == "help" ? Array(args.dropFirst()) : args) as? HelpExamples.Type else { return "" }
    return type.examplesText
  }

  /// The argument ArgumentParser took for a cluster of short flags holding `-h` when help was
  /// not asked for in so many words: a file name that starts with a dash (`-dash.tif`, `-h.tif`).
  /// Printing help and exiting 0 would tell a script the job was done.
  static func nameReadAsHelp(_ args: [String]) -> String? {
    let options = args.prefix { $0 != "--" }
    if options.contains("-h") || options.contains("--help") || options.first == "help" { return nil }
    return options.first { $0.count > 2 && $0.hasPrefix("-") && !$0.hasPrefix("--") && $0.dropFirst().contains("h") }
  }

  /// Exit 64 for a file name read as options, saying how to write it.
  static func refuseDashName(_ name: String, _ args: [String]) -> Never {
    refuseUsage("'\(name)' reads as options; a file whose name starts with '-' is written ./\(name) (or after --)", args)
  }

  /// The subcommand the arguments name, if any.
  static func subcommandName(_ args: [String]) -> String? {
    subcommandType(args).flatMap { $0.configuration.commandName }
  }

  static func subcommandType(_ args: [String]) -> ParsableCommand.Type? {
    args.first.flatMap { arg in configuration.subcommands.first { $0.configuration.commandName == arg } }
  }

  /// Exit 64 with `message`, refused before anything runs: one line on stderr (ending with where
  /// the help is when `pointingToHelp`), and the error object on stdout with --json.
  static func refuseUsage(_ message: String, _ args: [String], pointingToHelp: Bool = false) -> Never {
    let command = subcommandName(args)
    let prefix = "tessera\(command.map { " \($0)" } ?? "")"
    Terminal.err("\(prefix): \(message)" + (pointingToHelp ? " (see '\(prefix) --help')" : ""))
    if args.contains("--json") {
      try? Terminal.out(CommandRunner.errorJSON(command: command ?? "tessera", status: .usage, message: message).serialized(pretty: true))
    }
    Foundation.exit(ExitStatus.usage.rawValue)
  }

  /// Swift reads the arguments from /proc/self/cmdline, which needs a descriptor: none left
  /// (`ulimit -n` of 5) leaves it with none, and the run would be another command's.
  static func refuseUnreadableCommandLine() -> Never {
    let reason = SystemLimits.descriptorRefusal()
    Terminal.err("tessera: \(reason ?? "the system refused a resource"): the command line cannot be read")
    Foundation.exit(ExitStatus.osError.rawValue)
  }

  /// Exit 64 for an argument that is not UTF-8, before anything runs.
  static func refuseNonUTF8(_ bad: (position: Int, shown: String), _ args: [String]) -> Never {
    refuseUsage("argument \(bad.position) (\(bad.shown)) is not UTF-8; Tessera takes file names in UTF-8 only, so that it reads and writes exactly the names given: rename the file", args)
  }
}

public enum TesseraVersion {
  public static let number = "0.1.0"
  public static var string: String { "tessera \(number) (GDAL \(GDALEnvironment.version))" }
}
