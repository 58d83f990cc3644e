/// Renders diagnostics for a person: `path:line:col: error: message`, then the source
/// line with a caret under the column, then the hint and notes.
///
/// Colour is the caller's choice (the CLI turns it on only for a terminal).
public struct DiagnosticRenderer: Sendable {
    /// Returns the full text of a file by the name used in spans, or nil when unknown.
    public typealias SourceLookup = @Sendable (String) -> String?

    private let sources: SourceLookup
    private let colour: Bool

    /// Creates a renderer that reads source lines through `sources`.
    public init(colour: Bool, sources: @escaping SourceLookup) {
        self.colour = colour
        self.sources = sources
    }

    /// The text form of one diagnostic, ending with a newline.
    public func render(_ diagnostic: Diagnostic) -> String {
        var out = ""
        out += header(diagnostic.severity, diagnostic.message, diagnostic.span)
        if let span = diagnostic.span, let excerpt = excerpt(span) {
            out += excerpt
        }
        if let hint = diagnostic.hint {
            out += paint("hint", .cyan, bold: true) + ": " + hint + "\n"
        }
        for note in diagnostic.notes {
            out += header(.note, note.message, note.span)
            if let span = note.span, let excerpt = excerpt(span) { out += excerpt }
        }
        return out
    }

    /// The text form of several diagnostics.
    public func render(_ diagnostics: [Diagnostic]) -> String {
        diagnostics.map(render).joined()
    }

    private func header(_ severity: Severity, _ message: String, _ span: SourceSpan?) -> String {
        let location = span.map { paint("\($0.file):\($0.start.line):\($0.start.column):", .none, bold: true) + " " } ?? ""
        let label: String
        switch severity {
        case .error: label = paint("error", .red, bold: true)
        case .warning: label = paint("warning", .yellow, bold: true)
        case .note: label = paint("note", .cyan, bold: true)
        }
        return location + label + ": " + message + "\n"
    }

    /// Longest stretch of a source line shown; longer lines are clipped around the caret.
    static let excerptWidth = 100

    /// The source line and a caret line under the span's start (with `~` to its end when
    /// the span stays on that line). Long lines are clipped around the caret, and control
    /// characters are shown as `�` so binary input cannot disturb the terminal.
    private func excerpt(_ span: SourceSpan) -> String? {
        guard span.start.line >= 1, let text = sources(span.file),
              let line = Self.line(span.start.line, of: text)
        else { return nil }
        var scalars = Array(line.unicodeScalars)
        var column = max(1, span.start.column)
        guard column <= scalars.count + 1 else { return nil }
        var width = 1
        if span.end.line == span.start.line, span.end.column > column {
            width = min(span.end.column, scalars.count + 1) - column
        }
        var prefix = ""
        var suffix = ""
        if scalars.count > Self.excerptWidth {
            let from = max(0, min(column - 1 - Self.excerptWidth / 2, scalars.count - Self.excerptWidth))
            let to = min(scalars.count, from + Self.excerptWidth)
            if from > 0 { prefix = "…" }
            if to < scalars.count { suffix = "…" }
            scalars = Array(scalars[from..<to])
            column -= from
            column += prefix.isEmpty ? 0 : 1
            width = min(width, scalars.count + 1 - (column - prefix.count))
        }
        var shown = prefix
        for scalar in scalars {
            let isControl = scalar.value < 0x20 && scalar != "\t" || scalar.value == 0x7F
                || (0x80..<0xA0).contains(scalar.value)
            shown.unicodeScalars.append(isControl ? "\u{FFFD}" : scalar)
        }
        shown += suffix
        var marker = ""
        for scalar in shown.unicodeScalars.prefix(column - 1) {
            marker.unicodeScalars.append(scalar == "\t" ? "\t" : " ")
        }
        marker += "^" + String(repeating: "~", count: max(0, width - 1))
        let number = String(span.start.line)
        let gutter = String(repeating: " ", count: number.count)
        return " \(number) | \(shown)\n \(gutter) | " + paint(marker, .green, bold: true) + "\n"
    }

    /// The `n`th (1-based) line of `text`, without its line break.
    static func line(_ n: Int, of text: String) -> Substring? {
        var current = 1
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            if c == "\n" || c == "\r\n" || c == "\r" {
                if current == n { return text[start..<index] }
                current += 1
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        return current == n ? text[start..<text.endIndex] : nil
    }

    private enum Colour: String {
        case none = ""
        case red = "31"
        case yellow = "33"
        case cyan = "36"
        case green = "32"
    }

    private func paint(_ text: String, _ colour: Colour, bold: Bool) -> String {
        guard self.colour else { return text }
        var codes: [String] = []
        if bold { codes.append("1") }
        if colour != .none { codes.append(colour.rawValue) }
        return "\u{1B}[" + codes.joined(separator: ";") + "m" + text + "\u{1B}[0m"
    }
}
