/// A problem inside an expression, located by character range in its text.
public struct ExpressionError: Error, Sendable, Hashable {
    /// What is wrong.
    public var message: String
    /// Where, inside the expression text.
    public var range: TextRange
    /// How to fix it, when that is clear.
    public var hint: String?

    /// Creates an error.
    public init(_ message: String, _ range: TextRange, hint: String? = nil) {
        self.message = message
        self.range = range
        self.hint = hint
    }
}

/// Parses the expression language (grammar in docs/expressions.md) into ``Syntax``.
///
///     expr       = or
///     or         = and { "||" and }
///     and        = comparison { "&&" comparison }
///     comparison = sum [ ("==" | "!=" | "<" | "<=" | ">" | ">=" | "in") sum ]
///     sum        = product { ("+" | "-") product }
///     product    = unary { ("*" | "/" | "%") unary }
///     unary      = ("!" | "-") unary | primary
///     primary    = INT | STRING | "true" | "false" | NAME [ "(" [ expr { "," expr } ] ")" ]
///                | "(" expr ")" | "[" [ expr { "," expr } ] "]"
public struct ExpressionParser {
    private enum Token: Equatable {
        case int(Int)
        case string(String)
        case name(String)
        case symbol(String)
        case end
    }

    private let scalars: [Unicode.Scalar]
    private var tokens: [(Token, TextRange)] = []
    private var position = 0

    /// Parses `text`, throwing the first syntax error.
    public static func parse(_ text: String) throws(ExpressionError) -> Syntax {
        var parser = ExpressionParser(text)
        try parser.tokenize()
        let syntax = try parser.expression(minPrecedence: 1)
        if case (let token, let range) = parser.tokens[parser.position], token != .end {
            throw ExpressionError("unexpected \(describe(token)) after the end of the expression", range,
                                  hint: "join conditions with && or ||")
        }
        return syntax
    }

    private init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    // MARK: Tokens

    private mutating func tokenize() throws(ExpressionError) {
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                i += 1
                continue
            }
            let start = i
            if c.isASCIIDigit {
                var value = 0
                while i < scalars.count, scalars[i].isASCIIDigit {
                    let (m, o1) = value.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(Int(scalars[i].value - 48))
                    if o1 || o2 { throw ExpressionError("integer is too large", TextRange(start, i + 1)) }
                    value = a
                    i += 1
                }
                if i < scalars.count, scalars[i].isNameCharacter {
                    throw ExpressionError("a name cannot start with a digit", TextRange(start, i + 1))
                }
                tokens.append((.int(value), TextRange(start, i)))
                continue
            }
            if c.isNameStart {
                while i < scalars.count, scalars[i].isNameCharacter { i += 1 }
                tokens.append((.name(String(String.UnicodeScalarView(scalars[start..<i]))), TextRange(start, i)))
                continue
            }
            if c == "\"" || c == "'" {
                i += 1
                var text = String.UnicodeScalarView()
                var closed = false
                while i < scalars.count {
                    let d = scalars[i]
                    if d == c {
                        closed = true
                        i += 1
                        break
                    }
                    if d == "\\", i + 1 < scalars.count {
                        text.append(scalars[i + 1])
                        i += 2
                        continue
                    }
                    text.append(d)
                    i += 1
                }
                guard closed else {
                    throw ExpressionError("string is not closed", TextRange(start, i), hint: "add the closing \(c)")
                }
                tokens.append((.string(String(text)), TextRange(start, i)))
                continue
            }
            let two = i + 1 < scalars.count ? String(String.UnicodeScalarView([c, scalars[i + 1]])) : ""
            if ["&&", "||", "==", "!=", "<=", ">="].contains(two) {
                tokens.append((.symbol(two), TextRange(i, i + 2)))
                i += 2
                continue
            }
            let one = String(Character(c))
            if ["(", ")", "[", "]", ",", "!", "-", "+", "*", "/", "%", "<", ">"].contains(one) {
                tokens.append((.symbol(one), TextRange(i, i + 1)))
                i += 1
                continue
            }
            let hint: String?
            switch one {
            case "=": hint = "compare with =="
            case "&": hint = "write && for 'and'"
            case "|": hint = "write || for 'or'"
            default: hint = nil
            }
            throw ExpressionError("unexpected character '\(one)'", TextRange(i, i + 1), hint: hint)
        }
        tokens.append((.end, TextRange(scalars.count, scalars.count)))
    }

    // MARK: Grammar

    private mutating func expression(minPrecedence: Int) throws(ExpressionError) -> Syntax {
        var left = try unary()
        var lastComparison: TextRange?
        while let (op, range) = binaryOperator(), op.precedence >= minPrecedence {
            if op.precedence == 3 {
                if let previous = lastComparison {
                    throw ExpressionError("comparisons cannot be chained", previous.union(range),
                                          hint: "join them with &&, as in a < b && b < c")
                }
                lastComparison = range
            }
            position += 1
            let right = try expression(minPrecedence: op.precedence + 1)
            left = .binary(op, left, right, left.range.union(right.range))
        }
        return left
    }

    private func binaryOperator() -> (BinaryOperator, TextRange)? {
        let (token, range) = tokens[position]
        switch token {
        case .symbol(let s): return BinaryOperator(rawValue: s).map { ($0, range) }
        case .name("in"): return (.in, range)
        case .name("and"), .name("or"), .name("not"):
            return nil
        default: return nil
        }
    }

    private mutating func unary() throws(ExpressionError) -> Syntax {
        let (token, range) = tokens[position]
        if token == .symbol("!") || token == .symbol("-") {
            position += 1
            let operand = try unary()
            let op: UnaryOperator = token == .symbol("!") ? .not : .negate
            if op == .negate, case .int(let n, let r) = operand {
                return .int(-n, range.union(r))
            }
            return .unary(op, operand, range.union(operand.range))
        }
        return try primary()
    }

    private mutating func primary() throws(ExpressionError) -> Syntax {
        let (token, range) = tokens[position]
        position += 1
        switch token {
        case .int(let n): return .int(n, range)
        case .string(let s): return .string(s, range)
        case .name("true"): return .bool(true, range)
        case .name("false"): return .bool(false, range)
        case .name(let word) where ["and", "or", "not"].contains(word):
            let replacement = ["and": "&&", "or": "||", "not": "!"][word]!
            throw ExpressionError("'\(word)' is not an operator here", range, hint: "write \(replacement)")
        case .name("in"):
            throw ExpressionError("'in' needs a value on its left", range)
        case .name(let name):
            guard tokens[position].0 == .symbol("(") else { return .name(name, range) }
            position += 1
            let items = try list(closing: ")")
            return .call(name, items.0, range.union(items.1))
        case .symbol("("):
            let inner = try expression(minPrecedence: 1)
            guard tokens[position].0 == .symbol(")") else {
                throw ExpressionError("expected ')'", tokens[position].1, hint: "close the parenthesis opened here")
            }
            position += 1
            return inner
        case .symbol("["):
            let items = try list(closing: "]")
            return .list(items.0, range.union(items.1))
        case .end:
            throw ExpressionError(range.start == 0 ? "the expression is empty" : "the expression ends too early",
                                  range)
        default:
            throw ExpressionError("unexpected \(Self.describe(token))", range)
        }
    }

    /// Items up to `closing`; returns them and the closing token's range.
    private mutating func list(closing: String) throws(ExpressionError) -> ([Syntax], TextRange) {
        var items: [Syntax] = []
        if tokens[position].0 == .symbol(closing) {
            position += 1
            return (items, tokens[position - 1].1)
        }
        while true {
            items.append(try expression(minPrecedence: 1))
            let (token, range) = tokens[position]
            position += 1
            if token == .symbol(closing) { return (items, range) }
            guard token == .symbol(",") else {
                throw ExpressionError("expected ',' or '\(closing)'", range)
            }
        }
    }

    private static func describe(_ token: Token) -> String {
        switch token {
        case .int(let n): return "number \(n)"
        case .string(let s): return "string \"\(s)\""
        case .name(let n): return "name '\(n)'"
        case .symbol(let s): return "'\(s)'"
        case .end: return "end of expression"
        }
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIIDigit: Bool { value >= 48 && value <= 57 }
    fileprivate var isNameStart: Bool { (value >= 97 && value <= 122) || (value >= 65 && value <= 90) || value == 95 }
    fileprivate var isNameCharacter: Bool { isNameStart || isASCIIDigit }
}
