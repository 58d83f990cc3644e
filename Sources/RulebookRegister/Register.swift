import Foundation
import GRDB
import RulebookCore
import RulebookDiagnostics
import RulebookYAML

/// Why a register operation was refused: what, where (diagnostics on the input), and a
/// hint. Nothing was written.
public struct RegisterError: Error, Sendable {
    /// What kind of refusal it is, for a server to answer with the right status.
    public enum Status: Sendable {
        /// Anything else: a damaged or unreadable register, an input it cannot take.
        case failed
        /// No such incident (or user).
        case notFound
        /// The register changed since the caller last read it, or the name is taken.
        case conflict
        /// The policy refuses it: an unknown action or role, a missing reason, facts that
        /// break a rule.
        case refusedByPolicy
        /// The input cannot be taken whatever the policy: a time in the future, an event
        /// over the size limit.
        case invalid
        /// The database that holds the register cannot be reached now (down, restarting,
        /// the link broken): worth trying again.
        case unavailable
    }

    public var message: String
    public var hint: String?
    public var diagnostics: [Diagnostic]
    public var status: Status
    /// What a server tells its clients in place of `message` and `hint` when they quote a
    /// database's own words, which name its host, port and users (its log has them).
    public var toClients: (message: String, hint: String)?

    public init(_ message: String, hint: String? = nil, diagnostics: [Diagnostic] = [], status: Status = .failed,
                toClients: (message: String, hint: String)? = nil) {
        self.message = message
        self.hint = hint
        self.diagnostics = diagnostics
        self.status = status
        self.toClients = toClients
    }
}

/// An incident as stored: its pinned policy and its records.
public struct StoredIncident: Sendable {
    public var number: String
    public var policyID: String
    public var policySHA256: String
    public var school: String?
    public var openedAt: Instant
    /// The case (facts and events) read back against the pinned policy.
    public var file: CaseFile
    /// The stored event bodies (JSON Lines records), in order.
    /// The events' stored bodies, in the same (time) order as `file.events`.
    public var bodies: [String]
    /// The stored facts object.
    public var factsJSON: String
}

/// The register: an SQLite file of incidents, each opened under a pinned policy, with an
/// append-only trail whose records are hash-chained per incident and in one ledger.
public final class Register: @unchecked Sendable {
    /// The file.
    public let path: String
    /// What the register is called in output: its file, or the database a copy was
    /// read from.
    public var name: String

    /// SQLite's synchronous level on the register's connection (2 is FULL: every commit
    /// is synced to disk before it returns).
    public func synchronousLevel() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }
    /// A pool for a writer (WAL: readers work beside the writer and each other, as the
    /// server's requests do), one connection for a read-only command.
    let queue: any DatabaseWriter
    private var pinned: [String: Policy] = [:]
    /// When set, every write ends by signing the new head of the ledger into the register.
    public var signingKey: SigningKey?
    private let lock = NSLock()
    /// Set when this file is a working copy of a register held elsewhere (see Replication).
    var replication: Replication?

    /// How a command uses the register.
    public enum Access: Sendable {
        /// Read only: never created, migrated or written (verify, list, audit, export...).
        case read
        /// Append to an existing register.
        case write
        /// Append, creating the register when there is no file.
        case create
    }

    /// Opens the register at `path`, creating it when `create` (otherwise a missing file
    /// is an error).
    public convenience init(path: String, create: Bool) throws {
        try self.init(path: path, access: create ? .create : .write)
    }

    /// Opens the register at `path`. A file that is not a register (empty, another
    /// application's database, one written by a newer Rulebook) is refused and left
    /// unchanged; a read opens it read-only.
    ///
    /// `durable: false` is for a working copy whose truth is elsewhere (PostgreSQL): its
    /// commits are not synced to disk, as the peer's are.
    public init(path: String, access: Access, durable: Bool = true) throws {
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists && access != .create {
            throw RegisterError("there is no register at '\(path)'",
                                hint: "open an incident first (rulebook open POLICY), or give --register PATH")
        }
        self.path = path
        self.name = path
        // An existing file is checked through a read-only connection, which a read then
        // keeps: one open, not two, at every command's start.
        let checked = exists ? try Self.checkIsRegister(path) : nil
        if access == .read, let checked {
            queue = checked
            return
        }
        var config = Configuration()
        // Concurrent writers (two `rulebook record`s) wait for each other's transaction.
        config.busyMode = .timeout(30)
        config.journalMode = .wal
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(durable ? "FULL" : "OFF"); PRAGMA foreign_keys = ON")
        }
        do {
            queue = try DatabasePool(path: path, configuration: config)
            try RegisterSchema.migrator.migrate(queue)
            // GRDB puts a WAL database in synchronous NORMAL once it is open, after
            // prepareDatabase: set FULL again, and check it took, so a commit that
            // returned has been synced to disk.
            let level = try queue.writeWithoutTransaction { db -> Int in
                try db.execute(sql: "PRAGMA synchronous = \(durable ? "FULL" : "OFF")")
                return try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            }
            guard level == 2 || !durable else {
                throw RegisterError("cannot open the register '\(path)' durably: SQLite's synchronous level is \(level), not FULL (2)")
            }
        } catch let error as DatabaseError {
            throw RegisterError("cannot open the register '\(path)': \(error.message ?? "\(error)")")
        }
    }

    /// A read-only connection. A reader who may not write the folder cannot make the
    /// write-ahead log's index file; when the log is absent (the last writer closed
    /// cleanly) the file is then read as immutable, which needs neither.
    static func openForReading(_ path: String, _ config: Configuration) throws -> DatabaseQueue {
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            _ = try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master") }
            return queue
        } catch let error as DatabaseError where error.resultCode.primaryResultCode == .SQLITE_READONLY || error.resultCode.primaryResultCode == .SQLITE_CANTOPEN {
            guard !FileManager.default.fileExists(atPath: path + "-wal") else { throw error }
            return try DatabaseQueue(path: "file:" + path + "?immutable=1", configuration: config)
        }
    }

    /// Refuses a file that is not a register this build reads, without changing it;
    /// returns the read-only connection it checked through.
    static func checkIsRegister(_ path: String) throws -> DatabaseQueue {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size > 0 else {
            throw RegisterError("'\(path)' is an empty file, not a register",
                                hint: "give the register's path with --register, or remove the empty file to start a new register")
        }
        var config = Configuration()
        config.readonly = true
        // Another process may be writing: wait for it, as every other open does.
        config.busyMode = .timeout(30)
        let applied: [String]
        let probe: DatabaseQueue
        do {
            probe = try openForReading(path, config)
            applied = try probe.read { db -> [String]? in
                guard try db.tableExists("grdb_migrations") else { return nil }
                return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            } ?? []
        } catch let error as DatabaseError {
            throw RegisterError("'\(path)' is not a register: \(error.message ?? "\(error)")")
        }
        let known = RegisterSchema.migrationIdentifiers
        guard applied.contains(known[0]) else {
            throw RegisterError("'\(path)' is not a Rulebook register: it has none of the register's tables",
                                hint: "give the register's path with --register")
        }
        if let newer = applied.first(where: { !known.contains($0) }) {
            throw RegisterError("'\(path)' was written by a newer Rulebook (its schema has '\(newer)'); this one will not read or change it",
                                hint: "use the Rulebook that wrote it, or a newer one")
        }
        return probe
    }

    /// Runs `body` in an IMMEDIATE transaction: the write lock is taken at once, so two
    /// processes appending to one incident take turns and the chain stays linear.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.writeWithoutTransaction { db in
                var result: T?
                do {
                    try db.inTransaction(.immediate) {
                        // A working copy catches up with its peer under the peer's lock,
                        // and commits there before it commits here.
                        try replication?.begin(db)
                        result = try body(db)
                        if let key = signingKey { try signHead(key, db: db) }
                        try replication?.finish(db)
                        return .commit
                    }
                } catch {
                    replication?.abandon()
                    throw error
                }
                return result!
            }
        } catch let error as DatabaseError {
            throw RegisterError("the register refused the write: \(error.message ?? "\(error)")")
        }
    }

    /// Signs the ledger's head, in the transaction that moved it.
    private func signHead(_ key: SigningKey, db: Database) throws {
        guard let head = try Row.fetchOne(db, sql: "SELECT gseq, hash FROM head WHERE id = 1"),
              let records: Int64 = head.value("gseq"), let hash: String = head.value("hash"), records > 0
        else { return }
        if try Row.fetchOne(db, sql: "SELECT 1 FROM checkpoint WHERE records = ?", arguments: [records]) != nil { return }
        let at = Instant((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let signature = try Ed25519.sign(Checkpoint.message(records: records, hash: hash, at: at), privateKey: key.privateKey)
        try db.execute(sql: "INSERT INTO checkpoint (records, hash, at, public_key, signature) VALUES (?, ?, ?, ?, ?)",
                       arguments: [records, hash, at, Hex.encode(key.publicKey), Hex.encode(signature)])
    }

    /// The latest signed checkpoint, if any.
    public func latestCheckpoint() throws -> Checkpoint? {
        try read { db in try Self.checkpoints(db).last }
    }

    /// Every checkpoint, oldest first (none in a register from before checkpoints).
    static func checkpoints(_ db: Database) throws -> [Checkpoint] {
        guard try db.tableExists("checkpoint") else { return [] }
        return try Row.fetchAll(db, sql: "SELECT records, hash, at, public_key, signature FROM checkpoint ORDER BY records").map { row in
            Checkpoint(records: row["records"] ?? 0, hash: row["hash"] ?? "", at: row["at"] ?? 0,
                       publicKey: row["public_key"] ?? "", signature: row["signature"] ?? "")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.read(body)
        } catch let error as DatabaseError {
            throw RegisterError("cannot read the register: \(error.message ?? "\(error)")")
        }
    }

    // MARK: Policies

    /// The SHA-256 of a policy's lineage: each file's id and the SHA-256 of its text.
    static func pinHash(_ lineage: [(id: String, file: String, text: String)]) -> String {
        Hashing.sha256(lineage.map { "\($0.id)\n\(Hashing.sha256($0.text))\n" }.joined())
    }

    /// Stores a policy's lineage (its file and the files it extends) unless already stored.
    func pin(_ lineage: [(id: String, file: String, text: String)], policy: Policy, at: Instant, db: Database) throws -> String {
        let sha = Self.pinHash(lineage)
        if try Row.fetchOne(db, sql: "SELECT 1 FROM policy_pin WHERE sha256 = ?", arguments: [sha]) == nil {
            let json = Canonical.array(lineage.map {
                .object(["id": .string($0.id), "file": .string($0.file), "text": .string($0.text)])
            }).text
            try db.execute(
                sql: "INSERT INTO policy_pin (sha256, policy_id, version, pinned_at, lineage) VALUES (?, ?, ?, ?, ?)",
                arguments: [sha, policy.id, policy.control.version, at, json])
        }
        return sha
    }

    /// The most one event's stored text may be (a note or reason included).
    public static let maxEventBytes = 256 * 1024

    /// How far ahead of this machine's clock a time may be: clocks differ a little, an
    /// event recorded in the future is a mistake (and would block every later record).
    public static let futureTolerance: Int64 = 5 * 60_000

    /// The pattern of incident numbers, everywhere: letters, digits, dots, underscores and
    /// hyphens, starting with a letter or digit, at most 64 characters (INC-2026-0001).
    public static func isIncidentNumber(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.unicodeScalars.count <= 64,
              first.isASCII, first.properties.isAlphabetic || ("0"..."9").contains(first)
        else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) }
    }

    public static let incidentNumberRule = "an incident number is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. INC-2026-0001)"

    /// Refuses a time more than a few minutes ahead of this machine's clock.
    static func checkNotInFuture(_ at: Instant, what: String) throws {
        let now = Instant((Date().timeIntervalSince1970 * 1000).rounded(.down))
        guard at <= now + futureTolerance else {
            throw RegisterError("nothing was recorded: \(what) is dated \(Timestamp.format(at)), in the future of this machine's clock (\(Timestamp.format(now)))",
                                hint: "give the time it happened with --at (RFC 3339, with its offset); a register never records the future",
                                status: .invalid)
        }
    }

    /// A stored lineage's files (those that read).
    static func pinnedLineage(_ items: [Node]) -> [(id: String, file: String, text: String)] {
        items.compactMap { item in
            guard let id = item["id"]?.scalar?.text, let file = item["file"]?.scalar?.text, let text = item["text"]?.scalar?.text
            else { return nil }
            return (id, file, text)
        }
    }

    /// The policy pinned under `sha`, compiled from its stored texts (cached). Inside a
    /// transaction, pass its `db` (GRDB's queue is not reentrant).
    public func pinnedPolicy(_ sha: String, db: Database? = nil) throws -> Policy {
        lock.lock()
        if let policy = pinned[sha] {
            lock.unlock()
            return policy
        }
        lock.unlock()
        let fetch = { (db: Database) in
            try Row.fetchOne(db, sql: "SELECT policy_id, lineage FROM policy_pin WHERE sha256 = ?", arguments: [sha])
        }
        let found = try db.map(fetch) ?? read(fetch)
        guard let row = found, let lineageText: String = row.value("lineage"), let id: String = row.value("policy_id")
        else { throw RegisterError("the register has no readable pinned policy \(sha.prefix(12))", hint: "run rulebook verify") }
        let read = JSONReader.read(lineageText, file: "pinned policy", requireMapping: false)
        guard let items = read.root?.sequence else { throw RegisterError("the pinned policy \(sha.prefix(12)) is unreadable") }
        let lineage = Self.pinnedLineage(items)
        // The stored texts are what the incident was judged under only if they still hash
        // to the pin: an altered pin must never be applied.
        guard lineage.count == items.count, Self.pinHash(lineage) == sha else {
            throw RegisterError("the pinned policy '\(id)' (\(sha.prefix(12))) was altered: its stored text does not match its SHA-256",
                                hint: "run rulebook verify")
        }
        let library = PolicyLibrary()
        for item in lineage {
            let source = PolicySource(file: "\(item.file) (pinned \(sha.prefix(8)))", text: item.text)
            if item.id.hasPrefix(PinnedLineage.calendarPrefix) { library.addCalendar(source) } else { library.add(source) }
        }
        let result = PolicyCompiler.compile(id: id, library: library, options: CompileOptions(listAssumptions: false, reviewChecks: false))
        guard let policy = result.policy else {
            throw RegisterError("the pinned policy '\(id)' (\(sha.prefix(12))) no longer compiles",
                                diagnostics: result.diagnostics.filter { $0.severity == .error })
        }
        lock.lock()
        pinned[sha] = policy
        lock.unlock()
        return policy
    }

    // MARK: Appending

    /// Appends a record to the ledger and moves the head.
    private func appendLedger(kind: String, ref: Int64, recordHash: String, db: Database) throws {
        // Cached statements: an import appends a million of these in one transaction.
        guard let head = try Row.fetchOne(try db.cachedStatement(sql: "SELECT gseq, hash FROM head WHERE id = 1")),
              let gseq: Int64 = head.value("gseq"), let previous: String = head.value("hash")
        else { throw RegisterError("the register has no readable head: it is damaged", hint: "run rulebook verify") }
        let hash = Hashing.link(previous, recordHash)
        try db.cachedStatement(sql: "INSERT INTO ledger (gseq, kind, ref, record_hash, hash) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [gseq + 1, kind, ref, recordHash, hash])
        try db.cachedStatement(sql: "UPDATE head SET gseq = ?, hash = ? WHERE id = 1").execute(arguments: [gseq + 1, hash])
    }

    /// The canonical content an incident's hash covers: every column of its row.
    static func incidentEnvelope(
        number: String, year: Int, policySHA: String, policyID: String, school: String?, openedAt: Instant, facts: String
    ) -> String {
        Canonical.object([
            "number": .string(number), "year": .int(year), "policy_sha256": .string(policySHA), "policy_id": .string(policyID),
            "school": school.map(Canonical.string) ?? .null, "opened_at": .string(Timestamp.format(openedAt)),
            "facts": .raw(facts),
        ]).text
    }

    /// The canonical content an event's hash covers (with the previous hash): every
    /// column of its row.
    static func eventEnvelope(number: String, position: Int, at: Instant, recordedAt: Instant, body: String) -> String {
        var out: [UInt8] = []
        var body = body
        let numberJSON = Envelope.jsonString(number)
        body.withUTF8 { b in
            numberJSON.withUnsafeBufferPointer { n in
                Envelope.event(number: n, position: position, at: at, recordedAt: recordedAt, body: b, into: &out)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Opens an incident under `policy` (whose lineage texts are pinned) and returns its
    /// number (`INC-2026-0001`, counted per year in the policy's time zone), or the
    /// requested number when it is free.
    public func openIncident(
        lineage: [(id: String, file: String, text: String)], policy: Policy, facts: [FactAssignment],
        school: String?, at: Instant, number requested: String? = nil
    ) throws -> String {
        try write { db in try openIncident(lineage: lineage, policy: policy, facts: facts, school: school, at: at,
                                           number: requested, db: db).number }
    }

    private func openIncident(
        lineage: [(id: String, file: String, text: String)], policy: Policy, facts: [FactAssignment],
        school: String?, at: Instant, number requested: String?, db: Database
    ) throws -> (number: String, seq: Int64, hash: String) {
        let sha = try pin(lineage, policy: policy, at: at, db: db)
        let year = Timestamp.civilFromDays(policy.clock.localDay(of: at).day).year
        var number: String
        try Self.checkNotInFuture(at, what: "the incident's opening time")
        if let requested {
            guard Self.isIncidentNumber(requested) else {
                throw RegisterError("'\(requested.printable)' is not an incident number",
                                    hint: Self.incidentNumberRule)
            }
            if try Row.fetchOne(db, sql: "SELECT 1 FROM incident WHERE number = ?", arguments: [requested]) != nil {
                throw RegisterError("the register already holds an incident numbered \(requested)")
            }
            number = requested
        } else {
            let count: Int = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n FROM incident WHERE year = ?", arguments: [year])?.value("n") ?? 0
            var n = count + 1
            repeat {
                number = "INC-\(year)-" + String(repeating: "0", count: max(0, 4 - String(n).count)) + String(n)
                n += 1
            } while try Row.fetchOne(db, sql: "SELECT 1 FROM incident WHERE number = ?", arguments: [number]) != nil
        }
        let factsJSON = Canonical.facts(facts, policy: policy).text
        let hash = Hashing.link(Hashing.genesis, Self.incidentEnvelope(
            number: number, year: year, policySHA: sha, policyID: policy.id, school: school, openedAt: at, facts: factsJSON))
        try db.execute(
            sql: "INSERT INTO incident (number, year, policy_sha256, policy_id, school, opened_at, facts, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [number, year, sha, policy.id, school, at, factsJSON, hash])
        let seq = db.lastInsertedRowID
        try appendLedger(kind: "incident", ref: seq, recordHash: hash, db: db)
        if facts.contains(where: { policy.facts[$0.slot].anonymisesReporter && $0.value == .bool(true) }) {
            try db.execute(sql: "INSERT OR IGNORE INTO incident_flag (incident_seq, flag) VALUES (?, 'anonymous')", arguments: [seq])
        }
        return (number, seq, hash)
    }

    /// Validates `node` (an event in trail form) against the incident's pinned policy and
    /// appends it. Refused, with nothing written, for an unknown action, role or fact, a
    /// wrong type, a missing required reason, or facts that break the policy's consistency
    /// rules. `recordedAt` nil means now, read once the write lock is held.
    @discardableResult
    /// Appends an event. With `expectedHead` (the hash `head(of:)` gave), the append is
    /// refused as a conflict when anything was recorded on the incident since.
    public func record(_ number: String, event node: Node, recordedAt: Instant? = nil, expectedHead: String? = nil,
                       check: ((Policy, Event) throws -> Void)? = nil) throws -> (position: Int, hash: String) {
        try write { db in
            try record(number, event: node, recordedAt: recordedAt, expectedHead: expectedHead, check: check, db: db)
        }
    }

    /// One append that a group commit makes with others (see `recordGroup`).
    public struct GroupedRecord: Sendable {
        public var number: String
        public var event: Node
        public var recordedAt: Instant?
        public var expectedHead: String?
        public var check: (@Sendable (Policy, Event) throws -> Void)?

        public init(number: String, event: Node, recordedAt: Instant? = nil, expectedHead: String? = nil,
                    check: (@Sendable (Policy, Event) throws -> Void)? = nil) {
            self.number = number
            self.event = event
            self.recordedAt = recordedAt
            self.expectedHead = expectedHead
            self.check = check
        }
    }

    /// Appends several events in one transaction, each as `record` would, in the order
    /// given: one commit (one sync to disk) for all, so a server's concurrent writers share
    /// it. Each append runs in a savepoint of its own: one that is refused is undone alone,
    /// with its error in its place, and the others go on. Nothing is acknowledged until
    /// the commit returns; if the commit fails, every one of them fails.
    public func recordGroup(_ records: [GroupedRecord]) throws -> [Result<(position: Int, hash: String), any Error>] {
        try write { db in
            records.map { item in
                do {
                    var result: (position: Int, hash: String)?
                    try db.inSavepoint {
                        result = try record(item.number, event: item.event, recordedAt: item.recordedAt, expectedHead: item.expectedHead,
                                            check: item.check, db: db)
                        return .commit
                    }
                    return .success(result!)
                } catch let error as DatabaseError {
                    return .failure(RegisterError("the register refused the write: \(error.message ?? "\(error)")"))
                } catch {
                    return .failure(error)
                }
            }
        }
    }

    private func record(_ number: String, event node: Node, recordedAt: Instant?, expectedHead: String?,
                        check: ((Policy, Event) throws -> Void)?, db: Database) throws -> (position: Int, hash: String) {
        let recordedAt = recordedAt ?? Instant((Date().timeIntervalSince1970 * 1000).rounded(.down))
        guard let incident = try Row.fetchOne(try db.cachedStatement(sql: "SELECT seq, policy_sha256, hash FROM incident WHERE number = ?"), arguments: [number])
        else {
            throw RegisterError("the register has no incident \(number)", hint: "rulebook list shows the incidents", status: .notFound)
        }
        let seq: Int64 = try incident.required("seq", in: number)
        let sha: String = try incident.required("policy_sha256", in: number)
        let incidentHash: String = try incident.required("hash", in: number)
        if let expectedHead, try Self.head(seq: seq, incidentHash: incidentHash, db: db).hash != expectedHead {
            throw RegisterError("nothing was recorded: incident \(number) changed since it was read",
                                hint: "read it again and decide whether your event still applies", status: .conflict)
        }
        let policy = try pinnedPolicy(sha, db: db)
        let (loaded, diagnostics) = CaseLoader.event(node, policy: policy)
        let refusals = diagnostics.filter { $0.severity == .error || $0.code == "missing-reason" }
        guard var event = loaded, refusals.isEmpty else {
            throw RegisterError("nothing was recorded: the event does not fit policy '\(policy.id)' (pinned \(sha.prefix(8)))",
                                diagnostics: refusals, status: .refusedByPolicy)
        }
        try check?(policy, event)
        // Only an event that sets a fact a rule reads (directly, or through a derived
        // value) can break a rule.
        if !event.facts.isEmpty, policy.constraints.contains(where: { c in
            c.rule.slots.contains { $0 >= policy.facts.count } || event.facts.contains { c.rule.slots.contains($0.slot) }
        }) {
            // The incident's facts with this event folded in, in time order.
            var file = try self.incident(number, db: db).0.file
            file.events.append(event)
            file.orderByTime()
            let broken = CaseLoader.inconsistencies(file, policy: policy)
            if !broken.isEmpty {
                throw RegisterError(
                    "nothing was recorded: " + broken.map { "\($0.constraint.message) (\($0.constraint.rule.source) would be false)" }.joined(separator: "; "),
                    hint: "check the facts; rule \(broken.map { "'\($0.constraint.id)' [\($0.constraint.provenance.citation(in: policy.id))]" }.joined(separator: ", "))",
                    status: .refusedByPolicy)
            }
        }
        return try append(event: &event, to: (seq, number, incidentHash), policy: policy, recordedAt: recordedAt, db: db)
    }

    /// The hash of an incident's last record (its last event, or its opening when it has
    /// none) and how many events it has: what a caller passes back as `expectedHead`.
    public func head(of number: String) throws -> (events: Int, hash: String) {
        try read { db in
            guard let incident = try Row.fetchOne(try db.cachedStatement(sql: "SELECT seq, hash FROM incident WHERE number = ?"), arguments: [number]) else {
                throw RegisterError("the register has no incident \(number)", hint: "rulebook list shows the incidents", status: .notFound)
            }
            return try Self.head(seq: try incident.required("seq", in: number), incidentHash: try incident.required("hash", in: number), db: db)
        }
    }

    static func head(seq: Int64, incidentHash: String, db: Database) throws -> (events: Int, hash: String) {
        let last = try Row.fetchOne(try db.cachedStatement(sql: "SELECT position, hash FROM event WHERE incident_seq = ? ORDER BY position DESC LIMIT 1"),
                                    arguments: [seq])
        return ((last?["position"] as Int?) ?? 0, (last?["hash"] as String?) ?? incidentHash)
    }

    private func append(
        event: inout Event, to incident: (seq: Int64, number: String, hash: String), policy: Policy, recordedAt: Instant,
        withheldRole: Int? = nil, db: Database
    ) throws -> (position: Int, hash: String) {
        let last = try Row.fetchOne(
            try db.cachedStatement(sql: "SELECT position, at, hash FROM event WHERE incident_seq = ? ORDER BY position DESC LIMIT 1"),
            arguments: [incident.seq])
        try Self.checkNotInFuture(event.at, what: "the event")
        // An event may be earlier than the last one recorded (a backfilled trail): the chain
        // keeps recording order, and evaluation puts events in the order they happened.
        let position = ((last?.value("position") as Int?) ?? 0) + 1
        // Reporter anonymity: when asked for, the reporter's name is never stored. Who
        // the reporter is is decided over the whole trail (the event that asked), not by
        // which event happened to be recorded first.
        let setsAnonymous = event.facts.contains { policy.facts[$0.slot].anonymisesReporter && $0.value == .bool(true) }
        if setsAnonymous {
            try db.execute(sql: "INSERT OR IGNORE INTO incident_flag (incident_seq, flag) VALUES (?, 'anonymous')",
                           arguments: [incident.seq])
        }
        if event.actor != nil, let withheld = withheldRole {
            if event.role == withheld { event.actor = nil }
        } else if event.actor != nil,
                  try setsAnonymous || Row.fetchOne(try db.cachedStatement(sql: "SELECT 1 FROM incident_flag WHERE incident_seq = ? AND flag = 'anonymous'"),
                                                    arguments: [incident.seq]) != nil
        {
            var file = try self.incident(incident.number, db: db).0.file
            file.events.append(event)
            file.orderByTime()
            if ReporterAnonymity(policy: policy, file: file).withholds(event) { event.actor = nil }
        }
        let body = Canonical.eventText(event, policy: policy)
        // One event can never make an incident unreadable: the same limit for record and
        // import, well under what a trail's reader accepts.
        guard body.utf8.count <= Self.maxEventBytes else {
            throw RegisterError("nothing was recorded: the event is \(body.utf8.count / 1024) KiB; an event may be at most \(Self.maxEventBytes / 1024) KiB",
                                hint: "keep notes and reasons short; attach long documents elsewhere and refer to them", status: .invalid)
        }
        let previous: String = last?.value("hash") ?? incident.hash
        let hash = Hashing.link(previous, Self.eventEnvelope(
            number: incident.number, position: position, at: event.at, recordedAt: recordedAt, body: body))
        try db.cachedStatement(
            sql: "INSERT INTO event (incident_seq, position, at, recorded_at, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [incident.seq, position, event.at, recordedAt, body, previous, hash])
        try appendLedger(kind: "event", ref: db.lastInsertedRowID, recordHash: hash, db: db)
        return (position, hash)
    }

    /// Imports a whole case as a new incident: re-validated against `policy`, then opened
    /// and its events appended (re-chained) in one transaction.
    public func importCase(
        lineage: [(id: String, file: String, text: String)], policy: Policy, file: CaseFile, school: String?,
        openedAt: Instant, recordedAt: Instant
    ) throws -> String {
        try write { db in
            // Keep the case's number when it is free; otherwise give a new one.
            var requested = file.incident
            if let wanted = requested, !Self.isIncidentNumber(wanted) {
                throw RegisterError("the case's incident number '\(wanted.printable)' is not one the register takes",
                                    hint: Self.incidentNumberRule + "; remove `incident:` to be given a new one")
            }
            if let wanted = requested, try Row.fetchOne(db, sql: "SELECT 1 FROM incident WHERE number = ?", arguments: [wanted]) != nil {
                requested = nil
            }
            let opened = try openIncident(lineage: lineage, policy: policy, facts: file.facts, school: school, at: openedAt,
                                          number: requested, db: db)
            // Anonymity is decided over the whole case before anything is written: a later
            // event that asks for it protects the reporter's earlier events too.
            let anonymity = ReporterAnonymity(policy: policy, file: file)
            for var event in file.events {
                if anonymity.withholds(event) { event.actor = nil }
                // A case that says when an event was recorded keeps it; otherwise it is
                // recorded now, by this import.
                _ = try append(event: &event, to: (opened.seq, opened.number, opened.hash), policy: policy,
                               recordedAt: event.recordedAt ?? recordedAt, withheldRole: anonymity.role, db: db)
            }
            return opened.number
        }
    }

    // MARK: Reading

    /// When an event was recorded, kept with it where that differs from when it happened
    /// by a minute or more (recording with no `--at` takes a few milliseconds).
    static func recordedLater(at: Int64, recordedAt: Int64) -> Int64? {
        abs(recordedAt - at) >= 60_000 ? recordedAt : nil
    }

    /// The incident's records read back as a case, against its pinned policy.
    public func incident(_ number: String) throws -> (StoredIncident, Policy) {
        try read { db in try incident(number, db: db) }
    }

    /// The same, inside a transaction that is already open.
    func incident(_ number: String, db: Database) throws -> (StoredIncident, Policy) {
        var recorded: [Int64?] = []
        let (row, bodies) = try { () -> (Row?, [String]) in
            // Cached statements: the server reads an incident on most requests.
            guard let row = try Row.fetchOne(try db.cachedStatement(sql: "SELECT * FROM incident WHERE number = ?"), arguments: [number]) else {
                return (nil, [])
            }
            let seq: Int64 = try row.required("seq", in: number)
            let rows = try Row.fetchAll(try db.cachedStatement(sql: "SELECT body, at, recorded_at FROM event WHERE incident_seq = ? ORDER BY position"),
                                        arguments: [seq])
            recorded = try rows.map { row in
                let at: Int64 = try row.required("at", in: "an event of \(number)")
                let when: Int64 = try row.required("recorded_at", in: "an event of \(number)")
                return Register.recordedLater(at: at, recordedAt: when)
            }
            return (row, try rows.map { try $0.required("body", in: "an event of \(number)") as String })
        }()
        guard let row else { throw RegisterError("the register has no incident \(number)", hint: "rulebook list shows the incidents", status: .notFound) }
        let sha: String = try row.required("policy_sha256", in: number)
        let policy = try pinnedPolicy(sha, db: db)
        let factsJSON: String = try row.required("facts", in: number)
        var file = CaseFile(policyID: policy.id, incident: number)
        if let facts = JSONReader.read(factsJSON, file: number).root {
            let (loaded, diagnostics) = CaseLoader.load(Node(.mapping([Node.Pair(key: Self.key("facts"), value: facts)]), span: facts.span), policy: policy)
            guard let loaded else {
                throw RegisterError("incident \(number)'s facts no longer read under its pinned policy", diagnostics: diagnostics)
            }
            file.facts = loaded.facts
        }
        var records: [Node] = []
        for body in bodies {
            guard let node = JSONReader.read(body, file: number).root else {
                throw RegisterError("incident \(number) has an unreadable event; run rulebook verify")
            }
            records.append(node)
        }
        let (events, diagnostics) = CaseLoader.loadTrail(records, policy: policy, ordered: false)
        if diagnostics.contains(where: { $0.severity == .error }) || events.count != recorded.count {
            throw RegisterError("incident \(number)'s trail no longer reads under its pinned policy; run rulebook verify",
                                diagnostics: diagnostics)
        }
        // Recording order is the chain's; evaluation is in the order things happened, so
        // the events (and their stored bodies with them) are put in time order, equal
        // times keeping recording order.
        let order = events.indices.sorted { (events[$0].at, $0) < (events[$1].at, $1) }
        file.events = order.map { i in
            var event = events[i]
            event.recordedAt = recorded[i]
            return event
        }
        let orderedBodies = order.map { bodies[$0] }
        let stored = StoredIncident(
            number: number, policyID: try row.required("policy_id", in: number), policySHA256: sha, school: row.value("school"),
            openedAt: try row.required("opened_at", in: number), file: file, bodies: orderedBodies, factsJSON: factsJSON)
        return (stored, policy)
    }

    /// One incident's identity, for listing.
    public struct Summary: Sendable {
        public var number: String
        public var policyID: String
        public var policySHA256: String
        public var school: String?
        public var openedAt: Instant
    }

    /// One incident's identity (its school and pinned policy), without reading its trail:
    /// what deciding who may see it needs.
    public func summary(of number: String) throws -> Summary {
        try read { db in
            guard let row = try Row.fetchOne(try db.cachedStatement(sql: "SELECT number, policy_id, policy_sha256, school, opened_at FROM incident WHERE number = ?"),
                                             arguments: [number])
            else { throw RegisterError("the register has no incident \(number)", hint: "rulebook list shows the incidents", status: .notFound) }
            return try Self.summary(row)
        }
    }

    /// A row of `number, policy_id, policy_sha256, school, opened_at` as a summary.
    static func summary(_ row: Row) throws -> Summary {
        let number: String = try row.required("number", in: "an incident")
        return Summary(number: number, policyID: try row.required("policy_id", in: number),
                       policySHA256: try row.required("policy_sha256", in: number), school: row.value("school"),
                       openedAt: try row.required("opened_at", in: number))
    }

    /// The incidents, oldest first, filtered by policy id and school.
    public func incidents(policy: String? = nil, school: String? = nil) throws -> [Summary] {
        try read { db in
            let (sql, arguments) = Self.incidentQuery("number, policy_id, policy_sha256, school, opened_at", policy: policy, school: school)
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.summary)
        }
    }

    /// `columns` of the incidents, oldest first, filtered by policy id and school.
    static func incidentQuery(_ columns: String, policy: String?, school: String?) -> (String, StatementArguments) {
        var sql = "SELECT \(columns) FROM incident"
        var conditions: [String] = []
        var arguments: [DatabaseValueConvertible] = []
        if let policy { conditions.append("policy_id = ?"); arguments.append(policy) }
        if let school { conditions.append("school = ?"); arguments.append(school) }
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        return (sql + " ORDER BY seq", StatementArguments(arguments))
    }

    static func key(_ name: String) -> Node {
        Node(.scalar(Scalar(text: name, style: .plain, value: .string(name))), span: SourceSpan(file: "register", at: SourcePosition(line: 1, column: 1)))
    }
}
