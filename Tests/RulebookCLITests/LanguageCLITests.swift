import Foundation
import RulebookTestSupport
import Testing

/// The language fixture's folder (its `calendars/` links to the shipped calendars).
private let folder = Fixtures.url("policies/language").path

private func rulebook(_ arguments: [String]) throws -> RulebookBinary.Run {
    try RulebookBinary.run(arguments + ["--policies", folder])
}

@Suite("rulebook: grids, date arithmetic and working days from the command line")
struct LanguageCLITests {
    @Test("the fixture's policy tests pass: grid values, working-day deadlines, late()")
    func policyTests() throws {
        let run = try rulebook(["test", folder + "/tests/language.yaml"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.hasSuffix("3 passed, 0 failed\n"))
    }

    @Test("a policy written as an organisation outside the shipped five would validates clean and passes its own tests")
    func outsideOrganisation() throws {
        let reach = Fixtures.url("policies/reach").path
        let policy = reach + "/northfield-trust.yaml"
        let validate = try RulebookBinary.run(["validate", "--hide-notes", "--policies", reach, policy])
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stderr.contains("0 errors, 0 warnings"))
        let text = try String(contentsOfFile: policy, encoding: .utf8)
        for construct in ["grid:", " * ", "working_days", "next_working_day", "late(", "deadline(", "time_of("] {
            #expect(text.contains(construct), "the fixture no longer uses \(construct)")
        }
        let tests = try RulebookBinary.run(["test", "--policies", reach, reach + "/tests/northfield-trust.yaml"])
        #expect(tests.status == 0, "\(tests.stdout)\(tests.stderr)")
        #expect(tests.stdout.hasSuffix(" passed, 0 failed\n"))
    }

    @Test("a working-day deadline past the calendar's end stops with exit 2, naming the day and the file")
    func calendarRunsOut() throws {
        let dir = try RulebookBinary.temporaryFolder()
        let file = dir.appendingPathComponent("case.yaml")
        try "policy: language\nfacts: {aware_at: 2030-12-31T10:00:00Z}\n".write(to: file, atomically: true, encoding: .utf8)
        for command in ["assess", "next", "audit"] {
            let run = try rulebook([command, "language", file.path, "--at", "2031-01-02T10:00:00Z"])
            #expect(run.status == 2, "\(command): \(run.stdout)")
            #expect(run.stderr.contains("needs 2031-01-01, which the calendar 'england-and-wales' does not cover"), "\(run.stderr)")
            #expect(run.stderr.contains("england-and-wales.yaml"))
            #expect(!run.stdout.contains("COMPLIANT"))
        }
    }

    @Test("show draws the grid as a table and assess explains a cell by its row and column")
    func showAndAssess() throws {
        let show = try rulebook(["show", "language"])
        #expect(show.status == 0)
        #expect(show.stdout.contains("| likelihood \\ impact | minor | major | critical |"))
        #expect(show.stdout.contains("| likely (4–5) | medium | high | extreme |"))
        let dir = try RulebookBinary.temporaryFolder()
        let file = dir.appendingPathComponent("case.yaml")
        try "policy: language\nfacts: {aware_at: 2026-11-02T09:00:00Z, likelihood: 4, severity: 5, impact: critical}\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let assess = try rulebook(["assess", "language", file.path, "--at", "2026-11-02T10:00:00Z"])
        #expect(assess.status == 0, "\(assess.stderr)")
        #expect(assess.stdout.contains("likelihood = 4 is in row 'likely' (4–5) and impact = critical in column 'critical': the cell gives extreme"),
                "\(assess.stdout)")
    }
}

@Suite("rulebook diff")
struct DiffCLITests {
    @Test("exit 0 when nothing changed in meaning, 1 when something did; text, Markdown and JSON")
    func diff() throws {
        let dir = try RulebookBinary.temporaryFolder()
        let original = RulebookBinary.packageRoot.appendingPathComponent("Policies/madras.yaml")
        let text = try String(contentsOf: original, encoding: .utf8)
        let edited = dir.appendingPathComponent("madras.yaml")
        try text.replacingOccurrences(of: "within: PT72H", with: "within: PT48H").write(to: edited, atomically: true, encoding: .utf8)
        let same = try RulebookBinary.run(["diff", "madras", original.path])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        #expect(same.stdout.hasPrefix("No change in meaning"))
        let changed = try RulebookBinary.run(["diff", original.path, edited.path])
        #expect(changed.status == 1)
        #expect(changed.stdout.contains("changed duty ico_decision"))
        #expect(changed.stdout.contains("deadline: within 72 hours → within 48 hours"))
        let md = try RulebookBinary.run(["diff", original.path, edited.path, "--format", "md"])
        #expect(md.stdout.contains("- **changed** duty `ico_decision`"))
        let json = try RulebookBinary.run(["diff", original.path, edited.path, "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["changed"] as? Bool == true)
        // Two versions of a folder: a base's change shows in the policy that extends it.
        let folder = dir.appendingPathComponent("v2")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["school-procedure", "treetops"] {
            let original = try String(contentsOf: RulebookBinary.packageRoot.appendingPathComponent("Policies/\(name).yaml"), encoding: .utf8)
            try original.replacingOccurrences(of: "within: PT1H", with: "within: PT2H")
                .write(to: folder.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
        }
        let base = try RulebookBinary.run(["diff", RulebookBinary.packageRoot.appendingPathComponent("Policies/treetops.yaml").path,
                                           folder.appendingPathComponent("treetops.yaml").path])
        #expect(base.status == 1, "\(base.stdout)\(base.stderr)")
        #expect(base.stdout.contains("within 1 hour → within 2 hours"))
        let missing = try RulebookBinary.run(["diff", "madras", "/nonexistent.yaml"])
        #expect(missing.status == 2)
    }

    @Test("--register re-audits the incidents opened under the old policy and lists those that would change")
    func reaudit() throws {
        let dir = try RulebookBinary.temporaryFolder()
        let register = dir.appendingPathComponent("r.sqlite").path
        let example = RulebookBinary.packageRoot.appendingPathComponent("Policies/examples/madras-foi-disclosure.yaml").path
        let imported = try RulebookBinary.run(["import", example, "--register", register])
        #expect(imported.status == 0, "\(imported.stderr)")
        let text = try String(contentsOf: RulebookBinary.packageRoot.appendingPathComponent("Policies/madras.yaml"), encoding: .utf8)
        let edited = dir.appendingPathComponent("madras.yaml")
        try text.replacingOccurrences(of: "within: PT72H", with: "within: PT48H").write(to: edited, atomically: true, encoding: .utf8)
        // Two days and a bit after discovery: late under 48 hours, not yet under 72.
        let run = try RulebookBinary.run(["diff", "madras", edited.path, "--register", register, "--at", "2026-11-04T10:00:00Z"])
        #expect(run.status == 1)
        #expect(run.stdout.contains("INC-2026-0007: + missing ico_decision"), "\(run.stdout)")
        let none = try RulebookBinary.run(["diff", "madras", "madras", "--register", register, "--at", "2026-11-04T10:00:00Z"])
        #expect(none.status == 0)
        #expect(none.stdout.contains("No incident's audit would change."))
    }
}
