import ArgumentParser
import Foundation
import RulebookCore
import RulebookRegister

/// `rulebook remind`: the duties whose reminder is due, for cron.
struct Remind: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remind",
        abstract: "List the duties whose reminder is due or whose deadline has passed, by role and person (for cron).",
        discussion: """
            Over the register at --at (default now): every owed duty whose deadline has \
            passed, and every one whose first reminder point has been reached, as the \
            incident's policy says (`reminders: before: [PT24H, PT4H, PT0S]`, per duty or for \
            all). With --within DURATION (PT48H), every owed duty whose deadline falls within \
            that window instead. A policy without `reminders:` reminds only of what is overdue. \
            Exit 0 when nothing is due, 1 when something is (as grep does).
            """)

    @Option(name: .long, help: ArgumentHelp("Every owed duty whose deadline is within this duration (e.g. PT48H).", valueName: "duration"))
    var within: String?
    @Option(name: .long, help: ArgumentHelp("Only the duties of this role id.", valueName: "id")) var role: String?
    @Option(name: .long, help: ArgumentHelp("Only this school's incidents.", valueName: "name")) var school: String?
    @OptionGroup var time: AtOption
    @OptionGroup var registerOptions: RegisterOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let within {
            guard let d = ISODuration(within), !d.hasCalendarPart else {
                throw ValidationError("--within '\(within)' is not an exact ISO 8601 duration, e.g. PT48H")
            }
        }
    }

    func run() throws {
        let register = try registerOptions.open(.read)
        let at = try time.instant()
        let window = within.flatMap(ISODuration.init)?.exactMilliseconds
        var reminders: [Reminder] = []
        var knownRole = role == nil
        try registerCall(colour: output.colourErrors) {
            try register.cases(school: school) { summary, policy, file in
                var roleIndex: Int?
                if let role {
                    guard let r = policy.roleIndex(of: role) else { return }
                    roleIndex = r
                    knownRole = true
                }
                let evaluation = Engine(policy: policy).evaluate(file, at: at)
                reminders += Reminder.due(incident: summary.number, evaluation: evaluation, file: file, within: window, role: roleIndex)
            }
        }
        if !knownRole { throw Trouble("no incident's policy has a role '\(role!)'") }
        reminders.sort { ($0.deadline, $0.incident, $0.duty) < ($1.deadline, $1.incident, $1.duty) }
        if output.format == .json {
            var w = JSONWriter(pretty: true)
            w.object { w in
                w.field("at", string: Timestamp.format(at))
                w.field("reminders") { w in w.array { w in for r in reminders { r.writeJSON(&w, at: at) } } }
            }
            Terminal.standardOutput.write(w.text + "\n")
        } else if reminders.isEmpty {
            Terminal.standardOutput.write("nothing due at \(Timestamp.format(at))\n")
        } else {
            Terminal.standardOutput.write(reminders.map { $0.line(at: at) + "\n" }.joined())
        }
        if !reminders.isEmpty { throw ExitCode(1) }
    }
}

/// `rulebook calendar`: the deadlines as an iCalendar feed.
struct CalendarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "Write the deadlines as an iCalendar feed (RFC 5545) that Outlook, Google and Apple calendars import.",
        discussion: """
            One event per duty owed with a deadline, at the deadline (UTC, the policy's zone \
            named in the description), with an alarm at each of the policy's reminder points. \
            A duty done or no longer applying is the same event (same UID) CANCELLED with a \
            higher SEQUENCE, so a calendar that imports the feed again drops it. Without \
            INCIDENT, every incident in the register.
            """)

    @Argument(help: "Incident numbers (default: every incident).", completion: Completions.incidents) var incidents: [String] = []
    @Option(name: .long, help: ArgumentHelp("Only the duties of this role id.", valueName: "id")) var role: String?
    @Option(name: .long, help: ArgumentHelp("Only this school's incidents.", valueName: "name")) var school: String?
    @OptionGroup var time: AtOption
    @OptionGroup var registerOptions: RegisterOptions
    @Option(name: .long, help: "Colour diagnostics: auto (only on a terminal), always or never.")
    var color: ColourChoice = .auto

    func run() throws {
        let register = try registerOptions.open(.read)
        let at = try time.instant()
        var entries: [CalendarFeed.Entry] = []
        try registerCall(colour: color.colourErrors) {
            if incidents.isEmpty {
                try register.cases(school: school) { summary, policy, file in
                    entries.append(CalendarFeed.Entry(incident: summary.number, evaluation: Engine(policy: policy).evaluate(file, at: at), file: file))
                }
            } else {
                for number in incidents {
                    let (stored, policy) = try register.incident(number)
                    entries.append(CalendarFeed.Entry(incident: number, evaluation: Engine(policy: policy).evaluate(stored.file, at: at), file: stored.file))
                }
            }
        }
        if let role {
            // Each policy names its roles: an incident whose policy lacks the role has nothing for it.
            entries = entries.compactMap { e in
                guard let r = e.evaluation.policy.roleIndex(of: role) else { return nil }
                var e = e
                e.roles = [r]
                return e
            }
            guard !entries.isEmpty else { throw Trouble("no incident's policy has a role '\(role)'") }
        }
        Terminal.standardOutput.write(CalendarFeed.ics(entries, at: at))
    }
}
