import ArgumentParser
import Foundation
import RulebookCore

/// `rulebook draft CASE [TEMPLATE]`: a notification drafted from a template in the policy.
struct DraftCommand: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case md, text, json
    }

    static let configuration = CommandConfiguration(
        commandName: "draft",
        abstract: "Draft a notification the policy requires (to the regulator, to the people affected) from an incident.",
        discussion: """
            The policy's `drafts:` say what each notification must contain and where each \
            field comes from: a fact or value, the contact of a role, the notes recorded with \
            some actions, or who took an action. The draft fills what the incident answers and \
            lists every field it could not fill as a question, so nothing is sent half-written \
            without knowing it. Without TEMPLATE, lists the policy's templates.

            Exit status: 0 the draft is complete; 1 required fields are still questions; 2 trouble.
            """)

    @Argument(help: ArgumentHelp("A case file (.yaml/.json), a trail (.jsonl), or an incident number in the register.", valueName: "case"))
    var incident: String
    @Argument(help: ArgumentHelp("The template's id (see the list without it).", valueName: "template"))
    var template: String?
    @Option(name: .long, help: ArgumentHelp("The policy, when the case file does not name it.", valueName: "id"))
    var policy: String?
    @Option(name: .long, help: "md (Markdown), text (plain text) or json (fields, questions and both texts).")
    var format: Format = .md
    @Option(name: .long, help: ArgumentHelp("More events, as JSON Lines, after the case's own.", valueName: "file"))
    var trail: String?
    @Option(name: .long, help: ArgumentHelp("The moment to draft at, RFC 3339 (default: now).", valueName: "time"))
    var at: String?
    @Option(name: .long, help: ArgumentHelp(Installation.policiesHelp, valueName: "dir"))
    var policies: String?
    @Option(name: .long, help: ArgumentHelp("The register file (default: $RULEBOOK_REGISTER, else ./rulebook.sqlite).", valueName: "path"))
    var register: String?
    @Option(name: .long, help: "Colour diagnostics: auto (only on a terminal), always or never.")
    var color: ColourChoice = .auto

    func run() throws {
        let request = IncidentRequest(items: (policy.map { [$0] } ?? []) + [incident], trail: trail, at: at, policies: policies,
                                      register: register, format: format == .json ? .json : .text, color: color)
        let (policy, file) = try request.load()
        guard let template else {
            if policy.drafts.isEmpty {
                Terminal.standardOutput.write("Policy '\(policy.id)' has no notification templates (drafts:).\n")
                return
            }
            var out = "Notification templates of \(policy.title):\n"
            for d in policy.drafts {
                out += "  \(d.id)  \(d.title)" + (d.to.map { " (to \($0))" } ?? "") + "  [\(d.provenance.citation)]\n"
            }
            Terminal.standardOutput.write(out)
            return
        }
        guard let chosen = policy.drafts.first(where: { $0.id == template }) else {
            throw Trouble("policy '\(policy.id)' has no notification template '\(template)'",
                          hint: Suggestions.didYouMean(template, among: policy.drafts.map(\.id))
                              ?? (policy.drafts.isEmpty ? "this policy has no drafts:" : "its templates: \(policy.drafts.map(\.id).joined(separator: ", "))"))
        }
        let evaluation = Engine(policy: policy).evaluate(file, at: try request.instant())
        let draft = Draft(template: chosen, evaluation: evaluation, file: file)
        switch format {
        case .json: Terminal.standardOutput.write(draft.json())
        case .md, .text:
            var out = format == .md ? draft.markdown : draft.text
            if !out.hasSuffix("\n") { out += "\n" }
            Terminal.standardOutput.write(out)
            let questions = draft.questions
            if !questions.isEmpty {
                var note = "\n\(questions.count) field\(questions.count == 1 ? "" : "s") could not be filled:\n"
                for q in questions {
                    note += "  - \(q.question)" + (q.required ? "" : " (optional)")
                    if !q.waitsFor.isEmpty { note += " [facts: \(q.waitsFor.joined(separator: ", "))]" }
                    note += "\n"
                }
                Terminal.standardError.write(note)
            }
        }
        if !draft.isComplete { throw Exit(status: 1) }
    }
}
