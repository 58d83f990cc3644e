import Foundation
import RulebookTestSupport
import Testing

@Suite("rulebook coverage")
struct CoverageCLITests {
    @Test("every shipped policy accounts for every obligation clause, exactly as its golden file says", arguments: ShowCLITests.policies)
    func golden(_ id: String) throws {
        let run = try RulebookBinary.run(["coverage", id])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.hasSuffix(" 0 uncovered\n"))
        if let difference = Fixtures.compare(run.stdout, golden: "coverage/\(id).txt") {
            Issue.record(Comment(rawValue: difference))
        }
    }

    @Test("JSON matches its schema; an uncovered clause or a stray citation exits 1")
    func jsonAndExit() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let run = try RulebookBinary.run(["coverage", "--format", "json"])
        let out = folder.appendingPathComponent("coverage.json")
        try run.stdout.write(to: out, atomically: true, encoding: .utf8)
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-m", "check_jsonschema", "--schemafile",
                           RulebookBinary.packageRoot.appendingPathComponent("Schemas/coverage.schema.json").path, out.path]
        check.standardOutput = FileHandle.nullDevice
        try check.run()
        check.waitUntilExit()
        #expect(check.terminationStatus == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect((object["policies"] as? [Any])?.count == 5)
        let policy = folder.appendingPathComponent("gap.yaml")
        try """
            id: gap
            title: Gap
            organisation: O
            time_zone: Europe/London
            outline:
              - clause: "1"
                text: |
                  1.1 The lead must log every incident.
            """.write(to: policy, atomically: true, encoding: .utf8)
        let gap = try RulebookBinary.run(["coverage", policy.path])
        #expect(gap.status == 1)
        #expect(gap.stdout.contains("UNCOVERED  1.1         nothing encodes or explains: \"The lead must log every incident.\""))
        #expect(gap.stdout.hasSuffix("1 obligation clause: 0 encoded, 0 explained, 1 uncovered\n"))
    }
}
