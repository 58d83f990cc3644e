import GRDB

/// The register's tables, versioned by GRDB's migrator.
///
/// Append-only is enforced twice: the code has no update or delete path, and triggers
/// refuse them. A trigger can be dropped by someone with the file and the sqlite3 shell;
/// that is what the hash chains are for: `verify` finds any edit, deletion, insertion
/// or reordering.
enum RegisterSchema {
    /// Every migration this build knows, oldest first: a register with another was
    /// written by a newer build.
    static let migrationIdentifiers = ["v1: incidents, events, pinned policies, ledger", "v2: signed checkpoints",
                                       "v3: users and API tokens (access control, not evidence)",
                                       "v4: the notifications outbox and users' mail addresses (delivery state, not evidence)"]

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(migrationIdentifiers[0]) { db in
            try db.execute(sql: """
                CREATE TABLE policy_pin (
                    sha256 TEXT PRIMARY KEY NOT NULL,
                    policy_id TEXT NOT NULL,
                    version TEXT,
                    pinned_at INTEGER NOT NULL,
                    lineage TEXT NOT NULL
                );
                CREATE TABLE incident (
                    seq INTEGER PRIMARY KEY,
                    number TEXT NOT NULL UNIQUE,
                    year INTEGER NOT NULL,
                    policy_sha256 TEXT NOT NULL REFERENCES policy_pin(sha256),
                    policy_id TEXT NOT NULL,
                    school TEXT,
                    opened_at INTEGER NOT NULL,
                    facts TEXT NOT NULL,
                    hash TEXT NOT NULL
                );
                CREATE INDEX incident_by_year ON incident(year);
                CREATE TABLE event (
                    seq INTEGER PRIMARY KEY,
                    incident_seq INTEGER NOT NULL REFERENCES incident(seq),
                    position INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    recorded_at INTEGER NOT NULL,
                    body TEXT NOT NULL,
                    prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    UNIQUE (incident_seq, position)
                );
                CREATE TABLE ledger (
                    gseq INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('incident', 'event')),
                    ref INTEGER NOT NULL,
                    record_hash TEXT NOT NULL,
                    hash TEXT NOT NULL
                );
                CREATE TABLE head (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    gseq INTEGER NOT NULL,
                    hash TEXT NOT NULL
                );
                INSERT INTO head (id, gseq, hash) VALUES (1, 0, '\(Hashing.genesis)');
                -- Derived flags (not evidence): incidents whose reporter asked for anonymity.
                CREATE TABLE incident_flag (
                    incident_seq INTEGER NOT NULL REFERENCES incident(seq),
                    flag TEXT NOT NULL,
                    PRIMARY KEY (incident_seq, flag)
                );
                """)
            for table in ["policy_pin", "incident", "event", "ledger", "incident_flag"] {
                try db.execute(sql: """
                    CREATE TRIGGER \(table)_no_update BEFORE UPDATE ON \(table)
                    BEGIN SELECT RAISE(ABORT, 'the register is append-only: \(table) rows cannot be changed'); END;
                    CREATE TRIGGER \(table)_no_delete BEFORE DELETE ON \(table)
                    BEGIN SELECT RAISE(ABORT, 'the register is append-only: \(table) rows cannot be deleted'); END;
                    """)
            }
            try db.execute(sql: """
                CREATE TRIGGER head_forward_only BEFORE UPDATE ON head WHEN NEW.gseq <= OLD.gseq
                BEGIN SELECT RAISE(ABORT, 'the register is append-only: its head only moves forward'); END;
                CREATE TRIGGER head_no_delete BEFORE DELETE ON head
                BEGIN SELECT RAISE(ABORT, 'the register is append-only: its head cannot be deleted'); END;
                """)
        }
        migrator.registerMigration(migrationIdentifiers[1]) { db in
            // A checkpoint signs the ledger's head (record count, last hash, time) with the
            // register keeper's private key: a rewrite, truncation or append made without
            // the key no longer matches a signed head.
            try db.execute(sql: """
                CREATE TABLE checkpoint (
                    records INTEGER PRIMARY KEY,
                    hash TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    public_key TEXT NOT NULL,
                    signature TEXT NOT NULL
                );
                CREATE TRIGGER checkpoint_no_update BEFORE UPDATE ON checkpoint
                BEGIN SELECT RAISE(ABORT, 'the register is append-only: checkpoint rows cannot be changed'); END;
                CREATE TRIGGER checkpoint_no_delete BEFORE DELETE ON checkpoint
                BEGIN SELECT RAISE(ABORT, 'the register is append-only: checkpoint rows cannot be deleted'); END;
                """)
        }
        migrator.registerMigration(migrationIdentifiers[2]) { db in
            // Who may use the register through `rulebook serve`. Not evidence: outside the
            // ledger and its chains, and changed in place (a user disabled, a password reset).
            try db.execute(sql: """
                CREATE TABLE user (
                    name TEXT PRIMARY KEY NOT NULL,
                    password_hash TEXT,
                    schools TEXT NOT NULL,
                    all_schools INTEGER NOT NULL,
                    roles TEXT NOT NULL,
                    disabled INTEGER NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE api_token (
                    sha256 TEXT PRIMARY KEY NOT NULL,
                    user_name TEXT NOT NULL REFERENCES user(name),
                    label TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration(migrationIdentifiers[3]) { db in
            // What the notifier has sent or will send: one row per notice and target, so a
            // restart never sends a notice twice. Not evidence: outside the ledger, and
            // changed in place as deliveries are tried.
            try db.execute(sql: """
                ALTER TABLE user ADD COLUMN email TEXT;
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY,
                    notice TEXT NOT NULL,
                    target TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    incident TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    status TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    next_attempt_at INTEGER NOT NULL,
                    last_error TEXT,
                    created_at INTEGER NOT NULL,
                    sent_at INTEGER,
                    UNIQUE (notice, target)
                );
                CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
                CREATE TABLE notify_target (
                    target TEXT PRIMARY KEY NOT NULL,
                    first_seen_at INTEGER NOT NULL
                );
                """)
        }
        return migrator
    }
}
