import GRDB
import RulebookCore

/// What `verify` found.
public struct VerifyReport: Sendable {
    /// Incidents and events checked.
    public var incidents = 0
    public var events = 0
    /// The head: how many records the ledger holds and its last hash. An auditor who
    /// notes these can later tell whether the register was rewritten from scratch.
    public var headRecords: Int64 = 0
    public var headHash = Hashing.genesis
    /// Problems in register order; the first is the first bad record.
    public var problems: [String] = []

    /// True when every record checks out.
    public var isIntact: Bool { problems.isEmpty }
}

/// Rows as `verify` reads them: every column optional, so a damaged value (NULL, the
/// wrong type) is reported as tampering instead of stopping the process.
private struct LedgerRow {
    var gseq: Int64?, kind: String?, ref: Int64?, recordHash: String?, hash: String?
    init(_ row: Row) {
        gseq = row.value("gseq"); kind = row.value("kind"); ref = row.value("ref")
        recordHash = row.value("record_hash"); hash = row.value("hash")
    }
}

private struct IncidentRow {
    var seq: Int64?, number: String?, year: Int?, policySHA: String?, policyID: String?, school: String?, openedAt: Int64?
    var facts: String?, hash: String?
    init(_ row: Row) {
        seq = row.value("seq"); number = row.value("number"); year = row.value("year"); policySHA = row.value("policy_sha256")
        policyID = row.value("policy_id"); school = row.value("school"); openedAt = row.value("opened_at")
        facts = row.value("facts"); hash = row.value("hash")
    }
}

private struct EventRow {
    var seq: Int64?, incident: Int64?, position: Int?, at: Int64?, recordedAt: Int64?, body: String?, prevHash: String?
    var hash: String?
    init(_ row: Row) {
        seq = row.value("seq"); incident = row.value("incident_seq"); position = row.value("position"); at = row.value("at")
        recordedAt = row.value("recorded_at"); body = row.value("body"); prevHash = row.value("prev_hash"); hash = row.value("hash")
    }
}

extension Register {
    /// Checks every hash chain: each incident's and event's hash against its content, each
    /// event against the one before it in its incident, the ledger link by link, and the
    /// head. Detects an edited, deleted, inserted or reordered event or incident. With
    /// `incident`, problems are reported for that incident (and the ledger) only.
    public func verify(incident only: String? = nil) throws -> VerifyReport {
        try read { db in
            var report = VerifyReport()
            if let only, try Row.fetchOne(db, sql: "SELECT 1 FROM incident WHERE number = ?", arguments: [only]) == nil {
                throw RegisterError("the register has no incident \(only)", hint: "rulebook list shows the incidents")
            }
            func problem(_ text: String, incident number: String?) {
                if only == nil || number == nil || number == only { report.problems.append(text) }
            }
            // Three cursors walked side by side, all in append order.
            let ledger = try Row.fetchCursor(db, sql: "SELECT * FROM ledger ORDER BY gseq").map(LedgerRow.init)
            let incidents = try Row.fetchCursor(db, sql: "SELECT * FROM incident ORDER BY seq").map(IncidentRow.init)
            let events = try Row.fetchCursor(db, sql: "SELECT * FROM event ORDER BY seq").map(EventRow.init)
            var nextIncident = try incidents.next()
            var nextEvent = try events.next()
            var chains: [Int64: (number: String, position: Int, hash: String)] = [:]
            var expected: Int64 = 1
            var previous = Hashing.genesis
            while let entry = try ledger.next() {
                guard let gseq = entry.gseq, let kind = entry.kind, let ref = entry.ref, let recordHash = entry.recordHash,
                      let hash = entry.hash
                else {
                    problem("ledger record #\(expected) was altered: it is unreadable", incident: nil)
                    expected += 1
                    continue
                }
                if gseq != expected {
                    problem("ledger record #\(expected)\(gseq > expected + 1 ? "–#\(gseq - 1)" : "") is missing: records were deleted", incident: nil)
                }
                if Hashing.link(previous, recordHash) != hash {
                    problem("ledger record #\(gseq) does not follow the one before it: the ledger was altered", incident: nil)
                }
                previous = hash
                expected = gseq + 1
                if kind == "incident" {
                    while let row = nextIncident, let seq = row.seq, seq < ref {
                        problem("incident \(row.number ?? "#\(seq)") is not in the ledger: it was inserted", incident: row.number)
                        nextIncident = try incidents.next()
                    }
                    guard let row = nextIncident, row.seq == ref else {
                        problem("the incident of ledger record #\(gseq) is missing: it was deleted", incident: nil)
                        continue
                    }
                    nextIncident = try incidents.next()
                    guard let number = row.number, let year = row.year, let sha = row.policySHA, let policyID = row.policyID,
                          let opened = row.openedAt, let facts = row.facts, let stored = row.hash
                    else {
                        problem("incident #\(ref) was edited: its record is unreadable", incident: row.number)
                        continue
                    }
                    if only == nil || only == number { report.incidents += 1 }
                    let computed = Hashing.link(Hashing.genesis, Register.incidentEnvelope(
                        number: number, year: year, policySHA: sha, policyID: policyID, school: row.school, openedAt: opened,
                        facts: facts))
                    if computed != stored || computed != recordHash {
                        problem("incident \(number) was edited: its record does not match its hash", incident: number)
                    }
                    chains[ref] = (number, 0, stored)
                } else {
                    while let row = nextEvent, let seq = row.seq, seq < ref {
                        let owner = row.incident.flatMap { chains[$0]?.number }
                        problem("event \(row.position.map(String.init) ?? "?") of \(owner ?? "an unknown incident") is not in the ledger: it was inserted", incident: owner)
                        nextEvent = try events.next()
                    }
                    guard let row = nextEvent, row.seq == ref else {
                        problem("the event of ledger record #\(gseq) is missing: it was deleted", incident: nil)
                        continue
                    }
                    nextEvent = try events.next()
                    guard let owner = row.incident, var chain = chains[owner] else {
                        problem("the event of ledger record #\(gseq) belongs to no incident in the ledger: it was altered", incident: nil)
                        continue
                    }
                    guard let position = row.position, let at = row.at, let recordedAt = row.recordedAt, let body = row.body,
                          let prevHash = row.prevHash, let stored = row.hash
                    else {
                        problem("an event of \(chain.number) (ledger record #\(gseq)) was edited: its record is unreadable", incident: chain.number)
                        continue
                    }
                    if only == nil || only == chain.number { report.events += 1 }
                    let name = "event \(position) of \(chain.number)"
                    if position != chain.position + 1 {
                        problem("\(name) comes after event \(chain.position): events were deleted, inserted or reordered", incident: chain.number)
                    } else if prevHash != chain.hash {
                        problem("\(name) does not follow the event before it: the trail was altered before it", incident: chain.number)
                    }
                    let computed = Hashing.link(prevHash, Register.eventEnvelope(
                        number: chain.number, position: position, at: at, recordedAt: recordedAt, body: body))
                    if computed != stored || computed != recordHash {
                        problem("\(name) was edited: its record does not match its hash", incident: chain.number)
                    }
                    chain.position = position
                    chain.hash = stored
                    chains[owner] = chain
                }
            }
            while let row = nextIncident {
                problem("incident \(row.number ?? "#?") is not in the ledger: it was inserted", incident: row.number)
                nextIncident = try incidents.next()
            }
            while let row = nextEvent {
                let owner = row.incident.flatMap { chains[$0]?.number }
                problem("event \(row.position.map(String.init) ?? "?") of \(owner ?? "an unknown incident") is not in the ledger: it was inserted", incident: owner)
                nextEvent = try events.next()
            }
            if let head = try Row.fetchOne(db, sql: "SELECT gseq, hash FROM head WHERE id = 1"),
               let records: Int64 = head.value("gseq"), let hash: String = head.value("hash")
            {
                report.headRecords = records
                report.headHash = hash
                if records != expected - 1 || hash != previous {
                    problem("the register's head (record #\(records)) does not match its last record (#\(expected - 1)): the latest records were deleted or the head was altered", incident: nil)
                }
            } else {
                problem("the register's head is missing or unreadable: it was altered", incident: nil)
            }
            return report
        }
    }
}
