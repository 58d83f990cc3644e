import Foundation
import RulebookRegister

/// A PostgreSQL register as the peer of a working copy (see `RegisterPeer`): a write locks
/// the head row (`SELECT ... FOR UPDATE`), so writers in every process and on every
/// machine take turns and both chains stay linear; the rows the write made go in, and
/// the head moves, in the same transaction; its COMMIT is the acknowledgement.
final class PostgresPeer: RegisterPeer, @unchecked Sendable {
    let location: PostgresLocation
    private var session: PostgresSession?

    init(_ location: PostgresLocation) throws {
        self.location = location
        session = try PostgresSession.connect(location)
    }

    deinit { session?.close() }

    /// The connection, made again when the last one broke (a restarted server).
    private func connection() throws -> PostgresSession {
        if let session, session.isUsable { return session }
        session?.close()
        session = nil
        let fresh = try PostgresSession.connect(location)
        session = fresh
        return fresh
    }

    /// Between a BEGIN and its COMMIT or ROLLBACK.
    private var inTransaction = false

    /// Runs a statement. When the connection turns out broken (PostgreSQL restarted since
    /// it was last used), a statement outside a transaction did nothing and is run once
    /// more on a fresh connection; inside one, the transaction is gone with it.
    @discardableResult
    private func query(_ sql: String, _ binds: [RegisterValue] = []) throws -> [[RegisterValue]] {
        let session = try connection()
        do {
            return try session.query(sql, binds)
        } catch let error as RegisterError where !session.isUsable {
            session.close()
            self.session = nil
            guard inTransaction else { return try connection().query(sql, binds) }
            inTransaction = false
            if sql == "COMMIT" {
                throw RegisterError("the connection to \(location.display) broke while it committed (\(error.message)): whether this was recorded is not known",
                                    hint: "look at the incident (rulebook next INC, or GET .../next) before recording it again", status: .unavailable,
                                    toClients: ("the connection to the register's database broke while it committed: whether this was recorded is not known",
                                                "look at the incident before recording it again"))
            }
            throw RegisterError("the connection to \(location.display) broke during the write (\(error.message)); nothing was recorded",
                                hint: "try again: PostgreSQL may have restarted", status: .unavailable,
                                toClients: ("the connection to the register's database broke during the write; nothing was recorded", "try again in a few seconds"))
        }
    }

    static let stateQuery = """
        SELECT h.gseq, h.hash, (SELECT COUNT(*) FROM policy_pin), (SELECT COUNT(*) FROM incident_flag),
               (SELECT version FROM rulebook_users_version WHERE id = 1)
        FROM head h WHERE h.id = 1
        """

    func state() throws -> PeerState {
        let rows = try query(Self.stateQuery)
        guard let row = rows.first, row.count == 5, case .int(let gseq) = row[0], case .text(let hash) = row[1],
              case .int(let pins) = row[2], case .int(let flags) = row[3], case .int(let users) = row[4]
        else {
            throw RegisterError("the register in \(location.display) has no readable head", hint: "run rulebook verify --database \(location.display)")
        }
        return PeerState(gseq: gseq, hash: hash, pins: pins, flags: flags, usersVersion: users)
    }

    func lockForWrite() throws -> PeerState {
        try query("BEGIN")
        inTransaction = true
        do {
            // The lock first, then the state in a statement of its own: under READ
            // COMMITTED it sees every write committed before the lock was granted.
            try query("SELECT 1 FROM head WHERE id = 1 FOR UPDATE")
            return try state()
        } catch {
            rollback()
            throw error
        }
    }

    func ledgerHash(at gseq: Int64) throws -> String? {
        guard case .text(let hash)? = try query("SELECT hash FROM ledger WHERE gseq = $1", [.int(gseq)]).first?.first else { return nil }
        return hash
    }

    func rows(of table: RegisterTable, after: RegisterValue?, limit: Int) throws -> [[RegisterValue]] {
        let columns = table.columnList
        guard let key = table.key.map(Register.quoted) else {
            return try query("SELECT \(columns) FROM \(Register.quoted(table.name)) ORDER BY \(columns)")
        }
        return try query("SELECT \(columns) FROM \(Register.quoted(table.name))" + (after == nil ? "" : " WHERE \(key) > $1")
                            + " ORDER BY \(key)" + (limit == .max ? "" : " LIMIT \(limit)"),
                         after.map { [$0] } ?? [])
    }

    /// The whole register as at one moment (one REPEATABLE READ snapshot), into a new
    /// SQLite file at `path`, paged by key: a register of a million records never sits in
    /// memory whole. Inside the snapshot a broken connection is an error, never a retry.
    func copyOut(to path: String) throws {
        try PostgresRegister.checkIsRegister(try connection(), location)
        try query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        inTransaction = true
        defer { rollback() }
        try Register.makeCopy(at: path) { insert in
            for table in Register.tables {
                guard let keyIndex = table.key.flatMap(table.columns.firstIndex(of:)) else {
                    try insert(table, try rows(of: table, after: nil, limit: .max))
                    continue
                }
                var after: RegisterValue?
                while true {
                    let page = try rows(of: table, after: after, limit: 5000)
                    try insert(table, page)
                    guard page.count == 5000 else { break }
                    after = page.last![keyIndex]
                }
            }
        }
    }

    /// Its connection, for the users' version before the first write.
    func withConnection<T>(_ body: (PostgresSession) throws -> T) throws -> T { try body(try connection()) }

    func insert(_ rows: [[RegisterValue]], into table: RegisterTable) throws {
        try PostgresRegister.insert(rows, into: table, try connection())
    }

    func replace(_ tables: [(RegisterTable, [[RegisterValue]])]) throws {
        for (table, _) in tables.reversed() { try query("DELETE FROM \(Register.quoted(table.name))") }
        for (table, rows) in tables { try insert(rows, into: table) }
    }

    func moveHead(gseq: Int64, hash: String) throws {
        try query("UPDATE head SET gseq = $1, hash = $2 WHERE id = 1", [.int(gseq), .text(hash)])
    }

    func commit() throws {
        defer { inTransaction = false }
        try query("COMMIT")
    }

    /// Only inside a transaction: else libpq prints PostgreSQL's warning that there is none.
    func rollback() {
        guard inTransaction else { return }
        inTransaction = false
        _ = try? session?.query("ROLLBACK")
    }
}

extension PostgresRegister {
    /// A register in PostgreSQL to write to: a private working copy (removed at exit) that
    /// catches up with the database under its head's lock at the start of every write and
    /// commits there first, so what is acknowledged is in PostgreSQL, and a `refresh` before
    /// a read brings in what other writers added. Reads go to the copy.
    public static func openForWriting(_ location: PostgresLocation) throws -> Register {
        let folder = try temporaryFolder()
        TemporaryFolders.removeAtExit(folder.path)
        let path = folder.appendingPathComponent("register.sqlite").path
        // One connection for the copy, the users' version and the writes; one more for
        // the server's checks.
        let writer = try PostgresPeer(location)
        try writer.copyOut(to: path)
        try writer.withConnection { try ensureUsersVersion($0, location) }
        let register = try Register(path: path, access: .write, durable: false)
        register.name = location.display
        try register.replicate(to: writer, checker: try PostgresPeer(location))
        return register
    }

    /// A register copied into PostgreSQL by the first build that did it lacks the users'
    /// version; its owner adds it on first write.
    static func ensureUsersVersion(_ session: PostgresSession, _ location: PostgresLocation) throws {
        guard try session.query("SELECT to_regclass('rulebook_users_version') IS NULL").first?.first == .text("t") else { return }
        try session.query("BEGIN")
        do {
            for statement in usersVersionStatements { try session.query(statement) }
            try session.query("COMMIT")
        } catch {
            _ = try? session.query("ROLLBACK")
            throw RegisterError("the register in \(location.display) was copied by an earlier Rulebook and needs one more table to be written to; adding it failed: \((error as? RegisterError)?.message ?? "\(error)")",
                                hint: "write to it once as the user who ran rulebook migrate (the tables' owner)")
        }
    }
}
