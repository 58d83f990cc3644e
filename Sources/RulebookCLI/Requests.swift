import Foundation
import RulebookCore
import RulebookRegister
import RulebookYAML

/// A command that can run: what ArgumentParser builds, or what ``FastPath`` reads
/// straight from the command line.
protocol Request {
    func run() throws
}

/// What `assess`, `next` and `audit` were asked about the incident, however the command
/// line was read: `[POLICY] CASE` and the shared options.
struct IncidentRequest: Equatable {
    var items: [String]
    var trail: String?
    var at: String?
    /// --policies as given (nil: the default, see ``policiesFolder``).
    var policies: String?
    var register: String?
    /// --database: the incident is in a PostgreSQL register.
    var database: String?
    var format: OutputFormat = .text
    var color: ColourChoice = .auto

    func validate() throws {
        guard (1...2).contains(items.count) else {
            throw UsageError("give POLICY and CASE (or just CASE when it names its policy)")
        }
    }

    /// Whether to colour text written to standard error.
    var colourErrors: Bool { color.colourErrors }

    /// The policies folder: --policies, else ./Policies, else the installed policies.
    var policiesFolder: String { Installation.policies(policies) }

    /// The register file: --register, else $RULEBOOK_REGISTER, else ./rulebook.sqlite.
    var registerPath: String { RegisterOptions.path(register) }

    func instant() throws -> Instant { try AtOption.instant(at) }

    /// Loads the policy and the case.
    func load() throws -> (Policy, CaseFile) {
        let (policy, file, _) = try load(verify: false)
        return (policy, file)
    }

    /// Loads the policy and the case. CASE may be an incident number in the register,
    /// judged by the policy pinned when it was opened; with `verify`, the register's hash
    /// chains are checked in the same read (trouble if they do not check out), and what
    /// was checked is returned.
    func load(verify: Bool) throws -> (Policy, CaseFile, ChainCheck?) {
        let colour = colourErrors
        let casePath = items.last!
        if !FileManager.default.fileExists(atPath: casePath), looksLikeIncidentNumber(casePath) {
            let opened = try RegisterOptions.open(registerPath, database: database, given: register, .read)
            var file: CaseFile
            var pinned: Policy
            var check: ChainCheck?
            if verify {
                let (verified, policy) = try registerCall(colour: colour) { try opened.verifiedIncident(casePath) }
                let report = verified.verification
                guard report.isIntact else {
                    throw Trouble("the register's records of \(casePath) do not check out, so they cannot be audited",
                                  hint: "rulebook verify \(casePath) lists what was changed", details: report.problems)
                }
                (file, pinned) = (verified.file, policy)
                check = ChainCheck(events: report.events, headRecords: report.headRecords, headHash: report.headHash)
            } else {
                let (stored, policy) = try registerCall(colour: colour) { try opened.incident(casePath) }
                (file, pinned) = (stored.file, policy)
            }
            if items.count == 2, items[0] != pinned.id {
                throw Trouble("\(casePath) was opened under policy '\(pinned.id)', not '\(items[0])'",
                              hint: "leave the policy out: the incident's pinned policy is used")
            }
            if let trail { file.events += try Workspace.incident(trail, policy: pinned, trail: nil, colour: colour).events }
            return (pinned, file, check)
        }
        var policyArgument = items.count == 2 ? items[0] : nil
        if policyArgument == nil {
            guard FileManager.default.fileExists(atPath: casePath) else {
                throw Trouble("cannot read '\(casePath)': No such file or directory")
            }
            guard let named = try Workspace.policyNamed(inCase: casePath, colour: colourErrors) else {
                throw Trouble("'\(casePath)' does not name its policy", hint: "give the policy first: rulebook next POLICY CASE")
            }
            policyArgument = named
        }
        let policy = try Workspace.policy(policyArgument!, folder: policiesFolder, colour: colour)
        let file = try Workspace.incident(casePath, policy: policy, trail: trail, colour: colour)
        return (policy, file, nil)
    }
}

/// A command line that is well formed but asks for something that does not go together;
/// reported like ArgumentParser's validation errors (exit 2).
struct UsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

struct AssessRequest: Request, Equatable {
    var incident: IncidentRequest
    var batch: String?
    var explain = false

    func validate() throws {
        if batch == nil, explain { throw UsageError("--explain goes with --batch (assess explains each value anyway)") }
        if batch != nil {
            guard incident.items.count == 1 else { throw UsageError("with --batch, give only POLICY: the cases come from the file") }
            guard incident.trail == nil, incident.register == nil else {
                throw UsageError("--trail and --register do not apply to --batch")
            }
        } else {
            try incident.validate()
        }
    }

    func run() throws {
        if let batch {
            let policies = try (0..<BatchRunner.workers).map { _ in
                try Workspace.policy(incident.items[0], folder: incident.policiesFolder, colour: incident.colourErrors)
            }
            try BatchRunner.run(policies: policies, path: batch, at: try incident.instant(), explain: explain)
            return
        }
        let (policy, file) = try incident.load()
        let evaluation = Engine(policy: policy).evaluate(file, at: try incident.instant())
        if let problem = evaluation.calendarProblem { throw Trouble(problem) }
        let reports = EngineReports(evaluation: evaluation, file: file)
        Terminal.standardOutput.write(incident.format == .json ? reports.assessJSON() + "\n" : reports.assessText())
    }
}

struct NextRequest: Request, Equatable {
    var incident: IncidentRequest
    var role: String?
    var all = false

    func validate() throws { try incident.validate() }

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
        if let problem = evaluation.calendarProblem { throw Trouble(problem) }
        let reports = EngineReports(evaluation: evaluation, file: file)
        Terminal.standardOutput.write(
            incident.format == .json ? reports.nextJSON(role: roleIndex, all: all) + "\n" : reports.nextText(role: roleIndex, all: all))
    }
}

struct AuditRequest: Request, Equatable {
    var incident: IncidentRequest
    var compareCurrent = false

    func validate() throws { try incident.validate() }

    func run() throws {
        let (policy, file, chain) = try incident.load(verify: true)
        let at = try incident.instant()
        let report = Engine(policy: policy).audit(file, at: at)
        if let problem = report.evaluation.calendarProblem { throw Trouble(problem) }
        let reports = EngineReports(evaluation: report.evaluation, file: file)
        Terminal.standardOutput.write(
            incident.format == .json ? reports.auditJSON(report, chain: chain) + "\n" : reports.auditText(report, chain: chain))
        if compareCurrent {
            try compare(report, pinned: policy, at: at)
        }
        if !report.verdict.passes { throw Exit(status: 1) }
    }

    /// Audits the same trail under the current policy and reports the differences.
    private func compare(_ pinned: AuditReport, pinned policy: Policy, at: Instant) throws {
        guard let number = incident.items.last, looksLikeIncidentNumber(number) else {
            throw Trouble("--compare-current applies to a register incident")
        }
        let current = try Workspace.policy(policy.id, folder: incident.policiesFolder, colour: incident.colourErrors)
        let exported = try registerCall(colour: incident.colourErrors) {
            try RegisterOptions.open(incident.registerPath, database: incident.database, given: incident.register, .read).export(number, as: .json)
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
        let (added, removed) = now.findingChanges(from: pinned)
        if added.isEmpty && removed.isEmpty {
            text += "  the same findings (\(now.findings.count))\n"
        } else {
            for f in added { text += "  + \(f) (only under the current policy)\n" }
            for f in removed { text += "  - \(f) (only under the pinned policy)\n" }
        }
        Terminal.standardOutput.write(text)
    }
}

/// An exit status to end with, after the output is written (1: the answer is "no").
struct Exit: Error {
    var status: Int32
}
