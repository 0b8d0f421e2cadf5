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
