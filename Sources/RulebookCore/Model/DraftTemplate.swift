import RulebookDiagnostics

/// A notification the document requires (to a regulator, to the people affected, to a
/// governing body), as a template to draft it from (`drafts:` in the policy): the fields it
/// must contain, where each comes from in the incident, and a logic-less Mustache template
/// in Markdown that places them. Data, because what a notification must say, and in whose
/// words, is the document's (or the law's) business.
public struct DraftTemplate: Sendable {
    /// One field the notification must (or may) contain.
    public struct Field: Sendable {
        /// Where a field's text comes from.
        public enum Source: Sendable {
            /// An expression over the incident's facts, values and trail (`value:`).
            case value(CompiledExpression)
            /// How to reach whoever holds a role: its holder and `contact:` (`contact:`).
            case contact(role: Int)
            /// The notes and reasons recorded with these actions, in time order (`notes:`).
            case notes(actions: [Int])
            /// Who was recorded taking an action, first time (`actor:`).
            case actor(action: Int)
        }

        public var id: String
        public var title: String
        /// What to ask when the field cannot be filled.
        public var question: String
        /// A required field left unfilled makes the draft incomplete.
        public var required: Bool
        public var source: Source
        public var provenance: Provenance?
        public var span: SourceSpan
    }

    public var id: String
    public var title: String
    /// Who the notification is for, in the document's words.
    public var to: String?
    public var fields: [Field]
    /// The Mustache template (Markdown), as written.
    public var template: String
    public var provenance: Provenance
    public var span: SourceSpan

    public init(id: String, title: String, to: String?, fields: [Field], template: String, provenance: Provenance, span: SourceSpan) {
        self.id = id
        self.title = title
        self.to = to
        self.fields = fields
        self.template = template
        self.provenance = provenance
        self.span = span
    }

    /// The names a template may use besides its fields.
    public static let builtInNames = ["incident", "policy", "organisation", "title", "to", "now", "zone"]
}
