import Foundation
import RulebookTestSupport
import Testing

/// A helper process on loopback (the webhook receiver, the SMTP sink), stopped at the end.
private final class Helper: @unchecked Sendable {
    let process = Process()

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = Pipe()
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// The first line the helper prints (the receiver's port).
    func firstLine() -> String {
        var seen = ""
        let handle = (process.standardOutput as! Pipe).fileHandleForReading
        while !seen.contains("\n") {
            let data = handle.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
        }
        return seen.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // SIGKILL: a child of the test runner may inherit a mask that blocks SIGTERM.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }
}

/// A register holding the Madras example (two duties overdue at 10:00 on 3 November), a
/// webhook secret, and the receiver answering 500 to its first `fail` requests.
private func setUp(fail: Int) throws -> (folder: URL, register: String, secret: String, log: URL, receiver: Helper, url: String) {
    let folder = try RulebookBinary.temporaryFolder()
    let register = folder.appendingPathComponent("r.sqlite").path
    let example = RulebookBinary.packageRoot.appendingPathComponent("Policies/examples/madras-foi-disclosure.yaml").path
    let imported = try RulebookBinary.run(["import", example, "--school", "madras", "--register", register])
    guard imported.status == 0 else { throw ServeTestError(imported.stderr) }
    let secret = folder.appendingPathComponent("secret")
    try "0123456789abcdef0123456789abcdef\n".write(to: secret, atomically: true, encoding: .utf8)
    let log = folder.appendingPathComponent("received.jsonl")
    let receiver = try Helper(["python3", RulebookBinary.packageRoot.appendingPathComponent("Tests/Fixtures/notify/receiver.py").path,
                               secret.path, log.path, String(fail)])
    let port = receiver.firstLine()
    guard Int(port) != nil else { throw ServeTestError("the receiver did not start: \(port)") }
    return (folder, register, secret.path, log, receiver, "http://127.0.0.1:\(port)/hook")
}

private func received(_ log: URL) throws -> [[String: Any]] {
    guard let text = try? String(contentsOf: log, encoding: .utf8) else { return [] }
    return try text.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
}

@Suite("rulebook notify: webhooks and mail, each once", .serialized)
struct NotifyCLITests {
    @Test("webhooks: signed (HMAC-SHA256 over timestamp.body); a 500 is retried after the back-off; nothing is sent twice across restarts")
    func webhooks() throws {
        let s = try setUp(fail: 1)
        func round(_ at: String) throws -> String {
            let run = try RulebookBinary.run(["notify", "--once", "--at", at, "--webhook", s.url, "--webhook-secret-file", s.secret,
                                              "--register", s.register, "--base-url", "https://rulebook.example.org"])
            #expect(run.status == 0, "\(run.stderr)")
            return run.stderr
        }
        // Each round is a new process: a restart between every two.
        #expect(try round("2026-11-03T10:00:00Z").contains("2 notices, 2 newly queued, 1 sent, 1 to retry, 0 dead"))
        #expect(try round("2026-11-03T10:00:30Z").contains("2 notices, 0 newly queued, 0 sent, 0 to retry, 0 dead"))
        #expect(try round("2026-11-03T10:01:00Z").contains("2 notices, 0 newly queued, 1 sent, 0 to retry, 0 dead"))
        #expect(try round("2026-11-03T12:00:00Z").contains("0 newly queued, 0 sent"))

        let got = try received(s.log)
        #expect(got.count == 3)
        #expect(got.allSatisfy { $0["signature_ok"] as? Bool == true })
        // The failed delivery came again with the same delivery id, and each notice was
        // acknowledged exactly once.
        let acknowledged = got.filter { $0["answered"] as? Int == 204 }.compactMap { ($0["body"] as? [String: Any])?["id"] as? String }
        #expect(acknowledged.sorted() == ["overdue/INC-2026-0007/advise_category", "overdue/INC-2026-0007/form_a"])
        #expect(got[0]["delivery"] as? String == got[2]["delivery"] as? String)
        let body = try #require(got[0]["body"] as? [String: Any])
        #expect(body["kind"] as? String == "overdue")
        #expect(body["deadline_local"] as? String == "2026-11-02 14:30 GMT")
        #expect(body["url"] as? String == "https://rulebook.example.org/api/v1/incidents/INC-2026-0007")

        let outbox = try RulebookBinary.run(["outbox", "--register", s.register, "--format", "json"])
        let deliveries = try #require((try JSONSerialization.jsonObject(with: Data(outbox.stdout.utf8)) as? [String: Any])?["deliveries"] as? [[String: Any]])
        #expect(deliveries.map { $0["status"] as? String } == ["sent", "sent"])
        #expect(deliveries.map { $0["attempts"] as? Int }.sorted { ($0 ?? 0) < ($1 ?? 0) } == [1, 2])
    }

    @Test("a receiver that keeps failing: after --attempts the delivery is a dead letter with its last error; --retry queues it again")
    func deadLetter() throws {
        let s = try setUp(fail: 1000)
        let base = ["notify", "--once", "--webhook", s.url, "--webhook-secret-file", s.secret, "--register", s.register, "--attempts", "2",
                    "--retry-after", "PT5M", "--notify", "overdue"]
        #expect(try RulebookBinary.run(base + ["--at", "2026-11-03T10:00:00Z"]).stderr.contains("2 to retry, 0 dead"))
        #expect(try RulebookBinary.run(base + ["--at", "2026-11-03T10:04:59Z"]).stderr.contains("0 sent, 0 to retry, 0 dead"))
        let second = try RulebookBinary.run(base + ["--at", "2026-11-03T10:05:00Z"])
        #expect(second.stderr.contains("0 sent, 0 to retry, 2 dead"))
        #expect(second.stderr.contains("dead letter 1 (overdue/INC-2026-0007/advise_category to webhook:\(s.url)) after 2 attempts: HTTP 500"))
        let dead = try RulebookBinary.run(["outbox", "--status", "dead", "--register", s.register])
        #expect(dead.stdout.contains("1  dead  overdue/INC-2026-0007/advise_category"))
        #expect(dead.stdout.contains("last error: HTTP 500"))
        let retry = try RulebookBinary.run(["outbox", "--retry", "1", "--register", s.register])
        #expect(retry.status == 0)
        #expect(try RulebookBinary.run(["outbox", "--status", "pending", "--register", s.register]).stdout.contains("1  pending"))
        #expect(try received(s.log).count == 4)
    }

    @Test("reminder points: the latest point reached is sent once; at the deadline PT0S; after it, overdue; a done-late duty from before a target existed is history, not sent")
    func reminderPoints() throws {
        let s = try setUp(fail: 0)
        let policies = s.folder.appendingPathComponent("policies")
        try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
        try """
            id: drill
            title: Reminder drill
            organisation: Test School
            time_zone: Europe/London
            roles:
              lead: {title: Incident lead}
            facts:
              discovered_at: {type: datetime, question: When was it discovered?, clause: "1"}
            actions:
              notify: {title: Notify the regulator, roles: [lead]}
              tell: {title: Tell the head, roles: [lead]}
            duties:
              notify:
                title: Notify the regulator
                role: lead
                action: notify
                from: {fact: discovered_at}
                within: PT48H
                clause: "2"
              tell:
                title: Tell the head
                role: lead
                action: tell
                from: {fact: discovered_at}
                within: PT1H
                clause: "3"
            reminders:
              before: [PT24H, PT4H, PT0S]
              assumption: The drill's own choice.
            """.write(to: policies.appendingPathComponent("drill.yaml"), atomically: true, encoding: .utf8)
        let facts = s.folder.appendingPathComponent("facts.yaml")
        try "discovered_at: 2026-11-10T09:00:00Z\n".write(to: facts, atomically: true, encoding: .utf8)
        let register = s.folder.appendingPathComponent("drill.sqlite").path
        let opened = try RulebookBinary.run(["open", "drill", "--facts", facts.path, "--policies", policies.path, "--register", register,
                                             "--at", "2026-11-10T09:00:00Z", "--school", "a"])
        #expect(opened.status == 0, "\(opened.stderr)")
        let number = opened.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // "Tell the head" was done late (11:00, an hour late) before any webhook was configured.
        let late = try RulebookBinary.run(["record", number, "tell", "--by", "lead", "--at", "2026-11-10T11:00:00Z", "--register", register])
        #expect(late.status == 0, "\(late.stderr)")
        func round(_ at: String) throws {
            let run = try RulebookBinary.run(["notify", "--once", "--at", at, "--webhook", s.url, "--webhook-secret-file", s.secret, "--register", register])
            #expect(run.status == 0, "\(run.stderr)")
        }
        for at in ["2026-11-11T08:59:00Z", "2026-11-11T09:00:00Z", "2026-11-11T12:00:00Z", "2026-11-12T05:00:00Z", "2026-11-12T06:00:00Z",
                   "2026-11-12T09:00:00Z", "2026-11-12T09:01:00Z", "2026-11-12T10:00:00Z"] {
            try round(at)
        }
        let ids = try received(s.log).compactMap { ($0["body"] as? [String: Any])?["id"] as? String }
        #expect(ids == ["reminder/\(number)/notify/PT24H", "reminder/\(number)/notify/PT4H", "reminder/\(number)/notify/PT0S",
                        "overdue/\(number)/notify"])
        let history = try RulebookBinary.run(["outbox", "--status", "history", "--register", register])
        #expect(history.stdout.contains("done_late/\(number)/tell"))
    }

    @Test("mail through a local SMTP sink: to the shared inbox and to the user holding the duty's role at that school, never to another school's")
    func mail() throws {
        let s = try setUp(fail: 0)
        for (name, options) in [("lead", ["--school", "madras", "--role", "dp_lead", "--email", "lead@madras.example.org"]),
                                ("other", ["--school", "leverton", "--role", "dp_lead", "--email", "lead@leverton.example.org"]),
                                ("dpo", ["--school", "madras", "--role", "dpo", "--email", "dpo@example.org"])] {
            let added = try RulebookBinary.run(["user", "add", name, "--register", s.register, "--no-password"] + options)
            #expect(added.status == 0, "\(added.stderr)")
        }
        let maildir = s.folder.appendingPathComponent("maildir")
        let port = try RulebookBinary.run(["python3", "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"],
                                          executable: "/usr/bin/env").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let sink = try Helper(["python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox", maildir.path])
        var up = false
        for _ in 0..<50 where !up {
            up = try RulebookBinary.run(["python3", "-c", "import socket; socket.create_connection(('127.0.0.1', \(port)), 1)"],
                                        executable: "/usr/bin/env").status == 0
            if !up { usleep(100_000) }
        }
        #expect(up)
        let run = try RulebookBinary.run(["notify", "--once", "--at", "2026-11-03T10:00:00Z", "--smtp", "smtp://127.0.0.1:\(port)",
                                          "--mail-from", "rulebook@example.org", "--mail-to", "breaches@example.org", "--register", s.register])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("2 notices, 4 newly queued, 4 sent"), "\(run.stderr)")
        _ = sink
        let check = try RulebookBinary.run(["python3", "-c", """
            import email.header, mailbox, sys
            box = mailbox.Maildir(sys.argv[1], create=False)
            subject = lambda m: str(email.header.make_header(email.header.decode_header(m['Subject'])))
            for m in sorted(box, key=lambda m: (m['To'], subject(m))):
                assert all(len(line) <= 78 for line in m.as_string().split('\\n\\n')[0].split('\\n')), 'a header line is too long'
                print(m['To'], '|', subject(m), '|', m['X-Rulebook-Notice'])
                assert 'Deadline: 2026-11-02 14:30 GMT (Europe/London)' in m.get_payload() or 'form_a' in m['X-Rulebook-Notice']
            """, maildir.path], executable: "/usr/bin/env")
        #expect(check.status == 0, "\(check.stderr)")
        let lines = check.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines.filter { $0.hasPrefix("<breaches@example.org>") }.count == 2)
        #expect(lines.filter { $0.hasPrefix("<lead@madras.example.org>") }.count == 2)
        #expect(!check.stdout.contains("leverton"))
        #expect(lines.contains { $0.contains("[Rulebook] INC-2026-0007: Notify the Schools DPO immediately of the category is overdue") }, "\(check.stdout)")
    }
}

@Suite("rulebook serve runs the notifier")
struct ServeNotifierTests {
    @Test("with --webhook, the server's own notifier thread posts signed notices while it serves")
    func serverNotifies() async throws {
        let folder = try RulebookBinary.temporaryFolder()
        let secret = folder.appendingPathComponent("secret")
        try "0123456789abcdef0123456789abcdef\n".write(to: secret, atomically: true, encoding: .utf8)
        let log = folder.appendingPathComponent("received.jsonl")
        let receiver = try Helper(["python3", RulebookBinary.packageRoot.appendingPathComponent("Tests/Fixtures/notify/receiver.py").path,
                                   secret.path, log.path, "0"])
        let port = receiver.firstLine()
        let server = try RunningServer(extra: ["--webhook", "http://127.0.0.1:\(port)/hook", "--webhook-secret-file", secret.path,
                                               "--notify-every", "PT1S", "--notify", "overdue"])
        var got: [[String: Any]] = []
        for _ in 0..<100 where got.isEmpty {
            try await Task.sleep(nanoseconds: 100_000_000)
            got = try received(log)
        }
        #expect(!got.isEmpty)
        #expect(got.allSatisfy { $0["signature_ok"] as? Bool == true && $0["event"] as? String == "overdue" })
        // The API still answers while the notifier works.
        #expect(try await server.request("GET", "/health").status == 200)
        #expect(server.stop() == 0)
    }
}
