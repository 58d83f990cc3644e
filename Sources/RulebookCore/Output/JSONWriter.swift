import RulebookDiagnostics

/// Writes JSON text straight into a byte buffer, keys in the order written, so output is
/// stable for tools and fast for batches (no intermediate tree).
///
/// Usage: `w.object { w.field("id") { w.string(id) } }`.
public struct JSONWriter: Sendable {
    /// The JSON text written so far, UTF-8.
    public private(set) var bytes: [UInt8] = []
    private let pretty: Bool
    private var depth = 0
    /// Whether the current container already holds an element (a comma is due).
    private var hasElement: [Bool] = [false]

    /// Creates a writer; `pretty` indents by two spaces, otherwise output is one line.
    public init(pretty: Bool) {
        self.pretty = pretty
        bytes.reserveCapacity(256)
    }

    /// The text written so far.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Clears the buffer for reuse, keeping its capacity.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        depth = 0
        hasElement = [false]
    }

    // MARK: Containers

    /// Writes an object whose members `body` writes with ``field(_:_:)``.
    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        beginValue()
        bytes.append(UInt8(ascii: "{"))
        open()
        body(&self)
        close(UInt8(ascii: "}"))
    }

    /// Writes an array whose items `body` writes.
    public mutating func array(_ body: (inout JSONWriter) -> Void) {
        beginValue()
        bytes.append(UInt8(ascii: "["))
        open()
        body(&self)
        close(UInt8(ascii: "]"))
    }

    /// Writes an array of strings.
    public mutating func array(strings: [String]) {
        array { w in for s in strings { w.string(s) } }
    }

    /// Writes one member of the enclosing object: its key, then the value `body` writes.
    public mutating func field(_ key: String, _ body: (inout JSONWriter) -> Void) {
        separate()
        writeString(key)
        bytes.append(UInt8(ascii: ":"))
        if pretty { bytes.append(0x20) }
        hasElement[depth] = true
        pendingKey = true
        body(&self)
        pendingKey = false
    }

    /// Writes a string member, or `null` when `value` is nil.
    public mutating func field(_ key: String, string value: String?) {
        field(key) { w in
            if let value { w.string(value) } else { w.null() }
        }
    }

    /// Writes an integer member, or `null` when `value` is nil.
    public mutating func field(_ key: String, int value: Int?) {
        field(key) { w in
            if let value { w.int(value) } else { w.null() }
        }
    }

    /// Writes a boolean member.
    public mutating func field(_ key: String, bool value: Bool) {
        field(key) { w in w.bool(value) }
    }

    // MARK: Scalars

    /// Writes a string value.
    public mutating func string(_ value: String) {
        beginValue()
        writeString(value)
    }

    /// Writes an integer value.
    public mutating func int(_ value: Int) {
        beginValue()
        appendDecimal(value)
    }

    /// Writes a boolean value.
    public mutating func bool(_ value: Bool) {
        beginValue()
        bytes.append(contentsOf: value ? Self.trueBytes : Self.falseBytes)
    }

    /// Writes `null`.
    public mutating func null() {
        beginValue()
        bytes.append(contentsOf: Self.nullBytes)
    }

    /// Ends a line of JSON Lines: a newline after the top-level value just written, and
    /// the writer ready for the next.
    public mutating func lineBreak() {
        precondition(depth == 0, "a line break inside a JSON value")
        bytes.append(0x0A)
        hasElement[0] = false
        pendingKey = false
    }

    /// Writes already-encoded JSON verbatim (for cached fragments).
    public mutating func raw(_ json: [UInt8]) {
        beginValue()
        bytes.append(contentsOf: json)
    }

    // MARK: Laid out by the caller

    // For writers that lay out a line themselves (a batch writes millions): bytes go in
    // as given, with no separators and no structure checks. The caller writes valid JSON.

    /// Appends bytes as they are.
    public mutating func appendRaw(_ raw: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: raw)
    }

    /// Removes the last byte written.
    public mutating func dropLast() {
        bytes.removeLast()
    }

    /// Appends a decimal integer.
    public mutating func appendRawInt(_ value: Int) {
        appendDecimal(value)
    }

    /// Appends a quoted, escaped string.
    public mutating func appendRawString(_ value: String) {
        writeString(value)
    }

    // MARK: Internals

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
    private static let nullBytes = Array("null".utf8)
    private var pendingKey = false

    private mutating func open() {
        depth += 1
        if hasElement.count <= depth { hasElement.append(false) } else { hasElement[depth] = false }
    }

    private mutating func close(_ bracket: UInt8) {
        let hadElements = hasElement[depth]
        depth -= 1
        if pretty && hadElements { newline() }
        bytes.append(bracket)
    }

    /// Called before any value: inside an array it writes the separator; after a key it
    /// writes nothing.
    private mutating func beginValue() {
        if pendingKey {
            pendingKey = false
            return
        }
        if depth > 0 {
            separate()
            hasElement[depth] = true
        }
    }

    private mutating func separate() {
        if hasElement[depth] { bytes.append(UInt8(ascii: ",")) }
        if pretty && depth > 0 { newline() }
    }

    private mutating func newline() {
        bytes.append(0x0A)
        for _ in 0..<(depth * 2) { bytes.append(0x20) }
    }

    private mutating func appendDecimal(_ value: Int) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
        }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        withUnsafeBytes(of: &digits) { buffer in
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[i]) }
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private mutating func writeString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            // Copy runs that need no escaping in one go, testing 8 bytes at a time; escape
            // the rest byte by byte.
            let count = utf8.count
            var run = 0
            var i = 0
            while i < count {
                if i + 8 <= count, !Self.needsEscape(UnsafeRawPointer(utf8.baseAddress! + i).loadUnaligned(as: UInt64.self)) {
                    i += 8
                    continue
                }
                let b = utf8[i]
                i += 1
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                if run < i - 1 { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<(i - 1)])) }
                run = i
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
                case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
                default:
                    bytes.append(contentsOf: Self.unicodeEscapePrefix)
                    bytes.append(Self.hexDigits[Int(b >> 4)])
                    bytes.append(Self.hexDigits[Int(b & 0xF)])
                }
            }
            if run < count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let unicodeEscapePrefix = Array("\\u00".utf8)

    /// Whether any of the 8 bytes in `word` is a control character, `"` or `\\`.
    @inline(__always)
    private static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- ones &* 0x20) & ~word & highs
        let q = word ^ (ones &* 0x22)
        let quote = (q &- ones) & ~q & highs
        let s = word ^ (ones &* 0x5C)
        let backslash = (s &- ones) & ~s & highs
        return control | quote | backslash != 0
    }
}

extension JSONWriter {
    /// Writes a source span as `{"file", "line", "column", "end_line", "end_column"}`.
    public mutating func span(_ span: SourceSpan?) {
        guard let span else {
            null()
            return
        }
        object { w in
            w.field("file", string: span.file)
            w.field("line", int: span.start.line)
            w.field("column", int: span.start.column)
            w.field("end_line", int: span.end.line)
            w.field("end_column", int: span.end.column)
        }
    }

    /// Writes a diagnostic as `{"severity", "code", "message", "location", "hint", "notes"}`.
    public mutating func diagnostic(_ d: Diagnostic) {
        object { w in
            w.field("severity", string: d.severity.rawValue)
            w.field("code", string: d.code)
            w.field("message", string: d.message)
            w.field("location") { $0.span(d.span) }
            w.field("hint", string: d.hint)
            w.field("notes") { w in
                w.array { w in
                    for note in d.notes {
                        w.object { w in
                            w.field("message", string: note.message)
                            w.field("location") { $0.span(note.span) }
                        }
                    }
                }
            }
        }
    }
}
