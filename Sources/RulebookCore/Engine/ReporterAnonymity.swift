/// Protects a reporter who asked to stay anonymous. Which fact records the request is
/// the policy's choice (a bool fact with `anonymises_reporter: true`).
///
/// Once anonymity is asked for, at any point of the trail, the names on every event
/// recorded in the reporting role (the role of the first event) are withheld: the
/// reporter may act in that role again, and matching on a name would need the name.
/// This may withhold a colleague's name in the same role, the safe side to err on.
public struct ReporterAnonymity: Sendable {
    /// The role whose events' names are withheld, when anonymity applies.
    public let role: Int?

    /// What is shown instead of a withheld name.
    public static let placeholder = "(withheld: the reporter asked to stay anonymous)"

    /// Anonymity for `file` under `policy`.
    public init(policy: Policy, file: CaseFile) {
        let slots = policy.facts.indices.filter { policy.facts[$0].anonymisesReporter }
        let asked = !slots.isEmpty && (
            file.facts.contains { slots.contains($0.slot) && $0.value == .bool(true) }
                || file.events.contains { $0.facts.contains { slots.contains($0.slot) && $0.value == .bool(true) } })
        role = asked ? file.events.first?.role : nil
    }

    /// Whether there is a reporter to protect.
    public var isActive: Bool { role != nil }

    /// Whether the name on `event` must be withheld.
    public func withholds(_ event: Event) -> Bool {
        role != nil && event.role == role
    }

    /// The case with the withheld names removed.
    public func redact(_ file: CaseFile) -> CaseFile {
        guard isActive else { return file }
        var copy = file
        for i in copy.events.indices where withholds(copy.events[i]) { copy.events[i].actor = nil }
        return copy
    }
}
