/// A position in a source file: 1-based line and 1-based column, columns counted in
/// Unicode characters (scalars), as an editor shows them.
public struct SourcePosition: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    /// 1-based column, in Unicode scalars from the start of the line.
    public var column: Int

    /// Creates a position from a 1-based line and column.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (lhs: SourcePosition, rhs: SourcePosition) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }

    public var description: String { "\(line):\(column)" }
}

/// A range of text in one file: where a node, key or expression token starts and ends.
/// `end` is exclusive (the position just after the last character).
public struct SourceSpan: Hashable, Sendable, CustomStringConvertible {
    /// The file name as the user gave it (kept verbatim so messages match their command line).
    public var file: String
    /// First character of the span.
    public var start: SourcePosition
    /// Position just past the last character of the span.
    public var end: SourcePosition

    /// Creates a span in `file` from `start` up to (not including) `end`.
    public init(file: String, start: SourcePosition, end: SourcePosition) {
        self.file = file
        self.start = start
        self.end = end
    }

    /// A span that covers one position only (for problems at a point, such as end of file).
    public init(file: String, at position: SourcePosition) {
        self.init(file: file, start: position, end: position)
    }

    /// The span's start only (for messages about a whole entry, such as a missing key).
    public var startOnly: SourceSpan { SourceSpan(file: file, at: start) }

    /// `file:line:col`, the form every diagnostic starts with.
    public var description: String { "\(file):\(start.line):\(start.column)" }
}
