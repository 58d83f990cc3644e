import ArgumentParser
import Foundation
import RulebookCore
import RulebookRegister
import RulebookYAML

/// `rulebook diff OLD NEW`: what an edit to a policy changes in meaning.
struct Diff: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, md
    }

    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what changed in meaning between two versions of a policy.",
        discussion: """
            OLD and NEW are policy files (read with the policies beside them, so what they \
            extend comes from their own folder), or ids in the policies folder. Reported: duties, \
            values (bands, cases, grid cells, weights), facts, roles and stand-ins, actions, \
            terms, prohibitions, constraints and assumptions added, removed or changed, each \
            part that changed as `old → new`, with the clause it cites. Titles, questions, \
            quoted text, key order, comments and spacing are not meaning. With --register, \
            every incident opened under OLD's id is audited again under NEW (at --at, \
            default now) and those whose verdict or findings would change are listed. Exit \
            status: 0 nothing changed in meaning, 1 something did (as diff does), 2 trouble.
            """)

    @Argument(help: "The policy before the edit (a file or an id).", completion: Completions.policies) var old: String
    @Argument(help: "The policy after the edit (a file or an id).", completion: Completions.policies) var new: String
    @OptionGroup var locations: PolicyOptions
    @Option(name: .long, help: "Output format: text, json, or md (Markdown, to paste into a review).")
    var format: Format = .text
    @Option(name: .long, help: "Colour diagnostics: auto (only on a terminal), always or never.")
    var color: ColourChoice = .auto
    @Option(name: .long, help: ArgumentHelp("Re-audit the incidents of this register under NEW.", valueName: "path"))
    var register: String?
    @Option(name: .long, help: ArgumentHelp("The moment of the re-audits (RFC 3339; default now).", valueName: "time"))
    var at: String?

    func run() throws {
        let colour = color.colourErrors
        // A policy given as a file is read with the policies of its own folder, so two
        // versions of a folder are compared whole (a changed base shows in what extends it).
        func folder(_ argument: String) -> String {
            guard argument.contains("/") || argument.hasSuffix(".yaml") || argument.hasSuffix(".yml") else { return locations.policies }
            let directory = (argument as NSString).deletingLastPathComponent
            return directory.isEmpty ? "." : directory
        }
        let before = try Workspace.policy(old, folder: folder(old), colour: colour)
        let after = try Workspace.policy(new, folder: folder(new), colour: colour)
        let changes = PolicyDiff.compare(before, after)
        let names = (old.printable, new.printable)
        let audits = try register.map { try reaudit(RegisterOptions.path($0), policy: before.id, under: after, colour: colour) }
        switch format {
        case .text:
            var text = PolicyChange.text(changes, old: names.0, new: names.1)
            if let audits {
                text += audits.isEmpty ? "No incident's audit would change.\n" : "Incidents whose audit would change under \(names.1):\n"
                for a in audits { text += "  \(a.number): " + a.lines.joined(separator: "; ") + "\n" }
            }
            Terminal.standardOutput.write(text)
        case .md:
            var text = PolicyChange.markdown(changes, old: names.0, new: names.1)
            if let audits {
                text += audits.isEmpty ? "\nNo incident's audit would change.\n" : "\n### Incidents whose audit would change\n\n"
                for a in audits { text += "- `\(a.number)`: " + a.lines.joined(separator: "; ") + "\n" }
            }
            Terminal.standardOutput.write(text)
        case .json:
            var text = PolicyChange.json(changes, old: names.0, new: names.1)
            if let audits {
                // One more member of the object: the re-audits.
                var w = JSONWriter(pretty: false)
                w.array { w in
                    for a in audits {
                        w.object { w in
                            w.field("incident", string: a.number)
                            w.field("changes") { $0.array(strings: a.lines) }
                        }
                    }
                }
                text = String(text.dropLast()) + ",\n  \"reaudit\": " + w.text + "\n}"
            }
            Terminal.standardOutput.write(text + "\n")
        }
        if !changes.isEmpty { throw Exit(status: 1) }
    }

    /// The incidents opened under `policy` whose audit differs under `new`, each with
    /// what would change.
    private func reaudit(_ path: String, policy: String, under new: Policy, colour: Bool) throws -> [(number: String, lines: [String])] {
        let when = try AtOption.instant(at)
        let register = try RegisterOptions.open(path, .read)
        var out: [(number: String, lines: [String])] = []
        for summary in try registerCall(colour: colour, { try register.incidents(policy: policy) }) {
            let (stored, pinned) = try registerCall(colour: colour) { try register.incident(summary.number) }
            let was = Engine(policy: pinned).audit(stored.file, at: when)
            let exported = try registerCall(colour: colour) { try register.export(summary.number, as: .json) }
            guard let root = JSONReader.read(exported, file: summary.number).root else { continue }
            let (file, diagnostics) = CaseLoader.load(root, policy: new)
            guard let file else {
                let reasons = diagnostics.filter { $0.severity == .error }.prefix(3).map(\.message)
                out.append((summary.number, ["its trail does not fit the new policy: " + reasons.joined(separator: "; ")]))
                continue
            }
            let now = Engine(policy: new).audit(file, at: when)
            var lines: [String] = []
            if was.verdict != now.verdict { lines.append("verdict \(was.verdict.rawValue) → \(now.verdict.rawValue)") }
            let (added, removed) = now.findingChanges(from: was)
            lines += added.map { "+ \($0)" } + removed.map { "- \($0)" }
            if !lines.isEmpty { out.append((summary.number, lines)) }
        }
        return out
    }
}
