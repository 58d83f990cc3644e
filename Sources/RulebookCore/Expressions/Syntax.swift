/// A range of characters inside an expression's text (offsets in Unicode scalars, end
/// exclusive), mapped to a file position only when a diagnostic needs one.
public struct TextRange: Hashable, Sendable {
    /// First character.
    public var start: Int
    /// One past the last character.
    public var end: Int

    /// Creates a range.
    public init(_ start: Int, _ end: Int) {
        self.start = start
        self.end = end
    }

    /// The smallest range covering both.
    public func union(_ other: TextRange) -> TextRange {
        TextRange(min(start, other.start), max(end, other.end))
    }
}

/// The parsed (not yet type-checked) form of an expression. Every node keeps its range
/// in the expression text so a type error can point at the exact token.
public indirect enum Syntax: Sendable {
    case bool(Bool, TextRange)
    case int(Int, TextRange)
    case string(String, TextRange)
    case list([Syntax], TextRange)
    case name(String, TextRange)
    case call(String, [Syntax], TextRange)
    case unary(UnaryOperator, Syntax, TextRange)
    case binary(BinaryOperator, Syntax, Syntax, TextRange)

    /// Where this node is in the expression text.
    public var range: TextRange {
        switch self {
        case .bool(_, let r), .int(_, let r), .string(_, let r), .list(_, let r), .name(_, let r),
             .call(_, _, let r), .unary(_, _, let r), .binary(_, _, _, let r):
            return r
        }
    }

    /// Every name the expression refers to (facts, values, and call arguments that are
    /// names), in order of appearance.
    public var names: [(String, TextRange)] {
        var out: [(String, TextRange)] = []
        func walk(_ s: Syntax) {
            switch s {
            case .name(let n, let r): out.append((n, r))
            case .list(let items, _): items.forEach(walk)
            case .call(_, let args, _): args.forEach(walk)
            case .unary(_, let a, _): walk(a)
            case .binary(_, let a, let b, _): walk(a); walk(b)
            case .bool, .int, .string: break
            }
        }
        walk(self)
        return out
    }
}

extension Syntax {
    /// The expression written one fixed way (every operation in parentheses, one space
    /// around operators, double quotes): two texts that differ only in spacing, quotes or
    /// redundant parentheses have the same canonical form.
    public var canonical: String {
        switch self {
        case .bool(let b, _): return b ? "true" : "false"
        case .int(let n, _): return String(n)
        case .string(let s, _): return "\"" + s + "\""
        case .list(let items, _): return "[" + items.map(\.canonical).joined(separator: ", ") + "]"
        case .name(let n, _): return n
        case .call(let f, let args, _): return f + "(" + args.map(\.canonical).joined(separator: ", ") + ")"
        case .unary(let op, let a, _): return "(" + op.rawValue + a.canonical + ")"
        case .binary(let op, let a, let b, _): return "(" + a.canonical + " " + op.rawValue + " " + b.canonical + ")"
        }
    }
}

/// `!` and unary `-`.
public enum UnaryOperator: String, Sendable {
    case not = "!"
    case negate = "-"
}

/// The binary operators, lowest precedence first: `||`, `&&`, comparisons and `in`,
/// `+ -`, `* / %`.
public enum BinaryOperator: String, Sendable, CaseIterable {
    case or = "||"
    case and = "&&"
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case `in` = "in"
    case add = "+"
    case subtract = "-"
    case multiply = "*"
    case divide = "/"
    case remainder = "%"

    /// Binding strength: higher binds tighter.
    var precedence: Int {
        switch self {
        case .or: return 1
        case .and: return 2
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual, .in: return 3
        case .add, .subtract: return 4
        case .multiply, .divide, .remainder: return 5
        }
    }
}
