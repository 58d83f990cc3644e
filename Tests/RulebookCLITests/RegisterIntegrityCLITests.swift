import Foundation
import RulebookTestSupport
import Testing

/// What `verify` promises about the policies incidents are judged under.
@Suite("register: pinned policies")
struct RegisterIntegrityCLITests {
    private func run(_ arguments: [String], register: String) throws -> RulebookBinary.Run {
        try RulebookBinary.run(arguments, environment: ["RULEBOOK_REGISTER": register])
    }

    private func sqlite(_ register: String, _ sql: String) throws -> Int32 { try RulebookBinary.sqlite(register, sql) }

    @Test("an altered or deleted pinned policy is tampering: verify names it, and audit refuses to judge under it")
    func pinnedPolicy() throws {
        for tamper in ["UPDATE policy_pin SET lineage = replace(lineage, 'within: PT1H', 'within: P30D')",
                       "UPDATE policy_pin SET lineage = 'garbled'",
                       "DELETE FROM policy_pin"] {
            let folder = try RulebookBinary.temporaryFolder()
            let register = folder.appendingPathComponent("r.sqlite").path
            let facts = folder.appendingPathComponent("facts.yaml")
            try "discovered_at: 2026-11-02T09:14:00Z\n".write(to: facts, atomically: true, encoding: .utf8)
            let number = try run(["open", "madras", "--facts", facts.path, "--at", "2026-11-02T09:20:00Z"], register: register)
                .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try run(["record", number, "report", "--by", "staff", "--at", "2026-11-02T09:30:00Z"], register: register).status == 0)
            #expect(try run(["verify"], register: register).status == 0)
            #expect(try sqlite(register, "DROP TRIGGER policy_pin_no_update; DROP TRIGGER policy_pin_no_delete; PRAGMA foreign_keys = OFF; " + tamper) == 0)
            let verify = try run(["verify"], register: register)
            #expect(verify.status == 1, "\(tamper): \(verify.stdout)")
            #expect(verify.stdout.hasPrefix("TAMPERED:"), "\(tamper)")
            #expect(verify.stdout.contains("the policy \(number) was opened under"), "\(tamper)")
            let one = try run(["verify", number], register: register)
            #expect(one.status == 1, "\(tamper)")
            let audit = try run(["audit", number, "--at", "2026-11-20T09:00:00Z"], register: register)
            #expect(audit.status == 2, "\(tamper): \(audit.stdout)")
            #expect(!audit.stdout.contains("COMPLIANT"), "\(tamper)")
        }
    }

    @Test("record syncs the register to disk (fsync or fdatasync) before it says the event was recorded")
    func durable() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let register = folder.appendingPathComponent("r.sqlite").path
        let number = try run(["open", "council", "--at", "2026-11-05T09:00:00Z"], register: register)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let trace = folder.appendingPathComponent("trace.txt").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["strace", "-f", "-e", "trace=pwrite64,fsync,fdatasync,write", "-o", trace, RulebookBinary.path,
                             "record", number, "record_facts", "--by", "employee", "--at", "2026-11-05T09:10:00Z", "--register", register]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "strace is installed by scripts/install-deps (make test)")
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
        let acknowledged = try #require(lines.firstIndex { $0.contains("write(1, \"recorded event") })
        // The commit's last write to the file, then a sync, then the answer.
        let committed = try #require(lines[..<acknowledged].lastIndex { $0.contains("pwrite64(") })
        #expect(lines[committed..<acknowledged].contains { $0.contains("fsync(") || $0.contains("fdatasync(") })
    }

    @Test("read commands never create, migrate or write: an empty file, another application's database and a newer register are refused, unchanged")
    func readOnly() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let empty = folder.appendingPathComponent("empty.sqlite").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        for command in [["verify"], ["list"], ["export", "INC-2026-0001"], ["audit", "INC-2026-0001"]] {
            let run = try self.run(command, register: empty)
            #expect(run.status == 2, "\(command)")
            #expect(run.stderr.contains("is an empty file, not a register"), "\(command): \(run.stderr)")
        }
        #expect(try FileManager.default.attributesOfItem(atPath: empty)[.size] as? Int == 0)
        let foreign = folder.appendingPathComponent("foreign.sqlite").path
        #expect(try sqlite(foreign, "CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('mine')") == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: foreign))
        for command in [["verify"], ["list"], ["open", "council", "--at", "2026-11-05T09:00:00Z"]] {
            let run = try self.run(command, register: foreign)
            #expect(run.status == 2, "\(command)")
            #expect(run.stderr.contains("is not a Rulebook register"), "\(command): \(run.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: foreign)) == before)
        #expect(!FileManager.default.fileExists(atPath: foreign + "-wal"))
        let newer = folder.appendingPathComponent("newer.sqlite").path
        #expect(try run(["open", "council", "--at", "2026-11-05T09:00:00Z"], register: newer).status == 0)
        #expect(try sqlite(newer, "INSERT INTO grdb_migrations VALUES ('v9: from the future')") == 0)
        let refused = try run(["list"], register: newer)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("was written by a newer Rulebook"))
    }

    @Test("a far-future time, an oversized event and a hostile incident number are refused; stored text never reaches a terminal raw")
    func hostileInput() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let register = folder.appendingPathComponent("r.sqlite").path
        let number = try run(["open", "council", "--school", "Evil\u{1b}[31mSchool", "--at", "2026-11-05T09:00:00Z"], register: register)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let future = try run(["record", number, "record_facts", "--by", "employee", "--at", "2062-01-01T00:00:00Z"], register: register)
        #expect(future.status == 2)
        #expect(future.stderr.contains("in the future of this machine's clock"))
        #expect(try run(["record", number, "record_facts", "--by", "employee", "--at", "2026-11-05T09:10:00Z"], register: register).status == 0)
        let list = try run(["list"], register: register)
        #expect(list.stdout.contains("Evil\\u{1b}[31mSchool"))
        #expect(!list.stdout.contains("\u{1b}"))
        // The same size limit for record and import; nothing becomes unreadable.
        let big = String(repeating: "x", count: 300 * 1024)
        // (record's limit, the same, is tested in process: a command line cannot carry it)
        let bigCase = folder.appendingPathComponent("big.yaml")
        try "policy: council\nevents:\n  - {at: 2026-11-05T09:00:00Z, action: record_facts, by: employee, note: \"\(big)\"}\n"
            .write(to: bigCase, atomically: true, encoding: .utf8)
        let imported = try run(["import", bigCase.path], register: register)
        #expect(imported.status == 2)
        #expect(imported.stderr.contains("an event may be at most 256 KiB"))
        for bad in ["../../etc/passwd", "''", "INC\\u001b[2J"] {
            // JSON, so an escape character can be written inside the string.
            let file = folder.appendingPathComponent("bad.json")
            try "{\"policy\": \"council\", \"incident\": \"\(bad)\"}\n".write(to: file, atomically: true, encoding: .utf8)
            let run = try self.run(["import", file.path], register: register)
            #expect(run.status == 2, "\(bad)")
            #expect(run.stderr.contains("is not one the register takes"), "\(bad): \(run.stderr)")
            #expect(!run.stderr.contains("\u{1b}"))
        }
        #expect(try run(["list"], register: register).status == 0)
        #expect(try run(["verify"], register: register).status == 0)
    }

    @Test("an event moved to another incident: verify INC and audit INC of the incident it left are not intact")
    func movedEvent() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let register = folder.appendingPathComponent("r.sqlite").path
        let a = try run(["open", "council", "--at", "2026-11-05T09:00:00Z"], register: register).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let b = try run(["open", "council", "--at", "2026-11-05T09:01:00Z"], register: register).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for (i, number) in [a, a, b].enumerated() {
            #expect(try run(["record", number, "record_facts", "--by", "employee", "--at", "2026-11-05T09:1\(i):00Z"], register: register).status == 0)
        }
        #expect(try sqlite(register, "DROP TRIGGER event_no_update; UPDATE event SET incident_seq = 2, position = 2 WHERE incident_seq = 1 AND position = 2") == 0)
        let whole = try run(["verify"], register: register)
        #expect(whole.status == 1)
        let one = try run(["verify", a], register: register)
        #expect(one.status == 1, "\(one.stdout)")
        #expect(one.stdout.contains("cannot be shown complete"))
        let audit = try run(["audit", a, "--at", "2026-11-06T09:00:00Z"], register: register)
        #expect(audit.status == 2, "\(audit.stdout)")
    }

    /// Every byte of the register: the file and its write-ahead log.
    private func rawBytes(_ register: String) -> String {
        ["", "-wal"].compactMap { try? Data(contentsOf: URL(fileURLWithPath: register + $0)) }
            .map { String(decoding: $0, as: UTF8.self) }.joined()
    }

    @Test("anonymity is decided by who asked, whatever the order of events: the reporter's name never reaches the file or its WAL")
    func anonymityWhateverTheOrder() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let register = folder.appendingPathComponent("r.sqlite").path
        let number = try run(["open", "treetops", "--at", "2026-11-04T08:15:00Z"], register: register)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // The DPO records first; the reporter, second, asks for anonymity.
        #expect(try run(["record", number, "record_facts", "--by", "dpo", "--actor", "Dana Dpo", "--at", "2026-11-04T08:20:00Z"], register: register).status == 0)
        #expect(try run(["record", number, "report_anonymously", "--by", "staff", "--actor", "Jo Bloggs", "--fact", "reporter_anonymous=true",
                         "--at", "2026-11-04T08:30:00Z"], register: register).status == 0)
        #expect(try run(["record", number, "record_facts", "--by", "staff", "--actor", "Jo Bloggs", "--at", "2026-11-04T08:40:00Z"], register: register).status == 0)
        #expect(!rawBytes(register).contains("Jo Bloggs"))
        let export = try run(["export", number], register: register).stdout
        #expect(export.contains("Dana Dpo"))
        #expect(!export.contains("Jo Bloggs"))
        // An imported case whose later event asks for anonymity: the earlier event's name
        // is not written either.
        let other = folder.appendingPathComponent("other.sqlite").path
        let file = folder.appendingPathComponent("case.yaml")
        try """
            policy: treetops
            events:
              - {at: 2026-11-04T08:20:00Z, action: record_facts, by: staff, actor: Sam Reporter}
              - {at: 2026-11-04T08:30:00Z, action: report_anonymously, by: staff, actor: Sam Reporter, facts: {reporter_anonymous: true}}
              - {at: 2026-11-04T08:40:00Z, action: record_facts, by: dpo, actor: Dana Dpo}
            """.write(to: file, atomically: true, encoding: .utf8)
        #expect(try run(["import", file.path], register: other).status == 0)
        #expect(!rawBytes(other).contains("Sam Reporter"))
        #expect(rawBytes(other).contains("Dana Dpo"))
    }

    @Test("signed checkpoints: a rewrite, a truncation or an append made without the private key is tampering; without a key verify says it checked only the chains")
    func signedCheckpoints() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let key = folder.appendingPathComponent("keeper").path
        let made = try RulebookBinary.run(["key", "new", "--out", key])
        #expect(made.status == 0)
        #expect((try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int) == 0o600)
        #expect(try RulebookBinary.run(["key", "new", "--out", key]).status == 2)   // never overwritten
        func signedRegister() throws -> (String, String) {
            let register = folder.appendingPathComponent("r-\(UUID().uuidString).sqlite").path
            let number = try RulebookBinary.run(["open", "council", "--at", "2026-11-05T09:00:00Z", "--signing-key", key],
                                                environment: ["RULEBOOK_REGISTER": register]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            for i in 0..<3 {
                let recorded = try RulebookBinary.run(["record", number, "record_facts", "--by", "employee", "--at", "2026-11-05T09:1\(i):00Z"],
                                                      environment: ["RULEBOOK_REGISTER": register, "RULEBOOK_SIGNING_KEY": key])
                #expect(recorded.status == 0)
            }
            return (register, number)
        }
        let (register, number) = try signedRegister()
        let intact = try run(["verify", "--public-key", key + ".pub"], register: register)
        #expect(intact.status == 0, "\(intact.stdout)")
        #expect(intact.stdout.contains("signed: 4 checkpoints checked against the public key"))
        #expect(try run(["verify"], register: register).stdout.contains("unsigned: only the hash chains were checked"))
        #expect(try run(["checkpoint"], register: register).stdout.hasPrefix("records: 4\n"))
        // Appended without the key.
        #expect(try run(["record", number, "record_facts", "--by", "employee", "--at", "2026-11-05T09:20:00Z"], register: register).status == 0)
        let appended = try run(["verify", "--public-key", key + ".pub"], register: register)
        #expect(appended.status == 1)
        #expect(appended.stdout.contains("record #5 onwards was appended without it"))
        // Rewritten up to a signed head (a forger who recomputed the chain leaves another hash there).
        let (rewritten, _) = try signedRegister()
        #expect(try sqlite(rewritten, "DROP TRIGGER ledger_no_update; UPDATE ledger SET hash = 'f00d' || substr(hash, 5) WHERE gseq = 2") == 0)
        let rewrite = try run(["verify", "--public-key", key + ".pub"], register: rewritten)
        #expect(rewrite.status == 1)
        #expect(rewrite.stdout.contains("ledger record #2 differs from the head signed at"))
        // Truncated: the last records and their head rolled back.
        let (truncated, _) = try signedRegister()
        #expect(try sqlite(truncated, "DROP TRIGGER ledger_no_delete; DROP TRIGGER event_no_delete; DROP TRIGGER head_forward_only; DELETE FROM ledger WHERE gseq = 4; DELETE FROM event WHERE position = 3; UPDATE head SET gseq = 3, hash = (SELECT hash FROM ledger WHERE gseq = 3)") == 0)
        #expect(try run(["verify"], register: truncated).status == 0)   // the chains alone cannot see it
        let cut = try run(["verify", "--public-key", key + ".pub"], register: truncated)
        #expect(cut.status == 1)
        #expect(cut.stdout.contains("is gone: the register was truncated") || cut.stdout.contains("behind the signed head"))
        // Another key's public half does not vouch for these checkpoints.
        let other = folder.appendingPathComponent("other").path
        _ = try RulebookBinary.run(["key", "new", "--out", other])
        #expect(try run(["verify", "--public-key", other + ".pub"], register: register).status == 1)
    }

    @Test("a user who may only read the register can verify and list it (run as 'nobody' with setpriv)")
    func readOnlyUser() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let register = folder.appendingPathComponent("r.sqlite").path
        let number = try run(["open", "council", "--at", "2026-11-05T09:00:00Z"], register: register).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try run(["record", number, "record_facts", "--by", "employee", "--at", "2026-11-05T09:10:00Z"], register: register).status == 0)
        // The files as a reader finds them: the register alone, nothing writable.
        let binary = folder.appendingPathComponent("rulebook").path
        try FileManager.default.copyItem(atPath: RulebookBinary.path, toPath: binary)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: register + suffix) }
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: register)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: folder.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path) }
        for command in [["verify"], ["list", "--at", "2026-11-06T09:00:00Z"], ["export", number]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", binary] + command + ["--register", register]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = out
            try process.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(command): \(text)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["r.sqlite", "rulebook"])
    }
}
