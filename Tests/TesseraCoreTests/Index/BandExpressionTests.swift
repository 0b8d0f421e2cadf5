import Foundation
import TestSupport
import XCTest
@testable import TesseraCore

/// The band-math parser and evaluator: precedence, functions, errors with their columns, and
/// hostile input that must never crash.
final class BandExpressionTests: XCTestCase {
  func value(_ text: String, _ values: [String: Double] = [:]) throws -> Double { try BandExpression(text).evaluate(values) }

  func testPrecedenceAndAssociativity() throws {
    XCTAssertEqual(try value("1 + 2 * 3"), 7)
    XCTAssertEqual(try value("(1 + 2) * 3"), 9)
    XCTAssertEqual(try value("2 ** 3 ** 2"), 512, "power is right-associative")
    XCTAssertEqual(try value("2 ^ 3"), 8)
    XCTAssertEqual(try value("-2 ** 2"), -4, "unary minus binds looser than power, as in Python")
    XCTAssertEqual(try value("2 ** -1"), 0.5)
    XCTAssertEqual(try value("8 / 4 / 2"), 1)
    XCTAssertEqual(try value("1 - 2 - 3"), -4)
    XCTAssertEqual(try value("1.5e2 + .5"), 150.5)
    XCTAssertEqual(try value("1 < 2 and 3 >= 3"), 1)
    XCTAssertEqual(try value("not 1 < 2 or 0"), 0)
    XCTAssertEqual(try value("(nir - red) / (nir + red)", ["nir": 0.5, "red": 0.1]), 0.4 / 0.6, accuracy: 1e-15)
  }

  func testFunctions() throws {
    XCTAssertEqual(try value("abs(-3) + sqrt(16) + log(exp(2))"), 9, accuracy: 1e-12)
    XCTAssertEqual(try value("min(3, 1, 2) + max(3, 5)"), 6)
    XCTAssertEqual(try value("clamp(7, 0, 5)"), 5)
    XCTAssertEqual(try value("where(b1 > 0, 10, 20)", ["b1": -1]), 20)
    XCTAssertTrue(try value("min(b1, 2)", ["b1": .nan]).isNaN, "NaN is never replaced by the other value")
    XCTAssertTrue(try value("1 / 0").isInfinite)
    XCTAssertEqual(try BandExpression("where(nir > red, nir, b3) + nir").variables, ["nir", "red", "b3"])
  }

  func testSyntaxErrorsMarkTheirColumn() {
    let cases: [(String, Int, String)] = [
      ("(nir - red))", 12, "unexpected ')'"),
      ("nir +", 6, "expected a number"),
      ("nir $ red", 5, "unexpected '$'"),
      ("sin(nir)", 1, "unknown function 'sin'"),
      ("clamp(nir, 1)", 1, "clamp takes 3"),
      ("(nir", 5, "expected ')'"),
      ("", 1, "empty"),
      ("nir red", 5, "unexpected 'red'"),
    ]
    for (text, column, reason) in cases {
      XCTAssertThrowsError(try BandExpression(text), text) { error in
        guard let e = error as? BandExpression.SyntaxError else { return XCTFail("\(text): \(error)") }
        XCTAssertEqual(e.column, column, "\(text): \(e)")
        XCTAssertTrue(e.reason.contains(reason), "\(text): \(e)")
        XCTAssertEqual(e.marked.split(separator: "\n").last.map(String.init), String(repeating: " ", count: column - 1) + "^")
      }
    }
    XCTAssertThrowsError(try BandExpression("nir - red").program(inputs: ["nir"])) { error in
      XCTAssertEqual(TesseraError.from(error).status, .usage)
    }
  }

  /// 100,000 seeded random strings and token sequences: each parses or fails with a syntax
  /// error; nothing crashes, and what parses evaluates.
  /// Long chains parse without recursion, nesting is bounded: the limits are named in the
  /// error, and anything within them gives the right value.
  func testLongAndDeepExpressionsAreBounded() throws {
    XCTAssertEqual(try value("b1" + String(repeating: "+1", count: 4_000), ["b1": 2]), 4_002)
    XCTAssertEqual(try value(String(repeating: "-", count: 5_001) + "b1", ["b1": 3]), -3)
    XCTAssertEqual(try value(String(repeating: "not ", count: 3_000) + "0"), 0)
    let nested = String(repeating: "(", count: BandExpression.maximumDepth) + "b1" + String(repeating: ")", count: BandExpression.maximumDepth)
    XCTAssertEqual(try value(nested, ["b1": 5]), 5)
    let cases: [(String, String)] = [
      ("b1" + String(repeating: "+1", count: 50_000), "more than 10000 tokens (the limit)"),
      (String(repeating: "(", count: 101) + "b1" + String(repeating: ")", count: 101), "more than 100 levels deep (the limit)"),
      (String(repeating: "abs(", count: 101) + "b1" + String(repeating: ")", count: 101), "more than 100 levels deep (the limit)"),
      ("2" + String(repeating: "^2", count: 101), "more than 100 levels deep (the limit)"),
      (String(repeating: "(", count: 12_000), "more than 10000 tokens (the limit)"),
    ]
    for (text, reason) in cases {
      XCTAssertThrowsError(try BandExpression(text), String(text.prefix(20))) { error in
        XCTAssertTrue("\(error)".contains(reason), "\(error)".prefix(200) + "")
      }
    }
  }

  func testConstantExpressions() throws {
    XCTAssertTrue(try BandExpression("2+3").isConstant)
    XCTAssertFalse(try BandExpression("2+b1").isConstant)
    XCTAssertEqual(try value("2+3"), 5)
    XCTAssertTrue(try value("0/0").isNaN)
    XCTAssertEqual(try value("-1"), -1)
  }

  func testRandomInputNeverCrashes() throws {
    var rng = SeededGenerator(seed: 20261126)
    let alphabet = Array("nir red b1 b2 0123456789.e+-*/^()<>=!, andornotabsqrtminmaxclampwhere$#\t")
    let tokens = ["nir", "red", "b1", "1", "2.5", "1e3", "+", "-", "*", "/", "**", "^", "(", ")", ",", "<", "<=", "==", "and", "or",
                  "not", "abs(", "min(", "clamp(", "where(", "sqrt(", ")", "(", ""]
    var parsed = 0, refused = 0
    for i in 0..<100_000 {
      let text: String
      if i % 2 == 0 {
        text = String((0..<rng.next(below: 24)).map { _ in alphabet[rng.next(below: alphabet.count)] })
      } else {
        text = (0..<rng.next(below: 16)).map { _ in tokens[rng.next(below: tokens.count)] }.joined(separator: " ")
      }
      do {
        let expression = try BandExpression(text)
        parsed += 1
        _ = try? expression.evaluate(["nir": 0.4, "red": 0.1, "b1": 3, "b2": -1])
      } catch is BandExpression.SyntaxError {
        refused += 1
      }
    }
    XCTAssertEqual(parsed + refused, 100_000)
    XCTAssertGreaterThan(parsed, 1000)
    // Deep nesting is refused, not a stack overflow.
    XCTAssertThrowsError(try BandExpression(String(repeating: "(", count: 50_000) + "1" + String(repeating: ")", count: 50_000)))
    XCTAssertThrowsError(try BandExpression(String(repeating: "-", count: 50_000) + "1"))
    XCTAssertThrowsError(try BandExpression(String(repeating: "not ", count: 50_000) + "1"))
  }
}
