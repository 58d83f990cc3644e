import RulebookDiagnostics

/// One thing an auditor should know about a trail.
public struct Finding: Sendable, Hashable {
    /// The kinds of finding.
    public enum Kind: String, Sendable, CaseIterable {
        /// A duty that applies was never done (its deadline passed, or the incident closed).
        case missing
        /// A duty was done after its deadline.
        case late
        /// An action was taken by a role the policy does not permit.
        case wrongRole = "wrong_role"
        /// A prohibited action was taken.
        case forbidden
        /// An action that requires a documented reason has none.
        case missingReason = "missing_reason"
        /// A duty was done before one of its prerequisites.
        case outOfOrder = "out_of_order"
        /// A recorded decision disagrees with what the policy derives from the facts as
        /// they stood at that moment.
        case decisionMismatch = "decision_mismatch"
    }

    public var kind: Kind
    public var severity: Severity
    /// The duty concerned, by index.
    public var duty: Int?
    /// The event concerned, by index in the trail.
    public var event: Int?
    /// The clause the finding rests on.
    public var clause: String
    public var message: String
}

/// The findings of an audit and the duties' states at the audit time.
public struct AuditReport: Sendable {
    public var evaluation: Evaluation
    public var findings: [Finding]

    /// True when no finding is an error.
    public var compliant: Bool { !findings.contains { $0.severity == .error } }
}

extension Engine {
    /// Audits the trail up to `at` against the policy.
    public func audit(_ file: CaseFile, at: Instant) -> AuditReport {
        let evaluation = evaluate(file, at: at)
        var findings: [Finding] = []
        let clock = policy.clock

        // Duties: missing, late, out of order.
        for status in evaluation.duties {
            let duty = policy.duties[status.duty]
            let citation = duty.provenance.citation(in: policy.id)
            switch status.state {
            case .overdue:
                findings.append(Finding(
                    kind: .missing, severity: .error, duty: status.duty, event: nil, clause: citation,
                    message: "'\(duty.title)' was not done; it was due by \(clock.describe(status.deadline!))"))
            case .due where evaluation.closedAt != nil:
                // (A waiting duty's obligation never started: its trigger or prerequisite
                // did not happen, and that one is reported instead.)
                findings.append(Finding(
                    kind: .missing, severity: .error, duty: status.duty, event: nil, clause: citation,
                    message: "'\(duty.title)' was not done before the incident was closed"))
            case .doneLate:
                let late = status.doneAt! - status.deadline!
                findings.append(Finding(
                    kind: .late, severity: .error, duty: status.duty, event: dischargingEvent(status, in: file),
                    clause: citation,
                    message: "'\(duty.title)' was done at \(clock.describe(status.doneAt!)), \(Durations.describe(late)) after its deadline \(clock.describe(status.deadline!))"))
            default:
                break
            }
            if let done = status.doneAt, status.state == .done || status.state == .doneLate {
                for p in duty.prerequisites {
                    let prerequisite = evaluation.duties[p]
                    guard prerequisite.state != .notApplicable else { continue }
                    if prerequisite.doneAt.map({ $0 > done }) ?? true {
                        findings.append(Finding(
                            kind: .outOfOrder, severity: .error, duty: status.duty, event: dischargingEvent(status, in: file),
                            clause: citation,
                            message: "'\(duty.title)' was done before '\(policy.duties[p].title)', which must come first"))
                    }
                }
            }
        }

        // Events: roles, prohibitions, reasons, decisions. What each (action, role) pair
        // means is worked out once, not per event: trails run to millions of events.
        let roleCount = policy.roles.count
        var verdicts = [Verdict](repeating: .allowed, count: policy.actions.count * roleCount)
        for a in policy.actions.indices {
            for r in policy.roles.indices {
                if let p = policy.prohibitions.firstIndex(where: { $0.roles.contains(r) && $0.actions.contains(a) }) {
                    verdicts[a * roleCount + r] = .forbidden(p)
                } else if !permits(policy.actions[a], r) {
                    verdicts[a * roleCount + r] = .wrongRole
                }
            }
        }
        let needsReason = policy.actions.map(\.reasonRequired)
        let decides = policy.actions.map { $0.decision?.slot ?? -1 }
        var state = SlotValues(policy: policy)
        for assignment in file.facts { state.slots[assignment.slot] = assignment.value }
        let events = file.events
        for index in events.indices {
            guard events[index].at <= at else { break }
            if !events[index].facts.isEmpty {
                for assignment in events[index].facts { state.slots[assignment.slot] = assignment.value }
            }
            let actionIndex = events[index].action
            let roleIndex = events[index].role
            state.occurred[actionIndex] = true
            let verdict = verdicts[actionIndex * roleCount + roleIndex]
            let missingReason = needsReason[actionIndex] && (events[index].reason?.trimmingWhitespace.isEmpty ?? true)
            let recordsDecision = decides[actionIndex] >= 0 && events[index].decision != nil
            if case .allowed = verdict, !missingReason, !recordsDecision { continue }
            // Something to look at: the rare path, with the policy's words.
            let event = events[index]
            let action = policy.actions[actionIndex]
            let role = policy.roles[roleIndex]
            func citation() -> String { action.provenance?.citation(in: policy.id) ?? dutyCitation(for: actionIndex) }
            switch verdict {
            case .forbidden(let p):
                let prohibition = policy.prohibitions[p]
                findings.append(Finding(
                    kind: .forbidden, severity: .error, duty: nil, event: index,
                    clause: prohibition.provenance.citation(in: policy.id),
                    message: "\(role.title) took '\(action.title)', which \(prohibition.text.map { "the policy forbids: \($0)" } ?? "the policy forbids")"))
            case .wrongRole:
                let allowed = (action.roles ?? []).map { policy.roles[$0].title }.joined(separator: ", ")
                findings.append(Finding(
                    kind: .wrongRole, severity: .error, duty: nil, event: index, clause: citation(),
                    message: "'\(action.title)' was taken by \(role.title), but only \(allowed.isEmpty ? "nobody" : allowed) may take it"))
            case .allowed:
                break
            }
            if missingReason {
                findings.append(Finding(
                    kind: .missingReason, severity: .error, duty: nil, event: index, clause: citation(),
                    message: "'\(action.title)' at \(clock.describe(event.at)) has no documented reason, which the policy requires"))
            }
            if let decision = action.decision, let recorded = event.decision {
                // The facts as they stood at that moment, this event's included.
                policy.deriveValues(&state)
                let derived = state.slots[decision.slot]
                let type = policy.slotType(decision.slot)
                let value = policy.values[decision.slot - policy.facts.count]
                if derived.isKnown, derived != recorded {
                    findings.append(Finding(
                        kind: .decisionMismatch, severity: .error, duty: nil, event: index,
                        clause: value.provenance.citation(in: policy.id),
                        message: "'\(action.title)' recorded \(value.id) = \(recorded.display(type)), but the policy derives \(derived.display(type)) from the facts as they stood at \(clock.describe(event.at))"))
                }
            }
        }
        return AuditReport(evaluation: evaluation, findings: findings)
    }

    /// What the policy says of one role taking one action.
    private enum Verdict {
        case allowed
        case wrongRole
        /// A prohibition (by index) forbids it.
        case forbidden(Int)
    }

    /// Whether `role` may take `action`: named, a stand-in of a named role, or anyone.
    public func permits(_ action: Action, _ role: Int) -> Bool {
        guard let permitted = action.roles else { return true }
        if permitted.contains(role) { return true }
        return permitted.contains { policy.roles[$0].standIns.contains(role) }
    }

    /// The clause of the first duty an action discharges (for findings about an action
    /// that cites none itself).
    private func dutyCitation(for action: Int) -> String {
        policy.duties.first { $0.actions.contains(action) }?.provenance.citation(in: policy.id) ?? ""
    }
}

/// Durations for people: `46 minutes`, `3 hours 5 minutes`, `2 days 4 hours`.
public enum Durations {
    public static func describe(_ milliseconds: Int64) -> String {
        let minutes = Swift.max(0, milliseconds) / 60_000
        let days = minutes / 1440
        let hours = minutes / 60 % 24
        let mins = minutes % 60
        func unit(_ n: Int64, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        if days > 0 { return hours > 0 ? unit(days, "day") + " " + unit(hours, "hour") : unit(days, "day") }
        if hours > 0 { return mins > 0 ? unit(hours, "hour") + " " + unit(mins, "minute") : unit(hours, "hour") }
        return minutes == 0 ? "under a minute" : unit(mins, "minute")
    }
}
