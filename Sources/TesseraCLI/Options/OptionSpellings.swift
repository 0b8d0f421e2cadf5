import ArgumentParser
import Foundation

/// Options a command line may hold that the command does not take, and what to type instead:
/// GDAL's own spellings typed by habit, Tessera's dropped spellings, and any other unknown
/// option, which is named before a missing required one (ArgumentParser reports unknown options
/// last, after decoding and validation).
enum OptionSpellings {
  /// GDAL's utilities' spellings, in any command: Tessera's option and what it takes.
  static let gdal: [String: (option: String, grammar: String)] = {
    var table: [String: (option: String, grammar: String)] = [:]
    let spellings: [([String], String, String)] = [
      (["-tr", "--tr"], "--resolution", "X[,Y] (or --res)"),
      (["-t_srs", "--t-srs", "--t_srs"], "--dst-crs", "CRS"),
      (["-s_srs", "--s-srs", "--s_srs"], "--src-crs", "CRS"),
      (["-te", "--te"], "--bbox", "xmin,ymin,xmax,ymax"),
      (["-te_srs", "--te-srs"], "--bbox-crs", "CRS"),
      (["-of"], "--format", "DRIVER (or -f, --of)"),
      (["-ot"], "--ot", "TYPE"),
      (["-srcnodata", "--srcnodata"], "--src-nodata", "V[,V…]"),
      (["-dstnodata", "--dstnodata"], "--dst-nodata", "V[,V…]"),
      (["-ts", "--ts", "-outsize", "--outsize"], "--size", "W,H or P%"),
      (["-co"], "--co", "KEY=VALUE"),
      (["-tap"], "--target-aligned-pixels", ""),
      (["-cutline"], "--cutline", "FILE"),
      (["-overwrite"], "--overwrite", ""),
    ]
    for (names, option, grammar) in spellings {
      for name in names { table[name] = (option, grammar) }
    }
    return table
  }()

  /// Spellings a command took before #26, and the message naming the new one.
  static func dropped(_ command: String, _ name: String, value: String?) -> String? {
    let bands = "\(name) is now -b/--band: band numbers, repeatable (-b 4,3,2 or -b 4 -b 3 -b 2)"
    switch (command, name) {
    case ("mosaic", "--bands"), ("clip", "--bands"), ("quicklook", "--bands"), ("timelapse", "--bands"):
      return bands
    case ("merge-memfile", "--bands"), ("timelapse", "--product-bands"):
      return "\(name) is now -b/--band, which takes Sentinel-2 band names (-b B04,B03,B02)"
    case ("mosaic", "--order"), ("merge-memfile", "--order"):
      return "--order is now --method: --method \(value.map { ["first", "last"].contains($0) ? $0 : "first|last" } ?? "first|last") says which input wins where inputs overlap"
    case ("resample", "--scale"):
      let factor = value.flatMap(Double.init).flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
      return "--scale is now --size P% (of the input's size)" + (factor.map { ": --scale \(value ?? "") is --size \(($0 * 100).formatted())%" } ?? "")
    case ("band-stack", "--names"):
      return "--names is now --descriptions (the descriptions written on the output's bands)"
    default:
      return nil
    }
  }

  /// The first option of `args` that is a dropped or GDAL spelling, as the message naming
  /// Tessera's; nil when there is none. Only the command's own arguments are read, up to `--`, and
  /// the value of an option the command takes is a value, never a spelling (`--where -te`).
  static func refusal(_ args: [String], command: String, options: CommandOptions) -> String? {
    let tokens = Array(args.dropFirst().prefix { $0 != "--" })
    var skipsValue = false
    for (index, token) in tokens.enumerated() {
      if skipsValue { skipsValue = false; continue }
      guard token.hasPrefix("-") else { continue }
      let name = String(token.prefix { $0 != "=" })
      if let takesValue = options.names[name] {
        skipsValue = takesValue && !token.contains("=")
        continue
      }
      let value = token.contains("=") ? String(token.drop { $0 != "=" }.dropFirst()) : tokens.dropFirst(index + 1).first
      if let message = dropped(command, name, value: value) { return message }
      if let (option, grammar) = gdal[name] {
        let takes = grammar.isEmpty ? option : "\(option) \(grammar)"
        return options.names[option] != nil
          ? "\(name) is GDAL's spelling; \(command) takes \(takes)"
          : "\(name) is GDAL's spelling of \(option), which \(command) does not take"
      }
    }
    return nil
  }

  /// The first option `args` gives that the command does not take, as ArgumentParser words it,
  /// with the nearest name the command takes.
  static func unknown(_ args: [String], options: CommandOptions) -> String? {
    var tokens = args.dropFirst().prefix { $0 != "--" }.makeIterator()
    while let token = tokens.next() {
      guard token.count > 1, token.hasPrefix("-"), Double(token) == nil else { continue }
      let name = String(token.prefix { $0 != "=" })
      if let takesValue = options.names[name] {
        if takesValue && !token.contains("=") { _ = tokens.next() }
        continue
      }
      if !token.hasPrefix("--"), let takesValue = options.shortCluster(token) {
        if takesValue { _ = tokens.next() }
        continue
      }
      return "Unknown option '\(name)'" + (options.nearest(to: name).map { ". Did you mean '\($0)'?" } ?? "")
    }
    return nil
  }
}

/// The option names a command takes, read from ArgumentParser's own description of it.
struct CommandOptions {
  /// Every name (`--bbox`, `-o`), and whether it takes a value.
  var names: [String: Bool] = ["-h": false, "--help": false, "--version": false, "--experimental-dump-help": false]

  init(_ command: ParsableCommand.Type) {
    guard let data = command._dumpHelp().data(using: .utf8),
          let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let info = root["command"] as? [String: Any], let arguments = info["arguments"] as? [[String: Any]] else { return }
    for argument in arguments {
      let takesValue = (argument["kind"] as? String) == "option"
      for name in argument["names"] as? [[String: Any]] ?? [] {
        guard let text = name["name"] as? String else { continue }
        names[(name["kind"] as? String) == "long" ? "--\(text)" : "-\(text)"] = takesValue
      }
    }
  }

  /// `-qj` as `-q -j`: nil unless every letter is a short option; true when the last takes a value.
  func shortCluster(_ token: String) -> Bool? {
    let letters = token.dropFirst().map { "-\($0)" }
    guard !letters.isEmpty, letters.allSatisfy({ names[$0] != nil }) else { return nil }
    return letters.last.flatMap { names[$0] } ?? false
  }

  /// The long name closest to `name` by edit distance, if any is close.
  func nearest(to name: String) -> String? {
    let candidates = names.keys.filter { $0.hasPrefix("--") && $0 != "--experimental-dump-help" }
    let scored = candidates.map { ($0, Self.editDistance(Array(name), Array($0))) }.filter { $0.1 <= max(2, name.count / 3) }
    return scored.min { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }?.0
  }

  static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    var previous = Array(0...b.count)
    for (i, x) in a.enumerated() {
      var current = [i + 1]
      for (j, y) in b.enumerated() {
        current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
      }
      previous = current
    }
    return previous[b.count]
  }
}
