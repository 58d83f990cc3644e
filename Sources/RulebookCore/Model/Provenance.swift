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
        var parts: [String] = []
        if let clause { parts.append(clause.first?.isNumber == true ? "§" + clause : clause) }
        if let law { parts.append(law) }
        if parts.isEmpty { parts.append("assumption") }
        return parts.joined(separator: "; ")
    }

    /// The citation prefixed with the stating policy when it is not `applied`, e.g.
    /// `base-procedure §6.2` for a rule inherited from a base policy.
    public func citation(in applied: String) -> String {
        policy == applied ? citation : "\(policy) \(citation)"
    }
}
