import Foundation
import XCTest
@testable import TesseraCore

/// Reports in and out of JSON: key order kept, nulls written, hostile text refused.
final class JSONCodingTests: XCTestCase {
  struct Sample: Codable {
    var zulu: Int
    var alphaBeta: Double
    @Reported var missing: String?
    var nested: [Inner]
    struct Inner: Codable { var lastValue: Double }
  }

  func testEncodingKeepsDeclarationOrderSnakeCaseAndNulls() throws {
    let value = Sample(zulu: 1, alphaBeta: 2.5, missing: nil, nested: [.init(lastValue: .nan), .init(lastValue: 3)])
    let json = try JSONValue(encoding: value)
    XCTAssertEqual(json.serialized(), #"{"zulu":1,"alpha_beta":2.5,"missing":null,"nested":[{"last_value":"NaN"},{"last_value":3}]}"#)
    // The same bytes every time: no hash order.
    for _ in 0..<20 { XCTAssertEqual(try JSONValue(encoding: value).serialized(), json.serialized()) }
    let back = try JSONValue.decode(Sample.self, from: Data(json.serialized().utf8))
    XCTAssertEqual(back.zulu, 1)
    XCTAssertTrue(back.nested[0].lastValue.isNaN)
    XCTAssertNil(back.missing)
    // A Reported key may be absent when reading.
    XCTAssertNil(try JSONValue.decode(Sample.self, from: Data(#"{"zulu":1,"alpha_beta":2,"nested":[]}"#.utf8)).missing)
  }

  func testParsingKeepsOrderAndRefusesWhatIsNotJSON() throws {
    let text = #"{"b": [1, 2.5, -3e2, true, null, "x\u00e9\n\ud83d\ude00"], "a": {}}"#
    let value = try JSONValue.parse(Data(text.utf8))
    XCTAssertEqual(value.serialized(), "{\"b\":[1,2.5,-300,true,null,\"xé\\n😀\"],\"a\":{}}")
    for bad in ["", "{", "[1,]", "{\"a\" 1}", "\"unterminated", "01x", "[1] 2", "nan", String(repeating: "[", count: 600) + String(repeating: "]", count: 600)] {
      XCTAssertThrowsError(try JSONValue.parse(Data(bad.utf8)), bad.prefix(20).description)
    }
  }
}
