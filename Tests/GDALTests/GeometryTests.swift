import Foundation
import GDAL
import XCTest

/// GEOS's failures are errors: OGR answers "no" when GEOS cannot run, which must not pass for
/// "no overlap" or "invalid".
final class GeometryTests: XCTestCase {
  let square = "POLYGON((0 0, 5 0, 5 5, 0 5, 0 0))"

  func testAGEOSFailureInIntersectsIsAnError() throws {
    // A ring that does not close: GEOS refuses to build it (IllegalArgumentException).
    let open = try Geometry.wkt("POLYGON((0 0, 1 0, 1 1, 0 1))")
    XCTAssertThrowsError(try open.intersects(try Geometry.wkt(square))) { error in
      XCTAssertTrue("\(error)".contains("closed linestring"), "GEOS's own message: \(error)")
    }
    XCTAssertThrowsError(try open.madeValid())
    // The same calls on sound geometries answer.
    XCTAssertTrue(try Geometry.wkt("POLYGON((1 1, 2 1, 2 2, 1 1))").intersects(try Geometry.wkt(square)))
    XCTAssertFalse(try Geometry.wkt("POLYGON((10 10, 12 10, 12 12, 10 10))").intersects(try Geometry.wkt(square)))
  }

  func testValidityIsAnswerNotFailure() throws {
    XCTAssertTrue(try Geometry.wkt(square).isValid)
    // GDAL 3.6 reports why a geometry is invalid as a warning: an answer, not a failure.
    XCTAssertFalse(try Geometry.wkt("POLYGON((0 0, 10 10, 10 0, 0 10, 0 0))").isValid)
    XCTAssertFalse(try Geometry.wkt("POLYGON((0 0, 1 0, 1 1, 0 1))").isValid)
  }
}
