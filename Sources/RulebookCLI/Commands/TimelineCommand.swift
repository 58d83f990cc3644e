import ArgumentParser
import RulebookCore

/// `rulebook timeline [POLICY] CASE|INCIDENT`: an incident as a picture.
struct TimelineCommand: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case svg, html, text
    }

    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "Draw an incident as a timeline: each duty's window, what was done when, and now.",
        discussion: """
            A time axis in the policy's zone; a row per duty that applies (or may), from its \
            clock start to its deadline; the event that discharged it; every event as a \
            marker; now as a line; the clause and times on hover. Done, done late, overdue, \
            due, waiting and unknown differ by colour and by fill pattern or mark, so the \
            picture reads in greyscale. --format svg (a self-contained SVG), html (the SVG \
            beside what must happen next) or text.
            """)

    @Argument(help: ArgumentHelp("[POLICY] CASE, or an incident number in the register.", valueName: "policy-and-case"))
    var items: [String] = []
    @Option(name: .long, help: ArgumentHelp("More events, as JSON Lines, after the case's own.", valueName: "file"))
    var trail: String?
    @Option(name: .long, help: ArgumentHelp("The moment drawn as now, RFC 3339 (default: now).", valueName: "time"))
    var at: String?
    @Option(name: .long, help: ArgumentHelp("Folder of policy files, searched when POLICY is an id.", valueName: "dir"))
    var policies: String = "Policies"
    @Option(name: .long, help: ArgumentHelp("The register file (default: $RULEBOOK_REGISTER, else ./rulebook.sqlite).", valueName: "path"))
    var register: String?
    @Option(name: .long, help: "svg, html or text.") var format: Format = .svg
    @Option(name: .long, help: "Colour diagnostics: auto (only on a terminal), always or never.")
    var color: ColourChoice = .auto

    var request: IncidentRequest {
        IncidentRequest(items: items, trail: trail, at: at, policies: policies, register: register, format: .text, color: color)
    }

    func validate() throws {
        do { try request.validate() } catch let usage as UsageError { throw ValidationError(usage.message) }
    }

    func run() throws {
        let (policy, file) = try request.load()
        let evaluation = Engine(policy: policy).evaluate(file, at: try request.instant())
        if let problem = evaluation.calendarProblem { throw Trouble(problem) }
        let timeline = Timeline(evaluation: evaluation, file: file)
        switch format {
        case .svg: Terminal.standardOutput.write(timeline.svg())
        case .text: Terminal.standardOutput.write(timeline.text())
        case .html:
            let next = EngineReports(evaluation: evaluation, file: file).nextText(role: nil, all: false)
            Terminal.standardOutput.write(Timeline.html(svg: timeline.svg(), next: next, title: "\(policy.title): \(file.incident ?? "incident")"))
        }
    }
}
