import Foundation
import RulebookTestSupport
import Testing

@Suite("rulebook validate")
struct ValidateCLITests {
    @Test("valid policies: exit 0, assumptions listed as notes")
    func valid() throws {
        let folder = Fixtures.url("policies/valid").path
        let run = try RulebookBinary.run(["validate", "--policies", folder, folder, "--color", "never"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("note: assumption in value 'scale': The bands come from a form the document does not include."))
        #expect(run.stderr.hasSuffix("3 files checked: 0 errors, 0 warnings, 4 notes\n"))
        let quiet = try RulebookBinary.run(["validate", "--policies", folder, folder, "--hide-notes"])
        #expect(!quiet.stderr.contains("note:"))
    }

    @Test("each error kind: exit 1 with file:line:col, the source line, a caret and a hint")
    func invalid() throws {
        let folder = Fixtures.url("policies/invalid").path
        let cases: [(String, String)] = [
            ("unknown-keys.yaml", "unknown-keys.yaml:19:5: error: unknown key 'wihtin' in duty 'report'\n 19 |     wihtin: PT1H\n    |     ^~~~~~\nhint: did you mean 'within'?"),
            ("wrong-types.yaml", "wrong-types.yaml:13:47: error: 'closes' in action 'report' must be true or false; found the string 'yes'"),
            ("unknown-references.yaml", "unknown-references.yaml:26:13: error: unknown action 'reprot'"),
            ("value-cycle.yaml", "value-cycle.yaml:9:3: error: values depend on each other in a cycle: a -> b -> c -> a"),
            ("duty-cycle.yaml", "duty-cycle.yaml:12:3: error: duties wait for each other in a cycle"),
            ("extends-cycle-a.yaml", "extends-cycle-b.yaml:6:10: error: policies extend each other in a cycle"),
            ("duplicate-ids.yaml", "duplicate-ids.yaml:12:3: error: 'score' names both a fact and a value"),
            ("bad-durations.yaml", "bad-durations.yaml:21:13: error: 'PT72' is not an ISO 8601 duration"),
            ("bad-time-zone.yaml", "bad-time-zone.yaml:5:12: error: 'Europe/Londn' is not an IANA time zone"),
            ("bad-options.yaml", "bad-options.yaml:17:23: error: 'majr' is not an option of severity (in value 'serious')\n 17 |     expr: severity == \"majr\" || \"hgih\" in factors\n    |                       ^~~~~~\nhint: did you mean 'major'?"),
            ("table-gaps.yaml", "table-gaps.yaml:14:11: error: bands of 'scale' leave a gap: nothing covers 11–19"),
            ("never-applies.yaml", "never-applies.yaml:26:3: error: duty 'impossible' can never apply"),
            ("expressions.yaml", "expressions.yaml:32:13: error: sum() needs a set of options; this is an integer (in value 'block')\n 32 |         sum(people) > 2\n    |             ^~~~~~"),
            ("missing-provenance.yaml", "missing-provenance.yaml:16:3: error: duty 'act' cites no clause"),
        ]
        for (file, expected) in cases {
            let run = try RulebookBinary.run(["validate", "--policies", folder, "\(folder)/\(file)", "--color", "never"])
            #expect(run.status == 1, "\(file)")
            #expect(run.stderr.contains("\(folder)/\(expected)"), "\(file):\n\(run.stderr)")
        }
    }

    @Test("a past review date is a warning, not an error: exit 0")
    func reviewPast() throws {
        let folder = Fixtures.url("policies/invalid").path
        let run = try RulebookBinary.run(["validate", "--policies", folder, "\(folder)/review-past.yaml"])
        #expect(run.status == 0)
        #expect(run.stderr.contains("warning: the next review date (2019-11) has passed"))
    }

    @Test("the shipped policies validate")
    func shipped() throws {
        let run = try RulebookBinary.run(["validate", "Policies/"])
        #expect(run.status == 0, "\(run.stderr)")
    }

    @Test("every shipped policy's first line points editors at the schema")
    func modeline() throws {
        let folder = RulebookBinary.packageRoot.appendingPathComponent("Policies")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
        #expect(!files.isEmpty)
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(text.hasPrefix("# yaml-language-server: $schema=../Schemas/policy.schema.json\n"), "\(file)")
        }
    }
}
