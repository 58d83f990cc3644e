import Foundation
import RulebookTestSupport
import Testing

/// The register in PostgreSQL, against a real server: `make test` runs the tests beside a
/// throw-away cluster (scripts/with-postgres), whose address is in $RULEBOOK_TEST_POSTGRES.
/// Each test makes a database of its own.
private let testPostgres = ProcessInfo.processInfo.environment["RULEBOOK_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }

@Suite("register: PostgreSQL", .enabled(if: testPostgres != nil,
                                        "needs a PostgreSQL server: run under scripts/with-postgres (make test does)"))
struct PostgresCLITests {
    static var server: String? { testPostgres }

    /// The server's address with another database (or user).
    static func address(database: String, user: String? = nil) -> String {
        var url = URLComponents(string: server!)!
        url.path = "/" + database
        if let user { url.user = user }
        return url.string!
    }

    struct PSQL {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs SQL with psql, as a database administrator would.
    @discardableResult
    static func psql(_ url: String, _ sql: String) throws -> PSQL {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", url, "-c", sql]
        // Standard output to a file: read from a pipe after standard error, a large answer
        // would fill the pipe and psql would wait for ever.
        let file = try RulebookBinary.temporaryFolder().appendingPathComponent("psql.out")
        FileManager.default.createFile(atPath: file.path, contents: nil)
        let out = try FileHandle(forWritingTo: file), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try out.close()
        let output = try String(contentsOf: file, encoding: .utf8)
        return PSQL(status: process.terminationStatus, output: output.trimmingCharacters(in: .whitespacesAndNewlines), errors: errors)
    }

    /// A new, empty database of this test's own; its address.
    static func newDatabase() throws -> String {
        let name = "rb_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let made = try psql(server!, "CREATE DATABASE \(name)")
        #expect(made.status == 0, "\(made.errors)")
        return address(database: String(name))
    }

    private func run(_ arguments: [String], register: String? = nil) throws -> RulebookBinary.Run {
        try RulebookBinary.run(arguments, environment: register.map { ["RULEBOOK_REGISTER": $0] } ?? [:])
    }

    /// A register with two incidents, a trail with a reporter, and signed checkpoints.
    private func sampleRegister() throws -> (folder: URL, register: String, key: String) {
        let folder = try RulebookBinary.temporaryFolder()
        let register = folder.appendingPathComponent("r.sqlite").path
        let key = folder.appendingPathComponent("k.key").path
        #expect(try run(["key", "new", "--out", key]).status == 0)
        let facts = folder.appendingPathComponent("facts.yaml")
        try "discovered_at: 2026-11-02T09:14:00Z\noccurred_at: 2026-11-02T08:30:00Z\ndata_subjects: 292\n".write(to: facts, atomically: true, encoding: .utf8)
        let signed = ["--signing-key", key]
        #expect(try run(["open", "madras", "--facts", facts.path, "--school", "Madras V.A.", "--at", "2026-11-02T09:20:00Z"] + signed, register: register).status == 0)
        #expect(try run(["record", "INC-2026-0001", "report", "--by", "staff", "--actor", "J. Clerk", "--at", "2026-11-02T09:30:00Z"] + signed, register: register).status == 0)
        #expect(try run(["record", "INC-2026-0001", "report_to_dpo", "--by", "dp_lead", "--at", "2026-11-02T10:05:00Z"] + signed, register: register).status == 0)
        #expect(try run(["open", "council", "--school", "Leverton", "--at", "2026-11-05T09:00:00Z"] + signed, register: register).status == 0)
        #expect(try run(["record", "INC-2026-0002", "record_facts", "--by", "employee", "--at", "2026-11-05T09:10:00Z"] + signed, register: register).status == 0)
        return (folder, register, key)
    }

    /// `value` without the line naming where it was read from.
    private func withoutFirstLine(_ text: String) -> String { String(text.drop { $0 != "\n" }) }

    @Test("migrate copies a register with its chains and signatures; verify, list, next, audit and export read the copy as they read the file")
    func migrateAndRead() throws {
        let (_, register, key) = try sampleRegister()
        let database = try Self.newDatabase()
        let migrated = try run(["migrate", "--from", register, "--to", database, "--public-key", key + ".pub", "--format", "json"])
        #expect(migrated.status == 0, "\(migrated.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(migrated.stdout.utf8)) as? [String: Any])
        let source = try #require(report["source"] as? [String: Any]), destination = try #require(report["destination"] as? [String: Any])
        #expect(source["intact"] as? Bool == true && destination["intact"] as? Bool == true)
        #expect(destination["signatures_checked"] as? Bool == true)
        #expect((destination["checkpoints"] as? Int ?? 0) >= 1)
        #expect((source["head"] as? NSDictionary) == (destination["head"] as? NSDictionary))
        #expect((report["rows"] as? [String: Int])?["event"] == 3)
        #expect(!migrated.stdout.contains("password"))

        // verify: the same head, the same signed checkpoints, read from PostgreSQL.
        let fileVerify = try run(["verify", "--public-key", key + ".pub", "--register", register])
        let dbVerify = try run(["verify", "--public-key", key + ".pub", "--database", database])
        #expect(fileVerify.status == 0 && dbVerify.status == 0, "\(dbVerify.stderr)")
        #expect(fileVerify.stdout == dbVerify.stdout)
        // The reading commands answer the same from either.
        for command in [["list", "--at", "2026-11-06T00:00:00Z"],
                        ["next", "INC-2026-0001", "--at", "2026-11-02T12:00:00Z"],
                        ["audit", "INC-2026-0001", "--at", "2026-11-20T12:00:00Z", "--format", "json"],
                        ["audit", "INC-2026-0002", "--at", "2026-11-20T12:00:00Z"],
                        ["assess", "INC-2026-0002", "--at", "2026-11-06T12:00:00Z"]] {
            let fromFile = try run(command + ["--register", register])
            let fromDatabase = try run(command + ["--database", database])
            #expect(fromDatabase.status == fromFile.status, "\(command): \(fromDatabase.stderr)")
            #expect(fromDatabase.stdout == fromFile.stdout, "\(command)")
        }
        let fileExport = try run(["export", "INC-2026-0001", "--register", register])
        let dbExport = try run(["export", "INC-2026-0001", "--database", database])
        #expect(dbExport.status == 0)
        #expect(withoutFirstLine(dbExport.stdout) == withoutFirstLine(fileExport.stdout))
        #expect(dbExport.stdout.hasPrefix("# Exported from postgres://"))
        // Both --register and --database: which one is meant is not guessed.
        #expect(try run(["verify", "--register", register, "--database", database]).status == 2)
    }

    @Test("the copy is append-only twice over: the writer role has no right to change evidence, and triggers refuse even the owner")
    func appendOnly() throws {
        let (_, register, _) = try sampleRegister()
        let database = try Self.newDatabase()
        let role = "rb_writer_" + UUID().uuidString.lowercased().prefix(8)
        #expect(try Self.psql(Self.server!, "CREATE ROLE \(role) LOGIN").status == 0)
        let migrated = try run(["migrate", "--from", register, "--to", database, "--writer-role", role])
        #expect(migrated.status == 0, "\(migrated.stderr)")
        #expect(migrated.stdout.contains("role \(role) may read and add"))
        let writer = Self.address(database: String(database.split(separator: "/").last!.split(separator: "?")[0]), user: role)
        for change in ["UPDATE event SET body = 'x'", "DELETE FROM ledger", "TRUNCATE event", "UPDATE incident SET school = 'x'",
                       "DELETE FROM policy_pin", "UPDATE checkpoint SET hash = 'x'", "DELETE FROM event WHERE position = 1"] {
            let refused = try Self.psql(writer, change)
            #expect(refused.status != 0, "\(change)")
            #expect(refused.errors.contains("permission denied"), "\(change): \(refused.errors)")
            let owner = try Self.psql(database, change)
            #expect(owner.status != 0, "\(change)")
            #expect(owner.errors.contains("the register is append-only"), "\(change): \(owner.errors)")
        }
        // Moving the head forward to a record that is not there would leave a register
        // that never verifies again (the head cannot move back): refused.
        let ahead = try Self.psql(writer, "UPDATE head SET gseq = gseq + 1, hash = repeat('0', 64)")
        #expect(ahead.errors.contains("must be its last ledger record"), "\(ahead.errors)")
        let back = try Self.psql(writer, "UPDATE head SET gseq = gseq - 1")
        #expect(back.errors.contains("its head only moves forward"), "\(back.errors)")
        #expect(try Self.psql(database, "DELETE FROM head").errors.contains("its head only moves forward"))
        // The writer may read: it can verify.
        let verify = try run(["verify", "--database", writer])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.hasPrefix("intact: 2 incidents, 3 events"))
    }

    @Test("tampering done in PostgreSQL with the triggers off is found by verify --database, and audit will not judge it")
    func tamperingFound() throws {
        let (_, register, _) = try sampleRegister()
        for tamper in ["UPDATE event SET body = replace(body, 'J. Clerk', 'Someone else')",
                       "DELETE FROM ledger WHERE gseq = (SELECT MAX(gseq) FROM ledger)",
                       "UPDATE incident SET facts = replace(facts, '292', '29')"] {
            let database = try Self.newDatabase()
            #expect(try run(["migrate", "--from", register, "--to", database]).status == 0)
            // A superuser can turn triggers off; the chains are what catch it.
            let done = try Self.psql(database, "SET session_replication_role = replica; " + tamper)
            #expect(done.status == 0, "\(tamper): \(done.errors)")
            let verify = try run(["verify", "--database", database])
            #expect(verify.status == 1, "\(tamper): \(verify.stdout)")
            #expect(verify.stdout.hasPrefix("TAMPERED:"), "\(tamper)")
            let audit = try run(["audit", "INC-2026-0001", "--at", "2026-11-20T12:00:00Z", "--database", database])
            #expect(audit.status == 2, "\(tamper): \(audit.stdout)")
            #expect(!audit.stdout.contains("COMPLIANT"))
        }
    }

    @Test("migrate copies nothing from a register that does not check out, into a database that holds one, or when it fails half-way")
    func refusals() throws {
        let (_, register, _) = try sampleRegister()
        // A tampered source.
        let tampered = try RulebookBinary.temporaryFolder().appendingPathComponent("t.sqlite").path
        try FileManager.default.copyItem(atPath: register, toPath: tampered)
        #expect(try RulebookBinary.sqlite(tampered, "DROP TRIGGER event_no_update; UPDATE event SET body = replace(body, 'J. Clerk', 'X')") == 0)
        let empty = try Self.newDatabase()
        let refused = try run(["migrate", "--from", tampered, "--to", empty])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("does not check out"), "\(refused.stderr)")
        #expect(try Self.psql(empty, "SELECT to_regclass('rulebook_schema') IS NULL").output == "t")
        // A database that already holds a register is never merged into.
        #expect(try run(["migrate", "--from", register, "--to", empty]).status == 0)
        let twice = try run(["migrate", "--from", register, "--to", empty])
        #expect(twice.status == 2)
        #expect(twice.stderr.contains("already holds a register"))
        #expect(try Self.psql(empty, "SELECT COUNT(*) FROM event").output == "3")
        // Half-way: a table of the same name stops the copy; the transaction leaves nothing.
        let occupied = try Self.newDatabase()
        #expect(try Self.psql(occupied, "CREATE TABLE ledger (note TEXT); INSERT INTO ledger VALUES ('mine')").status == 0)
        let failed = try run(["migrate", "--from", register, "--to", occupied])
        #expect(failed.status == 2)
        #expect(failed.stderr.contains("PostgreSQL refused it"), "\(failed.stderr)")
        #expect(try Self.psql(occupied, "SELECT to_regclass('rulebook_schema') IS NULL, to_regclass('incident') IS NULL").output == "t|t")
        #expect(try Self.psql(occupied, "SELECT note FROM ledger").output == "mine")
        // A role that does not exist, an address that is not one, a server that is not there.
        let fresh = try Self.newDatabase()
        let noRole = try run(["migrate", "--from", register, "--to", fresh, "--writer-role", "nobody_here"])
        #expect(noRole.status == 2 && noRole.stderr.contains("there is no role 'nobody_here'"))
        #expect(try Self.psql(fresh, "SELECT to_regclass('rulebook_schema') IS NULL").output == "t")
        // The superuser (here also the user copying) could turn the triggers off: not a writer role.
        let superuser = try run(["migrate", "--from", register, "--to", fresh, "--writer-role", "rulebook"])
        #expect(superuser.status == 2 && superuser.stderr.contains("is a superuser"), "\(superuser.stderr)")
        #expect(try Self.psql(fresh, "SELECT to_regclass('rulebook_schema') IS NULL").output == "t")
        // A password given in the query is not shown either; libpq's message is one line.
        let query = try run(["verify", "--database", "postgres://rulebook@127.0.0.1:1/none?sslmode=disable&password=QuerySecret"])
        #expect(query.status == 2 && !query.stderr.contains("QuerySecret") && !query.stderr.contains("\\u{a}"), "\(query.stderr)")
        let notURL = try run(["migrate", "--from", register, "--to", "mysql://x/y"])
        #expect(notURL.status == 2 && notURL.stderr.contains("is not a PostgreSQL address"))
        let away = try run(["verify", "--database", "postgres://rulebook:secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=3"])
        #expect(away.status == 2 && away.stderr.contains("cannot connect to"))
        #expect(!away.stderr.contains("secret"), "the password is never shown: \(away.stderr)")
        // A database that is not a register.
        let other = try run(["list", "--database", try Self.newDatabase()])
        #expect(other.status == 2 && other.stderr.contains("holds no register"))
    }
}

extension PostgresCLITests {
    /// A new login role, for migrate's --writer-role.
    static func newRole() throws -> String {
        let role = "rb_writer_" + UUID().uuidString.lowercased().prefix(8)
        #expect(try psql(server!, "CREATE ROLE \(role) LOGIN").status == 0)
        return role
    }

    @Test("open, record, import and users write through PostgreSQL as the writer role: two writers at once keep the chains linear, signed heads verify, a refusal leaves nothing")
    func writesThroughPostgres() throws {
        let (_, register, key) = try sampleRegister()
        let database = try Self.newDatabase()
        let role = try Self.newRole()
        #expect(try run(["migrate", "--from", register, "--to", database, "--writer-role", role]).status == 0)
        let writer = Self.address(database: String(database.split(separator: "/").last!.split(separator: "?")[0]), user: role)
        let signed = ["--signing-key", key, "--database", writer]

        let recorded = try run(["record", "INC-2026-0001", "preliminary_investigation", "--by", "dp_lead", "--at", "2026-11-02T11:00:00Z"] + signed)
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(recorded.stdout.hasPrefix("recorded event 3 of INC-2026-0001"), "\(recorded.stdout)")
        let opened = try run(["open", "council", "--school", "Treetops", "--at", "2026-11-07T09:00:00Z"] + signed)
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "INC-2026-0003")
        let example = RulebookBinary.packageRoot.appendingPathComponent("Policies/examples/treetops-major-laptop.yaml").path
        let imported = try run(["import", example, "--school", "Treetops"] + signed)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try Self.psql(database, "SELECT COUNT(*) FROM incident").output == "4")

        // Refused by the policy: nothing reaches PostgreSQL, and the next write goes on.
        let before = try Self.psql(database, "SELECT gseq || ' ' || hash FROM head").output
        let refused = try run(["record", "INC-2026-0001", "no_such_action", "--by", "dp_lead"] + signed)
        #expect(refused.status == 2)
        #expect(try Self.psql(database, "SELECT gseq || ' ' || hash FROM head").output == before)

        // Two writers at once, on one incident: every append lands, in one line.
        let events = Int(try Self.psql(database, "SELECT COUNT(*) FROM event").output) ?? -1
        let script = """
            for w in 1 2; do
              ( for i in $(seq 1 6); do
                  "\(RulebookBinary.path)" record INC-2026-0003 record_facts --by employee --note "w$w-$i" --signing-key '\(key)' --database '\(writer)' >/dev/null || echo "failed w$w-$i"
                done ) &
            done
            wait
            """
        let both = try RulebookBinary.run(["bash", "-c", script], executable: "/usr/bin/env")
        #expect(both.stdout.isEmpty, "\(both.stdout) \(both.stderr)")
        #expect(try Self.psql(database, "SELECT COUNT(*) FROM event").output == String(events + 12))
        #expect(try Self.psql(database, "SELECT string_agg(position::text, ',' ORDER BY position) FROM event WHERE incident_seq = 3").output
            == (1...12).map(String.init).joined(separator: ","))

        // Users and tokens kept in PostgreSQL.
        let added = try RulebookBinary.run(["user", "add", "ann", "--school", "Treetops", "--role", "employee", "--password-stdin", "--database", writer],
                                           stdin: "a long enough password\n")
        #expect(added.status == 0, "\(added.stderr)")
        #expect(try run(["user", "token", "ann", "--database", writer]).status == 0)
        #expect(try Self.psql(database, "SELECT COUNT(*) FROM api_token").output == "1")
        #expect(try run(["user", "disable", "ann", "--database", writer]).status == 0)
        #expect(try Self.psql(database, "SELECT disabled || ' ' || (SELECT COUNT(*) FROM api_token) FROM \"user\" WHERE name = 'ann'").output == "1 0")

        // The whole register, with a signature on every write's head.
        let verify = try run(["verify", "--public-key", key + ".pub", "--database", writer])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(verify.stdout.hasPrefix("intact: 4 incidents"), "\(verify.stdout)")
        #expect(try Self.psql(database, "SELECT (SELECT MAX(records) FROM checkpoint) = (SELECT gseq FROM head)").output == "t")
        // The notifier's outbox is not kept there: refused in words, nothing started.
        let secret = URL(fileURLWithPath: key).deletingLastPathComponent().appendingPathComponent("webhook.secret").path
        try "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==\n".write(toFile: secret, atomically: true, encoding: .utf8)
        for arguments in [["serve"], ["notify", "--once"]] {
            let notify = try run(arguments + ["--database", writer, "--webhook", "http://127.0.0.1:9/x", "--webhook-secret-file", secret])
            #expect(notify.status == 2)
            #expect(notify.stderr.contains("keeps its outbox in an SQLite register only"), "\(notify.stderr)")
        }
        // $RULEBOOK_DATABASE stands for --database, for reading and writing, unless --register names a file.
        let environment = ["RULEBOOK_DATABASE": writer]
        let viaOption = try run(["list", "--database", writer])
        let viaEnvironment = try RulebookBinary.run(["list"], environment: environment)
        #expect(viaEnvironment.status == 0 && viaEnvironment.stdout == viaOption.stdout, "\(viaEnvironment.stderr)")
        let recordedViaEnvironment = try RulebookBinary.run(["record", "INC-2026-0001", "coordinate_containment", "--by", "dp_lead"], environment: environment)
        #expect(recordedViaEnvironment.status == 0, "\(recordedViaEnvironment.stderr)")
        #expect(try Self.psql(database, "SELECT COUNT(*) FROM event WHERE body LIKE '%coordinate_containment%'").output != "0")
        let file = try RulebookBinary.run(["list", "--register", key + ".absent.sqlite"], environment: environment)
        #expect(file.status == 2 && !file.stderr.contains("postgres"), "\(file.stderr)")
        // Not an empty outbox: none.
        let outbox = try run(["outbox", "--database", writer])
        #expect(outbox.status == 2 && outbox.stdout.isEmpty)
        #expect(outbox.stderr.contains("keeps its outbox in an SQLite register only"), "\(outbox.stderr)")
        // A role without Rulebook's rights is told what to do, and libpq adds no warning.
        let stranger = "rb_stranger_" + UUID().uuidString.lowercased().prefix(8)
        #expect(try Self.psql(database, "CREATE ROLE \(stranger) LOGIN").status == 0)
        var strangersAddress = URLComponents(string: database)!
        strangersAddress.user = stranger
        let denied = try run(["record", "INC-2026-0001", "coordinate_containment", "--by", "dp_lead", "--database", strangersAddress.string!])
        #expect(denied.status == 2)
        #expect(denied.stderr.contains("permission denied") && denied.stderr.contains("--writer-role"), "\(denied.stderr)")
        #expect(!denied.stderr.contains("WARNING"), "\(denied.stderr)")
    }

    @Test("serve on PostgreSQL: appends from the API and the CLI at once, kill -9 mid-burst loses no acknowledged event, a second server sees them all")
    func serveOnPostgres() async throws {
        let database = try Self.newDatabase()
        let server = try RunningServer(postgres: database)
        let writer = try #require(server.writer)
        #expect(try await server.request("GET", "/api/v1/incidents/INC-2026-0007", as: "madras-lead").status == 200)
        // Another school's incident is a 404, as on SQLite.
        #expect(try await server.request("GET", "/api/v1/incidents/INC-2026-0007", as: "leverton-head").status == 404)
        // A user added through the CLI while it runs can use their token at once.
        #expect(try RulebookBinary.run(["user", "add", "late", "--all-schools", "--role", "dpo", "--no-password", "--database", writer]).status == 0)
        let token = try run(["user", "token", "late", "--database", writer])
        server.tokens["late"] = token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await server.request("GET", "/api/v1/incidents/INC-2026-0007", as: "late").status == 200)

        let folder = try RulebookBinary.temporaryFolder()
        let api = server.tokens["madras-lead"]!
        let burst = server.burst(writers: 3, each: 300, token: api, into: folder) + """
            ( for i in $(seq 1 5); do
                "\(RulebookBinary.path)" record INC-2026-0007 coordinate_containment --by dp_lead --note "cli-$i" --database '\(writer)' >/dev/null \\
                  && echo "cli-$i" >> \(folder.path)/acked-cli
              done ) &
            wait
            """
        let writers = Process()
        writers.executableURL = URL(fileURLWithPath: "/bin/bash")
        writers.arguments = ["-c", burst]
        writers.standardOutput = FileHandle.nullDevice
        writers.standardError = FileHandle.nullDevice
        try writers.run()
        // Killed mid-burst, once some appends are acknowledged (slow builds, such as the
        // sanitizers', take longer to get there).
        let started = Date()
        while Date().timeIntervalSince(started) < 60 {
            try await Task.sleep(nanoseconds: 500_000_000)
            let acked = (1...3).map { (try? String(contentsOfFile: "\(folder.path)/acked-\($0)", encoding: .utf8)) ?? "" }.joined()
            if acked.split(separator: "\n").count >= 30 { break }
        }
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        writers.waitUntilExit()
        var acknowledged: [String] = []
        for name in ["acked-1", "acked-2", "acked-3", "acked-cli"] {
            let text = (try? String(contentsOfFile: "\(folder.path)/\(name)", encoding: .utf8)) ?? ""
            acknowledged += text.split(separator: "\n").map(String.init)
        }
        #expect(acknowledged.filter { $0.hasPrefix("burst") }.count >= 10, "too few appends were acknowledged before the kill to tell anything")
        #expect(acknowledged.filter { $0.hasPrefix("cli") }.count == 5)
        let stored = try Self.psql(database, "SELECT body FROM event")
        let missing = acknowledged.filter { !stored.output.contains("\"\($0)\"") }
        #expect(missing.isEmpty, "acknowledged but not in PostgreSQL: \(missing.prefix(5))")
        let verify = try run(["verify", "--database", writer])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")

        // A second server on the same database answers with every one of them.
        let second = try RunningServer(postgres: nil, sharing: server)
        let events = try await second.request("GET", "/api/v1/incidents/INC-2026-0007", as: "madras-lead")
        #expect(events.status == 200)
        let count = Int(try Self.psql(database, "SELECT COUNT(*) FROM event e JOIN incident i ON i.seq = e.incident_seq WHERE i.number = 'INC-2026-0007'").output) ?? -1
        #expect(events.body.components(separatedBy: "\"action\"").count - 1 == count, "the case file's events against PostgreSQL's \(count)")
        // Records taken away behind its back (a superuser, triggers off): the server will
        // not answer from what it read before, nor write on top.
        #expect(try Self.psql(database, "SET session_replication_role = replica; DELETE FROM ledger WHERE gseq = (SELECT MAX(gseq) FROM ledger); UPDATE head SET gseq = gseq - 1, hash = (SELECT hash FROM ledger ORDER BY gseq DESC LIMIT 1)").status == 0)
        let stale = try await second.request("GET", "/api/v1/incidents/INC-2026-0007", as: "madras-lead")
        #expect(stale.status == 503, "\(stale.body)")
        #expect(stale.body.contains("changed behind"), "\(stale.body)")
        #expect(second.stop() == 0)
    }

    @Test("serve on PostgreSQL through a broken connection: a write after PostgreSQL dropped it is made on a fresh one; while it refuses, 503 with Retry-After and no address, and /health says so")
    func brokenConnections() async throws {
        let database = try Self.newDatabase()
        let server = try RunningServer(postgres: database)
        let writer = try #require(server.writer)
        let role = try #require(URLComponents(string: writer)?.user)
        let record = #"{"action": "coordinate_containment", "by": "dp_lead", "note": "after"}"#
        #expect(try await server.request("POST", "/api/v1/incidents/INC-2026-0007/events", as: "madras-lead", body: record).status == 201)
        // What a restart of PostgreSQL does to the server's connections.
        let dropAll = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '\(role)'"
        #expect(try Self.psql(database, dropAll).status == 0)
        let after = try await server.request("POST", "/api/v1/incidents/INC-2026-0007/events", as: "madras-lead", body: record)
        #expect(after.status == 201, "\(after.body)")
        #expect(try await server.request("GET", "/api/v1/incidents/INC-2026-0007/next", as: "madras-lead").status == 200)
        #expect(try Self.psql(database, "SELECT COUNT(*) FROM event WHERE body LIKE '%\"after\"%'").output == "2")

        // PostgreSQL refuses the server altogether (as when it is down): nothing is answered
        // from the copy, the client is told to try again, and the address is not shown.
        #expect(try Self.psql(database, "ALTER ROLE \(role) NOLOGIN; \(dropAll)").status == 0)
        let health = try await server.request("GET", "/health")
        #expect(health.status == 503 && health.body.contains("unavailable"), "\(health.status) \(health.body)")
        #expect(health.headers["retry-after"] == "5")
        // A browser gets a page saying so, not JSON.
        let page = try await server.request("GET", "/sign-in")
        #expect(page.status == 503 && page.headers["content-type"]?.hasPrefix("text/html") == true, "\(page.status) \(page.headers)")
        #expect(page.body.contains("Not available just now") && page.body.contains("cannot be reached now") && !page.body.contains(role), "\(page.body)")
        for (method, body) in [("GET", nil), ("POST", record)] as [(String, String?)] {
            let path = "/api/v1/incidents/INC-2026-0007" + (method == "GET" ? "/next" : "/events")
            let refused = try await server.request(method, path, as: "madras-lead", body: body)
            #expect(refused.status == 503, "\(method) \(refused.status) \(refused.body)")
            #expect(refused.headers["retry-after"] == "5")
            #expect(!refused.body.contains(role) && !refused.body.contains("127.0.0.1"), "\(refused.body)")
        }
        #expect(try Self.psql(database, "ALTER ROLE \(role) LOGIN").status == 0)
        #expect(try await server.request("GET", "/health").status == 200)
        #expect(try await server.request("POST", "/api/v1/incidents/INC-2026-0007/events", as: "madras-lead", body: record).status == 201)
        let verify = try run(["verify", "--database", writer])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(server.stop() == 0)
        // Served as the tables' owner, who could turn the triggers off: warned (here it then
        // stops at the missing policies folder).
        let asOwner = try run(["serve", "--database", database, "--listen", "127.0.0.1:0", "--policies", "/nonexistent-policies"])
        #expect(asOwner.status == 2)
        #expect(asOwner.stderr.contains("warning: 'rulebook' is a superuser"), "\(asOwner.stderr)")
        let asWriter = try run(["serve", "--database", writer, "--listen", "127.0.0.1:0", "--policies", "/nonexistent-policies"])
        #expect(asWriter.status == 2 && !asWriter.stderr.contains("warning"), "\(asWriter.stderr)")
    }
}
