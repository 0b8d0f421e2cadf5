import Foundation

/// A file one step of a batch job reads or writes, as the manifest says before anything runs.
struct BatchFileUse: Sendable {
  enum Kind: Sendable { case read, write }
  var path: String
  var kind: Kind
  /// The job's index in the manifest.
  var job: Int
  /// The step's index in its job, from 0.
  var step: Int

  init(path: String, kind: Kind, job: Int, step: Int) {
    self.path = path
    self.kind = kind
    self.job = job
    self.step = step
  }
}

/// A batch is one run: before anything is created, every file any job reads or writes is
/// checked against every other and against the batch's own files (manifest, journal, its lock,
/// report, the jobs' private folders). Paths compare resolved (symbolic links followed), a
/// raster's sidecars count as the raster, and a folder counts as every file inside it.
enum BatchFileRelations {
  /// One of the batch's own files and what it is ("the report").
  struct OwnFile: Sendable {
    var path: String
    var role: String
    /// Jobs may read it (the manifest), never write it.
    var readable: Bool

    init(path: String, role: String, readable: Bool = false) {
      self.path = path
      self.role = role
      self.readable = readable
    }
  }

  /// Refuses (exit 64, naming both) two jobs writing one file, a job writing a file another
  /// job reads (a step may write what a later step of its own job reads), a job writing one of
  /// the batch's own files or into its jobs' private folders, a job reading the journal, lock or
  /// report, and two of the batch's own files being one.
  /// - Parameters:
  ///   - labels: how messages name each job ("job a (line 3)").
  ///   - workDirectory: where each job's private folder `job-HASH-N` goes; a path in one
  ///     belongs to that job only (`privatePrefix`).
  static func check(own: [OwnFile], uses: [BatchFileUse], labels: [String], workDirectory: String?,
                           privatePrefix: (Int) -> String) throws {
    try checkOwn(own)
    let resolvedOwn = own.map { (file: $0, key: key(resolve($0.path)), identity: linkedIdentity($0.path)) }
    // Every conflict has a writer: a read is compared with the writes only, so many jobs
    // reading one file cost no more than one.
    var index: [String: [Int]] = [:]
    var writers: [String: [Int]] = [:]
    let resolvedUses = uses.map { resolve($0.path) }
    // A hard link is one file under two names no path comparison sees: existing files with
    // more than one link are also compared by device and inode.
    let identities = uses.map { linkedIdentity($0.path) }
    var linked: [String: [Int]] = [:]
    var linkedWriters: [String: [Int]] = [:]
    for (offset, path) in resolvedUses.enumerated() {
      index[key(path), default: []].append(offset)
      if uses[offset].kind == .write { writers[key(path), default: []].append(offset) }
      if let identity = identities[offset] {
        linked[identity, default: []].append(offset)
        if uses[offset].kind == .write { linkedWriters[identity, default: []].append(offset) }
      }
    }
    let work = workDirectory.map(resolve)
    let privateFolders = workDirectory.map { _ in labels.indices.map { resolve(privatePrefix($0)) } }
    for (offset, use) in uses.enumerated() {
      let path = resolvedUses[offset]
      let name = "\(labels[use.job]) \(use.kind == .write ? "writes" : "reads") \(use.path)"
      // The batch's own files: the same file, a sidecar of one, a folder holding one or inside one.
      for (file, ownKey, ownIdentity) in resolvedOwn
      where related(key(path), ownKey) || (ownIdentity != nil && ownIdentity == identities[offset]) {
        if use.kind == .read && file.readable { continue }
        let relation = relationPhrase(path, ownKey, resolve(file.path))
        throw TesseraError(.usage, "\(name), \(relation) \(file.role) (\(file.path)); a batch's own files are no job's input or output")
      }
      if let work, let privateFolders, let owner = workOwner(path, work: work, privateFolders: privateFolders), owner != use.job {
        throw TesseraError(.usage, "\(name), inside the batch's work folder \(workDirectory ?? work) where each job has its private folder; use {tmp} or another path")
      }
      var others = relatedUses(of: path, index: use.kind == .write ? index : writers)
      if let identity = identities[offset] {
        others += (use.kind == .write ? linked : linkedWriters)[identity] ?? []
      }
      for other in others where other != offset {
        if let reason = conflict(use, uses[other]) {
          throw TesseraError(.usage, "\(name) and \(labels[uses[other].job]) \(uses[other].kind == .write ? "writes" : "reads") \(uses[other].path): \(reason); nothing was run")
        }
      }
    }
  }

  /// How a job's file stands to one of the batch's own: the file itself, a sidecar of it, a
  /// folder holding it, or inside it (a hard link compares as the file itself).
  static func relationPhrase(_ path: String, _ ownKey: String, _ ownPath: String) -> String {
    let pathKey = key(path)
    if pathKey.hasPrefix(ownKey + "/") { return "which is inside" }
    if ownKey.hasPrefix(pathKey + "/") { return "a folder holding" }
    if pathKey == ownKey && path != ownPath && path != ownKey { return "a sidecar of" }
    return "which is"
  }

  /// Why two uses of related files cannot be in one run, or nil.
  static func conflict(_ a: BatchFileUse, _ b: BatchFileUse) -> String? {
    guard a.kind == .write || b.kind == .write else { return nil }
    if a.job == b.job {
      // One step's own files are its command's to check (it refuses an output that is its input).
      if a.step == b.step { return nil }
      if a.kind == .write && b.kind == .write { return "two steps of one job write the same file" }
      let (writer, reader) = a.kind == .write ? (a, b) : (b, a)
      return writer.step < reader.step ? nil : "a step would replace a file an earlier step of its job read"
    }
    if a.kind == .write && b.kind == .write { return "two jobs write the same file" }
    return "a job would replace a file another job reads (make them steps of one job to run them in order)"
  }

  /// The batch's own files are distinct: the report over the manifest would destroy it.
  static func checkOwn(_ own: [OwnFile]) throws {
    let keys = own.map { key(resolve($0.path)) }
    let identities = own.map { linkedIdentity($0.path) }
    for i in own.indices {
      for j in own.indices where j > i && (related(keys[i], keys[j]) || (identities[i] != nil && identities[i] == identities[j])) {
        throw TesseraError(.usage, "\(own[j].role) \(own[j].path) is \(own[i].role) (\(own[i].path)); give it another path")
      }
    }
  }

  /// Indices of uses whose file is this one, a sidecar of it, or a folder holding it.
  static func relatedUses(of path: String, index: [String: [Int]]) -> [Int] {
    var found = index[key(path)] ?? []
    var folder = (path as NSString).deletingLastPathComponent
    while folder.count > 1 {
      found += index[folder] ?? []
      folder = (folder as NSString).deletingLastPathComponent
    }
    return found
  }

  /// The job whose private folder holds `path`, -1 for the work folder itself or anything else
  /// in it (what a batch did not make there would stop it cleaning the folder), nil outside it.
  static func workOwner(_ path: String, work: String, privateFolders: [String]) -> Int? {
    if path == work { return -1 }
    guard path.hasPrefix(work + "/") else { return nil }
    let first = path.dropFirst(work.count + 1).split(separator: "/").first.map(String.init) ?? ""
    let folder = work + "/" + first
    return privateFolders.firstIndex { folder.hasPrefix($0) } ?? -1
  }

  /// "device:inode" of an existing regular file that has other names (hard links), else nil.
  static func linkedIdentity(_ path: String) -> String? {
    var info = stat()
    guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_nlink > 1 else { return nil }
    return "\(info.st_dev):\(info.st_ino)"
  }

  /// Whether two keys name one file, or one is a folder holding the other.
  static func related(_ a: String, _ b: String) -> Bool {
    a == b || a.hasPrefix(b + "/") || b.hasPrefix(a + "/")
  }

  /// A resolved path with a sidecar's suffix dropped: a raster and its sidecars share one key.
  static func key(_ resolved: String) -> String {
    for suffix in OutputTarget.sidecarSuffixes.sorted(by: { $0.count > $1.count }) where resolved.hasSuffix(suffix) && resolved.count > suffix.count {
      let base = String(resolved.dropLast(suffix.count))
      // HFA's x.ige belongs to x.img (it replaces the extension).
      if let owner = OutputTarget.replacingSuffixes[suffix] { return base + "." + owner }
      return base
    }
    return resolved
  }

  /// The absolute path with every symbolic link of its longest existing part followed; the
  /// rest (files and folders still to be made) kept as written.
  static func resolve(_ path: String) -> String {
    let standardized = URL(fileURLWithPath: path).standardizedFileURL.path
    var head = standardized
    var tail: [String] = []
    while head.count > 1 {
      if let real = realpath(head, nil) {
        defer { free(real) }
        let base = String(cString: real)
        return tail.isEmpty ? base : (base == "/" ? "" : base) + "/" + tail.reversed().joined(separator: "/")
      }
      tail.append((head as NSString).lastPathComponent)
      head = (head as NSString).deletingLastPathComponent
    }
    return standardized
  }
}
