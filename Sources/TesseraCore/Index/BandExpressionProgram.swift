import Foundation

// MARK: - Evaluation

extension BandExpression {
  /// The expression compiled for `inputs` (the names in the order their values are given):
  /// a stack program whose every step runs over a whole run of pixels.
  public struct Program: Sendable {
    enum Step: Sendable {
      case constant(Double), input(Int)
      case unary(String), binary(String), call(String, Int)
    }

    let steps: [Step]
    /// The most values on the stack at once.
    let height: Int

    /// Values of `count` pixels: `inputs[i]` holds input i's; the result goes to `result`.
    /// `stack` is the caller's scratch, kept between calls (one per worker).
    public func evaluate(_ inputs: [UnsafeBufferPointer<Double>], count: Int, stack: inout [[Double]],
                         into result: UnsafeMutableBufferPointer<Double>) {
      if stack.count < height || (stack.first?.count ?? 0) < count {
        stack = Array(repeating: [Double](repeating: 0, count: count), count: Swift.max(1, height))
      }
      var top = 0
      for step in steps {
        switch step {
        case .constant(let v):
          stack[top].withUnsafeMutableBufferPointer { out in for i in 0..<count { out[i] = v } }
          top += 1
        case .input(let k):
          let source = inputs[k]
          stack[top].withUnsafeMutableBufferPointer { out in for i in 0..<count { out[i] = source[i] } }
          top += 1
        case .unary(let op):
          stack[top - 1].withUnsafeMutableBufferPointer { a in
            switch op {
            case "-": for i in 0..<count { a[i] = -a[i] }
            default: for i in 0..<count { a[i] = a[i] == 0 ? 1 : 0 }  // not
            }
          }
        case .binary(let op):
          top -= 1
          let right = stack[top]
          stack[top - 1].withUnsafeMutableBufferPointer { a in
            right.withUnsafeBufferPointer { b in Program.apply(op, a, b, count) }
          }
        case .call(let name, let arity):
          top -= arity
          let base = top
          Program.call(name, arity, &stack, base, count)
          top += 1
        }
      }
      stack[0].withUnsafeBufferPointer { value in for i in 0..<count { result[i] = value[i] } }
    }

    static func apply(_ op: String, _ a: UnsafeMutableBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>, _ n: Int) {
      switch op {
      case "+": for i in 0..<n { a[i] += b[i] }
      case "-": for i in 0..<n { a[i] -= b[i] }
      case "*": for i in 0..<n { a[i] *= b[i] }
      case "/": for i in 0..<n { a[i] /= b[i] }
      case "^": for i in 0..<n { a[i] = Foundation.pow(a[i], b[i]) }
      case "<": for i in 0..<n { a[i] = a[i] < b[i] ? 1 : 0 }
      case "<=": for i in 0..<n { a[i] = a[i] <= b[i] ? 1 : 0 }
      case ">": for i in 0..<n { a[i] = a[i] > b[i] ? 1 : 0 }
      case ">=": for i in 0..<n { a[i] = a[i] >= b[i] ? 1 : 0 }
      case "==": for i in 0..<n { a[i] = a[i] == b[i] ? 1 : 0 }
      case "!=": for i in 0..<n { a[i] = a[i] != b[i] ? 1 : 0 }
      case "and": for i in 0..<n { a[i] = a[i] != 0 && b[i] != 0 ? 1 : 0 }
      default: for i in 0..<n { a[i] = a[i] != 0 || b[i] != 0 ? 1 : 0 }  // or
      }
    }

    /// A function of `arity` arguments at `stack[base...]`; the result replaces the first.
    static func call(_ name: String, _ arity: Int, _ stack: inout [[Double]], _ base: Int, _ n: Int) {
      switch name {
      case "abs", "sqrt", "exp", "log":
        stack[base].withUnsafeMutableBufferPointer { a in
          switch name {
          case "abs": for i in 0..<n { a[i] = Swift.abs(a[i]) }
          case "sqrt": for i in 0..<n { a[i] = a[i].squareRoot() }
          case "exp": for i in 0..<n { a[i] = Foundation.exp(a[i]) }
          default: for i in 0..<n { a[i] = Foundation.log(a[i]) }
          }
        }
      case "min", "max":
        for k in 1..<arity {
          let other = stack[base + k]
          stack[base].withUnsafeMutableBufferPointer { a in
            other.withUnsafeBufferPointer { b in
              // NaN in either gives NaN: a missing value is not silently replaced by another.
              if name == "min" {
                for i in 0..<n { a[i] = a[i].isNaN || b[i].isNaN ? .nan : Swift.min(a[i], b[i]) }
              } else {
                for i in 0..<n { a[i] = a[i].isNaN || b[i].isNaN ? .nan : Swift.max(a[i], b[i]) }
              }
            }
          }
        }
      case "clamp":
        let low = stack[base + 1], high = stack[base + 2]
        stack[base].withUnsafeMutableBufferPointer { a in
          for i in 0..<n { a[i] = a[i].isNaN ? .nan : Swift.min(Swift.max(a[i], low[i]), high[i]) }
        }
      default:  // where(c, a, b)
        let yes = stack[base + 1], no = stack[base + 2]
        stack[base].withUnsafeMutableBufferPointer { c in
          for i in 0..<n { c[i] = c[i].isNaN ? .nan : (c[i] != 0 ? yes[i] : no[i]) }
        }
      }
    }
  }

  /// Compiles for inputs named `inputs`; `constants` give values to other names.
  /// - Throws: exit 64 naming a name that is neither.
  public func program(inputs: [String], constants: [String: Double] = [:]) throws -> Program {
    // The items are already postfix: one pass, no recursion, however long the expression.
    var steps: [Program.Step] = []
    steps.reserveCapacity(items.count)
    var height = 0, current = 0
    for item in items {
      switch item {
      case .number(let v): steps.append(.constant(v)); current += 1
      case .variable(let name):
        if let k = inputs.firstIndex(of: name) { steps.append(.input(k)) } else if let v = constants[name] {
          steps.append(.constant(v))
        } else {
          throw TesseraError(.usage, "'\(name)' in '\(text)' is neither a bound input (\(inputs.joined(separator: ", "))) nor a constant")
        }
        current += 1
      case .unary(let op): steps.append(.unary(op))
      case .binary(let op): steps.append(.binary(op)); current -= 1
      case .call(let name, let count): steps.append(.call(name, count)); current -= count - 1
      }
      height = Swift.max(height, current)
    }
    return Program(steps: steps, height: height)
  }

  /// The expression's value for single numbers (tests, `--describe` examples).
  public func evaluate(_ values: [String: Double]) throws -> Double {
    let names = variables
    let program = try self.program(inputs: names)
    let columns = names.map { name -> UnsafeMutableBufferPointer<Double> in
      let column = UnsafeMutableBufferPointer<Double>.allocate(capacity: 1)
      column[0] = values[name] ?? .nan
      return column
    }
    defer { columns.forEach { $0.deallocate() } }
    var stack: [[Double]] = []
    var out = [Double](repeating: 0, count: 1)
    out.withUnsafeMutableBufferPointer { program.evaluate(columns.map { UnsafeBufferPointer($0) }, count: 1, stack: &stack, into: $0) }
    return out[0]
  }
}
