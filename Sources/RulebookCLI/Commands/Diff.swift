import ArgumentParser
import RulebookCore

/// `rulebook diff OLD NEW`: what an edit to a policy changes in meaning.
struct Diff: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, md
    }

    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what changed in meaning between two versions of a policy.",
        discussion: """
            OLD and NEW are policy files, or ids in the policies folder. Reported: duties, \
            values (bands, cases, grid cells, weights), facts, roles and stand-ins, actions, \
            terms, prohibitions, constraints and assumptions added, removed or changed, each \
            part that changed as `old → new`, with the clause it cites. Titles, questions, \
            quoted text, key order, comments and spacing are not meaning. Exit status: 0 \
            nothing changed in meaning, 1 something did (as diff does), 2 trouble.
            """)

    @Argument(help: "The policy before the edit (a file or an id).") var old: String
    @Argument(help: "The policy after the edit (a file or an id).") var new: String
    @OptionGroup var locations: PolicyOptions
    @Option(name: .long, help: "Output format: text, json, or md (Markdown, to paste into a review).")
    var format: Format = .text
    @Option(name: .long, help: "Colour diagnostics: auto (only on a terminal), always or never.")
    var color: ColourChoice = .auto

    func run() throws {
        let colour = color == .always || (color == .auto && Terminal.standardError.isTerminal)
        let before = try Workspace.policy(old, folder: locations.policies, colour: colour)
        let after = try Workspace.policy(new, folder: locations.policies, colour: colour)
        let changes = PolicyDiff.compare(before, after)
        let names = (old.printable, new.printable)
        switch format {
        case .text: Terminal.standardOutput.write(PolicyChange.text(changes, old: names.0, new: names.1))
        case .md: Terminal.standardOutput.write(PolicyChange.markdown(changes, old: names.0, new: names.1))
        case .json: Terminal.standardOutput.write(PolicyChange.json(changes, old: names.0, new: names.1) + "\n")
        }
        if !changes.isEmpty { throw Exit(status: 1) }
    }
}
