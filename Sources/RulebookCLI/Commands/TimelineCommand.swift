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

    @OptionGroup var location: IncidentLocation
    @Option(name: .long, help: "svg, html or text.") var format: Format = .svg

    var request: IncidentRequest { location.request(format: .text) }

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
