import RulebookDiagnostics

/// What a policy's periodic report counts (`report:` in the policy): the moment an
/// incident's times are measured from, what makes it a near miss, the facts or values
/// incidents are counted by, and the milestones whose time from that moment is reported.
/// Each is policy data because the names differ from one document to the next.
public struct ReportPlan: Sendable {
    /// A fact or value incidents are counted by (an enum, a yes/no or an integer).
    public struct Breakdown: Sendable {
        public var title: String
        public var expression: CompiledExpression
        public var span: SourceSpan
    }

    /// A moment whose time from the start is reported (median and 90th percentile): when a
    /// duty was done, or when an action was first taken.
    public struct Milestone: Sendable {
        public enum Target: Sendable, Hashable {
            case duty(Int)
            case action(Int)
        }
        public var title: String
        public var target: Target
        public var span: SourceSpan
    }

    /// When an incident starts for the report's clocks and months (a datetime); without
    /// one, or while it is unanswered, the incident's opening time is its month and its
    /// milestones are not measured.
    public var start: CompiledExpression?
    /// True for a near miss (a boolean).
    public var nearMiss: CompiledExpression?
    public var breakdowns: [Breakdown]
    public var milestones: [Milestone]
    public var provenance: Provenance
    public var span: SourceSpan

    public init(start: CompiledExpression?, nearMiss: CompiledExpression?, breakdowns: [Breakdown], milestones: [Milestone],
                provenance: Provenance, span: SourceSpan) {
        self.start = start
        self.nearMiss = nearMiss
        self.breakdowns = breakdowns
        self.milestones = milestones
        self.provenance = provenance
        self.span = span
    }
}
