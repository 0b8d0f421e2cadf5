import Foundation

/// Band math, parsed once into a program and evaluated over windows of pixels: numbers, named
/// inputs, `+ - * /`, `^` and `**` (power, right-associative, above unary minus), comparisons,
/// `and`/`or`/`not`, and `abs sqrt exp log min max clamp where`. No `eval`, no shell.
public struct BandExpression: Sendable, CustomStringConvertible {
  /// A syntax error, with the 1-based column it was found at.
  public struct SyntaxError: Error, CustomStringConvertible, Sendable {
    public let column: Int
    public let reason: String
    public let text: String
    public var description: String { "\(reason) at column \(column) of '\(text)'" }
    /// The text with a caret under the column, for a second line.
    public var marked: String { text + "\n" + String(repeating: " ", count: max(0, column - 1)) + "^" }
  }

  /// The parsed expression in postfix order (operands before their operator): a flat list, so
  /// nothing that reads it recurses, however long or deep the expression (a tree of 50,000
  /// terms overflowed the stack when walked, and again when freed).
  enum Item: Sendable, Equatable {
    case number(Double)
    case variable(String)
    case unary(String)
    case binary(String)
    case call(String, Int)
  }

  public let text: String
  let items: [Item]

  /// Function names and how many arguments each takes.
  static let functions: [String: ClosedRange<Int>] = [
    "abs": 1...1, "sqrt": 1...1, "exp": 1...1, "log": 1...1, "min": 2...8, "max": 2...8, "clamp": 3...3, "where": 3...3,
  ]

  /// The most tokens an expression may have: bounds the work and memory of compiling it.
  public static let maximumTokens = 10_000
  /// The deepest nesting of parentheses, function calls, unary operators and powers: the parser
  /// recurses once a level, and must fit a small (1 MiB) stack with room to spare.
  public static let maximumDepth = 100

  public init(_ text: String) throws {
    self.text = text
    var parser = Parser(text: text)
    items = try parser.parse()
  }

  /// The names the expression reads, in order of first use.
  public var variables: [String] {
    var seen: [String] = []
    var known: Set<String> = []
    for case .variable(let name) in items where known.insert(name).inserted { seen.append(name) }
    return seen
  }

  /// True when the expression reads no name: its value is the same at every pixel.
  public var isConstant: Bool { variables.isEmpty }

  public var description: String { text }

  // MARK: - Parsing

  struct Token: Equatable {
    enum Kind: Equatable { case number(Double), name(String), symbol(String), end }
    let kind: Kind
    let column: Int
  }

  struct Parser {
    let text: String
    var tokens: [Token] = []
    var index = 0
    var output: [Item] = []
    /// Nesting so far: a hostile expression must not exhaust the stack.
    var depth = 0

    init(text: String) { self.text = text }

    func error(_ reason: String, _ column: Int) -> SyntaxError { SyntaxError(column: column, reason: reason, text: text) }

    /// One level deeper: parentheses, a call, a unary operator or a power's exponent.
    mutating func descend() throws {
      depth += 1
      guard depth <= BandExpression.maximumDepth else {
        throw error("the expression is nested more than \(BandExpression.maximumDepth) levels deep (the limit)", current.column)
      }
    }

    mutating func tokenize() throws {
      let chars = Array(text.unicodeScalars)
      var i = 0
      while i < chars.count {
        let c = chars[i]
        let column = i + 1
        guard tokens.count < BandExpression.maximumTokens else {
          throw error("the expression has more than \(BandExpression.maximumTokens) tokens (the limit)", column)
        }
        if c == " " || c == "\t" { i += 1; continue }
        if CharacterSet.decimalDigits.contains(c) || (c == "." && i + 1 < chars.count && CharacterSet.decimalDigits.contains(chars[i + 1])) {
          var j = i
          while j < chars.count, CharacterSet.decimalDigits.contains(chars[j]) || chars[j] == "." { j += 1 }
          if j < chars.count, chars[j] == "e" || chars[j] == "E" {
            var k = j + 1
            if k < chars.count, chars[k] == "+" || chars[k] == "-" { k += 1 }
            if k < chars.count, CharacterSet.decimalDigits.contains(chars[k]) {
              j = k
              while j < chars.count, CharacterSet.decimalDigits.contains(chars[j]) { j += 1 }
            }
          }
          let literal = String(String.UnicodeScalarView(chars[i..<j]))
          guard let value = Double(literal), value.isFinite else { throw error("'\(literal)' is not a number", column) }
          tokens.append(Token(kind: .number(value), column: column))
          i = j
          continue
        }
        if CharacterSet.letters.contains(c) || c == "_" {
          var j = i
          while j < chars.count, CharacterSet.alphanumerics.contains(chars[j]) || chars[j] == "_" { j += 1 }
          tokens.append(Token(kind: .name(String(String.UnicodeScalarView(chars[i..<j]))), column: column))
          i = j
          continue
        }
        let two = i + 1 < chars.count ? String(String.UnicodeScalarView(chars[i...(i + 1)])) : ""
        if ["**", "<=", ">=", "==", "!="].contains(two) {
          tokens.append(Token(kind: .symbol(two), column: column))
          i += 2
          continue
        }
        let one = String(c)
        guard "+-*/^()<>,".contains(one) else { throw error("unexpected '\(one)'", column) }
        tokens.append(Token(kind: .symbol(one), column: column))
        i += 1
      }
      tokens.append(Token(kind: .end, column: chars.count + 1))
    }

    var current: Token { tokens[index] }

    mutating func accept(_ symbol: String) -> Bool {
      if case .symbol(let s) = current.kind, s == symbol { index += 1; return true }
      if case .name(let n) = current.kind, n == symbol, ["and", "or", "not"].contains(symbol) { index += 1; return true }
      return false
    }

    mutating func parse() throws -> [Item] {
      try tokenize()
      guard tokens.count > 1 else { throw error("the expression is empty", 1) }
      try orExpression()
      guard current.kind == .end else { throw error("unexpected \(describe(current))", current.column) }
      return output
    }

    func describe(_ token: Token) -> String {
      switch token.kind {
      case .number(let v): return "number \(v.formatted())"
      case .name(let n): return "'\(n)'"
      case .symbol(let s): return "'\(s)'"
      case .end: return "end of the expression"
      }
    }

    // Each production appends its postfix items to `output`; chains of one precedence
    // (a + b + c …) loop, only nesting recurses, and nesting is bounded by `descend`.

    mutating func orExpression() throws {
      try andExpression()
      while accept("or") { try andExpression(); output.append(.binary("or")) }
    }

    mutating func andExpression() throws {
      try notExpression()
      while accept("and") { try notExpression(); output.append(.binary("and")) }
    }

    mutating func notExpression() throws {
      // `not not … x` is counted, not recursed into: one level however long.
      var negations = 0
      while accept("not") { negations += 1 }
      if negations > 0 { try descend() }
      defer { if negations > 0 { depth -= 1 } }
      try comparison()
      for _ in 0..<negations { output.append(.unary("not")) }
    }

    mutating func comparison() throws {
      try additive()
      for op in ["<=", ">=", "==", "!=", "<", ">"] where accept(op) {
        try additive()
        output.append(.binary(op))
        return
      }
    }

    mutating func additive() throws {
      try multiplicative()
      while true {
        if accept("+") { try multiplicative(); output.append(.binary("+")) } else if accept("-") {
          try multiplicative(); output.append(.binary("-"))
        } else { return }
      }
    }

    mutating func multiplicative() throws {
      try unary()
      while true {
        if accept("*") { try unary(); output.append(.binary("*")) } else if accept("/") {
          try unary(); output.append(.binary("/"))
        } else { return }
      }
    }

    /// Signs in a row are counted, not recursed into: `- - - … x` is one level.
    mutating func unary() throws {
      var negative = false, signs = 0
      while true {
        if accept("-") { negative.toggle() } else if !accept("+") { break }
        signs += 1
      }
      if signs > 0 { try descend() }
      defer { if signs > 0 { depth -= 1 } }
      try power()
      if negative { output.append(.unary("-")) }
    }

    mutating func power() throws {
      try atom()
      if accept("**") || accept("^") {
        // Right-associative: the exponent is a unary expression, one level deeper.
        try descend()
        defer { depth -= 1 }
        try unary()
        output.append(.binary("^"))
      }
    }

    mutating func atom() throws {
      let token = current
      switch token.kind {
      case .number(let v):
        index += 1
        output.append(.number(v))
      case .name(let name):
        guard !["and", "or", "not"].contains(name) else { throw error("'\(name)' needs an operand before it", token.column) }
        index += 1
        guard accept("(") else { output.append(.variable(name)); return }
        guard let arity = BandExpression.functions[name] else {
          throw error("unknown function '\(name)' (functions: \(BandExpression.functions.keys.sorted().joined(separator: ", ")))", token.column)
        }
        try descend()
        defer { depth -= 1 }
        var count = 0
        if !accept(")") {
          repeat { try orExpression(); count += 1 } while accept(",")
          guard accept(")") else { throw error("expected ')' or ',' but found \(describe(current))", current.column) }
        }
        guard arity.contains(count) else {
          throw error("\(name) takes \(arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)") argument(s), not \(count)", token.column)
        }
        output.append(.call(name, count))
      case .symbol("("):
        index += 1
        try descend()
        defer { depth -= 1 }
        try orExpression()
        guard accept(")") else { throw error("expected ')' but found \(describe(current))", current.column) }
      default:
        throw error("expected a number, a name or '(' but found \(describe(token))", token.column)
      }
    }
  }
}
