/// How serious a diagnostic is. `error` makes validation fail; `warning` and `note`
/// inform (a past review date, an assumption the document did not state).
public enum Severity: String, Sendable, Hashable, Codable, CaseIterable {
    case error
    case warning
    case note
}

/// One problem (or remark) found in an input, with where it is and how to fix it.
///
/// Every stage (YAML reader, policy loader, expression checker, case loader) reports
/// through this one type and keeps going where it can, so a single run shows every problem.
public struct Diagnostic: Hashable, Sendable {
    /// A secondary location that explains the main one (for instance the first of two
    /// duplicate keys).
    public struct Note: Hashable, Sendable {
        /// What this location has to do with the diagnostic.
        public var message: String
        /// Where it is, when known.
        public var span: SourceSpan?

        /// Creates a note, optionally located.
        public init(_ message: String, at span: SourceSpan? = nil) {
            self.message = message
            self.span = span
        }
    }

    /// How serious the problem is.
    public var severity: Severity
    /// What is wrong, in one sentence a policy admin understands.
    public var message: String
    /// Where it is; `nil` only when the whole input is at fault and no position exists.
    public var span: SourceSpan?
    /// A suggestion for the fix ("did you mean 'within'?"), when one helps.
    public var hint: String?
    /// Related locations.
    public var notes: [Note]
    /// A short machine-friendly category (e.g. `yaml`, `unknown-key`, `reference`) for
    /// tools and tests; not shown in the text form.
    public var code: String

    /// Creates a diagnostic.
    public init(
        _ severity: Severity, _ message: String, at span: SourceSpan?,
        code: String, hint: String? = nil, notes: [Note] = []
    ) {
        self.severity = severity
        self.message = message
        self.span = span
        self.hint = hint
        self.notes = notes
        self.code = code
    }

    /// An error at `span`.
    public static func error(
        _ message: String, at span: SourceSpan?, code: String, hint: String? = nil, notes: [Note] = []
    ) -> Diagnostic {
        Diagnostic(.error, message, at: span, code: code, hint: hint, notes: notes)
    }

    /// A warning at `span`.
    public static func warning(
        _ message: String, at span: SourceSpan?, code: String, hint: String? = nil, notes: [Note] = []
    ) -> Diagnostic {
        Diagnostic(.warning, message, at: span, code: code, hint: hint, notes: notes)
    }

    /// A note at `span`.
    public static func note(
        _ message: String, at span: SourceSpan?, code: String, hint: String? = nil, notes: [Note] = []
    ) -> Diagnostic {
        Diagnostic(.note, message, at: span, code: code, hint: hint, notes: notes)
    }
}

/// Collects diagnostics so a stage can keep going after a problem.
///
/// It stops accepting errors past `errorLimit` (a hostile file with 200,000 unknown keys
/// must not print 200,000 lines) and records that it did so.
public struct DiagnosticBag: Sendable {
    /// Everything collected so far, in the order reported.
    public private(set) var diagnostics: [Diagnostic] = []
    /// Errors accepted before the bag stops collecting them.
    public let errorLimit: Int
    /// How many errors were dropped because the limit was reached.
    public private(set) var droppedErrors = 0
    private var errorCount = 0

    /// Creates an empty bag that keeps at most `errorLimit` errors.
    public init(errorLimit: Int = 100) {
        self.errorLimit = errorLimit
    }

    /// True when at least one error was reported (including dropped ones).
    public var hasErrors: Bool { errorCount > 0 }

    /// Number of errors reported, including those past the limit.
    public var totalErrors: Int { errorCount }

    /// True once the error limit is reached; long loops may stop early.
    public var isSaturated: Bool { errorCount >= errorLimit }

    /// Adds one diagnostic.
    public mutating func report(_ diagnostic: Diagnostic) {
        if diagnostic.severity == .error {
            errorCount += 1
            if errorCount > errorLimit {
                droppedErrors += 1
                return
            }
        }
        diagnostics.append(diagnostic)
    }

    /// Adds several diagnostics.
    public mutating func report<S: Sequence>(contentsOf list: S) where S.Element == Diagnostic {
        for diagnostic in list { report(diagnostic) }
    }

    /// Adds an error.
    public mutating func error(
        _ message: String, at span: SourceSpan?, code: String, hint: String? = nil, notes: [Diagnostic.Note] = []
    ) {
        report(.error(message, at: span, code: code, hint: hint, notes: notes))
    }

    /// Adds a warning.
    public mutating func warning(
        _ message: String, at span: SourceSpan?, code: String, hint: String? = nil, notes: [Diagnostic.Note] = []
    ) {
        report(.warning(message, at: span, code: code, hint: hint, notes: notes))
    }

    /// Adds a note.
    public mutating func note(_ message: String, at span: SourceSpan?, code: String, hint: String? = nil) {
        report(.note(message, at: span, code: code, hint: hint))
    }

    /// The diagnostics plus, when errors were dropped, one closing error that says how many.
    public func finished(file: String?) -> [Diagnostic] {
        guard droppedErrors > 0 else { return diagnostics }
        let where_ = file.map { SourceSpan(file: $0, at: SourcePosition(line: 1, column: 1)) }
        return diagnostics + [
            .error(
                "too many errors: \(droppedErrors) more not shown (stopped after \(errorLimit))",
                at: where_, code: "too-many-errors")
        ]
    }
}
