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
        /// A duty applies and is not done, and has no deadline: a warning while the
        /// incident is open (once it is closed, it is `missing`).
        case open
        /// A duty applies (or may) and is not done, and the fact its deadline counts from
        /// is unanswered, so no deadline can be computed: the fact to record is named.
        case clockUnknown = "clock_unknown"
        /// A duty's condition is undecided, and under the answer that makes it apply it
        /// would be overdue or missing: the question that settles it is named.
        case undetermined
        /// A fact was set on an event by a role the policy does not let establish it; it
        /// did not take effect.
        case unauthorisedFact = "unauthorised_fact"
        /// A duty's action was taken before the earliest time the policy allows.
        case early
        /// The incident was closed while duties were still owed.
        case closedWithOpenDuties = "closed_with_open_duties"
        /// The facts break one of the policy's consistency rules.
        case inconsistentFacts = "inconsistent_facts"
        /// An event was recorded long after it happened (a note, with the delay).
        case recordedLate = "recorded_late"
    }

    public var kind: Kind
    public var severity: Severity
    /// The duty concerned, by index.
    public var duty: Int?
    /// The event concerned, by index in the trail.
    public var event: Int?
    /// The action concerned, by index, where the finding is about one.
    public var action: Int? = nil
    /// The clause the finding rests on.
    public var clause: String
    public var message: String
}

/// An audit's answer. It never says more than was checked.
public enum Verdict: String, Sendable, CaseIterable {
    /// Nothing owed is outstanding, and nothing was done wrongly.
    case compliant
    /// Duties are still open, none is past a deadline, and nothing was done wrongly.
    case compliantSoFar = "compliant_so_far"
    /// Something owed is late or missing, or something was done wrongly.
    case notCompliant = "not_compliant"
    /// Whether something is late or missing depends on a question nobody has answered.
    case undetermined

    /// Exit status 0 (`compliant`, `compliant_so_far`) or 1.
    public var passes: Bool { self == .compliant || self == .compliantSoFar }
}

/// The findings of an audit and the duties' states at the audit time.
public struct AuditReport: Sendable {
    public var evaluation: Evaluation
    public var findings: [Finding]
    public var verdict: Verdict

    /// True only when nothing owed is outstanding and nothing was done wrongly.
    public var compliant: Bool { verdict == .compliant }
}

extension Engine {
    /// How long after it happened an event may be recorded before the audit notes it.
    public static let recordingGrace: Int64 = 24 * 3_600_000

    /// Audits the trail up to `at` against the policy.
    public func audit(_ file: CaseFile, at: Instant) -> AuditReport {
        let evaluation = evaluate(file, at: at)
        var findings: [Finding] = []
        let clock = policy.clock
        let closed = evaluation.closedAt != nil
        // Duties whose applicability is undecided but which would be late or missing if
        // they applied: reported together, as alternatives may make one of them certain.
        var undecided: [Int] = []
        var outstanding = false

        // Duties: missing, late, open, out of order, early, undecided, unknown clocks.
        for status in evaluation.duties {
            // Read in place, not copied: a duty is a large value, and most duties of most
            // incidents give no finding (a report audits a hundred thousand incidents).
            let d = status.duty
            func add(_ kind: Finding.Kind, _ severity: Severity, event: Int? = nil, _ message: String) {
                findings.append(Finding(kind: kind, severity: severity, duty: d, event: event,
                                        clause: policy.duties[d].provenance.citation(in: policy.id), message: message))
            }
            if status.beyondCalendar, status.state != .notApplicable {
                // A deadline past the end of the working-day calendar: nothing about its
                // timing can be said.
                add(.clockUnknown, .warning,
                    "'\(policy.duties[d].title)' counts working days past the end of the calendar '\(policy.clock.calendar?.id ?? "")': its deadline cannot be computed")
            }
            switch status.state {
            case .overdue:
                add(.missing, .error, "'\(policy.duties[d].title)' was not done; it was due by \(clock.describe(status.deadline!))")
            case .due, .waiting:
                // A duty waiting for its trigger (an action, or a later start) is not owed
                // yet; one waiting for a prerequisite, or for an unanswered fact, is.
                let owed = status.state == .due || status.waitsForPrerequisite || status.clockUnknown
                guard owed, evaluation.startsAfter == nil else { break }
                outstanding = true
                if status.clockUnknown {
                    add(.clockUnknown, .warning,
                        "'\(policy.duties[d].title)' is owed but its deadline cannot be computed: record \(clockFacts(policy.duties[d], evaluation))")
                }
                if closed {
                    add(.missing, .error, "'\(policy.duties[d].title)' was not done before the incident was closed")
                } else if status.state == .due, status.deadline == nil, !status.clockUnknown, !status.beyondCalendar {
                    add(.open, .warning, "'\(policy.duties[d].title)' applies and is not done yet; it has no deadline")
                }
            case .unknown:
                outstanding = true
                let lateIfApplies = closed || status.deadline.map { at > $0 } == true
                if lateIfApplies {
                    undecided.append(status.duty)
                } else if status.clockUnknown {
                    add(.clockUnknown, .warning,
                        "'\(policy.duties[d].title)' may apply (\(questions(for: status.duty, evaluation))) and its deadline cannot be computed: record \(clockFacts(policy.duties[d], evaluation))")
                }
            case .doneLate:
                let late = status.doneAt! - status.deadline!
                add(.late, .error, event: status.doneBy,
                    "'\(policy.duties[d].title)' was done at \(clock.describe(status.doneAt!)), \(Durations.describe(late)) after its deadline \(clock.describe(status.deadline!))")
            case .done, .notApplicable:
                break
            }
            if status.state == .done, let target = status.target, let done = status.doneAt, done > target {
                add(.late, .warning, event: status.doneBy,
                    "'\(policy.duties[d].title)' was done at \(clock.describe(done)), after its target \(clock.describe(target)) but within its deadline")
            }
            if let done = status.doneAt, status.state == .done || status.state == .doneLate {
                if policy.duties[d].reasonWhenLate, let limit = status.deadline, done > limit, let e = status.doneBy,
                   file.events[e].reason?.trimmingWhitespace.isEmpty ?? true {
                    add(.missingReason, .error, event: e,
                        "'\(policy.duties[d].title)' was done after \(clock.describe(limit)) without the reasons for the delay, which the policy requires")
                }
                for p in policy.duties[d].prerequisites {
                    let prerequisite = evaluation.duties[p]
                    guard prerequisite.state != .notApplicable else { continue }
                    if prerequisite.doneAt.map({ $0 > done }) ?? true {
                        add(.outOfOrder, .error, event: status.doneBy,
                            "'\(policy.duties[d].title)' was done before '\(policy.duties[p].title)', which must come first")
                    }
                }
            }
            if let e = status.earlyBy, let earliest = status.notBefore {
                add(.early, .error, event: e,
                    "'\(policy.duties[d].title)' was done at \(clock.describe(file.events[e].at)), before the earliest time the policy allows, \(clock.describe(earliest)); it does not count")
            }
        }
        findings += undecidedFindings(undecided, evaluation)

        if let closedAt = evaluation.closedAt, let e = file.events.firstIndex(where: { $0.at == closedAt && policy.actions[$0.action].closes }) {
            let open = evaluation.duties.filter { s in
                s.state == .overdue || (s.state == .due && s.doneAt == nil) || (s.state == .waiting && s.waitsForPrerequisite)
            }
            if !open.isEmpty {
                findings.append(Finding(
                    kind: .closedWithOpenDuties, severity: .error, duty: nil, event: e, action: file.events[e].action,
                    clause: policy.actions[file.events[e].action].provenance?.citation(in: policy.id) ?? "",
                    message: "the incident was closed while \(open.count) dut\(open.count == 1 ? "y was" : "ies were") still owed: "
                        + open.map { "'\(policy.duties[$0.duty].title)'" }.joined(separator: ", ")))
            }
        }

        findings += eventFindings(file, at: at)
        findings += unauthorisedFactFindings(file, at: at, evaluation: evaluation)

        let verdict: Verdict
        if findings.contains(where: { $0.severity == .error }) {
            verdict = .notCompliant
        } else if findings.contains(where: { $0.kind == .undetermined || $0.kind == .clockUnknown }) {
            verdict = .undetermined
        } else if outstanding || findings.contains(where: { $0.kind == .open }) {
            verdict = .compliantSoFar
        } else {
            verdict = .compliant
        }
        return AuditReport(evaluation: evaluation, findings: findings, verdict: verdict)
    }

    /// The unanswered facts a duty's clock counts from, for a message.
    private func clockFacts(_ duty: Duty, _ evaluation: Evaluation) -> String {
        var names: [String] = []
        for case .fact(let slot) in duty.clock?.parts ?? [] where !evaluation.values.slots[slot].isKnown {
            names.append("\(policy.facts[slot].id) (\(policy.facts[slot].question))")
        }
        return names.joined(separator: " or ")
    }

    /// The unanswered facts that decide whether a duty applies, for a message.
    private func questions(for duty: Int, _ evaluation: Evaluation) -> String {
        var facts: [Int] = []
        policy.program.undecidedFacts(ofDuty: duty, evaluation.values, into: &facts)
        guard !facts.isEmpty else { return "an unanswered question decides it" }
        return "depends on " + facts.map { "\(policy.facts[$0].id): \(policy.facts[$0].question)" }.joined(separator: "; ")
    }

    /// Duties that would be late or missing if they applied. When every possible answer
    /// to the questions that decide them makes at least one apply (alternatives such as
    /// "tell each person, or make a public statement"), one of them is certainly owed and
    /// missing; otherwise each is undetermined, naming its question.
    private func undecidedFindings(_ duties: [Int], _ evaluation: Evaluation) -> [Finding] {
        guard !duties.isEmpty else { return [] }
        var facts: [Int] = []
        for d in duties { policy.program.undecidedFacts(ofDuty: d, evaluation.values, into: &facts) }
        if duties.count >= 2, let certain = certainlyOwed(duties, facts: facts, evaluation.values) {
            let titles = certain.map { "'\(policy.duties[$0].title)'" }.joined(separator: " or ")
            let deciding = facts.map { policy.facts[$0].id }.joined(separator: ", ")
            return [Finding(
                kind: .missing, severity: .error, duty: certain[0], event: nil,
                clause: certain.map { policy.duties[$0].provenance.citation(in: policy.id) }.joined(separator: "; "),
                message: "one of \(titles) is owed whatever the answer to \(deciding), and neither was done in time")]
        }
        return duties.map { d in
            let duty = policy.duties[d]
            let status = evaluation.duties[d]
            let why = evaluation.closedAt != nil && !(status.deadline.map { evaluation.at > $0 } ?? false)
                ? "it would be missing, the incident being closed"
                : "it would be overdue since \(policy.clock.describe(status.deadline!))"
            return Finding(kind: .undetermined, severity: .warning, duty: d, event: nil,
                           clause: duty.provenance.citation(in: policy.id),
                           message: "'\(duty.title)' is not done and, if it applies, \(why): \(questions(for: d, evaluation))")
        }
    }

    /// The duties among `duties` that apply under some answer, when every combination of
    /// answers to `facts` makes at least one apply; nil when some combination makes none
    /// apply, or the answers cannot be enumerated (numbers, times, text, large sets).
    private func certainlyOwed(_ duties: [Int], facts: [Int], _ values: SlotValues) -> [Int]? {
        var domains: [[Value]] = []
        var combinations = 1
        for slot in facts {
            let domain: [Value]
            switch policy.facts[slot].type {
            case .bool: domain = [.bool(true), .bool(false)]
            case .option(let d): domain = d.ids.indices.map { .option($0) }
            case .options(let d) where d.ids.count <= 4: domain = (0..<(1 << d.ids.count)).map { .options(UInt64($0)) }
            default: return nil
            }
            combinations *= domain.count
            guard combinations <= 4096 else { return nil }
            domains.append(domain)
        }
        var applying = Set<Int>()
        for n in 0..<combinations {
            var state = values
            var k = n
            for (i, slot) in facts.enumerated() {
                state.slots[slot] = domains[i][k % domains[i].count]
                k /= domains[i].count
            }
            policy.deriveValues(&state)
            let here = duties.filter { policy.program.dutyCondition($0, state) == .bool(true) }
            guard !here.isEmpty else { return nil }
            applying.formUnion(here)
        }
        return duties.filter(applying.contains)
    }

    /// Facts set on events by roles that may not establish them: each is reported with
    /// what it would have changed had it taken effect.
    private func unauthorisedFactFindings(_ file: CaseFile, at: Instant, evaluation: Evaluation) -> [Finding] {
        var findings: [Finding] = []
        var any = false
        for (index, event) in file.events.enumerated() where event.at <= at {
            for assignment in event.facts where !policy.mayEstablish(event.role, fact: assignment.slot) {
                any = true
                let fact = policy.facts[assignment.slot]
                let allowed = (fact.setBy ?? []).map { policy.roles[$0].title }.joined(separator: ", ")
                findings.append(Finding(
                    kind: .unauthorisedFact, severity: .error, duty: nil, event: index, action: event.action,
                    clause: fact.provenance.citation(in: policy.id),
                    message: "\(policy.roles[event.role].title) set \(fact.id) = \(assignment.value.display(fact.type)), but only \(allowed.isEmpty ? "nobody" : allowed) may establish it; it did not take effect"))
            }
        }
        guard any else { return [] }
        // What they would have changed: the duties whose state differs had they counted.
        let honoured = evaluate(file, at: at, honouringEveryone: true)
        let changes = evaluation.duties.indices.compactMap { i -> String? in
            let before = evaluation.duties[i].state, after = honoured.duties[i].state
            return before == after ? nil : "'\(policy.duties[i].id)' would be \(after.rawValue) instead of \(before.rawValue)"
        }
        let summary = changes.isEmpty ? " (had it counted, no duty would change)" : "; had it counted: " + changes.joined(separator: ", ")
        for i in findings.indices { findings[i].message += summary }
        return findings
    }

    /// Findings about events: roles, prohibitions, reasons, decisions, conditional
    /// stand-ins, consistency rules and late recording.
    private func eventFindings(_ file: CaseFile, at: Instant) -> [Finding] {
        var findings: [Finding] = []
        let clock = policy.clock
        // What each (action, role) pair means is worked out once, not per event: trails
        // run to millions of events.
        let roleCount = policy.roles.count
        let verdicts = policy.eventVerdicts.withLock { cached -> [EventVerdict] in
            if let cached { return cached }
            var table = [EventVerdict](repeating: .allowed, count: policy.actions.count * roleCount)
            for a in policy.actions.indices {
                for r in policy.roles.indices {
                    if let p = policy.prohibitions.firstIndex(where: { $0.roles.contains(where: { policy.role(r, actsAs: $0) }) && $0.actions.contains(a) }) {
                        table[a * roleCount + r] = .forbidden(p)
                    } else if !permits(policy.actions[a], r) {
                        let conditions = conditionalPermissions(policy.actions[a], r)
                        table[a * roleCount + r] = conditions.isEmpty ? .wrongRole : .standIn(conditions)
                    }
                }
            }
            cached = table
            return table
        }
        let needsReason = policy.actions.map(\.reasonRequired)
        let decides = policy.actions.map { $0.decision?.slot ?? -1 }
        let checksConsistency = !policy.constraints.isEmpty
        var broken = Set<Int>()
        var recordedLate: [Int] = []
        var state = SlotValues(policy: policy)
        for assignment in file.facts { state.slots[assignment.slot] = assignment.value }
        let events = file.events
        for index in events.indices {
            guard events[index].at <= at else { break }
            if !events[index].facts.isEmpty {
                let role = events[index].role
                for assignment in events[index].facts where policy.mayEstablish(role, fact: assignment.slot) {
                    state.slots[assignment.slot] = assignment.value
                }
            }
            let actionIndex = events[index].action
            let roleIndex = events[index].role
            state.occurred[actionIndex] = true
            let verdict = verdicts[actionIndex * roleCount + roleIndex]
            let missingReason = needsReason[actionIndex] && (events[index].reason?.trimmingWhitespace.isEmpty ?? true)
            let recordsDecision = decides[actionIndex] >= 0 && events[index].decision != nil
            if let recorded = events[index].recordedAt, recorded - events[index].at > Self.recordingGrace { recordedLate.append(index) }
            if checksConsistency {
                policy.deriveValues(&state)
                // By index: a constraint is read in place, not copied, at every event.
                for c in policy.constraints.indices where !broken.contains(c) {
                    if policy.constraints[c].rule.expr.evaluate(state) == .bool(false) {
                        let constraint = policy.constraints[c]
                        broken.insert(c)
                        findings.append(Finding(
                            kind: .inconsistentFacts, severity: .error, duty: nil, event: index, action: actionIndex,
                            clause: constraint.provenance.citation(in: policy.id),
                            message: "\(constraint.message) (\(constraint.rule.source) is false after this event)"))
                    }
                }
            }
            if case .allowed = verdict, !missingReason, !recordsDecision { continue }
            // Something to look at: the rare path, with the policy's words.
            let event = events[index]
            let action = policy.actions[actionIndex]
            let role = policy.roles[roleIndex]
            let duty = policy.duties.firstIndex { $0.actions.contains(actionIndex) }
            func citation() -> String { action.provenance?.citation(in: policy.id) ?? dutyCitation(for: actionIndex) }
            switch verdict {
            case .forbidden(let p):
                let prohibition = policy.prohibitions[p]
                findings.append(Finding(
                    kind: .forbidden, severity: .error, duty: nil, event: index, action: actionIndex,
                    clause: prohibition.provenance.citation(in: policy.id),
                    message: "\(role.title) took '\(action.title)', which \(prohibition.text.map { "the policy forbids: \($0)" } ?? "the policy forbids")"))
            case .wrongRole:
                findings.append(Finding(
                    kind: .wrongRole, severity: .error, duty: duty, event: index, action: actionIndex, clause: citation(),
                    message: "'\(action.title)' (\(action.id)) was taken by \(role.title), but only \(permittedTitles(action)) may take it"))
            case .standIn(let conditions):
                // Permitted only as a stand-in, while a condition holds.
                policy.deriveValues(&state)
                let results = conditions.map { $0.condition.expr.evaluate(state) }
                if results.contains(.bool(true)) { break }
                let sources = conditions.map { $0.condition.source }.joined(separator: " or ")
                if results.allSatisfy({ $0 == .bool(false) }) {
                    findings.append(Finding(
                        kind: .wrongRole, severity: .error, duty: duty, event: index, action: actionIndex, clause: citation(),
                        message: "'\(action.title)' (\(action.id)) was taken by \(role.title), who may act only as a stand-in when \(sources), which was false at \(clock.describe(event.at)); only \(permittedTitles(action)) may take it"))
                } else {
                    var facts: [Int] = []
                    for c in conditions { c.condition.expr.undecidedInputs(state, into: &facts) { slot, list in policy.undecidedFacts(of: slot, state, into: &list) } }
                    findings.append(Finding(
                        kind: .undetermined, severity: .warning, duty: duty, event: index, action: actionIndex, clause: citation(),
                        message: "'\(action.title)' was taken by \(role.title) as a stand-in, allowed only when \(sources); unanswered: "
                            + facts.map { "\(policy.facts[$0].id): \(policy.facts[$0].question)" }.joined(separator: "; ")))
                }
            case .allowed:
                break
            }
            if missingReason {
                findings.append(Finding(
                    kind: .missingReason, severity: .error, duty: nil, event: index, action: actionIndex, clause: citation(),
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
                        kind: .decisionMismatch, severity: .error, duty: nil, event: index, action: actionIndex,
                        clause: value.provenance.citation(in: policy.id),
                        message: "'\(action.title)' recorded \(value.id) = \(recorded.display(type)), but the policy derives \(derived.display(type)) from the facts as they stood at \(clock.describe(event.at))"))
                }
            }
        }
        // One note for every event recorded long after it happened (an imported or
        // backfilled trail has many): how many, the longest delay, the first few.
        if let first = recordedLate.first {
            let longest = recordedLate.max { events[$0].recordedAt! - events[$0].at < events[$1].recordedAt! - events[$1].at }!
            let delay = events[longest].recordedAt! - events[longest].at
            let listed = recordedLate.prefix(5).map { "\($0 + 1)" }.joined(separator: ", ") + (recordedLate.count > 5 ? ", ..." : "")
            let message = recordedLate.count == 1
                ? "'\(policy.actions[events[first].action].title)' at \(clock.describe(events[first].at)) was recorded \(Durations.describe(delay)) later, at \(clock.describe(events[first].recordedAt!))"
                : "\(recordedLate.count) events were recorded more than a day after they happened (events \(listed)); the longest delay, \(Durations.describe(delay)), is event \(longest + 1)'s"
            findings.append(Finding(kind: .recordedLate, severity: .note, duty: nil, event: first, action: events[first].action,
                                    clause: "", message: message))
        }
        return findings
    }

    private func permittedTitles(_ action: Action) -> String {
        let allowed = (action.roles ?? []).map { policy.roles[$0].title }.joined(separator: ", ")
        return allowed.isEmpty ? "nobody" : allowed
    }

    /// What the policy says of one role taking one action.
    enum EventVerdict: Sendable {
        case allowed
        case wrongRole
        /// Allowed only as a stand-in while one of these conditions holds.
        case standIn([StandInCondition])
        /// A prohibition (by index) forbids it.
        case forbidden(Int)
    }

    /// Whether `role` may take `action` outright: named, a member of a named group, an
    /// unconditional stand-in of one of those, or anyone.
    public func permits(_ action: Action, _ role: Int) -> Bool {
        guard let permitted = action.roles else { return true }
        for p in permitted {
            for m in policy.members(of: p) {
                if m == role { return true }
                let r = policy.roles[m]
                if r.standIns.contains(role), !r.standInConditions.contains(where: { $0.role == role }) { return true }
            }
        }
        return false
    }

    /// The conditions under which `role` may take `action` as a conditional stand-in.
    private func conditionalPermissions(_ action: Action, _ role: Int) -> [StandInCondition] {
        guard let permitted = action.roles else { return [] }
        return permitted.flatMap { p in
            policy.members(of: p).flatMap { m in policy.roles[m].standInConditions.filter { $0.role == role } }
        }
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

extension AuditReport {
    /// Each finding as a key two audits of one trail can be compared by: `missing
    /// notify`, `forbidden event 3`.
    public var findingKeys: [String] {
        let policy = evaluation.policy
        return findings.map { "\($0.kind.rawValue) \($0.duty.map { policy.duties[$0].id } ?? ($0.event.map { "event \($0 + 1)" } ?? ""))" }
    }

    /// The findings only this audit has, and those only `earlier` had: what a change of
    /// policy does to the same trail.
    public func findingChanges(from earlier: AuditReport) -> (added: [String], removed: [String]) {
        let before = earlier.findingKeys, after = findingKeys
        return (after.filter { !before.contains($0) }, before.filter { !after.contains($0) })
    }
}
