import GDAL
import XCTest

final class ProgressTests: XCTestCase {
  func testStepsShareTheWholeByWeight() {
    var seen: [Double] = []
    let steps = Progress.steps([3, 1], { fraction, _ in seen.append(fraction); return true })
    XCTAssertEqual(steps.count, 2)
    _ = steps[0]?(0.5, nil)
    _ = steps[0]?(1, nil)
    _ = steps[1]?(0.5, nil)
    _ = steps[1]?(2, nil)  // clamped
    XCTAssertEqual(seen, [0.375, 0.75, 0.875, 1])
    XCTAssertTrue(Progress.steps([1, 1], nil).allSatisfy { $0 == nil })
    let cancelling = Progress.steps([1], { _, _ in false })
    XCTAssertEqual(cancelling[0]?(0.1, nil), false, "a cancel passes through")
  }
}
