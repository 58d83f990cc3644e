import RulebookDiagnostics

/// A node of a YAML or JSON document: a scalar, a sequence or a mapping with its pairs
/// in file order, each with the span it occupies in its file.
///
/// Aliases share their anchor's node (no copy), so an anchored subtree costs its size once.
public struct Node: Sendable {
    /// What the node holds.
    public enum Content: Sendable {
        case scalar(Scalar)
        case sequence([Node])
        case mapping([Pair])
    }

    /// One `key: value` entry of a mapping.
    public struct Pair: Sendable {
        /// The key node (always a scalar: the reader rejects complex keys).
        public var key: Node
        /// The value node.
        public var value: Node

        /// Creates a pair.
        public init(key: Node, value: Node) {
            self.key = key
            self.value = value
        }

        /// The key's text.
        public var name: String { key.scalar?.text ?? "" }
    }

    /// The node's content.
    public var content: Content
    /// Where the node is, from its first to just past its last character.
    public var span: SourceSpan

    /// Creates a node.
    public init(_ content: Content, span: SourceSpan) {
        self.content = content
        self.span = span
    }

    /// The scalar, when this node is one.
    public var scalar: Scalar? {
        if case .scalar(let s) = content { return s }
        return nil
    }

    /// The items, when this node is a sequence.
    public var sequence: [Node]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    /// The pairs, when this node is a mapping.
    public var mapping: [Pair]? {
        if case .mapping(let pairs) = content { return pairs }
        return nil
    }

    /// The value for `key` in a mapping (first match), or nil.
    public subscript(key: String) -> Node? {
        mapping?.first(where: { $0.name == key })?.value
    }

    /// What kind of node this is, phrased for messages: "a mapping", "a list",
    /// "the string 'yes'", "the integer 3", "null".
    public var kindDescription: String {
        switch content {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s): return s.value.description
        }
    }
}

/// A scalar with its text as written (after unquoting) and its YAML 1.2 core-schema value.
public struct Scalar: Sendable, Hashable {
    /// How the scalar was written in the source.
    public enum Style: String, Sendable, Hashable {
        case plain
        case singleQuoted = "single-quoted"
        case doubleQuoted = "double-quoted"
        case literal
        case folded
    }

    /// The text, after unquoting and unescaping.
    public var text: String
    /// How it was written.
    public var style: Style
    /// Its resolved value: only plain scalars (or explicit core tags) resolve to anything
    /// but a string.
    public var value: ScalarValue

    /// Creates a scalar.
    public init(text: String, style: Style, value: ScalarValue) {
        self.text = text
        self.style = style
        self.value = value
    }

    /// True for a plain (unquoted) scalar that YAML 1.1 would have read as a boolean
    /// (`yes`, `no`, `on`, `off`, `y`, `n`): later layers warn where a boolean is expected.
    public var isYAML11Boolean: Bool {
        guard style == .plain else { return false }
        switch text.lowercased() {
        case "yes", "no", "on", "off", "y", "n": return true
        default: return false
        }
    }
}

/// The value of a scalar under the YAML 1.2 core schema.
public enum ScalarValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)

    /// Phrased for messages.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "the boolean \(b)"
        case .int(let i): return "the integer \(i)"
        case .float(let d): return "the number \(d)"
        case .string(let s):
            let shown = s.count > 40 ? String(s.prefix(37)) + "..." : s
            return "the string '\(shown)'"
        }
    }

    /// Resolves a plain scalar's text under the YAML 1.2 core schema: only
    /// `true`/`false` (any case form the schema allows) are booleans, `null`, `~` and the
    /// empty scalar are null, decimal, `0o` and `0x` integers, and decimal floats with
    /// `.inf`/`.nan`. Everything else, including `yes`, `no`, `on`, `off`, is a string.
    public static func resolvePlain(_ text: String) -> ScalarValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .float(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .float(-.infinity)
        case ".nan", ".NaN", ".NAN": return .float(.nan)
        default: break
        }
        let utf8 = text.utf8
        guard let first = utf8.first else { return .string(text) }
        // Quick rejection: core-schema numbers start with a sign, digit or dot.
        guard first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
            || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
        else { return .string(text) }
        if let i = parseCoreInteger(utf8) { return i }
        if isCoreFloat(utf8), let d = Double(text) { return .float(d) }
        return .string(text)
    }

    private static func parseCoreInteger(_ utf8: String.UTF8View) -> ScalarValue? {
        let bytes = Array(utf8)
        func allDigits(_ slice: ArraySlice<UInt8>, radix: Int) -> Bool {
            guard !slice.isEmpty else { return false }
            return slice.allSatisfy { b in
                switch radix {
                case 8: return b >= 48 && b <= 55
                case 16: return (b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102)
                default: return b >= 48 && b <= 57
                }
            }
        }
        for (prefix, radix) in [(UInt8(ascii: "o"), 8), (UInt8(ascii: "x"), 16)]
        where bytes.count > 2 && bytes[0] == UInt8(ascii: "0") && bytes[1] == prefix {
            guard allDigits(bytes[2...], radix: radix) else { return nil }
            // Out of range: a float keeps the magnitude for a later "expected an integer".
            return Int(String(decoding: bytes[2...], as: UTF8.self), radix: radix).map(ScalarValue.int)
                ?? .float(.infinity)
        }
        var body = bytes[...]
        if let f = body.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { body = body.dropFirst() }
        guard allDigits(body, radix: 10) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        if let i = Int(text) { return .int(i) }
        return Double(text).map(ScalarValue.float)
    }

    /// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
    private static func isCoreFloat(_ utf8: String.UTF8View) -> Bool {
        var it = Array(utf8)[...]
        func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        if let f = it.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { it = it.dropFirst() }
        var intDigits = 0
        while let b = it.first, isDigit(b) { intDigits += 1; it = it.dropFirst() }
        var fracDigits = 0
        if let b = it.first, b == UInt8(ascii: ".") {
            it = it.dropFirst()
            while let b = it.first, isDigit(b) { fracDigits += 1; it = it.dropFirst() }
        }
        guard intDigits > 0 || fracDigits > 0 else { return false }
        if let b = it.first, b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
            it = it.dropFirst()
            if let s = it.first, s == UInt8(ascii: "-") || s == UInt8(ascii: "+") { it = it.dropFirst() }
            var expDigits = 0
            while let b = it.first, isDigit(b) { expDigits += 1; it = it.dropFirst() }
            guard expDigits > 0 else { return false }
        }
        return it.isEmpty
    }
}
