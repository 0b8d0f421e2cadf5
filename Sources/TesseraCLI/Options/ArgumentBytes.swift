import Foundation

/// The arguments as the kernel gave them: bytes. Swift's `CommandLine.arguments` repairs bytes
/// that are not UTF-8 with U+FFFD, so a file name with such a byte would name another file: an
/// existing input "missing", an output written under a name the user never gave. Such an
/// argument is refused before anything runs.
enum ArgumentBytes {
  /// The first argument after the program's name that is not UTF-8: its 1-based position and
  /// its bytes shown with the bad ones escaped (`bad\xff.tif`); nil when all are UTF-8.
  static func firstInvalid() -> (position: Int, shown: String)? {
    let argv = CommandLine.unsafeArgv
    for i in 1..<Int(CommandLine.argc) {
      guard let pointer = argv[i] else { continue }
      let bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self),
                                            count: strlen(pointer)))
      if String(validating: bytes, as: UTF8.self) == nil { return (i, escaped(bytes)) }
    }
    return nil
  }

  /// Printable ASCII as it is, a backslash doubled, every other byte as `\xNN`.
  static func escaped(_ bytes: [UInt8]) -> String {
    var text = ""
    for byte in bytes {
      switch byte {
      case UInt8(ascii: "\\"): text += "\\\\"
      case 0x20..<0x7f: text.unicodeScalars.append(Unicode.Scalar(byte))
      default: text += String(format: "\\x%02x", byte)
      }
    }
    return text
  }
}
