import Foundation
import TestSupport
import XCTest
@testable import TesseraCore

/// The catalogue: every formula goes through Tessera's parser and gives numpy's value for the
/// catalogue's own formula on random values (the fixture Tools/spectral_catalog.py wrote).
final class SpectralCatalogTests: XCTestCase {
  struct Cases: Decodable {
    struct Case: Decodable { let name: String; let values: [String: [Double]]; let expected: [Double?] }
    let cases: [Case]
  }

  func testEveryCatalogueFormulaEvaluatesAsNumpyDoes() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: Fixture.path("spectral/formula-cases.json")))
    let cases = try JSONDecoder().decode(Cases.self, from: data).cases
    XCTAssertEqual(cases.count, SpectralCatalog.entries.count)
    XCTAssertGreaterThanOrEqual(SpectralCatalog.entries.count, 280)
    var checked = 0
    for c in cases {
      let entry = try XCTUnwrap(SpectralCatalog.entry(c.name), c.name)
      let expression = try BandExpression(entry.formula)
      for i in 0..<c.expected.count {
        let values = c.values.mapValues { $0[i] }
        let ours = try expression.evaluate(values)
        guard let expected = c.expected[i] else {
          XCTAssertFalse(ours.isFinite, "\(c.name) sample \(i): numpy gives NaN or inf, Tessera \(ours)")
          continue
        }
        XCTAssertEqual(ours, expected, accuracy: 1e-5 * Swift.max(1, abs(expected)), "\(c.name) sample \(i): \(entry.formula)")
        checked += 1
      }
    }
    XCTAssertGreaterThan(checked, 2000)
  }

  /// Every constant an index lists is used by its formula: set to another value, it changes the
  /// result (GARI's lmb and SARVI's gamma were once dropped, so --param did nothing).
  func testEveryParameterOfEveryIndexChangesItsResult() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: Fixture.path("spectral/formula-cases.json")))
    let cases = try JSONDecoder().decode(Cases.self, from: data).cases
    var checked = 0
    for c in cases {
      let entry = try XCTUnwrap(SpectralCatalog.entry(c.name), c.name)
      let expression = try BandExpression(entry.formula)
      let constants = entry.roles.filter { SpectralCatalog.constant($0) != nil }
      for constant in constants {
        var changed = false
        for i in 0..<(c.values.values.first?.count ?? 0) {
          var values = c.values.mapValues { $0[i] }
          // Constants without a default (wavelengths) get distinct values, and those whose default
          // is 0 (soil line intercept, NIRvH2's k) another: wavelengths all equal make 0/0, and a
          // factor of 0 hides what it multiplies.
          for (j, other) in constants.enumerated() where (SpectralCatalog.constant(other)?.defaultValue ?? 0) == 0 {
            values[other] = 400 + 173 * Double(j + 1)
          }
          let before = try expression.evaluate(values)
          values[constant] = (values[constant] ?? 1) * 1.37 + 0.29
          let after = try expression.evaluate(values)
          if before.isFinite && after.isFinite && abs(before - after) > 1e-9 * Swift.max(1, abs(before)) { changed = true; break }
        }
        XCTAssertTrue(changed, "\(entry.name): --param \(constant) does not change '\(entry.formula)'")
        checked += 1
      }
    }
    XCTAssertGreaterThan(checked, 70)
    for (name, constant) in [("GARI", "lmb"), ("SARVI", "gamma")] {
      XCTAssertTrue(try XCTUnwrap(SpectralCatalog.entry(name)).roles.contains(constant), "\(name) lists \(constant)")
    }
  }

  /// The generator refuses a catalogue whose formula lost a constant it lists.
  func testGeneratorFailsWhenAFormulaLosesAConstant() throws {
    let folder = try TemporaryDirectory("catalogue")
    defer { folder.remove() }
    let indices: [String: Any] = ["SpectralIndices": ["XVI": [
      "short_name": "XVI", "long_name": "x", "formula": "(N - R) / (N + R)", "bands": ["N", "R", "L"],
      "application_domain": "vegetation", "platforms": [String](), "reference": "x", "contributor": "x", "date_of_addition": "x",
    ]]]
    let constants: [String: Any] = ["L": ["short_name": "L", "description": "Canopy background adjustment", "default": 1.0]]
    let bands: [String: Any] = [:]
    for (name, object) in [("spectral-indices-dict.json", indices), ("constants.json", constants), ("bands.json", bands)] {
      try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: folder.file(name)))
    }
    // A copy of the generator in a scratch tree, so the committed catalogue is never rewritten.
    let tree = folder.file("tree")
    try FileManager.default.createDirectory(atPath: tree + "/Tools", withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: Fixture.path("../Tools/spectral_catalog.py"), toPath: tree + "/Tools/spectral_catalog.py")
    let run = try Run.process(Oracle.python, [tree + "/Tools/spectral_catalog.py", folder.path])
    XCTAssertNotEqual(run.status, 0, run.stdout)
    XCTAssertTrue(run.stderr.contains("XVI") && run.stderr.contains("L"), run.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: tree + "/Sources/TesseraCore/Index/SpectralCatalogData.swift"))
  }

  func testRVIIsNIROverRedAndTheCataloguesRVIIsListedToo() throws {
    let rvi = try XCTUnwrap(SpectralCatalog.entry("rvi"))
    XCTAssertEqual(try BandExpression(rvi.formula).evaluate(["N": 0.6, "R": 0.2]), 3, accuracy: 1e-12)
    XCTAssertEqual(rvi.catalogueName, "SR")
    let rededge = try XCTUnwrap(SpectralCatalog.entry("RERVI"))
    XCTAssertEqual(rededge.catalogueName, "RVI")
    XCTAssertEqual(rededge.roles, ["RE2", "R"])
  }

  func testRoleNamesAndSuggestions() {
    XCTAssertEqual(SpectralCatalog.code(for: "nir"), "N")
    XCTAssertEqual(SpectralCatalog.code(for: "N"), "N")
    XCTAssertEqual(SpectralCatalog.code(for: "rededge1"), "RE1")
    XCTAssertEqual(SpectralCatalog.code(for: "swir2"), "S2")
    XCTAssertNil(SpectralCatalog.code(for: "L"), "a constant is not a band")
    XCTAssertNotNil(SpectralCatalog.constant("L"))
    XCTAssertTrue(SpectralCatalog.suggestions(for: "ndiv").contains("NDVI"), "\(SpectralCatalog.suggestions(for: "ndiv"))")
    XCTAssertEqual(SpectralCatalog.entry("ndvi")?.name, "NDVI")
    XCTAssertNil(SpectralCatalog.entry("bai"), "BAI and BaI: which one must be said")
    XCTAssertEqual(SpectralCatalog.caseInsensitiveMatches("bai").map(\.name).sorted(), ["BAI", "BaI"])
  }
}
