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

  indirect enum Node: Sendable {
    case number(Double)
    case variable(String)
    case unary(String, Node)
    case binary(String, Node, Node)
    case call(String, [Node])
  }

  public let text: String
  let root: Node

  /// Function names and how many arguments each takes.
  static let functions: [String: ClosedRange<Int>] = [
    "abs": 1...1, "sqrt": 1...1, "exp": 1...1, "log": 1...1, "min": 2...8, "max": 2...8, "clamp": 3...3, "where": 3...3,
  ]

  public init(_ text: String) throws {
    self.text = text
    var parser = Parser(text: text)
    root = try parser.parse()
  }

  /// The names the expression reads, in order of first use.
  public var variables: [String] {
    var seen: [String] = []
    func walk(_ node: Node) {
      switch node {
      case .number: break
      case .variable(let name): if !seen.contains(name) { seen.append(name) }
      case .unary(_, let a): walk(a)
      case .binary(_, let a, let b): walk(a); walk(b)
      case .call(_, let args): args.forEach(walk)
      }
    }
    walk(root)
    return seen
  }

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
    /// Nesting so far: a hostile expression must not exhaust the stack.
    var depth = 0
    static let maximumDepth = 200

    init(text: String) { self.text = text }

    func error(_ reason: String, _ column: Int) -> SyntaxError { SyntaxError(column: column, reason: reason, text: text) }

    mutating func tokenize() throws {
      let chars = Array(text.unicodeScalars)
      var i = 0
      while i < chars.count {
        let c = chars[i]
        let column = i + 1
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

    mutating func parse() throws -> Node {
      try tokenize()
      guard tokens.count > 1 else { throw error("the expression is empty", 1) }
      let node = try orExpression()
      guard current.kind == .end else { throw error("unexpected \(describe(current))", current.column) }
      return node
    }

    func describe(_ token: Token) -> String {
      switch token.kind {
      case .number(let v): return "number \(v.formatted())"
      case .name(let n): return "'\(n)'"
      case .symbol(let s): return "'\(s)'"
      case .end: return "end of the expression"
      }
    }

    mutating func orExpression() throws -> Node {
      var node = try andExpression()
      while accept("or") { node = .binary("or", node, try andExpression()) }
      return node
    }

    mutating func andExpression() throws -> Node {
      var node = try notExpression()
      while accept("and") { node = .binary("and", node, try notExpression()) }
      return node
    }

    mutating func notExpression() throws -> Node {
      depth += 1
      defer { depth -= 1 }
      guard depth <= Parser.maximumDepth else { throw error("the expression is nested too deeply", current.column) }
      if accept("not") { return .unary("not", try notExpression()) }
      return try comparison()
    }

    mutating func comparison() throws -> Node {
      let node = try additive()
      for op in ["<=", ">=", "==", "!=", "<", ">"] where accept(op) { return .binary(op, node, try additive()) }
      return node
    }

    mutating func additive() throws -> Node {
      var node = try multiplicative()
      while true {
        if accept("+") { node = .binary("+", node, try multiplicative()) } else if accept("-") {
          node = .binary("-", node, try multiplicative())
        } else { return node }
      }
    }

    mutating func multiplicative() throws -> Node {
      var node = try unary()
      while true {
        if accept("*") { node = .binary("*", node, try unary()) } else if accept("/") {
          node = .binary("/", node, try unary())
        } else { return node }
      }
    }

    mutating func unary() throws -> Node {
      depth += 1
      defer { depth -= 1 }
      guard depth <= Parser.maximumDepth else { throw error("the expression is nested too deeply", current.column) }
      if accept("-") { return .unary("-", try unary()) }
      if accept("+") { return try unary() }
      return try power()
    }

    mutating func power() throws -> Node {
      let base = try atom()
      if accept("**") || accept("^") { return .binary("^", base, try unary()) }
      return base
    }

    mutating func atom() throws -> Node {
      let token = current
      switch token.kind {
      case .number(let v):
        index += 1
        return .number(v)
      case .name(let name):
        guard !["and", "or", "not"].contains(name) else { throw error("'\(name)' needs an operand before it", token.column) }
        index += 1
        guard accept("(") else { return .variable(name) }
        guard let arity = BandExpression.functions[name] else {
          throw error("unknown function '\(name)' (functions: \(BandExpression.functions.keys.sorted().joined(separator: ", ")))", token.column)
        }
        var args: [Node] = []
        if !accept(")") {
          repeat { args.append(try orExpression()) } while accept(",")
          guard accept(")") else { throw error("expected ')' or ',' but found \(describe(current))", current.column) }
        }
        guard arity.contains(args.count) else {
          throw error("\(name) takes \(arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)") argument(s), not \(args.count)", token.column)
        }
        return .call(name, args)
      case .symbol("("):
        index += 1
        let node = try orExpression()
        guard accept(")") else { throw error("expected ')' but found \(describe(current))", current.column) }
        return node
      default:
        throw error("expected a number, a name or '(' but found \(describe(token))", token.column)
      }
    }
  }
}
