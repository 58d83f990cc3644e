import Foundation
import RulebookDiagnostics
import RulebookTestSupport
import RulebookYAML
import Testing

@testable import RulebookCore

/// The audit-semantics fixture policy (Tests/Fixtures/policies/valid/semantics.yaml).
let semanticsPolicy = fixturePolicy("policies/valid/semantics.yaml", id: "semantics")

private func semantics(_ yaml: String) throws -> CaseFile { try incident(yaml, policy: semanticsPolicy) }

private func kinds(_ report: AuditReport) -> Set<String> {
    Set(report.findings.map { f in f.kind.rawValue + (f.duty.map { " " + semanticsPolicy.duties[$0].id } ?? "") })
}

@Suite("Audit: verdicts that never overstate")
struct VerdictTests {
    let engine = Engine(policy: enginePolicy)

    @Test("a duty with no deadline is open (a warning) while the incident is open, missing once it is closed")
    func openThenMissing() throws {
        let open = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z, personal: false, severity: minor}
            events: [{at: 2026-11-02T09:10:00Z, action: report, by: staff}]
            """)
        let report = engine.audit(open, at: t("2026-11-20T00:00:00Z"))
        #expect(report.findings.map(\.kind) == [.open])
        #expect(report.findings[0].severity == .warning)
        #expect(report.verdict == .compliantSoFar)
        #expect(report.verdict.passes && !report.compliant)
        let text = EngineReports(evaluation: report.evaluation, file: open).auditText(report)
        #expect(text.contains("COMPLIANT SO FAR: 1 duty is still open"))
        #expect(!text.contains("COMPLIANT: "))
    }

    @Test("nothing outstanding and nothing wrong is compliant")
    func compliant() throws {
        let file = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z, personal: false, severity: minor}
            events:
              - {at: 2026-11-02T09:10:00Z, action: report, by: staff}
              - {at: 2026-11-02T10:00:00Z, action: no_outcome, by: lead, reason: nothing to report}
            """)
        let report = engine.audit(file, at: t("2026-11-20T00:00:00Z"))
        #expect(report.verdict == .compliant && report.compliant && report.findings.isEmpty)
    }

    @Test("a deadline counting from an unanswered fact is clock_unknown, and the verdict undetermined")
    func clockUnknown() throws {
        let file = try incident("""
            facts: {personal: false, severity: minor}
            events:
              - {at: 2026-11-02T09:10:00Z, action: report, by: staff}
              - {at: 2026-11-02T10:00:00Z, action: no_outcome, by: lead, reason: nothing to report}
            """)
        let report = engine.audit(file, at: t("2026-11-20T00:00:00Z"))
        // `report` was done (no deadline can be checked); nothing else is owed.
        #expect(report.verdict == .compliant, "\(report.findings)")
        // Without the report, the duty is owed and its deadline cannot be computed.
        let bare = try incident("""
            facts: {personal: false, severity: minor}
            events: [{at: 2026-11-02T10:00:00Z, action: no_outcome, by: lead, reason: nothing to report}]
            """)
        let unknown = engine.audit(bare, at: t("2026-11-20T00:00:00Z"))
        let finding = try #require(unknown.findings.first { $0.kind == .clockUnknown })
        #expect(finding.message.contains("record discovered_at"))
        #expect(unknown.verdict == .undetermined)
        let next = EngineReports(evaluation: unknown.evaluation, file: bare).nextText(role: nil, all: false)
        #expect(next.contains("deadline unknown"))
        #expect(next.contains("discovered_at, which is not recorded yet"))
    }

    @Test("an undecided duty that would be overdue is undetermined, naming its question")
    func undetermined() throws {
        let file = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z, personal: false}
            events:
              - {at: 2026-11-02T09:10:00Z, action: report, by: staff}
              - {at: 2026-11-02T10:00:00Z, action: no_outcome, by: lead, reason: nothing to report}
            """)
        let report = engine.audit(file, at: t("2026-11-20T00:00:00Z"))
        let finding = try #require(report.findings.first { $0.kind == .undetermined })
        #expect(finding.duty == enginePolicy.dutyIndex(of: "escalate"))
        #expect(finding.message.contains("severity: How severe is it?"))
        #expect(report.verdict == .undetermined)
        #expect(!report.verdict.passes)
    }

    @Test("of two alternatives that are both undecided, one is certainly owed: reported missing")
    func alternatives() throws {
        let file = try semantics("""
            facts: {occurred_at: 2026-11-02T08:00:00Z, discovered_at: 2026-11-02T09:00:00Z, severity: minor}
            events:
              - {at: 2026-11-02T09:10:00Z, action: report, by: teacher}
              - {at: 2026-11-02T10:00:00Z, action: inform_manager, by: manager}
              - {at: 2026-11-02T10:00:00Z, action: notify_regulator, by: lead}
            """)
        let report = Engine(policy: semanticsPolicy).audit(file, at: t("2026-11-20T00:00:00Z"))
        let missing = report.findings.filter { $0.kind == .missing }
        #expect(missing.count == 1)
        #expect(missing.first?.message.contains("whatever the answer to disproportionate") == true)
        #expect(!report.findings.contains { $0.kind == .undetermined })
        #expect(report.verdict == .notCompliant)
    }

    @Test("before the incident's earliest recorded time nothing is due")
    func beforeStart() throws {
        let file = try incident("facts: {discovered_at: 2026-11-02T09:00:00Z, personal: true, severity: major}")
        let e = engine.evaluate(file, at: t("2026-11-01T09:00:00Z"))
        #expect(e.startsAfter == t("2026-11-02T09:00:00Z"))
        #expect(!e.duties.contains { $0.state == .due || $0.state == .overdue })
        let text = EngineReports(evaluation: e, file: file).nextText(role: nil, all: false)
        #expect(text.contains("nothing is due before 2026-11-02 09:00 GMT"))
    }
}

@Suite("Audit: who may act and who may decide")
struct AuthorityTests {
    let engine = Engine(policy: semanticsPolicy)

    @Test("a fact set by a role that may not establish it does not take effect, and is reported with what it would change")
    func unauthorisedFact() throws {
        let file = try semantics("""
            facts: {occurred_at: 2026-11-02T08:00:00Z, discovered_at: 2026-11-02T09:00:00Z}
            events:
              - {at: 2026-11-02T09:10:00Z, action: report, by: teacher}
              - {at: 2026-11-02T09:20:00Z, action: record_facts, by: teacher, facts: {severity: critical}}
            """)
        let report = engine.audit(file, at: t("2026-11-02T09:30:00Z"))
        #expect(report.evaluation.state("escalate") == .unknown)
        let finding = try #require(report.findings.first { $0.kind == .unauthorisedFact })
        #expect(finding.event == 1 && finding.severity == .error)
        #expect(finding.message.contains("'escalate' would be due instead of unknown"))
        // The lead may establish it.
        let byLead = try semantics("""
            facts: {occurred_at: 2026-11-02T08:00:00Z, discovered_at: 2026-11-02T09:00:00Z}
            events: [{at: 2026-11-02T09:20:00Z, action: classify, by: lead, facts: {severity: critical}}]
            """)
        #expect(engine.evaluate(byLead, at: t("2026-11-02T09:30:00Z")).state("escalate") == .due)
    }

    @Test("an action that establishes a fact discharges its duty only when it records the fact")
    func establishes() throws {
        let without = try semantics("""
            facts: {occurred_at: 2026-11-02T08:00:00Z, discovered_at: 2026-11-02T09:00:00Z}
            events: [{at: 2026-11-02T09:20:00Z, action: classify, by: lead}]
            """)
        #expect(engine.evaluate(without, at: t("2026-11-02T09:30:00Z")).state("classify") == .due)
        let with = try semantics("""
            facts: {occurred_at: 2026-11-02T08:00:00Z, discovered_at: 2026-11-02T09:00:00Z}
            events:
              - {at: 2026-11-02T09:20:00Z, action: classify, by: lead}
              - {at: 2026-11-02T09:25:00Z, action: classify, by: lead, facts: {severity: minor}}
            """)
        let e = engine.evaluate(with, at: t("2026-11-02T09:30:00Z"))
        #expect(e.state("classify") == .done)
        #expect(e.duties[semanticsPolicy.dutyIndex(of: "classify")!].doneBy == 1)
    }

    @Test("a conditional stand-in: allowed when the condition holds, wrong_role when it does not, undetermined when unknown")
    func conditionalStandIn() throws {
        func run(_ absent: String) throws -> AuditReport {
            let file = try semantics("""
                facts: {occurred_at: 2026-11-02T08:00:00Z, discovered_at: 2026-11-02T09:00:00Z, manager_absent: \(absent)}
                events:
                  - {at: 2026-11-02T09:10:00Z, action: report, by: teacher}
                  - {at: 2026-11-02T09:20:00Z, action: inform_manager, by: deputy}
                """)
            return engine.audit(file, at: t("2026-11-02T09:30:00Z"))
        }
        let absent = try run("true")
        #expect(absent.evaluation.state("inform_manager") == .done)
        #expect(!absent.findings.contains { $0.kind == .wrongRole })
        let present = try run("false")
        #expect(present.evaluation.state("inform_manager") == .due)
        let wrong = try #require(present.findings.first { $0.kind == .wrongRole })
        #expect(wrong.duty == semanticsPolicy.dutyIndex(of: "inform_manager"))
        #expect(wrong.action == semanticsPolicy.actionIndex(of: "inform_manager"))
        #expect(wrong.clause == "§4")
        #expect(wrong.message.contains("manager_absent"))
        let unknown = try run("null")
        let undetermined = try #require(unknown.findings.first { $0.kind == .undetermined })
        #expect(undetermined.message.contains("manager_absent: Is the line manager absent?"))
        #expect(unknown.verdict == .undetermined)
    }

    @Test("a role group: any member discharges the group's duty, and next --role shows a member the group's duties")
    func groups() throws {
        #expect(semanticsPolicy.members(of: semanticsPolicy.roleIndex(of: "all_staff")!).count == 4)
        for member in ["teacher", "lead", "head"] {
            let file = try semantics("""
                facts: {occurred_at: 2026-11-02T08:00:00Z, discovered_at: 2026-11-02T09:00:00Z}
                events: [{at: 2026-11-02T09:10:00Z, action: report, by: \(member)}]
                """)
            let report = engine.audit(file, at: t("2026-11-02T09:30:00Z"))
            #expect(report.evaluation.state("report") == .done, "\(member)")
            #expect(!report.findings.contains { $0.kind == .wrongRole }, "\(member)")
        }
        let file = try semantics("facts: {occurred_at: 2026-11-02T08:00:00Z, discovered_at: 2026-11-02T09:00:00Z}")
        let e = engine.evaluate(file, at: t("2026-11-02T09:30:00Z"))
        let duties = EngineReports(evaluation: e, file: file).nextDuties(role: semanticsPolicy.roleIndex(of: "teacher"), all: false)
        #expect(duties.map { semanticsPolicy.duties[$0.duty].id } == ["report"])
        // A role outside the group does not discharge it.
        let outsider = try semantics("""
            facts: {occurred_at: 2026-11-02T08:00:00Z, discovered_at: 2026-11-02T09:00:00Z}
            events: [{at: 2026-11-02T09:10:00Z, action: report, by: panel}]
            """)
        #expect(engine.audit(outsider, at: t("2026-11-02T09:30:00Z")).findings.contains { $0.kind == .wrongRole })
    }
}

@Suite("Audit: timing the documents use")
struct TimingTests {
    let engine = Engine(policy: semanticsPolicy)
    let opened = "facts: {occurred_at: 2026-11-02T08:00:00Z, discovered_at: 2026-11-02T09:00:00Z, disproportionate: false, severity: minor}"

    @Test("not_before: doing it sooner is early and does not count; next shows from when")
    func notBefore() throws {
        let file = try semantics(opened + "\nevents: [{at: 2026-11-03T09:00:00Z, action: reevaluate, by: panel}]")
        let e = engine.evaluate(file, at: t("2026-11-04T09:00:00Z"))
        #expect(e.state("reevaluate") == .waiting)
        // Six calendar months, local time: 09:00 GMT on 2 November is 09:00 BST on 2 May.
        #expect(e.duties[semanticsPolicy.dutyIndex(of: "reevaluate")!].notBefore == t("2027-05-02T08:00:00Z"))
        let report = engine.audit(file, at: t("2026-11-04T09:00:00Z"))
        #expect(report.findings.contains { $0.kind == .early && $0.duty == semanticsPolicy.dutyIndex(of: "reevaluate") })
        let text = EngineReports(evaluation: e, file: file).nextText(role: nil, all: true)
        #expect(text.contains("from 2027-05-02 09:00 BST"))
        let inTime = try semantics(opened + "\nevents: [{at: 2027-05-03T09:00:00Z, action: reevaluate, by: panel}]")
        #expect(engine.evaluate(inTime, at: t("2027-05-04T09:00:00Z")).state("reevaluate") == .done)
    }

    @Test("a target and a hard limit: after the target is a warning, after the limit an error, and a reason is owed")
    func targetAndLimit() throws {
        let soft = try semantics(opened + "\nevents: [{at: 2026-11-02T12:00:00Z, action: notify_regulator, by: lead}]")
        let warned = engine.audit(soft, at: t("2026-11-02T13:00:00Z"))
        let late = try #require(warned.findings.first { $0.kind == .late })
        #expect(late.severity == .warning)
        let hard = try semantics(opened + "\nevents: [{at: 2026-11-06T12:00:00Z, action: notify_regulator, by: lead}]")
        let report = engine.audit(hard, at: t("2026-11-06T13:00:00Z"))
        #expect(report.findings.contains { $0.kind == .late && $0.severity == .error })
        #expect(report.findings.contains { $0.kind == .missingReason && $0.duty == semanticsPolicy.dutyIndex(of: "notify_regulator") })
        let reasoned = try semantics(opened + "\nevents: [{at: 2026-11-06T12:00:00Z, action: notify_regulator, by: lead, reason: the facts took four days to establish}]")
        #expect(!engine.audit(reasoned, at: t("2026-11-06T13:00:00Z")).findings.contains { $0.kind == .missingReason })
    }

    @Test("earliest_of: the clock counts from whichever known moment is earlier, and is unknown while none is")
    func earliestOf() throws {
        let both = try semantics(opened)
        #expect(engine.evaluate(both, at: t("2026-11-02T10:00:00Z")).deadline("notify_regulator") == t("2026-11-05T08:00:00Z"))
        let discovered = try semantics("facts: {discovered_at: 2026-11-02T09:00:00Z}")
        #expect(engine.evaluate(discovered, at: t("2026-11-02T10:00:00Z")).deadline("notify_regulator") == t("2026-11-05T09:00:00Z"))
        let neither = try semantics("events: [{at: 2026-11-02T09:10:00Z, action: report, by: teacher}]")
        let e = engine.evaluate(neither, at: t("2026-11-02T10:00:00Z"))
        #expect(e.duties[semanticsPolicy.dutyIndex(of: "notify_regulator")!].clockUnknown)
        #expect(e.questions.contains { semanticsPolicy.facts[$0.fact].id == "occurred_at" })
    }
}

@Suite("Audit: trails as they are really kept")
struct TrailTests {
    let engine = Engine(policy: semanticsPolicy)

    @Test("events listed out of time order are put in order; recorded_at long after is a note")
    func backfilled() throws {
        let file = try semantics("""
            facts: {occurred_at: 2026-11-02T08:00:00Z, discovered_at: 2026-11-02T09:00:00Z}
            events:
              - {at: 2026-11-02T10:00:00Z, action: inform_manager, by: manager, recorded_at: 2026-11-06T16:00:00Z}
              - {at: 2026-11-02T09:10:00Z, action: report, by: teacher}
            """)
        #expect(file.events.map { semanticsPolicy.actions[$0.action].id } == ["report", "inform_manager"])
        let report = engine.audit(file, at: t("2026-11-07T00:00:00Z"))
        #expect(report.evaluation.state("inform_manager") == .done)
        let note = try #require(report.findings.first { $0.kind == .recordedLate })
        #expect(note.severity == .note)
        #expect(note.message.contains("4 days 6 hours later"))
    }

    @Test("facts that break a consistency rule: a case is refused where it breaks it; a trail is audited")
    func constraints() throws {
        let marked = MarkedText("""
            facts: {occurred_at: 1️⃣2026-11-03T09:00:00Z, discovered_at: 2026-11-02T09:00:00Z}
            """)
        let root = try #require(YAMLReader.read(marked.text, file: "c.yaml").root)
        let (file, diagnostics) = CaseLoader.load(root, policy: semanticsPolicy)
        #expect(file == nil)
        let error = try #require(diagnostics.first { $0.code == "inconsistent-facts" })
        #expect(error.span?.start == marked["1️⃣"])
        #expect(error.message.contains("an incident cannot be discovered before it occurred"))
        // A trail read as JSON Lines is not refused: the audit reports it.
        let trail = CaseFile(facts: [FactAssignment(slot: semanticsPolicy.factSlot(of: "discovered_at")!, value: .time(t("2026-11-02T09:00:00Z")))],
                             events: [Event(at: t("2026-11-02T10:00:00Z"), action: semanticsPolicy.actionIndex(of: "record_facts")!,
                                            role: semanticsPolicy.roleIndex(of: "lead")!,
                                            facts: [FactAssignment(slot: semanticsPolicy.factSlot(of: "occurred_at")!, value: .time(t("2026-11-03T09:00:00Z")))])])
        let report = engine.audit(trail, at: t("2026-11-02T11:00:00Z"))
        #expect(report.findings.contains { $0.kind == .inconsistentFacts && $0.event == 0 })
        #expect(report.verdict == .notCompliant)
    }
}

@Suite("Audit: properties over generated trails")
struct AuditPropertyTests {
    /// A random trail over the semantics policy: random facts, actions, roles and times.
    static func randomCase(_ g: inout SplitMix64) -> CaseFile {
        let policy = semanticsPolicy
        let base = t("2026-11-02T09:00:00Z")
        var file = CaseFile()
        if g.next() % 4 != 0 { file.facts.append(FactAssignment(slot: policy.factSlot(of: "discovered_at")!, value: .time(base))) }
        if g.next() % 2 == 0 {
            file.facts.append(FactAssignment(slot: policy.factSlot(of: "occurred_at")!, value: .time(base - Int64(g.next() % 48) * 3_600_000)))
        }
        for id in ["manager_absent", "disproportionate"] where g.next() % 3 != 0 {
            file.facts.append(FactAssignment(slot: policy.factSlot(of: id)!, value: .bool(g.next() % 2 == 0)))
        }
        let count = Int(g.next() % 8)
        for _ in 0..<count {
            var event = Event(at: base + Int64(g.next() % (24 * 14)) * 3_600_000 / 2, action: Int(g.next() % UInt64(policy.actions.count)),
                              role: Int(g.next() % UInt64(policy.roles.count)))
            if g.next() % 5 == 0 {
                event.facts = [FactAssignment(slot: policy.factSlot(of: "severity")!, value: .option(Int(g.next() % 2)))]
            }
            if g.next() % 4 == 0 { event.reason = "because" }
            file.events.append(event)
        }
        return file.inTimeOrder()
    }

    @Test("never compliant while an applicable duty is not done; later never undoes done; listing order never matters")
    func properties() throws {
        let engine = Engine(policy: semanticsPolicy)
        var g = SplitMix64(seed: 11)
        let start = t("2026-11-01T00:00:00Z")
        for _ in 0..<400 {
            let file = Self.randomCase(&g)
            let times = (0..<4).map { _ in start + Int64(g.next() % (24 * 400)) * 3_600_000 }.sorted()
            var previous: Evaluation?
            for at in times {
                let report = engine.audit(file, at: at)
                if report.verdict == .compliant {
                    for s in report.evaluation.duties where s.state == .due || s.state == .overdue || s.state == .unknown {
                        Issue.record("compliant with '\(semanticsPolicy.duties[s.duty].id)' \(s.state) at \(at)")
                    }
                }
                if let previous {
                    for (a, b) in zip(previous.duties, report.evaluation.duties) where a.state == .done {
                        #expect(b.state == .done, "'\(semanticsPolicy.duties[a.duty].id)' went from done to \(b.state)")
                    }
                }
                previous = report.evaluation
                // Shuffled listing: the same answers once put in order.
                var shuffled = file
                shuffled.events.shuffle(using: &g)
                shuffled.orderByTime()
                let again = engine.audit(shuffled, at: at)
                let sameTimes = Set(file.events.map(\.at)).count == file.events.count
                if sameTimes {
                    #expect(again.verdict == report.verdict)
                    #expect(again.evaluation.duties.map(\.state) == report.evaluation.duties.map(\.state))
                    #expect(again.findings.map(\.message) == report.findings.map(\.message))
                }
            }
        }
    }
}
