import ArgumentParser
import Foundation
import RulebookCore
import RulebookRegister

/// `rulebook report`: the register's periodic report for the people who oversee incidents.
struct Report: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case md, html, csv, json
    }

    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The register's periodic report: incidents by month, school and type, times to milestones, each duty's record, open incidents, audit findings.",
        discussion: """
            Every incident is audited at --at (default now) under its pinned policy, as \
            `rulebook audit` does, and counted: by the month it started in (the policy's \
            report start, such as when it was discovered, else its opening), by school, by \
            what its policy counts by (`report: by:`), near misses (`report: near_miss:`); \
            the time from its start to each milestone the policy names (median and 90th \
            percentile); for each duty, how often it was done on time, late, missed (the \
            audit finds it missing) or is still open; the open incidents, soonest deadline \
            first; the audit findings by kind.

            --from and --to (YYYY-MM-DD, inclusive, in each policy's time zone) choose \
            incidents by the day they started. --format md or html carry charts as SVG (html \
            as one self-contained page; md inline, or as files with --charts DIR); csv gives \
            one table per section (--section ID for one of them); json follows \
            Schemas/report.schema.json.
            """)

    @Option(name: .long, help: ArgumentHelp("Only incidents that started on or after this day (YYYY-MM-DD).", valueName: "date"))
    var from: String?
    @Option(name: .long, help: ArgumentHelp("Only incidents that started on or before this day (YYYY-MM-DD).", valueName: "date"))
    var to: String?
    @Option(name: .long, help: ArgumentHelp("Only this school's incidents.", valueName: "name")) var school: String?
    @Option(name: .long, help: ArgumentHelp("Only incidents under this policy id.", valueName: "id"), completion: Completions.policyIDs) var policy: String?
    @Option(name: .long, help: "md, html, csv or json.") var format: Format = .md
    @Option(name: .long, help: ArgumentHelp(
        "With --format csv, only this table: \(PeriodicReport.sectionIDs.joined(separator: ", ")).", valueName: "id"))
    var section: String?
    @Option(name: .long, help: ArgumentHelp("With --format md, write the charts as SVG files into this folder and link them.",
                                            valueName: "dir"))
    var charts: String?
    @OptionGroup var time: AtOption
    @OptionGroup var registerOptions: RegisterOptions
    @Option(name: .long, help: "Colour diagnostics: auto (only on a terminal), always or never.")
    var color: ColourChoice = .auto

    func validate() throws {
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, Timestamp.parseDate(value) == nil {
                throw ValidationError("\(name) '\(value)' is not a date: write YYYY-MM-DD, e.g. 2026-09-01")
            }
        }
        if let f = from.flatMap(Timestamp.parseDate), let t = to.flatMap(Timestamp.parseDate), f > t {
            throw ValidationError("--from \(from!) is after --to \(to!)")
        }
        if let section {
            guard format == .csv else { throw ValidationError("--section chooses one table of --format csv") }
            guard PeriodicReport.sectionIDs.contains(section) else {
                throw ValidationError("--section '\(section)' is not a table of the report; choose one of: "
                    + PeriodicReport.sectionIDs.joined(separator: ", "))
            }
        }
        if charts != nil && format != .md { throw ValidationError("--charts writes the charts of --format md") }
    }

    func run() throws {
        let register = try registerOptions.open(.read)
        let at = try time.instant()
        var report = PeriodicReport(at: at, from: from.flatMap(Timestamp.parseDate), to: to.flatMap(Timestamp.parseDate))
        report.school = school
        report.policyFilter = policy
        let progress = Progress()
        try registerCall(colour: color.colourErrors) {
            try register.periodicReport(into: &report, policy: policy, school: school,
                                        progress: { progress.update($0, "incidents audited") })
        }
        progress.finish()
        switch format {
        case .json: Terminal.standardOutput.write(report.json())
        case .csv: Terminal.standardOutput.write(report.csv(section: section))
        case .html: Terminal.standardOutput.write(report.html())
        case .md:
            var links: [String: String] = [:]
            if let charts {
                do {
                    try FileManager.default.createDirectory(atPath: charts, withIntermediateDirectories: true)
                    for table in report.tables() {
                        guard let chart = table.chart else { continue }
                        let path = (charts as NSString).appendingPathComponent(table.id + ".svg")
                        try Data(chart.utf8).write(to: URL(fileURLWithPath: path))
                        links[table.id] = path
                    }
                } catch {
                    throw Trouble("cannot write the charts into '\(charts)': \(error.localizedDescription)")
                }
            }
            Terminal.standardOutput.write(report.markdown(chartLinks: links) + "\n")
        }
    }
}
