import Dispatch
import Foundation
import GRDB
import GRDBSQLite
import RulebookCore
import RulebookYAML

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
    /// Whether the records were checked against signed checkpoints (with a public key);
    /// without, only unsigned integrity was checked, which a careful forger can redo.
    public var signaturesChecked = false
    /// Signed checkpoints found valid.
    public var checkpoints = 0

    public init() {}
}

/// An incident read back for an audit, in the same pass as the verification of the
/// register's chains: its case and what the verification found.
public struct VerifiedIncident: Sendable {
    public var number: String
    public var policyID: String
    public var policySHA256: String
    public var school: String?
    public var openedAt: Instant
    /// The facts at opening and the trail, read against the pinned policy.
    public var file: CaseFile
    /// The register's chains checked, with problems for this incident and the ledger.
    public var verification: VerifyReport
}

extension Register {
    /// Checks every hash chain: each incident's and event's hash against its content, each
    /// event against the one before it in its incident, the ledger link by link, and the
    /// head. Detects an edited, deleted, inserted or reordered event or incident. With
    /// `incident`, problems are reported for that incident (and the ledger) only.
    public func verify(incident only: String? = nil, publicKey: [UInt8]? = nil) throws -> VerifyReport {
        try read { db in
            if let only, try Row.fetchOne(db, sql: "SELECT 1 FROM incident WHERE number = ?", arguments: [only]) == nil {
                throw RegisterError("the register has no incident \(only)", hint: "rulebook list shows the incidents", status: .notFound)
            }
            var report = try ChainWalk(db: db, only: only, collect: nil).run()
            if let publicKey { try Self.checkSignatures(&report, publicKey: publicKey, db: db) }
            return report
        }
    }

    /// Checks the ledger against every checkpoint signed with `publicKey`: a record whose
    /// hash differs from a signed head (a rewrite), a head behind the last signed one (a
    /// truncation), and records after the last signed head (appended without the key).
    static func checkSignatures(_ report: inout VerifyReport, publicKey: [UInt8], db: Database) throws {
        report.signaturesChecked = true
        var signed: Int64 = 0
        var problems: [String] = []
        for checkpoint in try checkpoints(db) {
            guard checkpoint.isSigned(by: publicKey) else {
                problems.append("the checkpoint of record #\(checkpoint.records) is not signed by this key: it was forged or altered")
                continue
            }
            report.checkpoints += 1
            signed = max(signed, checkpoint.records)
            let stored: String? = try Row.fetchOne(db, sql: "SELECT hash FROM ledger WHERE gseq = ?", arguments: [checkpoint.records])?["hash"]
            if stored == nil {
                problems.append("ledger record #\(checkpoint.records), signed at \(Timestamp.format(checkpoint.at)), is gone: the register was truncated")
            } else if stored != checkpoint.hash {
                problems.append("ledger record #\(checkpoint.records) differs from the head signed at \(Timestamp.format(checkpoint.at)): the register was rewritten up to there")
            }
        }
        if report.headRecords < signed {
            problems.append("the register's head is record #\(report.headRecords), behind the signed head #\(signed): records were removed")
        } else if report.headRecords > signed {
            problems.append("records #\(signed + 1)–#\(report.headRecords) are not covered by a checkpoint signed with this key: record #\(signed + 1) onwards was appended without it")
        }
        report.problems += problems
    }

    /// The incident, its trail decoded against its pinned policy, and the register's
    /// chains verified, in one read of the register: what an audit of a register incident
    /// rests on. A trail that no longer reads under its policy is an error; tampering is
    /// in the report.
    public func verifiedIncident(_ number: String) throws -> (VerifiedIncident, Policy) {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM incident WHERE number = ?", arguments: [number]) else {
                throw RegisterError("the register has no incident \(number)", hint: "rulebook list shows the incidents", status: .notFound)
            }
            let seq: Int64 = try row.required("seq", in: number)
            let sha: String = try row.required("policy_sha256", in: number)
            let policy = try pinnedPolicy(sha, db: db)
            let factsJSON: String = try row.required("facts", in: number)
            var file = CaseFile(policyID: policy.id, incident: number)
            file.facts = try Self.facts(factsJSON, of: number, policy: policy)
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event WHERE incident_seq = ?", arguments: [seq]) ?? 0
            let collector = TrailCollector(policy: policy, number: number, capacity: count)
            let report = try ChainWalk(db: db, only: number, collect: (seq, collector)).run()
            if report.isIntact, let problem = collector.problem { throw problem }
            file.events = collector.events
            file.orderByTime()
            let incident = VerifiedIncident(
                number: number, policyID: try row.required("policy_id", in: number), policySHA256: sha, school: row.value("school"),
                openedAt: try row.required("opened_at", in: number), file: file, verification: report)
            return (incident, policy)
        }
    }

    /// An incident's stored facts, read against its policy.
    static func facts(_ json: String, of number: String, policy: Policy) throws -> [FactAssignment] {
        guard let facts = JSONReader.read(json, file: number).root else { return [] }
        let wrapped = Node(.mapping([Node.Pair(key: key("facts"), value: facts)]), span: facts.span)
        let (loaded, diagnostics) = CaseLoader.load(wrapped, policy: policy)
        guard let loaded else {
            throw RegisterError("incident \(number)'s facts no longer read under its pinned policy", diagnostics: diagnostics)
        }
        return loaded.facts
    }
}

/// Decodes the events of the incident being audited as the walk meets them.
private final class TrailCollector {
    let policy: Policy
    let number: String
    let fast: FastCaseDecoder
    var events: [Event] = []
    /// The first event that does not read.
    var problem: RegisterError?

    init(policy: Policy, number: String, capacity: Int) {
        self.policy = policy
        self.number = number
        fast = FastCaseDecoder(policy: policy)
        events.reserveCapacity(capacity)
    }

    func add(_ body: UnsafeBufferPointer<UInt8>, position: Int, recordedAt: Int64) {
        guard problem == nil else { return }
        var event = fast.decodeEvent(body)
        if event == nil {
            let read = JSONReader.read(bytes: body, file: "\(number) event \(position)")
            let (slow, diagnostics) = read.root.map { CaseLoader.event($0, policy: policy) } ?? (nil, read.diagnostics)
            guard let slow else {
                problem = RegisterError("incident \(number)'s trail no longer reads under its pinned policy; run rulebook verify",
                                        diagnostics: diagnostics.filter { $0.severity == .error })
                return
            }
            event = slow
        }
        event!.recordedAt = Register.recordedLater(at: event!.at, recordedAt: recordedAt)
        events.append(event!)
    }
}

/// One pass over the ledger, the incidents and the events, all in append order, side by
/// side, on SQLite's C API, in two stages that overlap on two cores:
///
/// - the reader steps the three cursors, checks the structure (numbering, order,
///   belonging, readability) and copies what the hashes need into batches;
/// - a worker recomputes each ledger link and each event's hash from those bytes, and
///   decodes the audited incident's events.
///
/// Every check uses stored values only, so no stage waits for another's answer; the
/// problems are put back in register order at the end (each carries the ledger record it
/// was found at, and the step of the walk that found it).
private struct ChainWalk {
    let db: Database
    let only: String?
    /// The incident (by seq) whose events are handed to the collector.
    let collect: (seq: Int64, collector: TrailCollector)?

    /// Where an incident's chain stands.
    private struct Chain {
        var number: String
        /// Index of its number, written as a JSON string, in the batches' table.
        var numberIndex: Int
        var position: Int
        /// The last record's stored hash (nil when it is not a hash at all).
        var hash: Hex64?
        /// Whether its problems are reported (and its hashes worth computing).
        var checked: Bool
    }

    func run() throws -> VerifyReport {
        var report = VerifyReport()
        let found = Findings()
        var gseq: Int64 = 0
        // Problems of other incidents, when one is verified: an event moved out of it shows
        // up in the incident it was moved to, so the one verified is not intact either.
        var elsewhere = 0
        func problem(_ step: Int, _ text: @autoclosure () -> String, incident number: String?) {
            if only == nil || number == nil || number == only {
                found.add(gseq, step, text())
            } else {
                elsewhere += 1
            }
        }
        let ledger = try RawCursor(db, "SELECT gseq, kind, ref, record_hash, hash FROM ledger ORDER BY gseq")
        let incidents = try RawCursor(
            db, "SELECT seq, number, year, policy_sha256, policy_id, school, opened_at, facts, hash FROM incident ORDER BY seq")
        let events = try RawCursor(
            db, "SELECT seq, incident_seq, position, at, recorded_at, body, prev_hash, hash FROM event ORDER BY seq")
        var hasIncident = try incidents.step()
        var hasEvent = try events.step()
        var chains: [Int64: Chain] = [:]
        var numbers: [[UInt8]] = []
        var expected: Int64 = 1
        var stepError: Error?
        // The last ledger hash, as stored (whatever it holds).
        var previous = Array(Hashing.genesis.utf8)
        let incidentKind = Array("incident".utf8)
        let worker = HashWorker(collect: collect?.collector)
        var batch = Batch()

        while try ledger.step() {
            guard let g = ledger.int(0), let kind = ledger.text(1), let ref = ledger.int(2), let recordHash = ledger.text(3),
                  let hash = ledger.text(4)
            else {
                gseq = expected
                problem(0, "ledger record #\(expected) was altered: it is unreadable", incident: nil)
                expected += 1
                continue
            }
            gseq = g
            if g != expected {
                problem(0, "ledger record #\(expected)\(g > expected + 1 ? "–#\(g - 1)" : "") is missing: records were deleted", incident: nil)
            }
            // The link is checked by the worker (step 1).
            var record = Batch.Record(
                gseq: g, linkPrevious: previous.withUnsafeBufferPointer { Hex64($0) }, recordHash: Hex64(recordHash), linkHash: Hex64(hash))
            previous.removeAll(keepingCapacity: true)
            previous.append(contentsOf: hash)
            expected = g + 1
            if RawCursor.equal(kind, incidentKind) {
                defer { batch.add(record) }
                while hasIncident, let seq = incidents.int(0), seq < ref {
                    let number = incidents.string(1)
                    problem(2, "incident \(number ?? "#\(seq)") is not in the ledger: it was inserted", incident: number)
                    hasIncident = try incidents.step()
                }
                guard hasIncident, incidents.int(0) == ref else {
                    problem(3, "the incident of ledger record #\(g) is missing: it was deleted", incident: nil)
                    continue
                }
                defer {
                    do { hasIncident = try incidents.step() } catch { stepError = error; hasIncident = false }
                }
                guard let number = incidents.string(1), let year = incidents.int(2), let sha = incidents.string(3),
                      let policyID = incidents.string(4), let opened = incidents.int(6), let facts = incidents.string(7),
                      let stored = incidents.text(8)
                else {
                    problem(4, "incident #\(ref) was edited: its record is unreadable", incident: incidents.string(1))
                    continue
                }
                let school = incidents.string(5)
                let checked = only == nil || only == number
                if checked {
                    report.incidents += 1
                    let computed = Hex64(Hashing.link(Hashing.genesis, Register.incidentEnvelope(
                        number: number, year: Int(year), policySHA: sha, policyID: policyID, school: school, openedAt: opened,
                        facts: facts)))!
                    if !computed.matches(stored) || !computed.matches(recordHash) {
                        problem(4, "incident \(number) was edited: its record does not match its hash", incident: number)
                    }
                }
                numbers.append(Envelope.jsonString(number))
                chains[ref] = Chain(number: number, numberIndex: numbers.count - 1, position: 0, hash: Hex64(stored), checked: checked)
            } else {
                defer {
                    batch.add(record)
                    if batch.isFull {
                        worker.submit(batch, numbers: numbers)
                        batch = Batch()
                    }
                }
                while hasEvent, let seq = events.int(0), seq < ref {
                    let owner = events.int(1).flatMap { chains[$0]?.number }
                    problem(2, "event \(events.int(2).map { String($0) } ?? "?") of \(owner ?? "an unknown incident") is not in the ledger: it was inserted", incident: owner)
                    hasEvent = try events.step()
                }
                guard hasEvent, events.int(0) == ref else {
                    problem(3, "the event of ledger record #\(g) is missing: it was deleted", incident: nil)
                    continue
                }
                defer {
                    do { hasEvent = try events.step() } catch { stepError = error; hasEvent = false }
                }
                guard let owner = events.int(1), var chain = chains[owner] else {
                    problem(3, "the event of ledger record #\(g) belongs to no incident in the ledger: it was altered", incident: nil)
                    continue
                }
                // Every chain is walked, even when one incident is asked about: an event
                // moved out of it shows only in the incident it was moved to.
                guard let position = events.int(2), let at = events.int(3), let recordedAt = events.int(4),
                      let body = events.text(5), let prevHash = events.text(6), let stored = events.text(7)
                else {
                    problem(4, "an event of \(chain.number) (ledger record #\(g)) was edited: its record is unreadable", incident: chain.number)
                    continue
                }
                if chain.checked { report.events += 1 }
                if Int(position) != chain.position + 1 {
                    problem(4, "event \(position) of \(chain.number) comes after event \(chain.position): events were deleted, inserted or reordered", incident: chain.number)
                } else if !(chain.hash?.matches(prevHash) ?? false) {
                    problem(4, "event \(position) of \(chain.number) does not follow the event before it: the trail was altered before it", incident: chain.number)
                }
                // The event's hash is the worker's (step 5).
                record.event = Batch.EventPart(
                    number: chain.numberIndex, label: chain.number, position: Int(position), at: at, recordedAt: recordedAt,
                    previous: Hex64(prevHash), stored: Hex64(stored), collect: collect?.seq == owner)
                record.body = batch.append(body)
                chain.position = Int(position)
                chain.hash = Hex64(stored)
                chains[owner] = chain
            }
        }
        worker.submit(batch, numbers: numbers)
        if let stepError { throw stepError }
        gseq = .max
        while hasIncident {
            let number = incidents.string(1)
            problem(0, "incident \(number ?? "#?") is not in the ledger: it was inserted", incident: number)
            hasIncident = try incidents.step()
        }
        while hasEvent {
            let owner = events.int(1).flatMap { chains[$0]?.number }
            problem(0, "event \(events.int(2).map { String($0) } ?? "?") of \(owner ?? "an unknown incident") is not in the ledger: it was inserted", incident: owner)
            hasEvent = try events.step()
        }
        if let head = try Row.fetchOne(db, sql: "SELECT gseq, hash FROM head WHERE id = 1"),
           let records: Int64 = head.value("gseq"), let hash: String = head.value("hash")
        {
            report.headRecords = records
            report.headHash = hash
            if records != expected - 1 || Array(hash.utf8) != previous {
                problem(0, "the register's head (record #\(records)) does not match its last record (#\(expected - 1)): the latest records were deleted or the head was altered", incident: nil)
            }
        } else {
            problem(0, "the register's head is missing or unreadable: it was altered", incident: nil)
        }
        worker.finish()
        // The worker's problems are the ledger's, or those of incidents being checked.
        for finding in worker.findings {
            gseq = finding.gseq
            problem(finding.step, finding.text, incident: finding.incident)
        }
        // Pinned policies: each stored lineage must still hash to its pin, and every
        // incident's pin must be there. (An altered pin would change how an incident is
        // judged without touching its records.)
        gseq = Int64.max
        var pins: [String: Bool] = [:]   // sha -> intact
        for row in try Row.fetchAll(db, sql: "SELECT sha256, policy_id, lineage FROM policy_pin") {
            guard let sha: String = row.value("sha256") else { continue }
            let text: String? = row.value("lineage")
            let items = text.flatMap { JSONReader.read($0, file: "pinned policy", requireMapping: false).root?.sequence } ?? []
            let lineage = Register.pinnedLineage(items)
            pins[sha] = !items.isEmpty && lineage.count == items.count && Register.pinHash(lineage) == sha
        }
        for row in try Row.fetchAll(db, sql: "SELECT number, policy_sha256 FROM incident ORDER BY seq") {
            guard let number: String = row.value("number"), let sha: String = row.value("policy_sha256") else { continue }
            switch pins[sha] {
            case nil:
                problem(6, "the policy \(number) was opened under (\(sha.prefix(12))) is missing from the register: it was deleted", incident: number)
            case false?:
                problem(6, "the policy \(number) was opened under (\(sha.prefix(12))) was altered: its stored text does not match its SHA-256", incident: number)
            default:
                break
            }
        }
        if let only, elsewhere > 0 {
            found.add(Int64.max, 7, "the register has \(elsewhere) problem\(elsewhere == 1 ? "" : "s") outside \(only) (records moved, edited or inserted elsewhere), so \(only)'s records cannot be shown complete; run rulebook verify for the whole register")
        }
        report.problems = found.inRegisterOrder
        return report
    }
}

/// Problems with where the walk found them: the ledger record, then the step of the walk
/// (0 numbering, 1 the ledger link, 2 inserted rows, 3 deleted rows, 4 the record's own
/// columns, 5 its hash), so problems found by two stages sort back into one order.
private final class Findings: @unchecked Sendable {
    private var items: [(gseq: Int64, step: Int, order: Int, text: String)] = []

    func add(_ gseq: Int64, _ step: Int, _ text: String) {
        items.append((gseq, step, items.count, text))
    }

    var inRegisterOrder: [String] {
        items.sorted { ($0.gseq, $0.step, $0.order) < ($1.gseq, $1.step, $1.order) }.map(\.text)
    }
}

/// What the worker needs of a run of ledger records: plain values and the event bodies'
/// bytes, copied out of SQLite's pages.
private struct Batch: @unchecked Sendable {
    struct EventPart {
        var number: Int
        var label: String
        var position: Int
        var at: Instant
        var recordedAt: Instant
        var previous: Hex64?
        var stored: Hex64?
        var collect: Bool
    }

    struct Record {
        var gseq: Int64
        var linkPrevious: Hex64?
        var recordHash: Hex64?
        var linkHash: Hex64?
        var event: EventPart?
        var body: Range<Int> = 0..<0
    }

    var records: [Record] = []
    var bodies: [UInt8] = []

    init() {
        records.reserveCapacity(Self.capacity)
        bodies.reserveCapacity(Self.capacity * 256)
    }

    static let capacity = 4096
    var isFull: Bool { records.count >= Self.capacity }

    mutating func add(_ record: Record) { records.append(record) }

    mutating func append(_ body: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        let start = bodies.count
        bodies.append(contentsOf: body)
        return start..<bodies.count
    }
}

/// The second stage: hashes and decoding, on its own thread, batch after batch in order.
private final class HashWorker: @unchecked Sendable {
    private let queue = DispatchQueue(label: "rulebook.verify")
    /// At most this many batches wait, so memory stays bounded however long the ledger.
    private let slots = DispatchSemaphore(value: 8)
    private let collector: TrailCollector?
    /// (ledger record, step, problem): touched only on `queue`, read after `finish`.
    private(set) var findings: [(gseq: Int64, step: Int, text: String, incident: String?)] = []

    init(collect collector: TrailCollector?) { self.collector = collector }

    func submit(_ batch: Batch, numbers: [[UInt8]]) {
        guard !batch.records.isEmpty else { return }
        slots.wait()
        queue.async { [self] in
            process(batch, numbers: numbers)
            slots.signal()
        }
    }

    func finish() { queue.sync {} }

    private func process(_ batch: Batch, numbers: [[UInt8]]) {
        var envelope: [UInt8] = []
        envelope.reserveCapacity(4096)
        batch.bodies.withUnsafeBufferPointer { bodies in
            for record in batch.records {
                let linked = record.linkPrevious.map { p in p.withBytes { p in record.recordHash.map { r in r.withBytes { Hashing.link(p, $0) } } } } ?? nil
                if linked == nil || linked != record.linkHash {
                    findings.append((record.gseq, 1, "ledger record #\(record.gseq) does not follow the one before it: the ledger was altered", nil))
                }
                guard let event = record.event else { continue }
                let body = UnsafeBufferPointer(rebasing: bodies[record.body])
                numbers[event.number].withUnsafeBufferPointer { number in
                    Envelope.event(number: number, position: event.position, at: event.at, recordedAt: event.recordedAt,
                                   body: body, into: &envelope)
                }
                let computed = event.previous.map { p in p.withBytes { p in envelope.withUnsafeBufferPointer { Hashing.link(p, $0) } } }
                if computed == nil || computed != event.stored || computed != record.recordHash {
                    findings.append((record.gseq, 5, "event \(event.position) of \(event.label) was edited: its record does not match its hash", event.label))
                }
                if event.collect { collector?.add(body, position: event.position, recordedAt: event.recordedAt) }
            }
        }
    }
}

/// A statement stepped by hand through SQLite's C API, its columns read in place: a NULL
/// or a value of the wrong storage type reads as nil (a damaged record), never a trap.
/// Column bytes are valid until the next step.
final class RawCursor {
    private let statement: Statement
    private var sqlite: OpaquePointer { statement.sqliteStatement }

    init(_ db: Database, _ sql: String) throws {
        statement = try db.makeStatement(sql: sql)
    }

    /// Moves to the next row; false at the end.
    func step() throws -> Bool {
        switch sqlite3_step(sqlite) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code:
            throw RegisterError("cannot read the register: \(String(cString: sqlite3_errstr(code)))")
        }
    }

    func int(_ column: Int32) -> Int64? {
        sqlite3_column_type(sqlite, column) == SQLITE_INTEGER ? sqlite3_column_int64(sqlite, column) : nil
    }

    func text(_ column: Int32) -> UnsafeBufferPointer<UInt8>? {
        guard sqlite3_column_type(sqlite, column) == SQLITE_TEXT else { return nil }
        // As a blob: the bytes in place (as text, SQLite copies them to add a NUL).
        let count = Int(sqlite3_column_bytes(sqlite, column))
        guard count > 0 else { return UnsafeBufferPointer(start: Self.empty, count: 0) }
        guard let bytes = sqlite3_column_blob(sqlite, column) else { return nil }
        return UnsafeBufferPointer(start: bytes.assumingMemoryBound(to: UInt8.self), count: count)
    }

    /// A valid address for an empty text.
    private static var empty: UnsafePointer<UInt8> { ("" as StaticString).utf8Start }

    func string(_ column: Int32) -> String? {
        text(column).flatMap { String(validating: $0, as: UTF8.self) }
    }

    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: [UInt8]) -> Bool {
        a.count == b.count && b.withUnsafeBufferPointer { memcmp(a.baseAddress!, $0.baseAddress!, a.count) == 0 }
    }

    deinit { sqlite3_reset(statement.sqliteStatement) }
}

extension VerifyReport {
    /// The report as `rulebook verify --format json` and the server give it.
    public func json(register: String) -> String {
        var w = JSONWriter(pretty: true)
        w.object { w in
            w.field("register", string: register)
            w.field("intact", bool: isIntact)
            w.field("incidents", int: incidents)
            w.field("events", int: events)
            w.field("head") { w in w.object { w in w.field("records", int: Int(headRecords)); w.field("hash", string: headHash) } }
            w.field("problems") { $0.array(strings: problems) }
            w.field("signatures_checked", bool: signaturesChecked)
            w.field("checkpoints", int: checkpoints)
        }
        return w.text + "\n"
    }
}
