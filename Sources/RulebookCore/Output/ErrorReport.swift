import RulebookDiagnostics

/// A failure as tools read it: with `--format json`, a command that cannot answer prints
/// this one object on standard output instead of text on standard error (its exit status
/// is unchanged), so a tool never has to parse a message meant for people.
public struct ErrorReport: Sendable {
    public var message: String
    public var hint: String?
    /// The reasons behind the failure, one line each.
    public var details: [String]
    /// Located problems (a case file's, a policy's), each with file, line and column.
    public var diagnostics: [Diagnostic]

    public init(message: String, hint: String? = nil, details: [String] = [], diagnostics: [Diagnostic] = []) {
        self.message = message
        self.hint = hint
        self.details = details
        self.diagnostics = diagnostics
    }

    /// `{"error", "hint", "details", "diagnostics": [{"severity", "code", "message", "file",
    /// "line", "column", "hint", "location", "notes"}]}`.
    public func json(pretty: Bool = true) -> String {
        var w = JSONWriter(pretty: pretty)
        w.object { w in
            w.field("error", string: message)
            w.field("hint", string: hint)
            w.field("details") { $0.array(strings: details) }
            w.field("diagnostics") { w in
                w.array { w in
                    for d in diagnostics {
                        w.object { w in
                            w.field("severity", string: d.severity.rawValue)
                            w.field("code", string: d.code)
                            w.field("message", string: d.message)
                            w.field("file", string: d.span?.file)
                            w.field("line", int: d.span?.start.line)
                            w.field("column", int: d.span?.start.column)
                            w.field("hint", string: d.hint)
                            w.field("location") { $0.span(d.span) }
                        }
                    }
                }
            }
        }
        return w.text
    }
}
