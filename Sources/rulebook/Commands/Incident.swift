import ArgumentParser
import RulebookCore
import RulebookYAML

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

    func validate() throws {
        if batch == nil, explain { throw ValidationError("--explain goes with --batch (assess explains each value anyway)") }
        if batch != nil {
            guard incident.items.count == 1 else { throw ValidationError("with --batch, give only POLICY: the cases come from the file") }
            guard incident.trail == nil, incident.register == nil else {
                throw ValidationError("--trail and --register do not apply to --batch")
            }
        }
    }

    func run() throws {
        if let batch {
            let policies = try (0..<BatchRunner.workers).map { _ in
                try Workspace.policy(incident.items[0], folder: incident.policies, colour: incident.output.colourErrors)
            }
            try BatchRunner.run(policies: policies, path: batch, at: try incident.instant(), explain: explain)
            return
        }
        let (policy, file) = try incident.load()
        let evaluation = Engine(policy: policy).evaluate(file, at: try incident.instant())
        let reports = EngineReports(evaluation: evaluation, file: file)
        Terminal.standardOutput.write(incident.format == .json ? reports.assessJSON() + "\n" : reports.assessText())
    }
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

    func run() throws {
        let (policy, file) = try incident.load()
        var roleIndex: Int?
        if let role {
            guard let index = policy.roleIndex(of: role) else {
                throw Trouble("no role '\(role)' in policy '\(policy.id)'",
                              hint: Suggestions.didYouMean(role, among: policy.roles.map(\.id))
                                  ?? "the roles are: " + policy.roles.map(\.id).joined(separator: ", "))
            }
            roleIndex = index
        }
        let evaluation = Engine(policy: policy).evaluate(file, at: try incident.instant())
        let reports = EngineReports(evaluation: evaluation, file: file)
        Terminal.standardOutput.write(
            incident.format == .json ? reports.nextJSON(role: roleIndex, all: all) + "\n" : reports.nextText(role: roleIndex, all: all))
    }
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

    func run() throws {
        let (policy, file, chain) = try incident.load(
            folder: incident.policies, register: incident.registerOptions, colour: incident.output.colourErrors, verify: true)
        let at = try incident.instant()
        let report = Engine(policy: policy).audit(file, at: at)
        let reports = EngineReports(evaluation: report.evaluation, file: file)
        Terminal.standardOutput.write(
            incident.format == .json ? reports.auditJSON(report, chain: chain) + "\n" : reports.auditText(report, chain: chain))
        if compareCurrent {
            try compare(report, pinned: policy, at: at)
        }
        if !report.compliant { throw ExitCode(1) }
    }

    /// Audits the same trail under the current policy and reports the differences.
    private func compare(_ pinned: AuditReport, pinned policy: Policy, at: Instant) throws {
        guard let number = incident.items.last, looksLikeIncidentNumber(number) else {
            throw Trouble("--compare-current applies to a register incident")
        }
        let current = try Workspace.policy(policy.id, folder: incident.policies, colour: incident.output.colourErrors)
        let exported = try registerCall(colour: incident.output.colourErrors) {
            try incident.registerOptions.open(create: false).export(number, as: .json)
        }
        let read = JSONReader.read(exported, file: number)
        guard let root = read.root else { throw Trouble("could not read \(number) back") }
        let (file, diagnostics) = CaseLoader.load(root, policy: current)
        var text = "\nUnder the current policy '\(current.id)' (version \(current.version)):\n"
        guard let file else {
            text += "  the trail does not fit the current policy:\n" + diagnostics.filter { $0.severity == .error }
                .map { "  - \($0.message)\n" }.joined()
            Terminal.standardOutput.write(text)
            return
        }
        let now = Engine(policy: current).audit(file, at: at)
        func keys(_ r: AuditReport, _ p: Policy) -> [String] {
            r.findings.map { "\($0.kind.rawValue) \($0.duty.map { p.duties[$0].id } ?? ($0.event.map { "event \($0 + 1)" } ?? ""))" }
        }
        let before = keys(pinned, policy)
        let after = keys(now, current)
        let added = after.filter { !before.contains($0) }
        let removed = before.filter { !after.contains($0) }
        if added.isEmpty && removed.isEmpty {
            text += "  the same findings (\(after.count))\n"
        } else {
            for f in added { text += "  + \(f) (only under the current policy)\n" }
            for f in removed { text += "  - \(f) (only under the pinned policy)\n" }
        }
        Terminal.standardOutput.write(text)
    }
}
