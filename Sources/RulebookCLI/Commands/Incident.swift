import ArgumentParser

struct Assess: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assess",
        abstract: "Derive a case's values (score, category...) with the explanation and open questions.",
        discussion: """
            Each value is shown with the rule that produced it and the clause it cites; an \
            assumption is marked as one.

            With --batch FILE (- for standard input), POLICY is given alone and FILE holds one \
            case per line as JSON ({"incident": ..., "facts": {...}, "events": [...]}). Each is \
            assessed at --at and written as one line of JSON, in order: {"line", "incident", \
            "values", "questions"} (questions: unanswered facts, most decisive first), plus \
            "explanation" with --explain. A line that is not a readable case becomes \
            {"line", "error", "diagnostics"}, is reported on standard error, and the rest go \
            on; the exit status is then 2. Schemas/assess-batch.schema.json describes a line.
            """)

    @OptionGroup var incident: IncidentArguments
    @Option(name: .long, help: ArgumentHelp("Assess every case in FILE, one JSON case per line (- for standard input).", valueName: "file"))
    var batch: String?
    @Flag(name: .long, help: "With --batch, add each value's explanation to every line.")
    var explain = false

    var request: AssessRequest { AssessRequest(incident: incident.request, batch: batch, explain: explain) }

    func validate() throws {
        do { try request.validate() } catch let usage as UsageError { throw ValidationError(usage.message) }
    }

    func run() throws { try request.run() }
}

struct Next: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "List the duties due, overdue or undecided, by role, with deadlines and clauses.",
        discussion: """
            Duties are grouped by role and sorted by urgency and deadline, with the time left \
            or how long overdue. Questions at the end are the unanswered facts whose answers \
            would decide a duty or a value, most decisive first.
            """)

    @OptionGroup var incident: IncidentArguments
    @Option(name: .long, help: ArgumentHelp("Show only this role's duties (a role id).", valueName: "role"))
    var role: String?
    @Flag(name: .long, help: "Show every duty, including done and not applicable ones.")
    var all = false

    var request: NextRequest { NextRequest(incident: incident.request, role: role, all: all) }

    func run() throws { try request.run() }
}

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check a recorded trail against the policy and list every finding.",
        discussion: """
            Findings: missing (never done), late, wrong_role, forbidden, missing_reason, \
            out_of_order, decision_mismatch. A register incident is judged by the policy pinned \
            when it was opened, after the register's hash chains are verified (records that do \
            not check out are trouble, exit 2); --compare-current also audits it under the \
            current policy. \
            Exit status 0 when compliant, 1 when there are findings, 2 on trouble.
            """)

    @OptionGroup var incident: IncidentArguments
    @Flag(name: .long, help: "For a register incident, also audit it under the current policy and show what differs.")
    var compareCurrent = false

    var request: AuditRequest { AuditRequest(incident: incident.request, compareCurrent: compareCurrent) }

    func run() throws { try request.run() }
}
