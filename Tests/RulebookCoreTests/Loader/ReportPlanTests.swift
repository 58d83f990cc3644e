import RulebookDiagnostics
import RulebookTestSupport
import Testing

@testable import RulebookCore

private let base = """
    id: base
    title: Base
    organisation: Base School
    time_zone: Europe/London
    roles:
      staff: {title: Staff}
      head: {title: Head teacher}
    facts:
      discovered_at: {type: datetime, question: When?, clause: "1"}
      kind: {type: enum, question: What kind?, clause: "1", options: {loss: {title: Loss}, theft: {title: Theft}}}
      near_miss: {type: bool, question: A near miss?, clause: "1"}
      people: {type: integer, question: How many?, clause: "1", min: 0, max: 1000}
    actions:
      report: {title: Report, roles: any}
      decide: {title: Decide, roles: [head]}
    duties:
      report:
        title: Report to the head
        role: staff
        action: report
        from: {fact: discovered_at}
        within: PT1H
        clause: "6.1"
    report:
      clause: "8.3"
      start: discovered_at
      near_miss: near_miss
      by: [kind, people > 10]
      milestones:
        - {title: reported, duty: report}
        - {title: decided, action: decide}
    """

private func compile(_ text: String, base baseText: String = base) -> (CompileResult, MarkedText) {
    let library = PolicyLibrary()
    library.add(PolicySource(file: "base.yaml", text: baseText))
    let marked = MarkedText(text)
    let id = library.add(PolicySource(file: "child.yaml", text: marked.text)) ?? "child"
    return (PolicyCompiler.compile(id: id, library: library, options: CompileOptions(listAssumptions: false)), marked)
}

private func compileBase(_ text: String) -> (CompileResult, MarkedText) {
    let library = PolicyLibrary()
    let marked = MarkedText(text)
    library.add(PolicySource(file: "base.yaml", text: marked.text))
    return (PolicyCompiler.compile(id: "base", library: library, options: CompileOptions(listAssumptions: false)), marked)
}

@Suite("report: what the periodic report counts")
struct ReportPlanTests {
    @Test("compiles: start, near miss, what incidents are counted by, milestones, clause; shown by `show`")
    func compiles() throws {
        let (result, _) = compileBase(base)
        let policy = try #require(result.policy, "\(Fixtures.describe(result.diagnostics))")
        let plan = try #require(policy.report)
        #expect(plan.start?.type == .datetime)
        #expect(plan.nearMiss?.type == .bool)
        #expect(plan.breakdowns.map(\.title) == ["kind", "people > 10"])
        #expect(plan.milestones.map(\.target) == [.duty(policy.dutyIndex(of: "report")!), .action(policy.actionIndex(of: "decide")!)])
        #expect(plan.provenance.clause == "8.3")
        let shown = PolicyMarkdown(policy: policy).render()
        #expect(shown.contains("## The periodic report\n\n`rulebook report` counts this policy's incidents (§8.3)"))
        #expect(shown.contains("- **time to decided**: when 'Decide' was first recorded"))
        let back = try PolicyArchive.decode(PolicyArchive.encode(policy))
        #expect(back.report?.milestones.map(\.title) == ["reported", "decided"])
    }

    @Test("mistakes are errors at their place: an unknown duty (with a suggestion), a datetime to count by, no citation, an unknown key")
    func mistakes() throws {
        let cases: [(String, String, String)] = [
            ("- {title: reported, duty: report}", "- {title: reported, duty: 1️⃣reprot}", "unknown duty 'reprot'"),
            ("by: [kind, people > 10]", "by: [1️⃣discovered_at]", "an enum, a yes/no or an integer"),
            ("  clause: \"8.3\"\n", "  1️⃣\n", "the report cites no clause"),
            ("near_miss: near_miss", "1️⃣near_mis: near_miss", "near_mis"),
            ("- {title: decided, action: decide}", "- 1️⃣{title: decided}", "a milestone names one duty"),
        ]
        for (old, new, message) in cases {
            #expect(base.contains(old), "the fixture no longer has \(old)")
            let (result, marked) = compileBase(base.replacingOccurrences(of: old, with: new))
            #expect(result.policy == nil, "\(new)")
            let error = result.diagnostics.first { $0.severity == .error }
            #expect(error?.message.contains(message) == true, "\(new): \(Fixtures.describe(result.diagnostics))")
            if let place = marked.markers["1️⃣"], message != "the report cites no clause" {
                #expect(error?.span?.start == place, "\(new): \(Fixtures.describe(result.diagnostics))")
            }
        }
        let (typo, _) = compileBase(base.replacingOccurrences(of: "duty: report}", with: "duty: reprot}"))
        #expect(typo.diagnostics.contains { $0.hint?.contains("report") == true })
    }

    @Test("a policy that extends another inherits its report, or replaces it whole")
    func inheritance() throws {
        let (inherits, _) = compile("id: child\ntitle: Child\nextends: base\n")
        #expect(try #require(inherits.policy).report?.milestones.count == 2)
        let (replaces, _) = compile("""
            id: child
            title: Child
            extends: base
            report:
              clause: "5"
              by: [kind]
            """)
        let policy = try #require(replaces.policy, "\(Fixtures.describe(replaces.diagnostics))")
        #expect(policy.report?.milestones.isEmpty == true)
        #expect(policy.report?.start == nil)
        #expect(policy.report?.provenance.policy == "child")
    }

    @Test("diff reports a change to what the report counts, with its clause")
    func diff() throws {
        let old = try #require(compileBase(base).0.policy)
        let new = try #require(compileBase(base.replacingOccurrences(of: "by: [kind, people > 10]", with: "by: [kind]")).0.policy)
        let changes = PolicyDiff.compare(old, new)
        #expect(changes == [PolicyChange(kind: .changed, section: "report", id: "report", details: ["by: `kind`, `(people > 10)` → `kind`"], clause: "§8.3")])
        #expect(PolicyDiff.compare(old, old).isEmpty)
    }
}
