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
    actions:
      report: {title: Report, roles: any}
    duties:
      report:
        title: Report to the head
        role: staff
        action: report
        from: {fact: discovered_at}
        within: PT1H
        clause: "6.1"
      inform_governors:
        title: Inform the governing body
        role: head
        action: report
        clause: "6.4"
    """

private func compile(_ child: String, extraBase: String = base) -> CompileResult {
    let library = PolicyLibrary()
    library.add(PolicySource(file: "base.yaml", text: extraBase))
    let marked = MarkedText(child)
    let id = library.add(PolicySource(file: "child.yaml", text: marked.text)) ?? "child"
    return PolicyCompiler.compile(id: id, library: library, options: CompileOptions(listAssumptions: false))
}

@Suite("extends")
struct InheritanceTests {
    @Test("a child inherits, overrides by id in place, and removes")
    func overrideAndRemove() throws {
        let result = compile("""
            id: child
            title: Child
            extends: base
            remove:
              duties: [inform_governors]
            roles:
              head: {title: Headteacher/SIRO}
              office: {title: School office}
            duties:
              report:
                title: Notify the school office
                role: staff
                action: report
                from: {fact: discovered_at}
                within: PT2H
                clause: "1"
            """)
        let policy = try #require(result.policy, "\(Fixtures.describe(result.diagnostics))")
        #expect(policy.organisation == "Base School")
        #expect(policy.roles.map(\.title) == ["Staff", "Headteacher/SIRO", "School office"])
        #expect(policy.duties.map(\.id) == ["report"])
        #expect(policy.duties[0].provenance.citation(in: "child") == "§1")
        #expect(policy.duties[0].deadline == .after(ISODuration("PT2H")!))
        #expect(policy.facts[0].provenance.citation(in: "child") == "base §1")
    }

    @Test("removing what the base does not have, or removing and redefining, is an error")
    func badRemoval() {
        let result = compile("""
            id: child
            title: Child
            extends: base
            remove:
              duties: [1️⃣inform_governers]
              roles: [staff]
            roles:
              2️⃣staff: {title: Staff}
            """)
        let marked = MarkedText("""
            id: child
            title: Child
            extends: base
            remove:
              duties: [1️⃣inform_governers]
              roles: [staff]
            roles:
              2️⃣staff: {title: Staff}
            """)
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect(errors.contains { $0.span?.start == marked["1️⃣"] && $0.hint == "did you mean 'inform_governors'?" })
        #expect(errors.contains { $0.span?.start == marked["2️⃣"] && $0.message.contains("both removed and defined") })
    }

    @Test("a missing base is reported at 'extends', with a suggestion")
    func missingBase() {
        let marked = MarkedText("id: child\ntitle: Child\nextends: 1️⃣bsae\n")
        let library = PolicyLibrary()
        library.add(PolicySource(file: "base.yaml", text: base))
        library.add(PolicySource(file: "child.yaml", text: marked.text))
        let result = PolicyCompiler.compile(id: "child", library: library)
        let error = result.diagnostics.first { $0.code == "unknown-reference" }
        #expect(error?.span?.start == marked["1️⃣"])
        #expect(error?.hint == "did you mean 'base'?")
    }

    @Test("remove without extends is refused")
    func removeWithoutExtends() {
        let library = PolicyLibrary()
        library.add(PolicySource(file: "p.yaml", text: "id: p\ntitle: P\norganisation: O\ntime_zone: Europe/London\nremove: {duties: [x]}\n"))
        let result = PolicyCompiler.compile(id: "p", library: library)
        #expect(result.diagnostics.contains { $0.code == "misplaced-key" })
    }

    @Test("two files with one id are refused")
    func duplicatePolicyID() {
        let library = PolicyLibrary()
        library.add(PolicySource(file: "a.yaml", text: base))
        #expect(library.add(PolicySource(file: "b.yaml", text: base)) == nil)
        #expect(library.diagnostics.first?.code == "duplicate-id")
        #expect(library.diagnostics.first?.notes.first?.span?.file == "a.yaml")
    }
}
