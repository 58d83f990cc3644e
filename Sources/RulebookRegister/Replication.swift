import Foundation
import GRDB

/// What the database that holds a register (PostgreSQL) says about it, in one read: its
/// head, and enough to tell whether the small tables and the users moved.
public struct PeerState: Sendable, Equatable {
    public var gseq: Int64
    public var hash: String
    /// Rows of policy_pin and incident_flag (tables without a growing key).
    public var pins: Int64
    public var flags: Int64
    /// A number that changes whenever users or tokens change there.
    public var usersVersion: Int64

    public init(gseq: Int64, hash: String, pins: Int64, flags: Int64, usersVersion: Int64) {
        self.gseq = gseq
        self.hash = hash
        self.pins = pins
        self.flags = flags
        self.usersVersion = usersVersion
    }
}

/// The database a register's file is a working copy of: the truth, which every write goes
/// to before the file's transaction commits. The file is a cache: what it holds beyond the
/// peer (after a failed commit) is never trusted, and it is brought up to date, under the
/// peer's lock, at the start of every write.
public protocol RegisterPeer: AnyObject {
    /// Its state, in one statement, without a lock (a reader's check).
    func state() throws -> PeerState
    /// Begins a transaction and locks the head, so writers everywhere take turns and the
    /// chains stay linear; returns the state under that lock.
    func lockForWrite() throws -> PeerState
    /// The ledger record's hash at `gseq`, if there is one.
    func ledgerHash(at gseq: Int64) throws -> String?
    /// Up to `limit` rows of `table` whose key is above `after` (from the first without
    /// it), in key order; every row of a table without a key.
    func rows(of table: RegisterTable, after: RegisterValue?, limit: Int) throws -> [[RegisterValue]]
    /// Adds evidence rows as they are.
    func insert(_ rows: [[RegisterValue]], into table: RegisterTable) throws
    /// Makes the state tables given (users, then their tokens) hold exactly these rows.
    func replace(_ tables: [(RegisterTable, [[RegisterValue]])]) throws
    /// Moves the head (forward only; the peer's own rule).
    func moveHead(gseq: Int64, hash: String) throws
    func commit() throws
    func rollback()
}

/// Keeps a register file in step with its peer: `pull` brings the file up to the peer (in
/// the file's write transaction), `push` sends what the transaction added and commits the
/// peer before the file commits. One implementation for every peer; the chain logic is
/// the register's own, unchanged.
final class Replication: @unchecked Sendable {
    let writer: any RegisterPeer
    let checker: any RegisterPeer
    private let lock = NSLock()
    /// What the file holds of the peer, as of the last pull or push (nil: not known).
    private var known: PeerState?
    private let checkLock = NSLock()
    private var lastCheckStarted: UInt64 = 0
    /// Tables a transaction changed (seen by the observer), and whether a pull is writing.
    let changes = ChangedTables()
    /// Rowids of the evidence tables as the write began (rows above them are the write's).
    private var marks: [String: Int64] = [:]

    init(writer: any RegisterPeer, checker: any RegisterPeer) {
        self.writer = writer
        self.checker = checker
    }

    static let evidence = Register.tables.filter { $0.evidence && $0.name != "head" }
    static let users = Register.tables.filter { ["user", "api_token"].contains($0.name) }
    /// State kept beside the evidence that a peer does not hold in this version.
    static let localOnly: Set<String> = ["outbox", "notify_target"]

    /// Starts a write: locks the peer and brings the file up to it.
    func begin(_ db: Database) throws {
        let state = try writer.lockForWrite()
        do {
            try pull(db, to: state, from: writer)
            marks = [:]
            for table in Self.evidence {
                marks[table.name] = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(rowid), 0) FROM \(Register.quoted(table.name))") ?? 0
            }
            changes.reset()
        } catch {
            writer.rollback()
            throw error
        }
    }

    /// Ends a write: sends the rows it added, moves the peer's head, commits the peer.
    /// Thrown errors leave the peer as it was; the file's transaction then rolls back.
    func finish(_ db: Database) throws {
        do {
            let changed = changes.tables
            if let table = changed.first(where: { Self.localOnly.contains($0) }) {
                throw RegisterError("the notifier's \(table) is not kept in a PostgreSQL register in this version: nothing was written",
                                    hint: "run notifications against an SQLite register")
            }
            for table in Self.evidence {
                let sql = "SELECT \(table.columnList) FROM \(Register.quoted(table.name)) WHERE rowid > ? ORDER BY rowid"
                let cursor = try Row.fetchCursor(db, sql: sql, arguments: [marks[table.name] ?? 0])
                var batch: [[RegisterValue]] = []
                while let row = try cursor.next() {
                    batch.append(try table.values(of: row))
                    if batch.count == 5000 {
                        try writer.insert(batch, into: table)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty { try writer.insert(batch, into: table) }
            }
            let head = try Self.head(db)
            let before = lock.withLock { known }
            if head.gseq != before?.gseq { try writer.moveHead(gseq: head.gseq, hash: head.hash) }
            if changed.contains("user") || changed.contains("api_token") {
                try writer.replace(try Self.users.map { ($0, try Self.allRows(db, $0)) })
            }
            // The peer's state with this write, read under its lock (no other writer can
            // have moved it): what the file holds once both commit.
            let after = try writer.state()
            try writer.commit()
            lock.withLock { known = after }
        } catch {
            writer.rollback()
            lock.withLock { known = nil }
            throw error
        }
    }

    /// After a failed write: the peer is rolled back, and the file's state is unknown.
    func abandon() {
        writer.rollback()
        lock.withLock { known = nil }
    }

    /// Whether the file may lag the peer: asks it, unless a check that began after
    /// `asked` already did (concurrent readers share one).
    /// Whether the peer answers now (a server's /health): one query, nothing read.
    func checkReachable() throws {
        checkLock.lock()
        defer { checkLock.unlock() }
        _ = try checker.state()
    }

    func isBehind(asked: UInt64) throws -> Bool {
        checkLock.lock()
        defer { checkLock.unlock() }
        if lastCheckStarted >= asked { return false }
        lastCheckStarted = DispatchTime.now().uptimeNanoseconds
        let state = try checker.state()
        return lock.withLock { known } != state
    }

    /// Brings the file up to `state`, reading from `peer` (inside the file's transaction,
    /// with the peer locked or in one snapshot).
    func pull(_ db: Database, to state: PeerState, from peer: any RegisterPeer) throws {
        if lock.withLock({ known }) == state { return }
        changes.pulling = true
        defer { changes.pulling = false }
        let local = try Self.head(db)
        guard state.gseq >= local.gseq else {
            throw RegisterError("the register in PostgreSQL has fewer records (#\(state.gseq)) than this copy of it read (#\(local.gseq)): it was changed behind Rulebook's back; nothing was written",
                                hint: "run rulebook verify --database URL")
        }
        if local.gseq > 0, try peer.ledgerHash(at: local.gseq) != local.hash {
            throw RegisterError("the register in PostgreSQL no longer holds record #\(local.gseq) as this copy read it: it was changed behind Rulebook's back; nothing was written",
                                hint: "run rulebook verify --database URL")
        }
        for table in Self.evidence {
            let statement = try db.cachedStatement(sql: table.insertSQL(orIgnore: true))
            func add(_ rows: [[RegisterValue]]) throws {
                for row in rows { try statement.execute(arguments: StatementArguments(row.map(\.databaseValue))) }
            }
            switch table.name {
            case "policy_pin", "incident_flag":
                let count = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM \(Register.quoted(table.name))") ?? 0
                if count != (table.name == "policy_pin" ? state.pins : state.flags) {
                    try add(try peer.rows(of: table, after: nil, limit: .max))
                }
            default:
                guard let key = table.key else { continue }
                var after = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(\(Register.quoted(key))), 0) FROM \(Register.quoted(table.name))") ?? 0
                let keyIndex = table.columns.firstIndex(of: key)!
                while true {
                    let page = try peer.rows(of: table, after: .int(after), limit: 5000)
                    try add(page)
                    guard page.count == 5000, case .int(let last) = page.last![keyIndex] else { break }
                    after = last
                }
            }
        }
        if state.gseq != local.gseq {
            try db.execute(sql: "UPDATE head SET gseq = ?, hash = ? WHERE id = 1", arguments: [state.gseq, state.hash])
        }
        if state.usersVersion != lock.withLock({ known?.usersVersion }) {
            try db.execute(sql: "DELETE FROM api_token; DELETE FROM \"user\"")
            for table in Self.users {
                let statement = try db.cachedStatement(sql: table.insertSQL())
                for row in try peer.rows(of: table, after: nil, limit: .max) {
                    try statement.execute(arguments: StatementArguments(row.map(\.databaseValue)))
                }
            }
        }
        lock.withLock { known = state }
    }

    static func head(_ db: Database) throws -> (gseq: Int64, hash: String) {
        guard let row = try Row.fetchOne(db, sql: "SELECT gseq, hash FROM head WHERE id = 1"),
              let gseq: Int64 = row["gseq"], let hash: String = row["hash"]
        else { throw RegisterError("the register's copy has no readable head", hint: "run rulebook verify --database URL") }
        return (gseq, hash)
    }

    static func allRows(_ db: Database, _ table: RegisterTable) throws -> [[RegisterValue]] {
        try Row.fetchAll(db, sql: "SELECT \(table.columnList) FROM \(Register.quoted(table.name))").map { try table.values(of: $0) }
    }
}

/// Which tables a transaction changed (not counting a pull's own inserts).
final class ChangedTables: TransactionObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var changed: Set<String> = []
    var pulling = false

    var tables: Set<String> { lock.withLock { changed } }
    func reset() { lock.withLock { changed = [] } }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
    func databaseDidChange(with event: DatabaseEvent) {
        if pulling { return }
        let table = event.tableName
        _ = lock.withLock { changed.insert(table) }
    }
    func databaseDidCommit(_ db: Database) {}
    func databaseDidRollback(_ db: Database) {}
}

extension Register {
    /// Whether this register is a working copy of one held elsewhere (PostgreSQL).
    public var isReplica: Bool { replication != nil }

    /// Makes this register (a private copy, opened for writing) a working copy of `peer`:
    /// from now on every write takes the peer's lock, catches up with it, and commits there
    /// first. `checker` is a second connection for `refresh`'s unlocked checks.
    public func replicate(to writer: any RegisterPeer, checker: any RegisterPeer) throws {
        let replication = Replication(writer: writer, checker: checker)
        queue.add(transactionObserver: replication.changes, extent: .databaseLifetime)
        self.replication = replication
        try refresh(force: true)
    }

    /// Brings a working copy up to its peer, so a read that follows sees every write the
    /// peer had acknowledged when this was called. Nothing for a register file of its own.
    /// For a register kept in a database: throws when the database does not answer now.
    public func checkReachable() throws { try replication?.checkReachable() }

    public func refresh(force: Bool = false) throws {
        guard let replication else { return }
        let asked = DispatchTime.now().uptimeNanoseconds
        guard try force || replication.isBehind(asked: asked) else { return }
        do {
            try queue.writeWithoutTransaction { db in
                // Abandoned here, on the writer's turn: the peer's connection is the writer's.
                do {
                    try db.inTransaction(.immediate) {
                        try replication.begin(db)
                        try replication.finish(db)
                        return .commit
                    }
                } catch {
                    replication.abandon()
                    throw error
                }
            }
        } catch let error as DatabaseError {
            throw RegisterError("the register's copy refused the update: \(error.message ?? "\(error)")")
        }
    }
}
