import Foundation
import GRDB

/// One stored value of a register row, as it is copied between registers (SQLite and
/// PostgreSQL): the register's columns are integers and texts, nothing else.
public enum RegisterValue: Sendable, Equatable {
    case int(Int64)
    case text(String)
    case null
}

/// One of the register's tables as a copy sees it: its columns in order, the column
/// rows are read in order of (unique), and whether its rows are evidence (append-only,
/// covered by the hash chains) or state kept beside it (users, tokens, the outbox).
public struct RegisterTable: Sendable, Equatable {
    public let name: String
    public let columns: [String]
    /// The unique column rows are ordered and paged by; nil for a table read whole.
    public let key: String?
    public let evidence: Bool
}

extension Register {
    /// Every table of the register, in an order that keeps references valid (a policy
    /// before the incidents pinned to it, an incident before its events, a user before
    /// their tokens).
    public static let tables: [RegisterTable] = [
        RegisterTable(name: "policy_pin", columns: ["sha256", "policy_id", "version", "pinned_at", "lineage"], key: "sha256", evidence: true),
        RegisterTable(name: "incident", columns: ["seq", "number", "year", "policy_sha256", "policy_id", "school", "opened_at", "facts", "hash"],
                      key: "seq", evidence: true),
        RegisterTable(name: "event", columns: ["seq", "incident_seq", "position", "at", "recorded_at", "body", "prev_hash", "hash"],
                      key: "seq", evidence: true),
        RegisterTable(name: "ledger", columns: ["gseq", "kind", "ref", "record_hash", "hash"], key: "gseq", evidence: true),
        RegisterTable(name: "head", columns: ["id", "gseq", "hash"], key: "id", evidence: true),
        RegisterTable(name: "incident_flag", columns: ["incident_seq", "flag"], key: nil, evidence: true),
        RegisterTable(name: "checkpoint", columns: ["records", "hash", "at", "public_key", "signature"], key: "records", evidence: true),
        RegisterTable(name: "user", columns: ["name", "password_hash", "schools", "all_schools", "roles", "disabled", "created_at", "email"],
                      key: "name", evidence: false),
        RegisterTable(name: "api_token", columns: ["sha256", "user_name", "label", "created_at"], key: "sha256", evidence: false),
        RegisterTable(name: "outbox", columns: ["id", "notice", "target", "kind", "incident", "payload", "status", "attempts",
                                                "next_attempt_at", "last_error", "created_at", "sent_at"], key: "id", evidence: false),
        RegisterTable(name: "notify_target", columns: ["target", "first_seen_at"], key: "target", evidence: false),
    ]

    /// The schema versions this register has, oldest first (what a copy must match).
    public func schemaVersions() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
    }

    /// The schema versions this build writes, oldest first.
    public static var schemaIdentifiers: [String] { RegisterSchema.migrationIdentifiers }

    /// Reads every row of `table`, in key order, `batch` rows at a time, in one read
    /// transaction (a consistent snapshot while writers go on). A value that is neither an
    /// integer, a text nor NULL (only a tampered file holds one) is an error.
    public func rows(of table: RegisterTable, batch: Int = 2000, _ body: ([[RegisterValue]]) throws -> Void) throws {
        try read { db in
            let order = " ORDER BY " + (table.key.map(Self.quoted) ?? table.columnList)
            let cursor = try Row.fetchCursor(db, sql: "SELECT \(table.columnList) FROM \(Self.quoted(table.name))" + order)
            var rows: [[RegisterValue]] = []
            rows.reserveCapacity(batch)
            while let row = try cursor.next() {
                rows.append(try table.values(of: row))
                if rows.count == batch {
                    try body(rows)
                    rows.removeAll(keepingCapacity: true)
                }
            }
            if !rows.isEmpty { try body(rows) }
        }
    }

    /// How many rows each table holds (for a copy's progress and its check).
    public func rowCounts() throws -> [String: Int] {
        try read { db in
            var counts: [String: Int] = [:]
            for table in Self.tables {
                counts[table.name] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(Self.quoted(table.name))") ?? 0
            }
            return counts
        }
    }

    /// Makes a register file at `path` (which must not exist) holding exactly the rows
    /// `fill` inserts, the head included: a copy of another register, verbatim, for
    /// `verify` and the reading commands to walk with the same code as any register.
    /// Nothing is checked or repaired on the way in: that is the reader's job.
    public static func makeCopy(at path: String, _ fill: (_ insert: (RegisterTable, [[RegisterValue]]) throws -> Void) throws -> Void) throws {
        let copy = try Register(path: path, access: .create)
        do {
        try copy.queue.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                // The head is copied as it is, even where it moved back: this file is the
                // copy's alone, and verify reports what the head says.
                try db.execute(sql: "DROP TRIGGER head_forward_only; DROP TRIGGER head_no_delete; DELETE FROM head")
                try fill { table, rows in
                    let statement = try db.cachedStatement(sql: table.insertSQL())
                    for row in rows { try statement.execute(arguments: StatementArguments(row.map(\.databaseValue))) }
                }
                return .commit
            }
        }
        } catch let error as DatabaseError {
            throw RegisterError("cannot make the copy at '\(path)': \(error.message ?? "\(error)")")
        }
    }

    /// A table or column name in double quotes (`user` is a keyword in PostgreSQL).
    public static func quoted(_ name: String) -> String { "\"" + name + "\"" }
}

extension RegisterTable {
    /// Its columns, quoted, in order, for a SELECT or an INSERT.
    public var columnList: String { columns.map(Register.quoted).joined(separator: ", ") }

    /// An INSERT of one row of every column (OR IGNORE: a row already there is kept).
    func insertSQL(orIgnore: Bool = false) -> String {
        "INSERT \(orIgnore ? "OR IGNORE " : "")INTO \(Register.quoted(name)) (\(columnList)) VALUES ("
            + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
    }

    /// A row's values, column by column. A value that is neither an integer, a text nor
    /// NULL (only a tampered file holds one) is an error.
    func values(of row: Row) throws -> [RegisterValue] {
        try columns.map { column in
            let value: DatabaseValue = row[column]
            switch value.storage {
            case .null: return .null
            case .int64(let v): return .int(v)
            case .string(let s): return .text(s)
            case .double, .blob:
                throw RegisterError("the register is damaged: \(name).\(column) holds a value that is neither an integer nor a text",
                                    hint: "run rulebook verify")
            }
        }
    }
}

extension RegisterValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .int(let v): v.databaseValue
        case .text(let s): s.databaseValue
        case .null: .null
        }
    }
}
