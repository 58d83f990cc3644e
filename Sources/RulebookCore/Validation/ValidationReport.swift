import RulebookDiagnostics

/// The outcome of validating a set of files: the diagnostics, counted and summarised.
public struct ValidationReport: Sendable {
    /// The files checked, in order.
    public var files: [String]
    /// Every diagnostic, in the order found.
    public var diagnostics: [Diagnostic]

    /// Creates a report.
    public init(files: [String], diagnostics: [Diagnostic]) {
        self.files = files
        self.diagnostics = diagnostics
    }

    /// Number of errors.
    public var errorCount: Int { diagnostics.count { $0.severity == .error } }
    /// Number of warnings.
    public var warningCount: Int { diagnostics.count { $0.severity == .warning } }
    /// Number of notes.
    public var noteCount: Int { diagnostics.count { $0.severity == .note } }

    /// One line: `3 files checked: 1 error, 2 warnings, 0 notes`.
    public var summary: String {
        func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        return "\(plural(files.count, "file")) checked: \(plural(errorCount, "error")), "
            + "\(plural(warningCount, "warning")), \(plural(noteCount, "note"))"
    }

    /// The report as JSON: `{"files", "errors", "warnings", "notes", "diagnostics"}`.
    public func json(pretty: Bool = true) -> String {
        var w = JSONWriter(pretty: pretty)
        w.object { w in
            w.field("files") { $0.array(strings: files) }
            w.field("errors", int: errorCount)
            w.field("warnings", int: warningCount)
            w.field("notes", int: noteCount)
            w.field("diagnostics") { w in
                w.array { w in for d in diagnostics { w.diagnostic(d) } }
            }
        }
        return w.text
    }
}
