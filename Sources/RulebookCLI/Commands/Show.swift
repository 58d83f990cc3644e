import ArgumentParser
import RulebookCore

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Render a policy as its document's procedure (Markdown), or as JSON (--format json).",
        discussion: """
            The layout follows the document (numbered MUST points, numbered sections, or \
            responsibilities by role), then the deadlines, roles and every assumption the \
            policy makes where the document is silent. With --format json: the compiled policy \
            (extends applied, references resolved), for tools.
            """)

    @Argument(help: "Policy id or path.", completion: Completions.policies) var policy: String
    @OptionGroup var locations: PolicyOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let policy = try Workspace.policy(policy, folder: locations.policies, colour: output.colourErrors)
        switch output.format {
        case .text: Terminal.standardOutput.write(PolicyMarkdown(policy: policy).render())
        case .json: Terminal.standardOutput.write(PolicyJSON(policy: policy).render() + "\n")
        }
    }
}
