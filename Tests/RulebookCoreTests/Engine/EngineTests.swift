import Foundation
import RulebookDiagnostics
import RulebookTestSupport
import RulebookYAML
import Testing

@testable import RulebookCore

/// A fixture policy compiled from its file; a fixture that does not compile stops the run.
func fixturePolicy(_ path: String, id: String) -> Policy {
    let library = PolicyLibrary()
    let url = Fixtures.url(path)
    library.add(PolicySource(file: url.path, bytes: Array((try? Data(contentsOf: url)) ?? Data())))
    let result = PolicyCompiler.compile(id: id, library: library)
    guard let policy = result.policy else {
        fatalError("the fixture policy \(path) does not compile:\n\(Fixtures.describe(library.diagnostics + result.diagnostics))")
    }
    return policy
}

/// The engine fixture policy, compiled once.
let enginePolicy = fixturePolicy("policies/engine/engine.yaml", id: "engine")

/// A case from YAML text, checked against the engine policy.
func incident(_ yaml: String, policy: Policy = enginePolicy) throws -> CaseFile {
    let root = try #require(YAMLReader.read(yaml, file: "case.yaml").root)
    let (file, diagnostics) = CaseLoader.load(root, policy: policy)
    return try #require(file, "\(Fixtures.describe(diagnostics))")
}

func t(_ text: String) -> Instant { Timestamp.parse(text)! }

extension Evaluation {
    func state(_ duty: String) -> DutyState { duties[policy.dutyIndex(of: duty)!].state }
    func deadline(_ duty: String) -> Instant? { duties[policy.dutyIndex(of: duty)!].deadline }
}

@Suite("Engine: duty states")
struct DutyStateTests {
    let engine = Engine(policy: enginePolicy)

    @Test("unknown, due, waiting: nothing known but the discovery time")
    func opening() throws {
        let file = try incident("facts: {discovered_at: 2026-11-02T09:00:00Z}")
        let e = engine.evaluate(file, at: t("2026-11-02T09:30:00Z"))
        #expect(e.state("report") == .due)
        #expect(e.deadline("report") == t("2026-11-02T10:00:00Z"))
        #expect(e.state("notify_dpo") == .unknown)     // personal is unanswered
        #expect(e.state("review") == .waiting)         // its clock starts with notify_dpo
        #expect(e.state("escalate") == .unknown)       // severity is unanswered
        #expect(e.state("outcome") == .due)            // no deadline
        #expect(e.duties[enginePolicy.dutyIndex(of: "outcome")!].deadline == nil)
    }

    @Test("not_applicable, overdue, done, done_late, waiting on a prerequisite")
    func progress() throws {
        let file = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z, personal: true, severity: minor}
            events:
              - {at: 2026-11-02T10:30:00Z, action: report, by: staff}
            """)
        let before = engine.evaluate(file, at: t("2026-11-02T10:15:00Z"))
        #expect(before.state("report") == .overdue)
        #expect(before.state("notify_dpo") == .waiting)      // after [report]
        #expect(before.waitingFor(before.duties[enginePolicy.dutyIndex(of: "notify_dpo")!]) == [enginePolicy.dutyIndex(of: "report")!])
        #expect(before.state("escalate") == .notApplicable)  // minor is not serious
        let after = engine.evaluate(file, at: t("2026-11-02T11:00:00Z"))
        #expect(after.state("report") == .doneLate)
        #expect(after.state("notify_dpo") == .due)
        #expect(after.deadline("notify_dpo") == t("2026-11-05T09:00:00Z"))
        let onTime = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z}
            events: [{at: 2026-11-02T09:10:00Z, action: report, by: staff}]
            """)
        #expect(engine.evaluate(onTime, at: t("2026-11-03T00:00:00Z")).state("report") == .done)
    }

    @Test("events after the evaluation time are ignored, facts included")
    func timeTravel() throws {
        let file = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z}
            events:
              - {at: 2026-11-02T12:00:00Z, action: record_facts, by: lead, facts: {personal: false}}
              - {at: 2026-11-02T13:00:00Z, action: record_facts, by: lead, facts: {personal: true}}
            """)
        #expect(engine.evaluate(file, at: t("2026-11-02T11:00:00Z")).state("notify_dpo") == .unknown)
        #expect(engine.evaluate(file, at: t("2026-11-02T12:30:00Z")).state("notify_dpo") == .notApplicable)
        #expect(engine.evaluate(file, at: t("2026-11-02T13:30:00Z")).state("notify_dpo") == .waiting)
        // Unanswering a fact (null) makes it unknown again.
        let cleared = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z, personal: true}
            events: [{at: 2026-11-02T12:00:00Z, action: record_facts, by: lead, facts: {personal: null}}]
            """)
        #expect(engine.evaluate(cleared, at: t("2026-11-02T13:00:00Z")).state("notify_dpo") == .unknown)
    }

    @Test("a duty is discharged only by its own role or a stand-in, not by anyone who may take the action")
    func dischargedByItsRole() throws {
        // `report` may be taken by staff or the lead, but the duty to report is staff's.
        let byLead = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z, personal: true}
            events:
              - {at: 2026-11-02T09:10:00Z, action: report, by: lead}
              - {at: 2026-11-02T09:20:00Z, action: notify_dpo, by: deputy}
            """)
        let e = engine.evaluate(byLead, at: t("2026-11-02T09:30:00Z"))
        #expect(e.state("report") == .due)
        // The deputy stands in for the lead, so the lead's duty is discharged.
        #expect(e.duties[enginePolicy.dutyIndex(of: "notify_dpo")!].doneBy == 1)
        #expect(engine.audit(byLead, at: t("2026-11-02T09:30:00Z")).findings.map(\.kind) == [.outOfOrder, .open])
    }

    @Test("a duty whose applicability is undecided but which was done anyway is done")
    func doneWhileUnknown() throws {
        let file = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z}
            events: [{at: 2026-11-02T10:00:00Z, action: escalate, by: lead}]
            """)
        #expect(engine.evaluate(file, at: t("2026-11-02T11:00:00Z")).state("escalate") == .done)
    }
}

@Suite("Engine: deadlines across the clock changes")
struct DeadlineTests {
    let engine = Engine(policy: enginePolicy)

    @Test("72 hours across the spring change is 72 real hours; one day is 23 hours")
    func spring() throws {
        let file = try incident("facts: {discovered_at: 2026-03-28T12:00:00Z, personal: true, severity: major}\nevents: [{at: 2026-03-28T12:30:00Z, action: report, by: staff}]")
        let e = engine.evaluate(file, at: t("2026-03-28T13:00:00Z"))
        #expect(e.deadline("notify_dpo") == t("2026-03-31T12:00:00Z"))
        #expect(e.deadline("escalate") == t("2026-03-29T11:00:00Z"))
    }

    @Test("72 hours across the autumn change; one day is 25 hours; the same day ends at local midnight")
    func autumn() throws {
        let file = try incident("""
            facts: {discovered_at: 2026-10-24T11:00:00Z, personal: true, severity: critical}
            events:
              - {at: 2026-10-24T11:30:00Z, action: report, by: staff}
              - {at: 2026-10-24T22:30:00Z, action: notify_dpo, by: lead}
            """)
        let e = engine.evaluate(file, at: t("2026-10-24T22:45:00Z"))
        #expect(e.deadline("notify_dpo") == t("2026-10-27T11:00:00Z"))
        #expect(e.deadline("escalate") == t("2026-10-25T12:00:00Z"))
        // Notified at 23:30 BST: the same day ends at midnight BST, 23:00 UTC.
        #expect(e.deadline("review") == t("2026-10-24T23:00:00Z"))
        #expect(e.state("review") == .due)
        #expect(engine.evaluate(file, at: t("2026-10-24T23:30:00Z")).state("review") == .overdue)
    }
}

@Suite("Engine: audit findings")
struct AuditTests {
    let engine = Engine(policy: enginePolicy)

    func kinds(_ report: AuditReport) -> [String] {
        report.findings.map { f in f.kind.rawValue + (f.duty.map { " " + enginePolicy.duties[$0].id } ?? "") }
    }

    @Test("a clean trail is compliant")
    func compliant() throws {
        let file = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z, personal: true, severity: minor}
            events:
              - {at: 2026-11-02T09:20:00Z, action: report, by: staff}
              - {at: 2026-11-02T11:00:00Z, action: notify_dpo, by: deputy}
              - {at: 2026-11-02T15:00:00Z, action: review, by: dpo}
              - {at: 2026-11-03T15:00:00Z, action: outcome_report, by: lead}
              - {at: 2026-11-03T16:00:00Z, action: close, by: lead}
            """)
        let report = engine.audit(file, at: t("2026-11-10T00:00:00Z"))
        #expect(report.findings.isEmpty, "\(kinds(report))")
        #expect(report.compliant)
    }

    @Test("missing, late and out of order")
    func duties() throws {
        let file = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z, personal: true, severity: major}
            events:
              - {at: 2026-11-02T09:30:00Z, action: notify_dpo, by: lead}
              - {at: 2026-11-02T11:00:00Z, action: report, by: staff}
              - {at: 2026-11-02T20:00:00Z, action: review, by: dpo}
            """)
        let report = engine.audit(file, at: t("2026-11-04T00:00:00Z"))
        #expect(Set(kinds(report)) == ["late report", "out_of_order notify_dpo", "missing escalate", "open outcome"])
        #expect(report.verdict == .notCompliant)
        #expect(!report.compliant)
        let late = try #require(report.findings.first { $0.kind == .late })
        #expect(late.event == 1)
        #expect(late.message.contains("1 hour after its deadline"))
        #expect(late.clause == "§5")
    }

    @Test("closing with a duty still due is a missing finding")
    func closedEarly() throws {
        let file = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z, personal: false, severity: minor}
            events:
              - {at: 2026-11-02T09:20:00Z, action: report, by: staff}
              - {at: 2026-11-02T10:00:00Z, action: close, by: lead}
            """)
        let report = engine.audit(file, at: t("2026-11-03T00:00:00Z"))
        #expect(kinds(report) == ["missing outcome", "closed_with_open_duties"])
        #expect(report.verdict == .notCompliant)
    }

    @Test("wrong role, forbidden, missing reason; a stand-in is permitted")
    func events() throws {
        let file = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z, personal: false, severity: minor}
            events:
              - {at: 2026-11-02T09:20:00Z, action: report, by: dpo}
              - {at: 2026-11-02T09:40:00Z, action: investigate, by: employee}
              - {at: 2026-11-02T10:00:00Z, action: no_outcome, by: lead}
              - {at: 2026-11-02T10:30:00Z, action: escalate, by: deputy}
            """)
        let report = engine.audit(file, at: t("2026-11-02T11:00:00Z"))
        // The DPO's report is not the staff member's: the duty to report is also missing.
        #expect(Set(report.findings.map(\.kind)) == [.wrongRole, .forbidden, .missingReason, .missing])
        #expect(report.findings.first { $0.kind == .wrongRole }?.event == 0)
        #expect(report.findings.first { $0.kind == .forbidden }?.clause == "§10")
        #expect(report.findings.first { $0.kind == .forbidden }?.message.contains("Employees must not investigate") == true)
        #expect(report.findings.first { $0.kind == .missingReason }?.event == 2)
    }

    @Test("a decision is re-derived from the facts as they stood at that moment")
    func decisions() throws {
        let file = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z, personal: false}
            events:
              - {at: 2026-11-02T09:20:00Z, action: report, by: staff}
              - {at: 2026-11-02T10:00:00Z, action: decide_not_serious, by: lead, reason: "Only a minor slip", facts: {severity: minor}}
              - {at: 2026-11-02T12:00:00Z, action: record_facts, by: lead, facts: {severity: critical}}
            """)
        // At the time of the decision severity was minor: no mismatch, though it is critical now.
        #expect(!engine.audit(file, at: t("2026-11-02T13:00:00Z")).findings.contains { $0.kind == .decisionMismatch })
        let wrong = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z, personal: false, severity: major}
            events:
              - {at: 2026-11-02T09:20:00Z, action: report, by: staff}
              - {at: 2026-11-02T10:00:00Z, action: decide_not_serious, by: lead, reason: "Feels minor"}
            """)
        let finding = try #require(engine.audit(wrong, at: t("2026-11-02T11:00:00Z")).findings.first { $0.kind == .decisionMismatch })
        #expect(finding.event == 1)
        #expect(finding.message.contains("recorded serious = false, but the policy derives true"))
        #expect(finding.clause == "§4")
    }
}

@Suite("Engine: questions and explanations")
struct QuestionTests {
    let engine = Engine(policy: enginePolicy)

    @Test("questions are the unanswered facts that decide duties, most decisive first")
    func questions() throws {
        let file = try incident("events: [{at: 2026-11-02T09:20:00Z, action: report, by: staff}]")
        let e = engine.evaluate(file, at: t("2026-11-02T10:00:00Z"))
        let questions = e.questions.map { (enginePolicy.facts[$0.fact].id, $0.duties.count, $0.values.count) }
        // discovered_at decides the deadlines of report (done), notify_dpo, escalate...
        #expect(questions.map(\.0) == ["severity", "discovered_at", "personal"] || questions.map(\.0) == ["discovered_at", "severity", "personal"])
        #expect(Set(questions.map(\.0)) == ["severity", "discovered_at", "personal"])
        #expect(questions.first { $0.0 == "severity" }?.2 == 1)  // decides the value `serious`
        let answered = try incident("facts: {discovered_at: 2026-11-02T09:00:00Z, personal: true, severity: minor}")
        #expect(engine.evaluate(answered, at: t("2026-11-02T10:00:00Z")).questions.isEmpty)
    }

    @Test("explanations cite the clause and say why")
    func explanation() throws {
        let file = try incident("facts: {severity: critical}")
        let step = try #require(engine.evaluate(file, at: t("2026-11-02T10:00:00Z")).explanation.first)
        #expect(step.value == "serious")
        #expect(step.result == .bool(true))
        #expect(step.provenance.citation == "§4")
        #expect(step.because == "`severity in [\"major\", \"critical\"]` with severity = critical gives true")
    }
}

@Suite("Case files")
struct CaseFileTests {
    @Test("unknown actions, roles and facts and wrong types are located errors; disorder is not")
    func errors() throws {
        let marked = MarkedText("""
            facts: {discovered_at: 2026-11-02T09:00:00Z, personal: 1️⃣yes, 2️⃣severty: major, severity: 3️⃣huge}
            events:
              - {at: 2026-11-02T10:00:00Z, action: 4️⃣repor, by: staff}
              - {at: 2026-11-02T10:00:00Z, action: report, by: 5️⃣staf}
              - 6️⃣{at: 2026-11-02T09:00:00Z, action: report, by: staff}
              - {at: 7️⃣2026-11-02 10:00, action: report, by: staff}
              - 8️⃣{at: 2026-11-02T11:00:00Z, action: decide_not_serious, by: lead}
            """)
        let root = try #require(YAMLReader.read(marked.text, file: "c.yaml").root)
        let (file, diagnostics) = CaseLoader.load(root, policy: enginePolicy)
        #expect(file == nil)
        func at(_ marker: String) -> Diagnostic? { diagnostics.first { $0.span?.start == marked[marker] } }
        #expect(at("1️⃣")?.hint == "YAML 1.2 reads 'yes' as text, not a boolean: write true or false")
        #expect(at("2️⃣")?.hint == "did you mean 'severity'?")
        #expect(at("3️⃣")?.hint == "one of: minor, major, critical")
        #expect(at("4️⃣")?.message == "unknown action 'repor' in policy 'engine'")
        #expect(at("5️⃣")?.hint == "did you mean 'staff'?")
        #expect(at("6️⃣") == nil)   // a backfilled event is put in its place, not refused
        #expect(at("7️⃣")?.code == "bad-time")
        #expect(at("8️⃣")?.code == "missing-reason")
        #expect(at("8️⃣")?.severity == .warning)
    }
}
