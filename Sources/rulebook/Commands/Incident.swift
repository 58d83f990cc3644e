import ArgumentParser
import RulebookCore

struct Assess: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Derive a case's values (score, category...) with the explanation and open questions.",
        discussion: "Each value is shown with the rule that produced it and the clause it cites; an assumption is marked as one.")

    @OptionGroup var incident: IncidentArguments
    @OptionGroup var time: AtOption
    @OptionGroup var locations: PolicyOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let (policy, file) = try incident.load(folder: locations.policies, colour: output.colourErrors)
        let evaluation = Engine(policy: policy).evaluate(file, at: try time.instant())
        let reports = EngineReports(evaluation: evaluation, file: file)
        Terminal.standardOutput.write(output.format == .json ? reports.assessJSON() + "\n" : reports.assessText())
    }
}

struct Next: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the duties due, overdue or undecided, by role, with deadlines and clauses.",
        discussion: """
            Duties are grouped by role and sorted by urgency and deadline, with the time left \
            or how long overdue. Questions at the end are the unanswered facts whose answers \
            would decide a duty or a value, most decisive first.
            """)

    @OptionGroup var incident: IncidentArguments
    @OptionGroup var time: AtOption
    @Option(name: .long, help: ArgumentHelp("Show only this role's duties (a role id).", valueName: "role"))
    var role: String?
    @Flag(name: .long, help: "Show every duty, including done and not applicable ones.")
    var all = false
    @OptionGroup var locations: PolicyOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let (policy, file) = try incident.load(folder: locations.policies, colour: output.colourErrors)
        var roleIndex: Int?
        if let role {
            guard let index = policy.roleIndex(of: role) else {
                throw Trouble("no role '\(role)' in policy '\(policy.id)'",
                              hint: Suggestions.didYouMean(role, among: policy.roles.map(\.id))
                                  ?? "the roles are: " + policy.roles.map(\.id).joined(separator: ", "))
            }
            roleIndex = index
        }
        let evaluation = Engine(policy: policy).evaluate(file, at: try time.instant())
        let reports = EngineReports(evaluation: evaluation, file: file)
        Terminal.standardOutput.write(
            output.format == .json ? reports.nextJSON(role: roleIndex, all: all) + "\n" : reports.nextText(role: roleIndex, all: all))
    }
}

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a recorded trail against the policy and list every finding.",
        discussion: """
            Findings: missing (never done), late, wrong_role, forbidden, missing_reason, \
            out_of_order, decision_mismatch. Exit status 0 when compliant, 1 when there are \
            findings, 2 on trouble.
            """)

    @OptionGroup var incident: IncidentArguments
    @OptionGroup var time: AtOption
    @OptionGroup var locations: PolicyOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let (policy, file) = try incident.load(folder: locations.policies, colour: output.colourErrors)
        let report = Engine(policy: policy).audit(file, at: try time.instant())
        let reports = EngineReports(evaluation: report.evaluation, file: file)
        Terminal.standardOutput.write(output.format == .json ? reports.auditJSON(report) + "\n" : reports.auditText(report))
        if !report.compliant { throw ExitCode(1) }
    }
}
