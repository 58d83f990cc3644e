import Foundation
import GRDB
import RulebookCore
import RulebookYAML

/// One incident's line in `rulebook list`: what it is and what is owed next, without
/// keeping its whole evaluation (a large register lists a hundred thousand of them).
public struct IncidentStatus: Sendable {
    public var summary: Register.Summary
    public var policy: Policy
    public var closedAt: Instant?
    public var overdue: Int
    /// The earliest deadline among duties due or overdue, with its duty.
    public var next: (deadline: Instant, duty: Int)?
    /// Duties owed whose deadline cannot be computed yet.
    public var clockUnknown: [Int]
}

extension IncidentStatus {
    /// One incident as `rulebook list --format json` and the server's incident list give it.
    public func writeJSON(_ w: inout JSONWriter) {
        let p = policy
        w.object { w in
            w.field("number", string: summary.number)
            w.field("policy", string: summary.policyID)
            w.field("policy_sha256", string: summary.policySHA256)
            w.field("school", string: summary.school)
            w.field("opened_at", string: p.clock.format(summary.openedAt))
            w.field("closed_at", string: closedAt.map(p.clock.format))
            w.field("overdue", int: overdue)
            w.field("next_deadline", string: next.map { p.clock.format($0.deadline) })
            w.field("next_duty", string: next.map { p.duties[$0.duty].id })
            w.field("next_role", string: next.map { p.roles[p.duties[$0.duty].roles[0]].id })
            w.field("clock_unknown") { $0.array(strings: clockUnknown.map { p.duties[$0].id }) }
        }
    }
}

extension Register {
    /// Every incident (filtered by policy id and school) evaluated at `at`, in one read of
    /// the register: incidents and events are each read once, in order, pinned policies are
    /// compiled once per pin, and each incident's events are decoded by the fast reader
    /// where they are in its shape. The same answers as reading each incident on its own
    /// (`incident(_:)`), which the tests check.
    public func statuses(policy wanted: String? = nil, school: String? = nil, at: Instant) throws -> [IncidentStatus] {
        var out: [IncidentStatus] = []
        try statuses(policy: wanted, school: school, at: at) { out.append($0) }
        return out
    }

    /// The same, handing each incident to `body` as it is evaluated, so a listing of a
    /// hundred thousand incidents holds one at a time.
    public func statuses(policy wanted: String? = nil, school: String? = nil, at: Instant,
                         _ body: (IncidentStatus) throws -> Void) throws {
        try cases(policy: wanted, school: school) { summary, policy, file in
            let evaluation = Engine(policy: policy).evaluate(file, at: at)
            try body(IncidentStatus(
                summary: summary, policy: policy, closedAt: evaluation.closedAt, overdue: evaluation.overdueCount,
                next: evaluation.nextDeadline, clockUnknown: evaluation.clockUnknownDuties))
        }
    }

    /// Every incident (filtered by policy id and school) as its case file under its pinned
    /// policy, in one read of the register, handed to `body` one at a time.
    public func cases(policy wanted: String? = nil, school: String? = nil,
                      _ body: (Summary, Policy, CaseFile) throws -> Void) throws {
        try read { db in
            let (sql, arguments) = Self.incidentQuery("seq, number, policy_id, policy_sha256, school, opened_at, facts",
                                                      policy: wanted, school: school)
            let incidents = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            // Events are read in place (SQLite's own buffers), not copied into strings: a
            // large register has a million of them.
            let events = try RawCursor(db, "SELECT incident_seq, at, recorded_at, body FROM event ORDER BY incident_seq, position")
            var hasEvent = try events.step()
            var readers: [String: FastCaseDecoder] = [:]
            while let row = try incidents.next() {
                guard let seq: Int64 = row[0], let number: String = row[1], let sha: String = row[3], let factsJSON: String = row[6],
                      let policyID: String = row[2], let openedAt: Int64 = row[5]
                else { throw RegisterError("an incident of the register is unreadable; run rulebook verify") }
                let policy = try pinnedPolicy(sha, db: db)
                let reader = readers[sha] ?? FastCaseDecoder(policy: policy)
                readers[sha] = reader
                var file = CaseFile(policyID: policy.id, incident: number)
                // The fast reader takes a case's facts as a one-line case; the full one the rest.
                let wrapped = Array(("{\"facts\":" + factsJSON + "}").utf8)
                if let fast = wrapped.withUnsafeBufferPointer({ reader.decode($0) }) {
                    file.facts = fast.facts
                } else {
                    file.facts = try Self.facts(factsJSON, of: number, policy: policy)
                }
                // Events of incidents filtered out are skipped; this one's are decoded.
                while hasEvent, let owner = events.int(0), owner < seq { hasEvent = try events.step() }
                while hasEvent, let owner = events.int(0), owner == seq {
                    guard let body = events.text(3), let eventAt = events.int(1), let recordedAt = events.int(2) else {
                        throw RegisterError("an event of \(number) is unreadable; run rulebook verify")
                    }
                    var decoded = reader.decodeEvent(body)
                    if decoded == nil {
                        let text = String(decoding: body, as: UTF8.self)
                        let (slow, diagnostics) = JSONReader.read(text, file: number).root.map { CaseLoader.event($0, policy: policy) } ?? (nil, [])
                        guard let slow else {
                            throw RegisterError("incident \(number)'s trail no longer reads under its pinned policy; run rulebook verify",
                                                diagnostics: diagnostics)
                        }
                        decoded = slow
                    }
                    var parsed = decoded!
                    parsed.recordedAt = Register.recordedLater(at: eventAt, recordedAt: recordedAt)
                    file.events.append(parsed)
                    hasEvent = try events.step()
                }
                file.orderByTime()
                try body(Summary(number: number, policyID: policyID, policySHA256: sha, school: row[4], openedAt: openedAt), policy, file)
            }
        }
    }
}
