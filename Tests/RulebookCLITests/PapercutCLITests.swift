import Foundation
import RulebookTestSupport
import Testing

/// Small things a user hits first: failures tools can read, JSON that is JSON, paths that
/// work from anywhere, and hints where YAML surprises.
@Suite("rulebook: papercuts")
struct PapercutCLITests {
    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    @Test("with --format json a failure is one JSON object on standard output, with located diagnostics; exit unchanged")
    func jsonFailure() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let bad = folder.appendingPathComponent("bad.yaml")
        try "policy: madras\nevents:\n  - {at: 2026-11-02T10:00:00Z, action: repot, by: staff}\n".write(to: bad, atomically: true, encoding: .utf8)
        for command in ["next", "assess", "audit"] {
            let run = try RulebookBinary.run([command, bad.path, "--format", "json"])
            #expect(run.status == 2, "\(command)")
            let object = try json(run.stdout)
            #expect((object["error"] as? String)?.contains("does not fit policy 'madras'") == true)
            let diagnostics = try #require(object["diagnostics"] as? [[String: Any]])
            #expect(diagnostics.first?["file"] as? String == bad.path)
            #expect(diagnostics.first?["line"] as? Int == 3)
            #expect(diagnostics.first?["column"] as? Int == 40)
            #expect(diagnostics.first?["hint"] as? String == "did you mean 'report'?")
        }
        let missing = try RulebookBinary.run(["audit", "/no/such/case.yaml", "--format", "json"])
        #expect(missing.status == 2)
        #expect((try json(missing.stdout)["error"] as? String)?.contains("cannot read '/no/such/case.yaml'") == true)
        // Text stays text, on standard error.
        let text = try RulebookBinary.run(["next", bad.path])
        #expect(text.stdout.isEmpty && text.stderr.contains("rulebook: error:"))
    }

    @Test("show --format json is the compiled policy as JSON, never Markdown")
    func showJSON() throws {
        let run = try RulebookBinary.run(["show", "treetops", "--format", "json"])
        #expect(run.status == 0)
        let object = try json(run.stdout)
        #expect(object["id"] as? String == "treetops")
        #expect(object["lineage"] as? [String] == ["treetops", "school-procedure"])
        let duties = try #require(object["duties"] as? [[String: Any]])
        #expect(duties.contains { $0["id"] as? String == "report_to_line_manager" } == false)  // removed by treetops
        #expect(!run.stdout.contains("# "))
    }

    @Test("open and import work from any folder with an absolute --policies, after a relative one was cached")
    func absolutePolicies() throws {
        let root = RulebookBinary.packageRoot.path
        let folder = try RulebookBinary.temporaryFolder()
        let register = folder.appendingPathComponent("r.sqlite").path
        // Cache the policy from the package root with the relative default folder first.
        #expect(try RulebookBinary.run(["show", "madras"]).status == 0)
        let opened = try RulebookBinary.run(["open", "madras", "--policies", root + "/Policies", "--register", register,
                                             "--at", "2026-11-02T09:00:00Z"], in: folder)
        #expect(opened.status == 0, "\(opened.stderr)")
        let imported = try RulebookBinary.run(["import", root + "/Policies/examples/madras-foi-disclosure.yaml", "--policies",
                                               root + "/Policies", "--register", register], in: folder)
        #expect(imported.status == 0, "\(imported.stderr)")
    }

    @Test("an unquoted expression that starts with '!' is one error, with the hint to quote it")
    func bangHint() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let source = try String(contentsOf: Fixtures.url("policies/valid/semantics.yaml"), encoding: .utf8)
        let file = folder.appendingPathComponent("semantics.yaml")
        try source.replacingOccurrences(of: "when: \"!disproportionate\"", with: "when: !disproportionate")
            .write(to: file, atomically: true, encoding: .utf8)
        let run = try RulebookBinary.run(["validate", "--hide-notes", file.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("error: YAML reads '!disproportionate' as a tag, not as text"))
        #expect(run.stderr.contains("hint: quote a value that starts with '!': \"!disproportionate\""))
        #expect(run.stderr.contains("1 file checked: 1 error"))
    }

    @Test("list and next say which duties' deadlines are unknown, and next before the start says nothing is due")
    func unknownClocks() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let register = folder.appendingPathComponent("r.sqlite").path
        let facts = folder.appendingPathComponent("facts.yaml")
        try "discovered_at: 2026-11-02T09:14:00Z\n".write(to: facts, atomically: true, encoding: .utf8)
        let opened = try RulebookBinary.run(["open", "madras", "--facts", facts.path, "--register", register, "--at", "2026-11-02T09:20:00Z"])
        #expect(opened.status == 0, "\(opened.stderr)")
        let list = try RulebookBinary.run(["list", "--register", register, "--at", "2026-11-03T10:00:00Z"])
        #expect(list.stdout.contains("deadline unknown: 2 duties (form_a, form_a_headteacher) until a date is recorded"))
        let listJSON = try json(try RulebookBinary.run(["list", "--register", register, "--format", "json"]).stdout)
        let first = try #require((listJSON["incidents"] as? [[String: Any]])?.first)
        #expect(first["clock_unknown"] as? [String] == ["form_a", "form_a_headteacher"])
        let next = try RulebookBinary.run(["next", "INC-2026-0001", "--register", register, "--at", "2026-11-03T10:00:00Z"])
        #expect(next.stdout.contains("deadline unknown: within 24 hours from occurred_at, which is not recorded yet"))
        let early = try RulebookBinary.run(["next", "INC-2026-0001", "--register", register, "--at", "2026-11-01T10:00:00Z"])
        #expect(early.stdout.contains("nothing is due before 2026-11-02 09:14 GMT"))
        #expect(!early.stdout.contains("DUE "))
    }

    @Test("a Madras case discovered before it occurred is refused at the fact, with the rule's message; exit 2")
    func inconsistentDates() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let file = folder.appendingPathComponent("dates.yaml")
        try "policy: madras\nfacts: {occurred_at: 2026-11-03T09:00:00Z, discovered_at: 2026-11-02T09:00:00Z}\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let run = try RulebookBinary.run(["next", file.path, "--color", "never"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("\(file.path):2:22: error: the incident cannot have been discovered (4.7.2) before it occurred (4.7.1)"))
    }
}
