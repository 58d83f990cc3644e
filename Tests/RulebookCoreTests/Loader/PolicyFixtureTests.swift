import Foundation
import RulebookDiagnostics
import RulebookTestSupport
import Testing

@testable import RulebookCore

/// A fixed "today" so the review-date warning does not depend on when tests run.
let fixtureToday = Timestamp.parseDate("2026-11-21")!

/// Validates fixture files against every policy in their folder.
func validateFixture(_ url: URL, folder: String) throws -> ValidationReport {
    let context = try Fixtures.yamlFiles(in: folder).map { PolicySource(file: $0.path, bytes: Array(try Data(contentsOf: $0))) }
    let source = PolicySource(file: url.path, bytes: Array(try Data(contentsOf: url)))
    return PolicyValidator.validate(files: [source], context: context, options: CompileOptions(today: fixtureToday))
}

@Suite("Policy fixtures")
struct PolicyFixtureTests {
    @Test("every valid fixture validates with no error or warning")
    func valid() throws {
        for url in try Fixtures.yamlFiles(in: "policies/valid") {
            let report = try validateFixture(url, folder: "policies/valid")
            let problems = report.diagnostics.filter { $0.severity != .note }
            #expect(problems.isEmpty, "\(url.lastPathComponent):\n\(Fixtures.describe(problems))")
        }
    }

    @Test("each invalid fixture gives exactly the diagnostics in its golden file")
    func invalid() throws {
        let files = try Fixtures.yamlFiles(in: "policies/invalid")
        #expect(files.count >= 15)
        for url in files {
            let report = try validateFixture(url, folder: "policies/invalid")
            let name = url.deletingPathExtension().lastPathComponent
            if let difference = Fixtures.compare(Fixtures.describe(report.diagnostics), golden: "policies/invalid/\(name).expected") {
                Issue.record(Comment(rawValue: difference))
            }
            // Every invalid fixture is invalid (review-past only warns).
            if name != "review-past" { #expect(report.errorCount > 0, "\(name)") }
        }
    }

    @Test("the full fixture compiles every construct")
    func full() throws {
        let library = PolicyLibrary()
        for url in try Fixtures.yamlFiles(in: "policies/valid") { library.add(PolicySource(file: url.path, bytes: Array(try Data(contentsOf: url)))) }
        let result = PolicyCompiler.compile(id: "fixture-full", library: library, options: CompileOptions(today: fixtureToday))
        let policy = try #require(result.policy, "\(Fixtures.describe(result.diagnostics))")
        // Inherited and own entries, overrides in place, removals gone.
        #expect(policy.roles.map(\.id) == ["staff", "lead", "deputy", "dpo", "employee"])
        #expect(policy.definitions.isEmpty)
        #expect(policy.terms.first { $0.id == "promptly" }?.rule == .after(ISODuration("PT1H")!))
        #expect(policy.terms.first { $0.id == "promptly" }?.provenance.policy == "fixture-full")
        #expect(policy.duties.first { $0.id == "report_incident" }?.provenance.policy == "fixture-base")
        // Metadata inherited from the base where absent.
        #expect(policy.clock.identifier == "Europe/London")
        #expect(policy.lineage.map(\.id) == ["fixture-full", "fixture-base"])
        #expect(policy.layout == .points)
        #expect(policy.outline.map(\.policy) == Array(repeating: "fixture-full", count: 7) + ["fixture-base", "fixture-base"])
        #expect(policy.notEncoded.map(\.clause) == ["1"])
        // Values in dependency order, after the facts.
        let order = policy.values.map(\.id)
        #expect(order.firstIndex(of: "scale")! < order.firstIndex(of: "score")!)
        #expect(order.firstIndex(of: "score")! < order.firstIndex(of: "category")!)
        #expect(order.firstIndex(of: "category")! < order.firstIndex(of: "notify_subjects")!)
        #expect(policy.valueSlot(of: "scale")! >= policy.facts.count)
        // Action permissions: explicit, any, or from the duties that use it.
        #expect(policy.actions[policy.actionIndex(of: "report")!].roles == nil)
        #expect(policy.actions[policy.actionIndex(of: "notify_dpo")!].roles == [policy.roleIndex(of: "lead")!])
        // Alternatives and prerequisites resolved; duties ordered after their prerequisites.
        let subjects = try #require(policy.duties.first { $0.id == "subjects" })
        #expect(subjects.actions.map { policy.actions[$0].id } == ["notify_subjects", "decide_not_to_notify"])
        if case .duty(let d)? = subjects.clock { #expect(policy.duties[d].id == "notify_dpo") } else { Issue.record("clock") }
        let notify = policy.dutyIndex(of: "notify_dpo")!
        #expect(policy.dutyIndex(of: "log_incident")! < notify)
        #expect(policy.dutyIndex(of: "subjects")! > notify)
        // Decisions point at values with their types.
        let decide = policy.actions[policy.actionIndex(of: "decide_not_to_notify")!]
        #expect(decide.reasonRequired)
        #expect(decide.decision?.asserts == .bool(false))
        // Its own two assumptions are listed; the base's "promptly" is overridden, so not.
        let assumptions = result.diagnostics.filter { $0.code == "assumption" }
        #expect(assumptions.count == 2)
        #expect(assumptions.allSatisfy { $0.span?.file.hasSuffix("full.yaml") == true })
    }
}

@Suite("JSON Schema agrees with the validator")
struct SchemaAgreementTests {
    /// check-jsonschema (PyPI), the standard validator CI uses too, run as
    /// `python3 -m check_jsonschema` so it is found wherever pip put it.
    static var checker: [String]? {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import check_jsonschema"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return nil }
        probe.waitUntilExit()
        return probe.terminationStatus == 0 ? ["python3", "-m", "check_jsonschema"] : nil
    }

    @Test("valid fixtures pass both; structurally invalid ones fail both")
    func agreement() throws {
        let checker = try #require(Self.checker, "check-jsonschema is not installed: run `make test` (it installs it), or `pip install check-jsonschema`")
        let schema = RulebookBinary.packageRoot.appendingPathComponent("Schemas/policy.schema.json").path
        let fixtures = try ["policies/valid", "policies/invalid"].flatMap { folder in
            try Fixtures.yamlFiles(in: folder).map { (folder, $0) }
        }
        #expect(fixtures.count >= 17)
        // One run over every fixture; its JSON report names each file that fails.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = checker + ["--schemafile", schema, "-o", "JSON", "--verbose"] + fixtures.map(\.1.path)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let failing = Set(((report["errors"] as? [[String: Any]]) ?? []) .compactMap { $0["filename"] as? String }
            + ((report["parse_errors"] as? [[String: Any]]) ?? []).compactMap { $0["filename"] as? String })
        for (folder, url) in fixtures {
            let firstLine = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").first ?? ""
            let schemaShouldReject = firstLine.contains("schema: rejects")
            let schemaRejects = failing.contains(url.path)
            #expect(schemaRejects == schemaShouldReject, "\(url.lastPathComponent): schema \(schemaRejects ? "rejects" : "accepts")")
            let validatorRejects = try validateFixture(url, folder: folder).errorCount > 0
            if folder == "policies/valid" {
                #expect(!validatorRejects && !schemaRejects, "\(url.lastPathComponent) should pass both")
            } else if schemaShouldReject {
                #expect(validatorRejects, "\(url.lastPathComponent): the schema rejects it, so must the validator")
            }
        }
    }
}
