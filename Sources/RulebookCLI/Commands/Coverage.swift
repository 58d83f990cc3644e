import ArgumentParser
import RulebookCore

struct Coverage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coverage",
        abstract: "Show, clause by clause, what encodes each obligation the document states.",
        discussion: """
            Splits each policy's outline into the document's numbered clauses (4.6, 9.3.2.1, \
            a., ...), finds those that state an obligation or a rule (must, shall, will, \
            should, is responsible, is required, needs to, may only; every MUST point), and \
            lists for each the duties, prohibitions, facts, values, terms and roles that cite \
            it, or the policy's not_encoded reason. It ends with "N obligation clauses: E \
            encoded, X explained, U uncovered". A rule citing a clause the outline does not \
            have is an error.

            Exit status: 0 when every obligation clause is encoded or explained; 1 when one \
            is uncovered or a citation names no clause; 2 on trouble.
            """)

    @Argument(help: "Policy ids or paths (default: every policy in the policies folder).", completion: Completions.policies) var policies: [String] = []
    @Flag(name: .long, help: "List the clauses that state no obligation too.") var all = false
    @OptionGroup var locations: PolicyOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        var names = policies
        if names.isEmpty {
            names = try PolicyFiles.expand([locations.policies]).map { path in
                String(path.split(separator: "/").last!.dropLast(path.hasSuffix(".yml") ? 4 : 5))
            }
        }
        var reports: [CoverageReport] = []
        for name in names {
            reports.append(CoverageReport(policy: try Workspace.policy(name, folder: locations.policies, colour: output.colourErrors)))
        }
        switch output.format {
        case .text:
            Terminal.standardOutput.write(reports.map { $0.text(all: all) }.joined(separator: "\n"))
        case .json:
            var w = JSONWriter(pretty: true)
            w.object { w in w.field("policies") { w in w.array { w in for r in reports { r.writeJSON(&w) } } } }
            Terminal.standardOutput.write(w.text + "\n")
        }
        if reports.contains(where: { $0.count(.uncovered) > 0 || !$0.strayCitations.isEmpty || !$0.strayExplanations.isEmpty }) {
            throw Exit(status: 1)
        }
    }
}
