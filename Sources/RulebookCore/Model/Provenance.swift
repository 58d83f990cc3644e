import RulebookDiagnostics

/// Where a rule comes from: a clause of the policy's document, a law, or an assumption
/// the policy makes because the document states no number.
public struct Provenance: Hashable, Sendable {
    /// The three kinds of source a rule can have.
    public enum Kind: String, Sendable, Hashable {
        /// Stated by the document (cited by clause).
        case document
        /// Required by law where the document is silent (cited by the law's reference).
        case law
        /// Not stated anywhere: the policy's own choice, with a note an admin must confirm.
        case assumption
    }

    /// The id of the policy whose document states the rule (differs from the applied
    /// policy's id for inherited rules).
    public var policy: String
    /// The document's clause number (`4.6`, `Appendix B`), when cited.
    public var clause: String?
    /// The law, when cited (`UK GDPR Art. 33(1)`).
    public var law: String?
    /// The assumption's note, when the rule is one.
    public var assumption: String?
    /// Where the citation is in the policy file.
    public var span: SourceSpan?

    /// Creates a provenance.
    public init(policy: String, clause: String? = nil, law: String? = nil, assumption: String? = nil, span: SourceSpan? = nil) {
        self.policy = policy
        self.clause = clause
        self.law = law
        self.assumption = assumption
        self.span = span
    }

    /// An assumption when it carries a note; law when it cites only a law; otherwise
    /// the document.
    public var kind: Kind {
        if assumption != nil { return .assumption }
        if clause == nil && law != nil { return .law }
        return .document
    }

    /// `§4.6`, `§4.6; UK GDPR Art. 33`, `UK GDPR Art. 33` or `assumption` — the short
    /// citation shown beside a rule.
    public var citation: String {
        var text = ""
        if let clause { text = Self.isNumbered(clause) ? "§" + clause : clause }
        if let law { text = text.isEmpty ? law : text + "; " + law }
        return text.isEmpty ? "assumption" : text
    }

    /// Whether a clause starts with a number (`4.6`, not `Appendix B`).
    private static func isNumbered(_ clause: String) -> Bool {
        guard let first = clause.utf8.first else { return false }
        if first < 0x80 { return first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") }
        return clause.first?.isNumber == true
    }

    /// The citation prefixed with the stating policy when it is not `applied`, e.g.
    /// `base-procedure §6.2` for a rule inherited from a base policy.
    public func citation(in applied: String) -> String {
        policy == applied ? citation : "\(policy) \(citation)"
    }
}
