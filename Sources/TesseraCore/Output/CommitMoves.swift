import Foundation

/// The renames of one commit, kept to undo them.
struct CommitMoves {
  /// Old files moved aside: where each was, and its hidden name now.
  private var setAside: [(original: String, aside: String)] = []
  /// New files moved into place.
  private var movedIn: [String] = []

  /// Moves an old output and every sidecar of it aside. The sidecars go whether or not new
  /// ones replace them: they described the old pixels.
  mutating func setAside(_ finalPath: String) throws {
    let directory = (finalPath as NSString).deletingLastPathComponent
    let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    // lstat, not stat: a link (even a dangling one) is moved itself, never what it points to.
    for suffix in [""] + OutputTarget.sidecarSuffixes where OutputTarget.exists(OutputTarget.sidecar(finalPath, suffix)) {
      let original = OutputTarget.sidecar(finalPath, suffix), aside = directory + "/.tessera-old-" + token + suffix
      guard OutputTarget.renameNoReplace(original, aside) == 0 else {
        throw TesseraError(.cannotCreate, "cannot replace \(original): moving it aside failed: \(String(cString: strerror(errno)))")
      }
      setAside.append((original, aside))
    }
  }

  /// Moves the new files in, never over a file: the old ones are aside by now, so a file there
  /// appeared while the command ran. A sidecar that cannot follow its raster is dropped.
  mutating func moveIn(_ files: [(suffix: String, path: String)], to finalPath: String) throws {
    for (suffix, path) in files {
      let destination = OutputTarget.sidecar(finalPath, suffix)
      if OutputTarget.renameNoReplace(path, destination) == 0 {
        movedIn.append(destination)
        continue
      }
      let code = errno
      if suffix != "" {
        unlink(path)
        continue
      }
      if code == EEXIST {
        throw TesseraError(.cannotCreate, "\(destination) appeared while this command ran; it was left as it is and nothing was written (pass --overwrite to replace it)")
      }
      throw TesseraError(.ioError, "moving the finished file to \(destination): \(String(cString: strerror(code)))")
    }
  }

  /// Removes what was moved in and puts every old file back where it was.
  func rollBack() {
    for path in movedIn.reversed() { unlink(path) }
    for (original, aside) in setAside.reversed() { rename(aside, original) }
  }

  func dropSetAside() {
    for (_, aside) in setAside { unlink(aside) }
  }
}
