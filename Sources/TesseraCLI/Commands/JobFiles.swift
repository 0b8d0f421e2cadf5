import ArgumentParser
import Foundation
import GDAL
import TesseraCore

/// The files a command reads and writes, known from its arguments alone, before it runs: what
/// a batch checks its jobs against each other with. Every command a job may run implements it
/// (a test holds them to it), expanding its inputs as the command would.
protocol JobFiles {
  /// Every file or folder the command reads: inputs, list files, cutlines, products, tables.
  func jobInputs() -> [String]
  /// Every file or folder it writes: the output, a folder of outputs, reports.
  func jobOutputs() -> [String]
}

extension JobFiles {
  func jobOutputs() -> [String] { [] }
}

/// How the batch learns a step's files: the step's arguments parsed by the real subcommand.
enum BatchStepFiles {
  /// The step's inputs and outputs, or nil when its arguments do not parse (the step then
  /// fails with 64 when it runs, before it touches any file).
  static func of(_ step: BatchStep) -> (inputs: [String], outputs: [String])? {
    // The subcommand's own type parses (and validates), not the root: a manifest of many jobs
    // would otherwise build every command's parser once per job.
    guard let type = commandTypes[step.command], let files = (try? type.parse(step.args)) as? JobFiles else { return nil }
    return (files.jobInputs(), files.jobOutputs())
  }

  private static let commandTypes = Dictionary(
    Tessera.configuration.subcommands.map { ($0.configuration.commandName ?? "", $0) }, uniquingKeysWith: { a, _ in a })

  /// Inputs as the command expands them: globs, `FILE:N` band picks, a list file and the paths
  /// it holds. A list read from stdin or a pipe is not read here (that would consume it).
  static func expanded(_ arguments: [String], listFile: String? = nil) -> [String] {
    var files: [String] = []
    for argument in arguments {
      let matches = (try? SourceSet.expand([argument])) ?? [argument]
      files += matches.map { SourceSet.pick($0).path }
    }
    if let listFile, listFile != "-" {
      files.append(listFile)
      var status = stat()
      if stat(listFile, &status) == 0, status.st_mode & S_IFMT == S_IFREG, let listed = try? SourceSet.expand([], listFile: listFile) {
        files += listed.map { SourceSet.pick($0).path }
      }
    }
    return files.compactMap(InputFiles.local).flatMap(subdatasetFiles).flatMap(vrtSources)
  }

  /// A VRT and the files it reads (its sources, and theirs).
  static func vrtSources(_ path: String) -> [String] {
    guard (path as NSString).pathExtension.lowercased() == "vrt", FileStamp(path: path) != nil,
          let dataset = try? Dataset.open(path) else { return [path] }
    defer { try? dataset.close() }
    return [path] + InputFiles.of([dataset]).filter { $0 != path }
  }

  /// A subdataset name (`SENTINEL2_L2A:/p/MTD_MSIL2A.xml:10m:EPSG_32633`, `NETCDF:"f.nc":var`)
  /// reads the file inside it.
  static func subdatasetFiles(_ name: String) -> [String] {
    guard name.contains(":"), !FileManager.default.fileExists(atPath: name) else { return [name] }
    let parts = name.split(separator: ":").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
    let files = parts.filter { $0.contains("/") || $0.contains(".") }.filter { FileManager.default.fileExists(atPath: $0) }
    return files.isEmpty ? [name] : files
  }

  /// A CRS option's file, when it names one (a .prj).
  static func crsFiles(_ values: String?...) -> [String] {
    values.compactMap { $0 }.filter { !$0.hasPrefix("-") && FileManager.default.fileExists(atPath: $0) }
  }

  /// A vector file and the files beside it that make it whole (a Shapefile's .shx, .dbf, .prj).
  static func vectorFiles(_ path: String?) -> [String] {
    guard let path else { return [] }
    let stem = (path as NSString).deletingPathExtension
    guard stem != path, (path as NSString).pathExtension.lowercased() == "shp" else { return [path] }
    return [path] + ["shx", "dbf", "prj", "cpg", "qix", "sbn", "sbx"].map { stem + "." + $0 }
  }
}

extension InfoCommand: JobFiles {
  func jobInputs() -> [String] { BatchStepFiles.expanded(files) }
}

extension ValidateCOGCommand: JobFiles {
  func jobInputs() -> [String] { BatchStepFiles.expanded(files) }
}

extension ValidateMergeCommand: JobFiles {
  func jobInputs() -> [String] { BatchStepFiles.expanded([file]) + (against.map { [$0] } ?? []) }
}

extension ReprojectCommand: JobFiles {
  func jobInputs() -> [String] { BatchStepFiles.expanded([input]) + BatchStepFiles.crsFiles(crs.dstCRS, srcCRS, bounds.bboxCRS) }
  func jobOutputs() -> [String] { [output.path] }
}

extension ResampleCommand: JobFiles {
  func jobInputs() -> [String] { BatchStepFiles.expanded([input]) }
  func jobOutputs() -> [String] { [output.path] }
}

extension COGExportCommand: JobFiles {
  func jobInputs() -> [String] { BatchStepFiles.expanded([input]) }
  func jobOutputs() -> [String] { [output.path] }
}

extension ClipCommand: JobFiles {
  func jobInputs() -> [String] {
    BatchStepFiles.expanded([input]) + BatchStepFiles.vectorFiles(cutline) + (like.map { [$0] } ?? [])
      + BatchStepFiles.crsFiles(geometryCRS, bounds.bboxCRS)
  }
  /// With --each-feature the output is a folder, and every file it will hold is this job's.
  func jobOutputs() -> [String] { [output.path] }
}

extension MosaicCommand: JobFiles {
  func jobInputs() -> [String] {
    BatchStepFiles.expanded(inputs.inputs, listFile: inputs.inputList) + BatchStepFiles.crsFiles(crs.dstCRS, bounds.bboxCRS)
  }
  func jobOutputs() -> [String] { [output.path] }
}

extension BandStackCommand: JobFiles {
  func jobInputs() -> [String] { BatchStepFiles.expanded(inputs.inputs, listFile: inputs.inputList) }
  func jobOutputs() -> [String] { [output.path] }
}

extension TimelapseCommand: JobFiles {
  func jobInputs() -> [String] {
    BatchStepFiles.expanded(inputs.inputs, listFile: inputs.inputList) + (like.map { [$0] } ?? []) + (render.colorTable.map { [$0] } ?? [])
      + BatchStepFiles.crsFiles(bounds.bboxCRS)
  }
  func jobOutputs() -> [String] { [output.path] }
}

extension QuicklookCommand: JobFiles {
  func jobInputs() -> [String] { BatchStepFiles.expanded([input]) + (render.colorTable.map { [$0] } ?? []) }
  /// `-` is standard output, no file.
  func jobOutputs() -> [String] { output.path == "-" ? [] : [output.path] }
}

extension IndexCommand: JobFiles {
  func jobInputs() -> [String] {
    let roles = inputBindings.flatMap { $0.valid?.bindings.compactMap(\.file) ?? [] }
    return BatchStepFiles.expanded((input.map { [$0] } ?? []) + roles)
  }
  func jobOutputs() -> [String] { list || describe != nil ? [] : (output.map { [$0] } ?? []) }
}

extension MergeMemfileCommand: JobFiles {
  func jobInputs() -> [String] { BatchStepFiles.expanded(products) + BatchStepFiles.crsFiles(crs.dstCRS) }
  func jobOutputs() -> [String] { [output.path] + (report.map { [$0] } ?? []) }
}

extension TestJobCommand: JobFiles {
  func jobInputs() -> [String] { read.map { [$0] } ?? [] }
  func jobOutputs() -> [String] { [write, log, state].compactMap { $0 } }
}
