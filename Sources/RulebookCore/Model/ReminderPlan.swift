import RulebookDiagnostics

/// When the people who owe a duty are reminded of it (`reminders:` in the policy): points
/// before its deadline, as exact durations (`PT24H`, `PT4H`, `PT0S`: at the deadline),
/// for every duty with a deadline, or for one duty in particular. Data, because when to
/// remind is the organisation's choice; a document rarely says, so it is usually an
/// assumption with its note.
public struct ReminderPlan: Sendable {
    /// Milliseconds before a deadline, largest first.
    public var before: [Int64]
    /// Per duty (by index), replacing `before`.
    public var duties: [Int: [Int64]]
    public var provenance: Provenance
    public var span: SourceSpan

    public init(before: [Int64], duties: [Int: [Int64]], provenance: Provenance, span: SourceSpan) {
        self.before = before
        self.duties = duties
        self.provenance = provenance
        self.span = span
    }

    /// The reminder points of a duty, largest first (none for a duty without a deadline).
    public func points(forDuty duty: Int) -> [Int64] { duties[duty] ?? before }
}
