import Foundation
import RulebookTestSupport
import Testing

/// Runs a command against the engine fixture policies.
private func rulebook(_ arguments: [String], stdin: String? = nil) throws -> RulebookBinary.Run {
    try RulebookBinary.run(arguments + ["--policies", Fixtures.url("policies/engine").path], stdin: stdin)
}

private func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

/// Validates JSON output against a schema in Schemas/ with check-jsonschema.
private func conforms(_ output: String, to schema: String) throws -> Bool {
    let file = try RulebookBinary.temporaryFolder().appendingPathComponent("out.json")
    try output.write(to: file, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-m", "check_jsonschema", "--schemafile",
                         RulebookBinary.packageRoot.appendingPathComponent("Schemas/\(schema).schema.json").path, file.path]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus == 0
}

@Suite("rulebook assess / next / audit / test")
struct EngineCLITests {
    let late = Fixtures.url("cases/engine-late.yaml").path
    let trail = Fixtures.url("cases/engine-trail.jsonl").path

    @Test("next: text grouped by role with deadlines and clauses; exit 0")
    func nextText() throws {
        let run = try rulebook(["next", "engine", late, "--at", "2026-11-02T12:30:00Z"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("Test School — Engine Test Procedure (engine, version 3)\nIncident ENG-0002 at 2026-11-02 12:30 GMT: 3 due\n"))
        #expect(run.stdout.contains("Incident lead (lead)\n  DUE           Escalate serious incidents within a day — by 2026-11-03 09:00 GMT (20 hours 30 minutes left)   [§8]"))
        #expect(run.stdout.contains("DPO (dpo)\n  DUE           Review the notification the same day — by 2026-11-03 00:00 GMT (11 hours 30 minutes left)   [§7]"))
        // POLICY may be left out: the case names it.
        let short = try rulebook(["next", late, "--at", "2026-11-02T12:30:00Z"])
        #expect(short.stdout == run.stdout)
    }

    @Test("next: --role, --all, --trail and JSON")
    func nextOptions() throws {
        let dpo = try rulebook(["next", late, "--at", "2026-11-02T12:30:00Z", "--role", "dpo"])
        #expect(!dpo.stdout.contains("Incident lead (lead)"))
        #expect(dpo.stdout.contains("DPO (dpo)"))
        let all = try rulebook(["next", late, "--at", "2026-11-02T12:30:00Z", "--all"])
        #expect(all.stdout.contains("DONE LATE     Report the incident — done 2026-11-02 11:00 GMT, 1 hour late"))
        let withTrail = try rulebook(["next", late, "--trail", trail, "--at", "2026-11-03T09:30:00Z", "--format", "json"])
        let object = try json(withTrail.stdout)
        let duties = try #require(object["duties"] as? [[String: Any]])
        #expect(duties.map { $0["id"] as? String } == ["outcome"])
        #expect(try conforms(withTrail.stdout, to: "next"))
        let badRole = try rulebook(["next", late, "--role", "dpp"])
        #expect(badRole.status == 2)
        #expect(badRole.stderr.contains("no role 'dpp' in policy 'engine'\nhint: did you mean 'dpo'?"))
    }

    @Test("assess: values with reasons and clauses; JSON matches its schema")
    func assess() throws {
        let text = try rulebook(["assess", late, "--at", "2026-11-02T12:30:00Z"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("serious = true    [§4]\n      because `severity in [\"major\", \"critical\"]` with severity = major gives true"))
        let run = try rulebook(["assess", late, "--at", "2026-11-02T12:30:00Z", "--format", "json"])
        let object = try json(run.stdout)
        #expect((object["values"] as? [String: Any])?["serious"] as? Bool == true)
        #expect((object["policy"] as? [String: Any])?["version"] as? String == "3")
        #expect(object["at"] as? String == "2026-11-02T12:30:00Z")
        #expect(try conforms(run.stdout, to: "assess"))
    }

    @Test("assess --batch: JSON Lines in (file or stdin), one line out per case in order, bad lines reported; exit 2")
    func batch() throws {
        let good = """
            {"incident": "A", "facts": {"severity": "major", "personal": true}}
            {"incident": "B", "facts": {"personal": false}}
            """
        let run = try rulebook(["assess", "engine", "--batch", "-", "--at", "2026-11-03T10:00:00Z"], stdin: good)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(try json(lines[0])["incident"] as? String == "A")
        #expect((try json(lines[0])["values"] as? [String: Any])?["serious"] as? Bool == true)
        for line in lines { #expect(try conforms(line, to: "assess-batch")) }
        // A bad line: reported with its line number on stderr and as an error line; the
        // rest assessed; exit 2.
        let file = try RulebookBinary.temporaryFolder().appendingPathComponent("cases.jsonl")
        try (good + "\n{\"incident\": \"C\", \"facts\": {\"severity\": \"huge\"}}\n" + good).write(to: file, atomically: true, encoding: .utf8)
        let mixed = try rulebook(["assess", "engine", "--batch", file.path, "--at", "2026-11-03T10:00:00Z", "--explain"])
        #expect(mixed.status == 2)
        #expect(mixed.stderr.contains("cases.jsonl:3:"))
        #expect(mixed.stderr.contains("1 line of '\(file.path)' could not be assessed"))
        let out = mixed.stdout.split(separator: "\n").map(String.init)
        #expect(try out.map { try json($0)["line"] as? Int } == [1, 2, 3, 4, 5])
        #expect(try json(out[2])["error"] != nil)
        #expect(try json(out[3])["explanation"] is [Any])
        for line in out { #expect(try conforms(line, to: "assess-batch")) }
        // Usage: the cases come from the file, so POLICY stands alone.
        let usage = try rulebook(["assess", "engine", late, "--batch", file.path])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("with --batch, give only POLICY"))
        let missing = try rulebook(["assess", "engine", "--batch", "/no/such/file.jsonl"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("cannot read '/no/such/file.jsonl'"))
    }

    @Test("audit: findings, exit 1; compliant trail exits 0; JSON matches its schema")
    func audit() throws {
        let run = try rulebook(["audit", late, "--trail", trail, "--at", "2026-11-04T00:00:00Z"])
        #expect(run.status == 1)
        #expect(run.stdout.contains("NOT COMPLIANT: 4 findings (3 errors)"))
        #expect(run.stdout.contains("error  late              'Report the incident' was done at 2026-11-02 11:00 GMT, 1 hour after its deadline 2026-11-02 10:00 GMT (event 2, 2026-11-02 11:00 GMT)   [§5]"))
        #expect(run.stdout.contains("error  forbidden         Employee took 'Investigate', which the policy forbids: Employees must not investigate a suspected breach. (event 3, 2026-11-02 12:00 GMT)   [§10]"))
        let jsonRun = try rulebook(["audit", late, "--trail", trail, "--at", "2026-11-04T00:00:00Z", "--format", "json"])
        #expect(jsonRun.status == 1)
        let object = try json(jsonRun.stdout)
        #expect(object["compliant"] as? Bool == false)
        let kinds = (object["findings"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        #expect(Set(kinds) == ["late", "out_of_order", "forbidden", "open"])
        #expect(object["verdict"] as? String == "not_compliant")
        #expect(try conforms(jsonRun.stdout, to: "audit"))
        let folder = try RulebookBinary.temporaryFolder()
        let clean = folder.appendingPathComponent("clean.yaml")
        try """
            policy: engine
            facts: {discovered_at: 2026-11-02T09:00:00Z, personal: false, severity: minor}
            events:
              - {at: 2026-11-02T09:10:00Z, action: report, by: staff}
              - {at: 2026-11-02T10:00:00Z, action: no_outcome, by: lead, reason: nothing to report}
            """.write(to: clean, atomically: true, encoding: .utf8)
        let ok = try rulebook(["audit", clean.path, "--at", "2026-11-05T00:00:00Z"])
        #expect(ok.status == 0, "\(ok.stdout)")
        #expect(ok.stdout.contains("COMPLIANT: nothing owed is outstanding; no findings"))
    }

    @Test("trouble exits 2 with a message: unknown policy, bad case, bad time, wrong policy")
    func trouble() throws {
        let unknown = try rulebook(["next", "engin", late])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("rulebook: error: no policy 'engin'") && unknown.stderr.contains("did you mean 'engine'?"))
        let badTime = try rulebook(["next", late, "--at", "tomorrow"])
        #expect(badTime.status == 2)
        #expect(badTime.stderr.contains("--at 'tomorrow' is not an RFC 3339 time"))
        let folder = try RulebookBinary.temporaryFolder()
        let bad = folder.appendingPathComponent("bad.yaml")
        let marked = MarkedText("policy: engine\nevents:\n  - {at: 2026-11-02T09:10:00Z, action: 1️⃣reprot, by: staff}\n")
        try marked.text.write(to: bad, atomically: true, encoding: .utf8)
        let run = try rulebook(["audit", bad.path])
        #expect(run.status == 2)
        #expect(run.stderr.contains("\(bad.path):\(marked["1️⃣"]): error: unknown action 'reprot' in policy 'engine'"))
        #expect(run.stderr.contains("hint: did you mean 'report'?"))
        #expect(!run.stderr.contains("Stack"))
        let other = folder.appendingPathComponent("other.yaml")
        try "policy: madras\n".write(to: other, atomically: true, encoding: .utf8)
        let wrong = try rulebook(["next", "engine", other.path])
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("is a case for policy 'madras', not 'engine'"))
        let missing = try rulebook(["assess", "engine", "/nonexistent.yaml"])
        #expect(missing.status == 2)
    }

    @Test("test: N passed, M failed; failures show expected and actual; exit 1")
    func policyTests() throws {
        let pass = try rulebook(["test"])
        #expect(pass.status == 0, "\(pass.stdout)")
        #expect(pass.stdout == "3 passed, 0 failed\n")
        let fail = try rulebook(["test", Fixtures.url("policy-tests/failing.yaml").path])
        #expect(fail.status == 1)
        #expect(fail.stdout.contains("FAIL engine: expects the wrong things [5]"))
        #expect(fail.stdout.contains("- values.serious: expected false, got true at 2026-11-02T10:00:00Z"))
        #expect(fail.stdout.contains("- duties.report: expected overdue, got done at 2026-11-02T10:00:00Z"))
        #expect(fail.stdout.contains("- findings at 2026-11-02T10:00:00Z: expected but absent: late report"))
        #expect(fail.stdout.hasSuffix("1 passed, 1 failed\n"))
        // The same for tools: every test with its place and failures, and the counts.
        let json = try rulebook(["test", Fixtures.url("policy-tests/failing.yaml").path, "--format", "json"])
        #expect(json.status == 1)
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)")
        #expect(answer["passed"] as? Int == 1 && answer["failed"] as? Int == 1)
        let tests = try #require(answer["tests"] as? [[String: Any]])
        #expect(tests.count == 2)
        let failing = try #require(tests.first { $0["passed"] as? Bool == false })
        #expect(failing["name"] as? String == "expects the wrong things" && failing["clause"] as? String == "5")
        #expect((failing["file"] as? String)?.hasSuffix("policy-tests/failing.yaml") == true && (failing["line"] as? Int ?? 0) > 0)
        #expect(failing["failures"] as? [String] == fail.stdout.split(separator: "\n").filter { $0.hasPrefix("     - ") }.map { String($0.dropFirst(7)) })
    }
}
