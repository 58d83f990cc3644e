import RulebookDiagnostics

/// Test input with position markers (1️⃣, 2️⃣, ... 🔟) written where a diagnostic is
/// expected, so a test states positions by pointing rather than counting columns.
public struct MarkedText {
    /// The text with every marker removed.
    public let text: String
    /// Marker name ("1️⃣") to its 1-based line and column in `text`.
    public let markers: [String: SourcePosition]

    /// The markers understood, in order.
    public static let names = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟"]

    /// Parses `source`, recording and removing markers.
    public init(_ source: String) {
        var text = ""
        var markers: [String: SourcePosition] = [:]
        var line = 1
        var column = 1
        var rest = Substring(source)
        outer: while let c = rest.first {
            for name in Self.names where rest.hasPrefix(name) {
                markers[name] = SourcePosition(line: line, column: column)
                rest = rest.dropFirst(name.count)
                continue outer
            }
            text.append(c)
            if c == "\n" {
                line += 1
                column = 1
            } else {
                column += c.unicodeScalars.count
            }
            rest = rest.dropFirst()
        }
        self.text = text
        self.markers = markers
    }

    /// The position of marker `name`; traps in a test that names a marker it did not write.
    public subscript(_ name: String) -> SourcePosition {
        guard let position = markers[name] else { fatalError("marker \(name) is not in the text") }
        return position
    }
}
