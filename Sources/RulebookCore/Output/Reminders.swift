/// What a reminder says: a duty owed on an incident, whose deadline is near (within the
/// policy's first reminder point, or the window asked for) or has passed, with who owes
/// it (the role, and the people recorded acting in that role on the incident).
public struct Reminder: Sendable {
    public var incident: String
    public var policy: Policy
    public var duty: Int
    public var deadline: Instant
    public var overdue: Bool
    /// The reminder point reached (milliseconds before the deadline), when the policy
    /// names them; nil when chosen by the window alone.
    public var point: Int64?
    /// The people recorded in the duty's roles on this incident.
    public var people: [String]

    /// The reminders due at `at` for one incident: with `within`, every owed duty whose
    /// deadline is within that window or past; otherwise those whose first reminder point
    /// (by the policy's `reminders:`) has been reached. A duty done, not applying, or
    /// without a deadline is never reminded of.
    public static func due(incident: String, evaluation: Evaluation, file: CaseFile, within: Int64?, role: Int? = nil) -> [Reminder] {
        let policy = evaluation.policy
        let at = evaluation.at
        var out: [Reminder] = []
        for status in evaluation.duties where status.state == .due || status.state == .overdue {
            guard let deadline = status.deadline else { continue }
            if let role, !policy.duties[status.duty].roles.contains(where: { policy.role(role, actsAs: $0) }) { continue }
            let points = policy.reminders?.points(forDuty: status.duty) ?? []
            // The latest point already reached (points are largest first).
            let reached = points.last { at >= deadline - $0 }
            let wanted: Bool
            if let within { wanted = deadline - at <= within } else { wanted = reached != nil || status.state == .overdue }
            guard wanted else { continue }
            out.append(Reminder(incident: incident, policy: policy, duty: status.duty, deadline: deadline, overdue: status.state == .overdue,
                                point: reached, people: people(in: policy.duties[status.duty].roles, policy: policy, file: file)))
        }
        return out
    }

    /// The names recorded acting in these roles (or roles that act as them), in order of first appearance.
    static func people(in roles: [Int], policy: Policy, file: CaseFile) -> [String] {
        var seen: [String] = []
        for event in file.events {
            guard let actor = event.actor, !seen.contains(actor), roles.contains(where: { policy.role(event.role, actsAs: $0) }) else { continue }
            seen.append(actor)
        }
        return seen
    }

    /// One line for people: `OVERDUE  INC-2026-0001  Notify the regulator — by 2026-11-05 09:14 GMT (3 hours ago) — lead (A. Person) [§6.5]`.
    public func line(at: Instant) -> String {
        let duty = policy.duties[self.duty]
        let clock = policy.clock
        let when = overdue ? "\(Durations.describe(at - deadline)) ago" : "\(Durations.describe(deadline - at)) left"
        let who = duty.roles.map { policy.roles[$0].id }.joined(separator: " or ") + (people.isEmpty ? "" : " (" + people.joined(separator: ", ") + ")")
        return (overdue ? "OVERDUE " : "DUE     ") + " \(incident)  \(duty.title) — by \(clock.describe(deadline)) (\(when)) — \(who)"
            + "  [\(duty.provenance.citation(in: policy.id))]"
    }

    public func writeJSON(_ w: inout JSONWriter, at: Instant) {
        let duty = policy.duties[self.duty]
        w.object { w in
            w.field("incident", string: incident)
            w.field("policy", string: policy.id)
            w.field("duty", string: duty.id)
            w.field("title", string: duty.title)
            w.field("roles") { $0.array(strings: duty.roles.map { policy.roles[$0].id }) }
            w.field("people") { $0.array(strings: people) }
            w.field("deadline", string: Timestamp.format(deadline))
            w.field("deadline_local", string: policy.clock.describe(deadline))
            w.field("overdue", bool: overdue)
            w.field("milliseconds_left", int: Int(deadline - at))
            w.field("reminder_point", string: point.map { ReminderPlan.iso($0) })
            w.field("clause", string: duty.provenance.citation(in: policy.id))
        }
    }
}

extension ReminderPlan {
    /// `PT24H`, `PT4H30M`, `PT0S`.
    public static func iso(_ milliseconds: Int64) -> String {
        let seconds = milliseconds / 1000
        guard seconds > 0 else { return "PT0S" }
        var text = "PT"
        if seconds / 3600 > 0 { text += "\(seconds / 3600)H" }
        if seconds / 60 % 60 > 0 { text += "\(seconds / 60 % 60)M" }
        if seconds % 60 > 0 { text += "\(seconds % 60)S" }
        return text
    }
}

/// The deadlines as an iCalendar feed (RFC 5545): one event per duty that is or was owed
/// with a deadline, at the deadline, with an alarm at each of the policy's reminder
/// points. A duty done, or no longer applying, is the same event (same `UID`) `CANCELLED`
/// with a higher `SEQUENCE` (the trail's length, which only grows), so a subscribed
/// calendar drops it. Times are UTC; the policy's zone is named in each description.
public enum CalendarFeed {
    public struct Entry: Sendable {
        public var incident: String
        public var evaluation: Evaluation
        public var file: CaseFile
        /// Only the duties of these roles (of the incident's policy); nil for every duty.
        public var roles: [Int]?
        public init(incident: String, evaluation: Evaluation, file: CaseFile, roles: [Int]? = nil) {
            self.incident = incident
            self.evaluation = evaluation
            self.file = file
            self.roles = roles
        }
    }

    public static func ics(_ entries: [Entry], at: Instant, link: ((String) -> String)? = nil) -> String {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Rulebook//Deadlines//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
                     "X-WR-CALNAME:Rulebook deadlines"]
        let stamp = utc(at)
        for entry in entries {
            let evaluation = entry.evaluation
            let policy = evaluation.policy
            for status in evaluation.duties {
                guard let deadline = status.deadline else { continue }
                let duty = policy.duties[status.duty]
                if let roles = entry.roles, !roles.contains(where: { role in duty.roles.contains { policy.role(role, actsAs: $0) } }) { continue }
                let cancelled: Bool
                switch status.state {
                case .due, .overdue: cancelled = false
                case .done, .doneLate, .notApplicable: cancelled = true
                case .waiting, .unknown: continue
                }
                let who = duty.roles.map { policy.roles[$0].title }.joined(separator: " or ")
                let people = Reminder.people(in: duty.roles, policy: policy, file: entry.file)
                var description = "\(duty.title). Owed by \(who)" + (people.isEmpty ? "" : " (\(people.joined(separator: ", ")))")
                    + ". Deadline \(policy.clock.describe(deadline)) (\(policy.clock.identifier)). "
                    + "\(policy.title), \(duty.provenance.citation(in: policy.id)). Incident \(entry.incident)."
                if status.state == .done || status.state == .doneLate { description += " Done." }
                if status.state == .notApplicable { description += " No longer applies." }
                lines += ["BEGIN:VEVENT", "UID:\(entry.incident)-\(duty.id)@rulebook", "DTSTAMP:\(stamp)", "DTSTART:\(utc(deadline))",
                          "SEQUENCE:\(entry.file.events.count)", "STATUS:\(cancelled ? "CANCELLED" : "CONFIRMED")",
                          "SUMMARY:" + text((status.state == .overdue ? "OVERDUE: " : "") + "\(duty.title) (\(entry.incident))"),
                          "DESCRIPTION:" + text(description)]
                if let link { lines.append("URL:" + link(entry.incident)) }
                if !cancelled {
                    for point in policy.reminders?.points(forDuty: status.duty) ?? [] {
                        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:" + (point == 0 ? "PT0S" : "-" + ReminderPlan.iso(point)),
                                  "DESCRIPTION:" + text("\(duty.title) (\(entry.incident)) is due " + (point == 0 ? "now" : "in " + Durations.describe(point))),
                                  "END:VALARM"]
                    }
                }
                lines.append("END:VEVENT")
            }
        }
        lines.append("END:VCALENDAR")
        return lines.map(fold).joined(separator: "\r\n") + "\r\n"
    }

    /// `20261105T091400Z`.
    static func utc(_ instant: Instant) -> String {
        let text = Timestamp.format(instant)   // 2026-11-05T09:14:00Z (or with .mmm)
        let digits = text.prefix(19).filter { $0 != "-" && $0 != ":" }
        return String(digits) + "Z"
    }

    /// A TEXT value: backslash, semicolon, comma and newlines escaped.
    static func text(_ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case ";": out += "\\;"
            case ",": out += "\\,"
            case "\n", "\r\n": out += "\\n"
            case "\r": break
            default: out.append(c)
            }
        }
        return out
    }

    /// Lines longer than 75 octets folded (CRLF and a space), never inside a character.
    static func fold(_ line: String) -> String {
        var out = ""
        var count = 0
        for c in line {
            let size = String(c).utf8.count
            if count + size > 75 {
                out += "\r\n "
                count = 1
            }
            out.append(c)
            count += size
        }
        return out
    }
}
