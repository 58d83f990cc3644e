import ArgumentParser
import RulebookCore

/// `rulebook graph POLICY`: the procedure as a diagram.
struct Graph: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case mermaid, dot
    }

    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw a policy's procedure: roles as lanes, duties with their deadlines, what comes first.",
        discussion: """
            Mermaid (for Markdown: GitHub and most viewers render ```mermaid blocks) or DOT \\
            (for Graphviz: rulebook graph POLICY --format dot | dot -Tsvg > procedure.svg). \\
            Solid arrows: what must come first; dashed arrows: what a duty's clock counts \\
            from; labels: the condition under which a duty applies; dashed octagons: what a \\
            role must not do.
            """)

    @Argument(help: "Policy id or path.", completion: Completions.policies) var policy: String
    @OptionGroup var locations: PolicyOptions
    @Option(name: .long, help: "mermaid or dot.") var format: Format = .mermaid
    @Option(name: .long, help: "Colour diagnostics: auto (only on a terminal), always or never.")
    var color: ColourChoice = .auto

    func run() throws {
        let colour = color.colourErrors
        let policy = try Workspace.policy(policy, folder: locations.policies, colour: colour)
        let graph = PolicyGraph(policy: policy)
        Terminal.standardOutput.write(format == .mermaid ? graph.mermaid() : graph.dot())
    }
}
