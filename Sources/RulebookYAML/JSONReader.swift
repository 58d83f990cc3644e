import RulebookDiagnostics

/// Reads JSON (RFC 8259) into the same ``Node`` tree as ``YAMLReader``, with positions,
/// duplicate-key errors and the same depth and size limits.
///
/// Case files may be JSON and trails are JSON Lines, which a register exports by the
/// million; this reader works on bytes in one pass and tracks columns as it goes.
public enum JSONReader {
    /// Reads one JSON document from `bytes`.
    ///
    /// - Parameter firstLine: the line number of the first byte, so a JSON Lines reader
    ///   can report positions in the whole file.
    public static func read(
        bytes: UnsafeBufferPointer<UInt8>, file: String, limits: ReaderLimits = ReaderLimits(),
        requireMapping: Bool = true, firstLine: Int = 1
    ) -> ReadResult {
        if let problem = limits.sizeProblem(bytes.count, file: file) {
            return ReadResult(root: nil, diagnostics: [problem])
        }
        if let bad = TextPositions.firstInvalidUTF8(bytes) {
            var position = TextPositions.position(ofByte: bad, in: bytes)
            position.line += firstLine - 1
            return ReadResult(root: nil, diagnostics: [
                .error("invalid UTF-8 at offset \(bad)", at: SourceSpan(file: file, at: position), code: "encoding",
                       hint: "save the file as UTF-8"),
            ])
        }
        var parser = JSONParser(bytes: bytes, file: file, limits: limits, line: firstLine)
        let root = parser.document()
        var diagnostics = parser.diagnostics
        if let root, requireMapping, root.mapping == nil {
            diagnostics.append(.error(
                "the top level must be a JSON object; found \(root.kindDescription)", at: root.span,
                code: "root-not-mapping"))
            return ReadResult(root: nil, diagnostics: diagnostics)
        }
        return ReadResult(root: root, diagnostics: diagnostics)
    }

    /// Reads one JSON document from a string.
    public static func read(
        _ text: String, file: String, limits: ReaderLimits = ReaderLimits(), requireMapping: Bool = true
    ) -> ReadResult {
        var copy = text
        return copy.withUTF8 { read(bytes: $0, file: file, limits: limits, requireMapping: requireMapping) }
    }
}

/// One pass over the bytes; a fatal error stops it (JSON has no recovery worth guessing).
private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let file: String
    let limits: ReaderLimits
    var index = 0
    var line: Int
    var column = 1
    var depth = 0
    var nodes = 0
    var diagnostics: [Diagnostic] = []
    var failed = false

    init(bytes: UnsafeBufferPointer<UInt8>, file: String, limits: ReaderLimits, line: Int) {
        self.bytes = bytes
        self.file = file
        self.limits = limits
        self.line = line
    }

    var position: SourcePosition { SourcePosition(line: line, column: column) }

    mutating func document() -> Node? {
        // A UTF-8 byte order mark is tolerated, as editors sometimes write one.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        skipWhitespace()
        if index >= bytes.count {
            fail("file is empty: it holds no JSON value", code: "empty")
            return nil
        }
        guard let root = value() else { return nil }
        skipWhitespace()
        if index < bytes.count {
            fail("unexpected \(describe(bytes[index])) after the JSON value", code: "json",
                 hint: "a JSON file holds one value; JSON Lines holds one per line")
            return nil
        }
        return root
    }

    // MARK: Values

    private mutating func value() -> Node? {
        guard !failed else { return nil }
        guard index < bytes.count else {
            fail("unexpected end of input: expected a value", code: "json")
            return nil
        }
        nodes += 1
        if nodes > limits.maxNodes {
            fail("more than \(limits.maxNodes) JSON values", code: "too-many-nodes")
            return nil
        }
        switch bytes[index] {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""):
            let start = position
            guard let text = string() else { return nil }
            return Node(.scalar(Scalar(text: text, style: .doubleQuoted, value: .string(text))), span: span(from: start))
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        default:
            fail("unexpected \(describe(bytes[index])): expected a JSON value", code: "json")
            return nil
        }
    }

    private mutating func object() -> Node? {
        let start = position
        guard enter() else { return nil }
        advance()
        var pairs: [Node.Pair] = []
        var seen: [String: SourceSpan] = [:]
        skipWhitespace()
        if peek(UInt8(ascii: "}")) {
            advance()
            depth -= 1
            return Node(.mapping(pairs), span: span(from: start))
        }
        while true {
            skipWhitespace()
            guard peek(UInt8(ascii: "\"")) else {
                fail("expected a quoted member name", code: "json")
                return nil
            }
            let keyStart = position
            guard let name = string() else { return nil }
            let key = Node(.scalar(Scalar(text: name, style: .doubleQuoted, value: .string(name))), span: span(from: keyStart))
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else {
                fail("expected ':' after the member name \"\(name)\"", code: "json")
                return nil
            }
            advance()
            skipWhitespace()
            guard let member = value() else { return nil }
            if let first = seen[name] {
                diagnostics.append(.error(
                    "duplicate key '\(name)'", at: key.span, code: "duplicate-key",
                    hint: "each key may appear once in an object",
                    notes: [Diagnostic.Note("'\(name)' is first defined here", at: first)]))
            } else {
                seen[name] = key.span
                pairs.append(Node.Pair(key: key, value: member))
            }
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                advance()
                continue
            }
            if peek(UInt8(ascii: "}")) {
                advance()
                depth -= 1
                return Node(.mapping(pairs), span: span(from: start))
            }
            fail(index < bytes.count ? "expected ',' or '}' after an object member, found \(describe(bytes[index]))"
                 : "unexpected end of input inside an object", code: "json")
            return nil
        }
    }

    private mutating func array() -> Node? {
        let start = position
        guard enter() else { return nil }
        advance()
        var items: [Node] = []
        skipWhitespace()
        if peek(UInt8(ascii: "]")) {
            advance()
            depth -= 1
            return Node(.sequence(items), span: span(from: start))
        }
        while true {
            skipWhitespace()
            guard let item = value() else { return nil }
            items.append(item)
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                advance()
                continue
            }
            if peek(UInt8(ascii: "]")) {
                advance()
                depth -= 1
                return Node(.sequence(items), span: span(from: start))
            }
            fail(index < bytes.count ? "expected ',' or ']' after an array item, found \(describe(bytes[index]))"
                 : "unexpected end of input inside an array", code: "json")
            return nil
        }
    }

    private mutating func enter() -> Bool {
        depth += 1
        if depth > limits.maxDepth {
            fail("nesting is deeper than \(limits.maxDepth) levels", code: "too-deep")
            return false
        }
        return true
    }

    private mutating func literal(_ word: StaticString, _ value: ScalarValue) -> Node? {
        let start = position
        let count = word.utf8CodeUnitCount
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        guard index + count <= bytes.count, (0..<count).allSatisfy({ bytes[index + $0] == expected[$0] }) else {
            fail("unexpected \(describe(bytes[index])): expected a JSON value", code: "json")
            return nil
        }
        for _ in 0..<count { advance() }
        let text = String(decoding: expected, as: UTF8.self)
        return Node(.scalar(Scalar(text: text, style: .plain, value: value)), span: span(from: start))
    }

    private mutating func number() -> Node? {
        let start = position
        let from = index
        var isInteger = true
        if peek(UInt8(ascii: "-")) { advance() }
        guard index < bytes.count, isDigit(bytes[index]) else {
            fail("invalid number: expected a digit", code: "json")
            return nil
        }
        if bytes[index] == UInt8(ascii: "0") {
            advance()
            if index < bytes.count, isDigit(bytes[index]) {
                fail("invalid number: leading zeros are not allowed in JSON", code: "json")
                return nil
            }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { advance() }
        }
        if peek(UInt8(ascii: ".")) {
            isInteger = false
            advance()
            guard index < bytes.count, isDigit(bytes[index]) else {
                fail("invalid number: expected a digit after '.'", code: "json")
                return nil
            }
            while index < bytes.count, isDigit(bytes[index]) { advance() }
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            isInteger = false
            advance()
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { advance() }
            guard index < bytes.count, isDigit(bytes[index]) else {
                fail("invalid number: expected a digit in the exponent", code: "json")
                return nil
            }
            while index < bytes.count, isDigit(bytes[index]) { advance() }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[from..<index]), as: UTF8.self)
        let value: ScalarValue
        if isInteger, let i = Int(text) {
            value = .int(i)
        } else {
            value = .float(Double(text) ?? .nan)
        }
        return Node(.scalar(Scalar(text: text, style: .plain, value: value)), span: span(from: start))
    }

    /// Reads a quoted string at `index`, unescaping; nil after a reported error.
    private mutating func string() -> String? {
        advance()  // opening quote
        let from = index
        // Fast path: no escapes.
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[from..<index]), as: UTF8.self)
                advance()
                return text
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 {
                fail("control character \(describe(b)) inside a string; escape it", code: "json")
                return nil
            }
            advance()
        }
        var scalars = Array(bytes[from..<index])
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                advance()
                return String(decoding: scalars, as: UTF8.self)
            }
            if b < 0x20 {
                fail("control character \(describe(b)) inside a string; escape it", code: "json")
                return nil
            }
            if b != UInt8(ascii: "\\") {
                scalars.append(b)
                advance()
                continue
            }
            advance()
            guard index < bytes.count else { break }
            let e = bytes[index]
            advance()
            switch e {
            case UInt8(ascii: "\""): scalars.append(0x22)
            case UInt8(ascii: "\\"): scalars.append(0x5C)
            case UInt8(ascii: "/"): scalars.append(0x2F)
            case UInt8(ascii: "b"): scalars.append(0x08)
            case UInt8(ascii: "f"): scalars.append(0x0C)
            case UInt8(ascii: "n"): scalars.append(0x0A)
            case UInt8(ascii: "r"): scalars.append(0x0D)
            case UInt8(ascii: "t"): scalars.append(0x09)
            case UInt8(ascii: "u"):
                guard var code = hex4() else { return nil }
                if (0xD800...0xDBFF).contains(code) {
                    guard peek(UInt8(ascii: "\\")), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                        fail("unpaired surrogate \\u\(String(code, radix: 16)) in a string", code: "json")
                        return nil
                    }
                    advance(); advance()
                    guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else {
                        fail("invalid surrogate pair in a string", code: "json")
                        return nil
                    }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(code) {
                    fail("unpaired surrogate \\u\(String(code, radix: 16)) in a string", code: "json")
                    return nil
                }
                guard let scalar = Unicode.Scalar(code) else { return nil }
                scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                fail("invalid escape '\\\(String(decoding: [e], as: UTF8.self))' in a string", code: "json")
                return nil
            }
        }
        fail("a string is never closed", code: "json", hint: "add the closing quote")
        return nil
    }

    private mutating func hex4() -> UInt32? {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else {
                fail("unexpected end of input in a \\u escape", code: "json")
                return nil
            }
            let b = bytes[index]
            let digit: UInt32
            switch b {
            case 48...57: digit = UInt32(b - 48)
            case 65...70: digit = UInt32(b - 55)
            case 97...102: digit = UInt32(b - 87)
            default:
                fail("invalid hex digit \(describe(b)) in a \\u escape", code: "json")
                return nil
            }
            value = value << 4 | digit
            advance()
        }
        return value
    }

    // MARK: Scanning

    private func peek(_ byte: UInt8) -> Bool {
        index < bytes.count && bytes[index] == byte
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

    /// Moves past one byte, keeping line and (character) column.
    private mutating func advance() {
        let b = bytes[index]
        index += 1
        if b == 0x0A {
            line += 1
            column = 1
        } else if b & 0xC0 != 0x80 {
            column += 1
        }
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0D: index += 1; column += 1
            case 0x0A: index += 1; line += 1; column = 1
            default: return
            }
        }
    }

    private func span(from start: SourcePosition) -> SourceSpan {
        SourceSpan(file: file, start: start, end: position)
    }

    private mutating func fail(_ message: String, code: String, hint: String? = nil) {
        guard !failed else { return }
        failed = true
        diagnostics.append(.error(
            code == "json" ? "invalid JSON: " + message : message, at: SourceSpan(file: file, at: position),
            code: code, hint: hint))
    }

    private func describe(_ b: UInt8) -> String {
        if b >= 0x21 && b < 0x7F { return "'\(String(decoding: [b], as: UTF8.self))'" }
        return "byte 0x" + String(b, radix: 16, uppercase: true)
    }
}
