import RulebookCore
import RulebookRegister

/// Something that happened to an incident that someone should hear about: a reminder
/// point reached before a deadline, a deadline passed, a duty done late, an audit finding.
/// Its key names it stably, so the same notice is never queued twice for a target.
public struct Notice: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// One of the policy's reminder points before a deadline was reached.
        case reminder
        /// A duty's deadline passed with the duty still owed.
        case overdue
        /// A duty was done after its deadline.
        case doneLate = "done_late"
        /// An audit finding that is a violation (a closed incident with a duty never done,
        /// a wrong role, a prohibited action, a missing reason...).
        case finding
    }

    public var kind: Kind
    public var key: String
    public var incident: String
    public var school: String?
    public var policy: Policy
    public var duty: Int?
    /// The roles whose holders should hear of it (a duty's roles); empty for a finding
    /// about no duty.
    public var roles: [Int]
    public var deadline: Instant?
    public var point: Int64?
    public var findingKind: String?
    public var clause: String
    /// One line, in words.
    public var message: String

    /// The notices an incident gives at `at`: for each owed duty the latest reminder point
    /// reached (or "overdue" once its deadline has passed), each duty done late, and each
    /// audit finding that is a violation.
    public static func of(incident: String, school: String?, policy: Policy, file: CaseFile, at: Instant) -> [Notice] {
        let report = Engine(policy: policy).audit(file, at: at)
        let evaluation = report.evaluation
        var out: [Notice] = []
        var covered = Set<Int>()
        for status in evaluation.duties {
            let duty = policy.duties[status.duty]
            let clause = duty.provenance.citation(in: policy.id)
            switch status.state {
            case .due:
                guard let deadline = status.deadline else { continue }
                let points = policy.reminders?.points(forDuty: status.duty) ?? []
                guard let reached = points.last(where: { at >= deadline - $0 }) else { continue }
                let left = deadline - at
                out.append(Notice(kind: .reminder, key: "reminder/\(incident)/\(duty.id)/\(ReminderPlan.iso(reached))", incident: incident,
                                  school: school, policy: policy, duty: status.duty, roles: duty.roles, deadline: deadline, point: reached,
                                  clause: clause,
                                  message: "\(incident): \(duty.title) is due by \(policy.clock.describe(deadline))"
                                      + (left > 0 ? " (in \(Durations.describe(left)))" : "") + " (\(clause))"))
            case .overdue:
                guard let deadline = status.deadline else { continue }
                covered.insert(status.duty)
                out.append(Notice(kind: .overdue, key: "overdue/\(incident)/\(duty.id)", incident: incident, school: school, policy: policy,
                                  duty: status.duty, roles: duty.roles, deadline: deadline, clause: clause,
                                  message: "\(incident): \(duty.title) is overdue: its deadline was \(policy.clock.describe(deadline)) (\(clause))"))
            case .doneLate:
                covered.insert(status.duty)
                let done = status.doneAt.map { " on \(policy.clock.describe($0))" } ?? ""
                out.append(Notice(kind: .doneLate, key: "done_late/\(incident)/\(duty.id)", incident: incident, school: school, policy: policy,
                                  duty: status.duty, roles: duty.roles, deadline: status.deadline, clause: clause,
                                  message: "\(incident): \(duty.title) was done late\(done)"
                                      + (status.deadline.map { "; its deadline was \(policy.clock.describe($0))" } ?? "") + " (\(clause))"))
            default: continue
            }
        }
        for finding in report.findings where finding.severity == .error {
            // An overdue duty and a duty done late have their own notices.
            if let d = finding.duty, covered.contains(d), finding.kind == .missing || finding.kind == .late { continue }
            let subject = finding.duty.map { "d" + policy.duties[$0].id } ?? finding.event.map { "e\($0)" } ?? finding.action.map { "a" + policy.actions[$0].id } ?? "-"
            let roles = finding.duty.map { policy.duties[$0].roles } ?? []
            out.append(Notice(kind: .finding, key: "finding/\(incident)/\(finding.kind.rawValue)/\(subject)", incident: incident, school: school,
                              policy: policy, duty: finding.duty, roles: roles, findingKind: finding.kind.rawValue,
                              clause: finding.clause, message: "\(incident): \(finding.message)"))
        }
        return out
    }

    /// The JSON a webhook receives.
    public func json(at: Instant, baseURL: String?) -> String {
        var w = JSONWriter(pretty: false)
        w.object { w in
            w.field("id", string: key)
            w.field("kind", string: kind.rawValue)
            w.field("at", string: Timestamp.format(at))
            w.field("incident", string: incident)
            w.field("school", string: school)
            w.field("policy", string: policy.id)
            if let duty {
                let d = policy.duties[duty]
                w.field("duty") { w in
                    w.object { w in
                        w.field("id", string: d.id)
                        w.field("title", string: d.title)
                    }
                }
            }
            w.field("roles") { $0.array(strings: roles.map { policy.roles[$0].id }) }
            w.field("deadline", string: deadline.map { Timestamp.format($0) })
            w.field("deadline_local", string: deadline.map { policy.clock.describe($0) })
            w.field("time_zone", string: policy.clock.identifier)
            w.field("reminder_point", string: point.map { ReminderPlan.iso($0) })
            w.field("finding", string: findingKind)
            w.field("clause", string: clause)
            w.field("message", string: message)
            w.field("url", string: baseURL.map { Self.link(base: $0, incident: incident) })
        }
        return w.text
    }

    static func link(base: String, incident: String) -> String {
        (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/api/v1/incidents/" + incident
    }

    /// The mail: RFC 5322 with CRLF line ends, UTF-8 text, the subject encoded when it is
    /// not ASCII (RFC 2047).
    public func mail(from: String, to: String, at: Instant, baseURL: String?) -> String {
        let subject = "[Rulebook] " + message
        let encoded = subject.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 32 } ? subject : Self.encodedWords(subject)
        var body = message + "\n"
        if let deadline { body += "\nDeadline: \(policy.clock.describe(deadline)) (\(policy.clock.identifier))" }
        if let duty { body += "\nDuty: \(policy.duties[duty].title)" }
        if !roles.isEmpty { body += "\nFor: " + roles.map { policy.roles[$0].title }.joined(separator: ", ") }
        body += "\nPolicy: \(policy.title) (\(clause))"
        if let baseURL { body += "\n\n" + Self.link(base: baseURL, incident: incident) }
        body += "\n\nSent by Rulebook. Answer the duty by recording it; this message is not a record.\n"
        let headers = [
            "From: <\(from)>", "To: <\(to)>", "Subject: \(encoded)", "Date: \(Self.rfc5322Date(at))",
            "Message-ID: <\(Register.sha256Hex(key + "\u{0}" + to).prefix(32))@rulebook>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "X-Rulebook-Notice: \(key)",
        ]
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            // A line of one dot ends the message in SMTP; curl escapes it, but keep lines short of the 998 limit.
            String(line.prefix(900))
        }
        return (headers + [""] + lines).joined(separator: "\r\n")
    }

    /// RFC 2047 encoded words of at most 60 characters (36 bytes of UTF-8 each, never
    /// splitting a character), folded onto continuation lines.
    static func encodedWords(_ text: String) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        for c in text {
            let bytes = Array(String(c).utf8)
            if chunk.count + bytes.count > 36 {
                words.append("=?UTF-8?B?" + Base64.encode(chunk) + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?" + Base64.encode(chunk) + "?=") }
        return words.joined(separator: "\r\n ")
    }

    static func rfc5322Date(_ at: Instant) -> String {
        let days = Int(at >= 0 ? at / 86_400_000 : (at - 86_399_999) / 86_400_000)
        let civil = Timestamp.civilFromDays(days)
        let ms = at - Int64(days) * 86_400_000
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((days % 7) + 7) % 7]
        let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][civil.month - 1]
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(weekday), \(civil.day) \(month) \(civil.year) \(two(ms / 3_600_000)):\(two(ms / 60_000 % 60)):\(two(ms / 1000 % 60)) +0000"
    }
}

/// Base64 (RFC 4648), for encoded mail headers.
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
