import Foundation
import GRDB
import RulebookCore

/// One notice for one target (a webhook address, a mail address) in the register's outbox.
public struct OutboxItem: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        /// Waiting to be sent (again, after a failure, at `nextAttemptAt`).
        case pending
        case sent
        /// Every attempt failed: the dead letter, kept with its last error.
        case dead
        /// Already true when the target was first configured: recorded, never sent, so a
        /// new webhook is not flooded with the register's history.
        case history
    }

    public var id: Int64
    /// What happened, as a stable key (`reminder/INC/duty/PT4H`): the same notice is never
    /// queued twice for a target.
    public var notice: String
    /// `webhook:URL` or `mail:ADDRESS`.
    public var target: String
    public var kind: String
    public var incident: String
    /// The JSON body sent (webhooks) or mailed as text.
    public var payload: String
    public var status: Status
    public var attempts: Int
    public var nextAttemptAt: Instant
    public var lastError: String?
    public var createdAt: Instant
    public var sentAt: Instant?
}

extension Register {
    private static func item(_ row: Row) -> OutboxItem {
        OutboxItem(id: row["id"], notice: row["notice"], target: row["target"], kind: row["kind"], incident: row["incident"],
                   payload: row["payload"], status: OutboxItem.Status(rawValue: row["status"]) ?? .pending, attempts: row["attempts"],
                   nextAttemptAt: row["next_attempt_at"], lastError: row["last_error"], createdAt: row["created_at"], sentAt: row["sent_at"])
    }

    /// Whether `target` is new to the notifier; records it as seen at `at` either way.
    public func isNewNotifyTarget(_ target: String, at: Instant) throws -> Bool {
        try write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO notify_target (target, first_seen_at) VALUES (?, ?)", arguments: [target, at])
            return db.changesCount > 0
        }
    }

    /// Queues the notice for the target unless it was queued before (whatever became of
    /// it); true when it was new. All in one transaction.
    public func enqueue(_ items: [(notice: String, target: String, kind: String, incident: String, payload: String, status: OutboxItem.Status)],
                        at: Instant) throws -> Int {
        guard !items.isEmpty else { return 0 }
        return try write { db in
            var added = 0
            let statement = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO outbox (notice, target, kind, incident, payload, status, attempts, next_attempt_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)
                """)
            for item in items {
                try statement.execute(arguments: [item.notice, item.target, item.kind, item.incident, item.payload, item.status.rawValue, at, at])
                added += db.changesCount
            }
            return added
        }
    }

    /// The pending deliveries whose time has come, oldest first.
    public func dueDeliveries(at: Instant, limit: Int = 500) throws -> [OutboxItem] {
        try read { db in
            guard try db.tableExists("outbox") else { return [] }
            return try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
                                    arguments: [at, limit]).map(Self.item)
        }
    }

    /// Records a successful delivery.
    public func markSent(_ id: Int64, at: Instant) throws {
        try write { db in
            try db.execute(sql: "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL WHERE id = ?",
                           arguments: [at, id])
        }
    }

    /// Records a failed attempt: tried again at `retryAt`, or a dead letter when nil.
    public func markFailed(_ id: Int64, error: String, retryAt: Instant?) throws {
        try write { db in
            try db.execute(sql: "UPDATE outbox SET status = ?, attempts = attempts + 1, next_attempt_at = COALESCE(?, next_attempt_at), last_error = ? WHERE id = ?",
                           arguments: [retryAt == nil ? "dead" : "pending", retryAt, String(error.prefix(500)), id])
        }
    }

    /// The outbox, newest first, optionally of one status.
    public func outbox(status: OutboxItem.Status? = nil, limit: Int = 1000) throws -> [OutboxItem] {
        try read { db in
            guard try db.tableExists("outbox") else { return [] }
            if let status {
                return try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE status = ? ORDER BY id DESC LIMIT ?", arguments: [status.rawValue, limit])
                    .map(Self.item)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY id DESC LIMIT ?", arguments: [limit]).map(Self.item)
        }
    }

    /// Sends dead letters again: back to pending, due at `at`, attempts reset.
    public func retryDead(_ ids: [Int64], at: Instant) throws -> Int {
        try write { db in
            var changed = 0
            for id in ids {
                try db.execute(sql: "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ? WHERE id = ? AND status = 'dead'",
                               arguments: [at, id])
                changed += db.changesCount
            }
            return changed
        }
    }
}
