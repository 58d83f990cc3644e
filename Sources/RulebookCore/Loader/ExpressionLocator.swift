import RulebookDiagnostics
import RulebookYAML

/// Maps a character range inside an expression to its position in the policy file, so
/// a type error points at the token, not just at the line.
///
/// A single-line scalar maps by arithmetic (plus one for an opening quote). A block
/// scalar (`|`, `>`) or a scalar spread over lines is mapped by finding the token's
/// text in the source lines the scalar covers.
struct ExpressionLocator {
    /// The file's text (nil when not at hand); split into lines only when an error in a
    /// multi-line expression must be located, which is rare and not worth doing up front.
    let text: String?

    init(text: String?) {
        self.text = text
    }

    private var lines: [Substring]? {
        text.map { $0.split(separator: "\n", omittingEmptySubsequences: false) }
    }

    /// The span of `range` within the scalar `node` whose text is `expression`.
    func span(of range: TextRange, in node: Node, expression: String) -> SourceSpan {
        let start = node.span.start
        let style = node.scalar?.style ?? .plain
        let scalars = Array(expression.unicodeScalars)
        let lower = min(max(0, range.start), scalars.count)
        let upper = min(max(lower, range.end), scalars.count)
        if node.span.start.line == node.span.end.line, !expression.contains("\n") {
            let quote = style == .singleQuoted || style == .doubleQuoted ? 1 : 0
            return SourceSpan(
                file: node.span.file,
                start: SourcePosition(line: start.line, column: start.column + quote + lower),
                end: SourcePosition(line: start.line, column: start.column + quote + upper))
        }
        // Multi-line: look for the token in the lines the scalar spans, taking the same
        // occurrence (first, second...) that the range is in the expression.
        let token = String(String.UnicodeScalarView(scalars[lower..<upper]))
        if let lines, !token.isEmpty {
            let before = String(String.UnicodeScalarView(scalars[..<lower]))
            let occurrence = before.components(of: token)
            var seen = 0
            let firstLine = max(1, start.line)
            let lastLine = min(lines.count, max(node.span.end.line, firstLine))
            for lineNumber in firstLine...lastLine {
                let line = String(lines[lineNumber - 1])
                var searchFrom = line.unicodeScalars.startIndex
                if lineNumber == start.line {
                    searchFrom = line.unicodeScalars.index(searchFrom, offsetBy: min(start.column - 1, line.unicodeScalars.count))
                }
                while let found = line.unicodeScalars[searchFrom...].firstRange(of: token.unicodeScalars) {
                    if seen == occurrence {
                        let column = line.unicodeScalars.distance(from: line.unicodeScalars.startIndex, to: found.lowerBound) + 1
                        return SourceSpan(
                            file: node.span.file,
                            start: SourcePosition(line: lineNumber, column: column),
                            end: SourcePosition(line: lineNumber, column: column + token.unicodeScalars.count))
                    }
                    seen += 1
                    searchFrom = found.upperBound
                }
            }
        }
        return SourceSpan(file: node.span.file, at: start)
    }
}

extension String {
    /// How many non-overlapping times `token` occurs.
    fileprivate func components(of token: String) -> Int {
        guard !token.isEmpty else { return 0 }
        var count = 0
        var rest = self.unicodeScalars[...]
        while let found = rest.firstRange(of: token.unicodeScalars) {
            count += 1
            rest = rest[found.upperBound...]
        }
        return count
    }
}
