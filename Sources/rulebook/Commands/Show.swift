import ArgumentParser
import RulebookCore

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Render a policy as its document's procedure (Markdown).",
        discussion: """
            The layout follows the document (numbered MUST points, numbered sections, or \
            responsibilities by role), then the deadlines, roles and every assumption the \
            policy makes where the document is silent.
            """)

    @Argument(help: "Policy id or path.") var policy: String
    @OptionGroup var locations: PolicyOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let policy = try Workspace.policy(policy, folder: locations.policies, colour: output.colourErrors)
        Terminal.standardOutput.write(PolicyMarkdown(policy: policy).render())
    }
}
