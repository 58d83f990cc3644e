/// What was verified of a register incident's records before its audit: its events'
/// hash chain and the register's ledger, up to the head.
public struct ChainCheck: Sendable {
    /// Events whose hashes were recomputed and linked.
    public var events: Int
    /// The ledger's length and last hash: noting them lets a later auditor tell whether
    /// the register was rewritten from scratch.
    public var headRecords: Int64
    public var headHash: String

    public init(events: Int, headRecords: Int64, headHash: String) {
        self.events = events
        self.headRecords = headRecords
        self.headHash = headHash
    }
}

/// Renders evaluations for people (text) and tools (JSON, described by the schemas in
/// Schemas/). Field names follow the design's CLI contract; fields may be added, never
/// renamed.
public struct EngineReports: Sendable {
    public let evaluation: Evaluation
    public let file: CaseFile
    private var policy: Policy { evaluation.policy }
    private var clock: ZoneClock { policy.clock }

    public init(evaluation: Evaluation, file: CaseFile) {
        self.evaluation = evaluation
        self.file = file
    }

    // MARK: Selection

    /// The duties `next` lists: due, overdue, undecided and waiting ones (all with
    /// `all`), for `role` when given, sorted by urgency, then deadline (none last), then
    /// the policy's order.
    public func nextDuties(role: Int?, all: Bool) -> [DutyStatus] {
        let duties = evaluation.duties
        // Sort plain keys in temporary memory, then copy the statuses out once.
        typealias Key = (rank: Int, deadline: Instant, duty: Int, index: Int)
        return withUnsafeTemporaryAllocation(of: Key.self, capacity: max(1, duties.count)) { keys in
            var count = 0
            for i in duties.indices where all || duties[i].state.isOpen {
                if let role, !isFor(role, duties[i].duty) { continue }
                keys[count] = (Self.rank(duties[i].state), duties[i].deadline ?? .max, duties[i].duty, i)
                count += 1
            }
            var picked = UnsafeMutableBufferPointer(rebasing: keys[0..<count])
            picked.sort { ($0.rank, $0.deadline, $0.duty) < ($1.rank, $1.deadline, $1.duty) }
            return picked.map { duties[$0.index] }
        }
    }

    /// Whether duty `duty` is for `role`: one of its roles, or a group that includes it.
    func isFor(_ role: Int, _ duty: Int) -> Bool {
        policy.duties[duty].roles.contains { policy.role(role, actsAs: $0) }
    }

    /// Most urgent first.
    static func rank(_ s: DutyState) -> Int {
        switch s {
        case .overdue: return 0
        case .due: return 1
        case .unknown: return 2
        case .waiting: return 3
        case .doneLate: return 4
        case .done: return 5
        case .notApplicable: return 6
        }
    }

    // MARK: Text

    /// The heading shared by every text report.
    public var heading: String {
        var text = "\(policy.organisation) — \(policy.title) (\(policy.id)\(policy.control.version.map { ", version \($0)" } ?? ""))\n"
        text += (file.incident.map { "Incident \($0.printable)" } ?? "Incident") + " at \(clock.describe(evaluation.at))"
        return text
    }

    /// `rulebook assess` for people: each value with its reason and clause, then questions.
    public func assessText() -> String {
        var out = heading + "\n\nValues\n"
        let steps = evaluation.explanation
        if steps.isEmpty { out += "  (the policy derives no values)\n" }
        for step in steps {
            out += "  \(step.value) = \(step.display)    [\(step.provenance.citation(in: policy.id))]\n"
            out += "      because \(step.because)\n"
            if let note = step.provenance.assumption { out += "      assumption: \(note)\n" }
        }
        out += questionsText()
        return out
    }

    /// `rulebook next` for people: duties by role, most urgent first.
    public func nextText(role: Int?, all: Bool) -> String {
        let list = nextDuties(role: role, all: all)
        var counts: [DutyState: Int] = [:]
        for s in list { counts[s.state, default: 0] += 1 }
        let summary = [DutyState.overdue, .due, .unknown, .waiting, .done, .doneLate, .notApplicable]
            .compactMap { s in counts[s].map { "\($0) \(Self.word(s))" } }.joined(by: ", ")
        var out = heading + ": "
        if let start = evaluation.startsAfter {
            out += "nothing is due before \(clock.describe(start)), the incident's earliest recorded time\n"
        } else {
            out += (summary.isEmpty ? "nothing is due" : summary) + "\n"
        }
        let roles = role.map { [$0] } ?? policy.roles.indices.filter { r in list.contains { policy.duties[$0.duty].roles.contains(r) } }
        for r in roles {
            let mine = list.filter { role == nil ? policy.duties[$0.duty].roles.contains(r) : isFor(r, $0.duty) }
            guard !mine.isEmpty else { continue }
            let holder = policy.roles[r].holder.map { ", \($0)" } ?? ""
            out += "\n\(policy.roles[r].title) (\(policy.roles[r].id)\(holder))\n"
            for status in mine { out += "  " + line(status) + "\n" }
        }
        out += questionsText()
        return out
    }

    private static func word(_ s: DutyState) -> String {
        switch s {
        case .notApplicable: return "not applicable"
        case .unknown: return "undecided"
        case .doneLate: return "done late"
        default: return s.rawValue
        }
    }

    private func line(_ status: DutyStatus) -> String {
        let duty = policy.duties[status.duty]
        let label = status.state.rawValue.uppercased().replacingOccurrences(of: "_", with: " ")
        var text = label.padding(toLength: 14) + duty.title
        switch status.state {
        case .due:
            if let target = status.target, let deadline = status.deadline {
                text += evaluation.at <= target
                    ? " — aim for \(clock.describe(target)), at the latest \(clock.describe(deadline)) (\(Durations.describe(deadline - evaluation.at)) left)"
                    : " — target \(clock.describe(target)) passed; at the latest \(clock.describe(deadline)) (\(Durations.describe(deadline - evaluation.at)) left)"
            } else if let deadline = status.deadline {
                text += " — by \(clock.describe(deadline)) (\(Durations.describe(deadline - evaluation.at)) left)"
            } else if status.clockUnknown {
                text += " — deadline unknown: \(duty.deadline?.description ?? "it counts") from \(unknownClockFacts(duty)), which is not recorded yet"
            } else {
                text += " — no deadline"
            }
            if duty.reasonWhenLate { text += "; if later, record the reasons for the delay" }
        case .overdue:
            text += " — was due by \(clock.describe(status.deadline!)) (overdue by \(Durations.describe(evaluation.at - status.deadline!)))"
        case .waiting:
            if let start = evaluation.startsAfter {
                text += " — nothing is due before \(clock.describe(start))"
            } else if let earliest = status.notBefore, earliest > evaluation.at, status.clockStart.map({ $0 <= evaluation.at }) ?? false {
                text += " — from \(clock.describe(earliest))"
            } else if status.clockUnknown {
                text += " — deadline unknown: it counts from \(unknownClockFacts(duty)), which is not recorded yet"
            } else if let start = status.clockStart, start > evaluation.at {
                text += " — starts \(clock.describe(start))"
            } else if status.waitsForPrerequisite {
                text += " — after: " + evaluation.waitingFor(status).map { policy.duties[$0].title }.joined(by: "; ")
            } else if case .action(let a)? = duty.clock {
                text += " — starts when '\(policy.actions[a].title)' happens"
            } else if case .duty(let d)? = duty.clock {
                text += " — starts when '\(policy.duties[d].title)' is done"
            }
        case .unknown:
            var facts: [Int] = []
            duty.condition?.expr.undecidedInputs(evaluation.values, into: &facts) { slot, list in
                policy.undecidedFacts(of: slot, evaluation.values, into: &list)
            }
            if !facts.isEmpty { text += " — depends on: " + facts.map { policy.facts[$0].id }.joined(by: ", ") }
            if status.clockUnknown { text += "; deadline unknown until \(unknownClockFacts(duty)) is recorded" }
        case .done, .doneLate:
            text += " — done \(clock.describe(status.doneAt!))"
            if status.state == .doneLate, let deadline = status.deadline {
                text += ", \(Durations.describe(status.doneAt! - deadline)) late"
            }
        case .notApplicable:
            break
        }
        text += "   [\(duty.provenance.citation(in: policy.id))]"
        return text
    }

    /// The unanswered facts a duty's clock counts from.
    private func unknownClockFacts(_ duty: Duty) -> String {
        var names: [String] = []
        for case .fact(let slot) in duty.clock?.parts ?? [] where !evaluation.values.slots[slot].isKnown {
            names.append(policy.facts[slot].id)
        }
        return names.joined(by: " or ")
    }

    private func questionsText() -> String {
        let questions = evaluation.questions
        guard !questions.isEmpty else { return "" }
        var out = "\nQuestions whose answers would change this\n"
        for (i, q) in questions.enumerated() {
            let fact = policy.facts[q.fact]
            var decides: [String] = []
            if !q.duties.isEmpty { decides.append("\(q.duties.count) dut\(q.duties.count == 1 ? "y" : "ies")") }
            if !q.values.isEmpty { decides.append(q.values.map { policy.slotID($0) }.joined(by: ", ")) }
            out += "  \(i + 1). \(fact.id): \(fact.question)   [\(fact.provenance.citation(in: policy.id))]"
            out += decides.isEmpty ? "\n" : " — decides \(decides.joined(by: "; "))\n"
        }
        return out
    }

    /// `rulebook audit` for people: the verdict, each finding, and the duties.
    public func auditText(_ report: AuditReport, chain: ChainCheck? = nil) -> String {
        let errors = report.findings.filter { $0.severity == .error }.count
        var out = heading + "\n\n"
        if let chain {
            out += "Hash chain verified: \(chain.events) event\(chain.events == 1 ? "" : "s"); register head #\(chain.headRecords) \(chain.headHash.prefix(16))\n"
        }
        let counted = "\(report.findings.count) finding\(report.findings.count == 1 ? "" : "s") (\(errors) error\(errors == 1 ? "" : "s"))"
        let open = report.evaluation.duties.filter { $0.state == .due || $0.state == .unknown || ($0.state == .waiting && ($0.waitsForPrerequisite || $0.clockUnknown)) }.count
        switch report.verdict {
        case .compliant:
            out += report.findings.isEmpty ? "COMPLIANT: nothing owed is outstanding; no findings\n"
                : "COMPLIANT: nothing owed is outstanding; \(report.findings.count) note\(report.findings.count == 1 ? "" : "s")\n"
        case .compliantSoFar:
            out += "COMPLIANT SO FAR: \(open) dut\(open == 1 ? "y is" : "ies are") still open, none past a deadline; \(counted)\n"
        case .undetermined:
            out += "UNDETERMINED: whether something owed is late or missing depends on unanswered questions; \(counted)\n"
        case .notCompliant:
            out += "NOT COMPLIANT: \(counted)\n"
        }
        for f in report.findings {
            var where_ = ""
            if let e = f.event { where_ = " (event \(e + 1), \(clock.describe(file.events[e].at)))" }
            out += "  \(f.severity.rawValue.padding(toLength: 7))\(f.kind.rawValue.padding(toLength: 18))\(f.message)\(where_)   [\(f.clause)]\n"
        }
        out += "\nDuties\n"
        for status in report.evaluation.duties.sorted(by: { $0.duty < $1.duty }) {
            out += "  " + line(status) + "\n"
        }
        return out
    }

    // MARK: JSON

    private func header(_ w: inout JSONWriter) {
        w.field("policy") { w in
            w.object { w in
                w.field("id", string: policy.id)
                w.field("version", string: policy.control.version)
                w.field("title", string: policy.title)
                w.field("organisation", string: policy.organisation)
            }
        }
        w.field("incident", string: file.incident)
        w.field("at", string: clock.format(evaluation.at))
    }

    /// `rulebook assess --format json`.
    public func assessJSON(pretty: Bool = true) -> String {
        var w = JSONWriter(pretty: pretty)
        writeAssessment(&w)
        return w.text
    }

    /// Writes the assess object.
    public func writeAssessment(_ w: inout JSONWriter) {
        let steps = evaluation.explanation
        w.object { w in
            header(&w)
            w.field("values") { w in
                w.object { w in
                    for step in steps { w.field(step.value) { w in writeValue(step.result, policy.slotType(step.slot), &w) } }
                }
            }
            w.field("explanation") { writeExplanation(&$0, steps) }
            w.field("questions") { writeQuestions(&$0) }
        }
    }

    /// The explanation of every value, as `assess --format json` writes it.
    public func writeExplanation(_ w: inout JSONWriter) {
        writeExplanation(&w, evaluation.explanation)
    }

    private func writeExplanation(_ w: inout JSONWriter, _ steps: [ExplanationStep]) {
        w.array { w in
            for step in steps {
                w.object { w in
                    w.field("value", string: step.value)
                    w.field("result") { w in writeValue(step.result, policy.slotType(step.slot), &w) }
                    w.field("display", string: step.display)
                    w.field("clause", string: step.provenance.citation(in: policy.id))
                    w.field("provenance", string: step.provenance.kind.rawValue)
                    w.field("assumption", string: step.provenance.assumption)
                    w.field("because", string: step.because)
                }
            }
        }
    }

    /// `rulebook next --format json`.
    public func nextJSON(role: Int?, all: Bool, pretty: Bool = true) -> String {
        var w = JSONWriter(pretty: pretty)
        w.object { w in
            header(&w)
            w.field("starts_after", string: evaluation.startsAfter.map(clock.format))
            w.field("duties") { w in w.array { w in for s in nextDuties(role: role, all: all) { writeDuty(s, &w) } } }
            w.field("questions") { writeQuestions(&$0) }
        }
        return w.text
    }

    /// `rulebook audit --format json`.
    public func auditJSON(_ report: AuditReport, chain: ChainCheck? = nil, pretty: Bool = true) -> String {
        var w = JSONWriter(pretty: pretty)
        w.object { w in
            header(&w)
            w.field("verdict", string: report.verdict.rawValue)
            w.field("compliant", bool: report.compliant)
            if let chain {
                w.field("chain") { w in
                    w.object { w in
                        w.field("verified", bool: true)
                        w.field("events", int: chain.events)
                        w.field("head_records", int: Int(chain.headRecords))
                        w.field("head_hash", string: chain.headHash)
                    }
                }
            }
            w.field("findings") { w in
                w.array { w in
                    for f in report.findings {
                        w.object { w in
                            w.field("kind", string: f.kind.rawValue)
                            w.field("severity", string: f.severity.rawValue)
                            w.field("duty", string: f.duty.map { policy.duties[$0].id })
                            w.field("action", string: f.action.map { policy.actions[$0].id })
                            w.field("event", int: f.event)
                            w.field("event_at", string: f.event.map { clock.format(file.events[$0].at) })
                            w.field("clause", string: f.clause)
                            w.field("message", string: f.message)
                        }
                    }
                }
            }
            w.field("duties") { w in
                w.array { w in for s in report.evaluation.duties.sorted(by: { $0.duty < $1.duty }) { writeDuty(s, &w) } }
            }
        }
        return w.text
    }

    private func writeDuty(_ status: DutyStatus, _ w: inout JSONWriter) {
        let duty = policy.duties[status.duty]
        w.object { w in
            w.field("id", string: duty.id)
            w.field("title", string: duty.title)
            w.field("role", string: policy.roles[duty.roles[0]].id)
            w.field("roles") { $0.array(strings: duty.roles.map { policy.roles[$0].id }) }
            w.field("status", string: status.state.rawValue)
            w.field("deadline", string: status.deadline.map(clock.format))
            w.field("seconds_left", int: status.deadline.map { Int(($0 - evaluation.at) / 1000) })
            w.field("done_at", string: status.doneAt.map(clock.format))
            w.field("clock_unknown", bool: status.clockUnknown)
            if status.clockUnknown {
                var facts: [String] = []
                for case .fact(let slot) in duty.clock?.parts ?? [] where !evaluation.values.slots[slot].isKnown {
                    facts.append(policy.facts[slot].id)
                }
                w.field("clock_facts") { $0.array(strings: facts) }
            }
            w.field("not_before", string: status.notBefore.map(clock.format))
            w.field("target", string: status.target.map(clock.format))
            w.field("clause", string: duty.provenance.citation(in: policy.id))
            w.field("actions") { $0.array(strings: duty.actions.map { policy.actions[$0].id }) }
            w.field("waiting_for") { $0.array(strings: evaluation.waitingFor(status).map { policy.duties[$0].id }) }
        }
    }

    private func writeQuestions(_ w: inout JSONWriter) {
        w.array { w in
            for q in evaluation.questions {
                let fact = policy.facts[q.fact]
                w.object { w in
                    w.field("fact", string: fact.id)
                    w.field("question", string: fact.question)
                    w.field("clause", string: fact.provenance.citation(in: policy.id))
                    w.field("type", string: fact.type.keyword)
                    if case .option(let d) = fact.type { w.field("options") { $0.array(strings: d.ids) } }
                    if case .options(let d) = fact.type { w.field("options") { $0.array(strings: d.ids) } }
                    w.field("decides") { $0.array(strings: q.duties.map { policy.duties[$0].id }) }
                    w.field("affects") { $0.array(strings: q.values.map { policy.slotID($0) }) }
                }
            }
        }
    }

    /// A value as JSON: numbers, booleans, option names, lists of names, times in the
    /// policy's zone.
    func writeValue(_ value: Value, _ type: ValueType, _ w: inout JSONWriter) {
        w.value(value, type, clock: clock)
    }
}

extension String {
    /// Pads with spaces to `length` (never truncates).
    func padding(toLength length: Int) -> String {
        count >= length ? self + " " : self + String(repeating: " ", count: length - count)
    }
}
