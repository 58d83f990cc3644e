/// Protects a reporter who asked to stay anonymous. Which fact records the request is
/// the policy's choice (a bool fact with `anonymises_reporter: true`).
///
/// Once anonymity is asked for, at any point of the trail, the names on every event
/// recorded in the reporting role are withheld: the reporter may act in that role again,
/// and matching on a name would need the name. This may withhold a colleague's name in
/// the same role, the safe side to err on. The reporting role is the role of the event
/// that asked for anonymity (the reporter asks) when it is one of the fact's
/// `reporter_roles` (or none are given); otherwise — someone recorded the request on the
/// reporter's behalf, or it came with the opening facts — the role of the first event in
/// a reporting role. It never depends on who happened to record first.
public struct ReporterAnonymity: Sendable {
    /// The role whose events' names are withheld, when anonymity applies.
    public let role: Int?

    /// What is shown instead of a withheld name.
    public static let placeholder = "(withheld: the reporter asked to stay anonymous)"

    /// Anonymity for `file` under `policy`.
    public init(policy: Policy, file: CaseFile) {
        let slots = policy.facts.indices.filter { policy.facts[$0].anonymisesReporter }
        guard !slots.isEmpty else {
            role = nil
            return
        }
        func asks(_ assignments: [FactAssignment]) -> Bool {
            assignments.contains { slots.contains($0.slot) && $0.value == .bool(true) }
        }
        let reporting = Set(slots.flatMap { policy.facts[$0].reporterRoles })
        func isReporting(_ role: Int) -> Bool { reporting.isEmpty || reporting.contains(role) }
        let asking = file.events.first(where: { asks($0.facts) })
        guard asking != nil || asks(file.facts) else {
            role = nil
            return
        }
        if let asking, isReporting(asking.role) {
            role = asking.role
        } else {
            role = file.events.first(where: { isReporting($0.role) })?.role ?? asking?.role
        }
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
