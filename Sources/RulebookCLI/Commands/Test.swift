import ArgumentParser
import Foundation
import RulebookCore
import RulebookDiagnostics
import RulebookYAML

struct Test: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the policy test cases kept beside each policy (Policies/tests/<id>.yaml).",
        discussion: """
            Each test is a case with the values, duty states, findings and questions expected \
            at given times. Failures show what was expected and what came out; the last line \
            is `N passed, M failed` (with --format json: every test, its file, line and \
            failures, and the counts). Exit status 1 when any test fails, 2 on trouble.
            """)

    @Argument(help: ArgumentHelp("Policy ids or test files (default: every test file).", valueName: "policy"),
              completion: Completions.policies)
    var selection: [String] = []

    @Flag(name: .shortAndLong, help: "List passing tests too.")
    var verbose = false

    @OptionGroup var locations: PolicyOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let folder = (locations.policies.hasSuffix("/") ? locations.policies : locations.policies + "/") + "tests"
        var files: [String] = []
        let available = (try? PolicyFiles.expand([folder])) ?? []
        if selection.isEmpty {
            files = available
            if files.isEmpty { throw Trouble("no test files in '\(folder)'") }
        } else {
            for item in selection {
                if item.hasSuffix(".yaml") || item.hasSuffix(".yml") {
                    files.append(item)
                } else {
                    let matching = available.filter { (try? testPolicyID($0)) == item }
                    if matching.isEmpty { throw Trouble("no test file for policy '\(item)' in '\(folder)'") }
                    files += matching
                }
            }
        }
        var passed = 0
        var failed = 0
        var trouble = false
        var results: [(policy: String, outcome: PolicyTestOutcome)] = []
        let text = output.format == .text
        for file in files {
            let bytes = try FileReader.bytes(at: file, limit: ReaderLimits().maxBytes)
            let read = YAMLReader.read(bytes: bytes, file: file)
            guard let root = read.root else {
                Workspace.printDiagnostics(read.diagnostics, colour: output.colourErrors)
                trouble = true
                continue
            }
            guard let policyID = PolicyTestRunner.policyID(of: root) else {
                Workspace.printDiagnostics([.error("a test file names its policy: add `policy: <id>`", at: root.span.startOnly, code: "missing-key")],
                                           colour: output.colourErrors)
                trouble = true
                continue
            }
            let policy = try Workspace.policy(policyID, folder: locations.policies, colour: output.colourErrors)
            let directory = (file as NSString).deletingLastPathComponent
            let (outcomes, diagnostics) = PolicyTestRunner.run(root, policy: policy) { path in
                let full = path.hasPrefix("/") ? path : directory + "/" + path
                guard let bytes = try? FileReader.bytes(at: full, limit: 64 * 1024 * 1024) else { return nil }
                return full.hasSuffix(".json")
                    ? bytes.withUnsafeBufferPointer { JSONReader.read(bytes: $0, file: full).root }
                    : YAMLReader.read(bytes: bytes, file: full).root
            }
            Workspace.printDiagnostics(diagnostics, colour: output.colourErrors)
            if diagnostics.contains(where: { $0.severity == .error }) { trouble = true }
            for outcome in outcomes {
                results.append((policy.id, outcome))
                let label = "\(policy.id): \(outcome.name)" + (outcome.clause.map { " [\($0)]" } ?? "")
                if outcome.passed {
                    passed += 1
                    if verbose, text { Terminal.standardOutput.write("PASS \(label)\n") }
                } else {
                    failed += 1
                    guard text else { continue }
                    Terminal.standardOutput.write("FAIL \(label)\n     \(outcome.span.file):\(outcome.span.start.line)\n")
                    for failure in outcome.failures { Terminal.standardOutput.write("     - \(failure)\n") }
                }
            }
        }
        if text {
            Terminal.standardOutput.write("\(passed) passed, \(failed) failed\n")
        } else {
            // Every test, passing or not (--verbose is for the text).
            var w = JSONWriter(pretty: true)
            w.object { w in
                w.field("tests") { w in
                    w.array { w in
                        for (policy, outcome) in results {
                            w.object { w in
                                w.field("policy", string: policy)
                                w.field("name", string: outcome.name)
                                w.field("clause", string: outcome.clause)
                                w.field("file", string: outcome.span.file)
                                w.field("line", int: outcome.span.start.line)
                                w.field("passed", bool: outcome.passed)
                                w.field("failures") { w in w.array(strings: outcome.failures) }
                            }
                        }
                    }
                }
                w.field("passed", int: passed)
                w.field("failed", int: failed)
            }
            Terminal.standardOutput.write(w.text + "\n")
        }
        if trouble { throw ExitCode(2) }
        if failed > 0 { throw ExitCode(1) }
    }

    private func testPolicyID(_ file: String) throws -> String? {
        let bytes = try FileReader.bytes(at: file, limit: ReaderLimits().maxBytes)
        return YAMLReader.read(bytes: bytes, file: file).root.flatMap(PolicyTestRunner.policyID)
    }
}
