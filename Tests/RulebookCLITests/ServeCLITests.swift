import Foundation
import RulebookTestSupport
import Testing


/// A `rulebook serve` process on a free loopback port, over a register holding the five
/// shipped examples (each at a school named after its file), with three users:
/// `madras-lead` (Madras, dp_lead and staff, a password), `council-it` (every school, dpo)
/// and `leverton-head` (Leverton, head_teacher).
final class RunningServer: @unchecked Sendable {
    let process = Process()
    let register: String
    let port: Int
    var tokens: [String: String] = [:]
    static let password = "correct horse battery staple"

    init(extra: [String] = [], startServer: Bool = true) throws {
        let folder = try RulebookBinary.temporaryFolder()
        register = folder.appendingPathComponent("r.sqlite").path
        let examples = RulebookBinary.packageRoot.appendingPathComponent("Policies/examples")
        for name in try FileManager.default.contentsOfDirectory(atPath: examples.path).sorted() where name.hasSuffix(".yaml") {
            let school = String(name.prefix { $0 != "-" })
            let run = try RulebookBinary.run(["import", examples.appendingPathComponent(name).path, "--school", school, "--register", register])
            guard run.status == 0 else { throw ServeTestError(run.stderr) }
        }
        let users: [(String, [String], String?)] = [
            ("madras-lead", ["--school", "madras", "--role", "dp_lead", "--role", "staff", "--password-stdin"], Self.password),
            ("council-it", ["--all-schools", "--role", "dpo", "--no-password"], nil),
            ("leverton-head", ["--school", "leverton", "--role", "head_teacher", "--no-password"], nil),
        ]
        for (name, options, password) in users {
            let added = try RulebookBinary.run(["user", "add", name, "--register", register] + options, stdin: password.map { $0 + "\n" })
            guard added.status == 0 else { throw ServeTestError(added.stderr) }
            let token = try RulebookBinary.run(["user", "token", name, "--register", register])
            guard token.status == 0 else { throw ServeTestError(token.stderr) }
            tokens[name] = token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        port = startServer ? try Self.start(process, register: register, extra: extra) : 0
    }

    /// The same register and users, copied into the PostgreSQL database at `database`
    /// (its owner's address) with a writer role of its own, and served from there as that
    /// role; `writer` is the address the server writes through.
    init(postgres database: String, extra: [String] = []) throws {
        let built = try RunningServer(startServer: false)
        register = built.register
        tokens = built.tokens
        let role = "rb_writer_" + UUID().uuidString.lowercased().prefix(8)
        let made = try PostgresCLITests.psql(database, "CREATE ROLE \(role) LOGIN")
        guard made.status == 0 else { throw ServeTestError(made.errors) }
        let migrated = try RulebookBinary.run(["migrate", "--from", register, "--to", database, "--writer-role", role])
        guard migrated.status == 0 else { throw ServeTestError(migrated.stderr) }
        var url = URLComponents(string: database)!
        url.user = role
        writer = url.string!
        port = try Self.start(process, register: register, extra: ["--database", writer!] + extra)
    }

    /// The address of the PostgreSQL register it serves, as its writer role.
    private(set) var writer: String?

    /// A second server on the PostgreSQL register another serves.
    init(postgres _: Never?, sharing other: RunningServer) throws {
        register = other.register
        tokens = other.tokens
        writer = other.writer
        port = try Self.start(process, register: register, extra: ["--database", other.writer!])
    }

    /// A second server on another's register (its users and tokens too).
    init(sharing other: RunningServer, extra: [String] = []) throws {
        register = other.register
        tokens = other.tokens
        port = try Self.start(process, register: register, extra: extra)
    }

    /// Starts `rulebook serve` on `register`; its port.
    static func start(_ process: Process, register: String, extra: [String]) throws -> Int {
        process.executableURL = URL(fileURLWithPath: RulebookBinary.path)
        let location = extra.contains("--database") ? [] : ["--register", register]
        process.arguments = ["serve", "--listen", "127.0.0.1:0", "--log-level", "warning"] + location + extra
        process.currentDirectoryURL = RulebookBinary.packageRoot
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // "rulebook: serving … on http://127.0.0.1:PORT"
        var seen = ""
        var found: Int?
        let deadline = Date().addingTimeInterval(60)
        while found == nil, Date() < deadline {
            let data = errors.fileHandleForReading.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
            if let range = seen.range(of: "on http://127.0.0.1:"), let end = seen[range.upperBound...].firstIndex(of: "\n") {
                found = Int(seen[range.upperBound..<end])
            }
        }
        guard let found else {
            process.terminate()
            throw ServeTestError("the server did not start: \(seen)")
        }
        // Keep draining standard error so the server never blocks on a full pipe.
        errors.fileHandleForReading.readabilityHandler = { handle in _ = handle.availableData }
        return found
    }

    deinit { if process.isRunning { process.terminate() } }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    /// One request (made with curl: a client outside this process); `as` names a user
    /// whose token signs it.
    func request(_ method: String, _ path: String, as user: String? = nil, headers: [String: String] = [:], body: String? = nil,
                 contentType: String = "application/json") async throws -> Reply {
        var arguments = ["curl", "-s", "-i", "-X", method, "--max-time", "30"]
        if let user { arguments += ["-H", "Authorization: Bearer \(tokens[user]!)"] }
        for (k, v) in headers { arguments += ["-H", "\(k): \(v)"] }
        if body != nil { arguments += ["-H", "Content-Type: \(contentType)", "--data-binary", "@-"] }
        arguments.append("http://127.0.0.1:\(port)\(path)")
        let run = try RulebookBinary.run(arguments, stdin: body ?? "", executable: "/usr/bin/env")
        // The status line, the headers, a blank line, the body.
        guard let split = run.stdout.range(of: "\r\n\r\n") else { throw ServeTestError("no reply: \(run.stdout) \(run.stderr)") }
        let head = run.stdout[..<split.lowerBound].components(separatedBy: "\r\n")
        let status = Int(head[0].split(separator: " ")[1]) ?? 0
        var fields: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Reply(status: status, headers: fields, body: String(run.stdout[split.upperBound...]))
    }

    /// A shell script of `writers` background loops, each POSTing up to `each` events to
    /// INC-2026-0007 as fast as they are answered, and noting each acknowledged one
    /// ("burst-W-I") in `folder`/acked-W; a loop stops when the server is gone.
    func burst(writers: Int, each: Int, token: String, into folder: URL) -> String {
        """
        for w in $(seq 1 \(writers)); do
          ( for i in $(seq 1 \(each)); do
              code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST -H "Authorization: Bearer \(token)" \\
                -H 'Content-Type: application/json' \\
                --data-binary "{\\"action\\": \\"coordinate_containment\\", \\"by\\": \\"dp_lead\\", \\"note\\": \\"burst-$w-$i\\"}" \\
                http://127.0.0.1:\(port)/api/v1/incidents/INC-2026-0007/events) || true
              [ "$code" = 201 ] && echo "burst-$w-$i" >> \(folder.path)/acked-$w
              [ "$code" = 000 ] && break
            done ) &
        done

        """
    }

    /// Stops it as systemd would (SIGTERM) and returns its exit status.
    func stop() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

struct ServeTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite("rulebook serve", .serialized)
struct ServeCLITests {
    @Test("health and metrics need no sign-in; every API path does (401 with WWW-Authenticate); SIGTERM stops it cleanly")
    func signIn() async throws {
        let server = try RunningServer()
        #expect(try await server.request("GET", "/health").body == "{\"status\":\"ok\"}\n")
        let anonymous = try await server.request("GET", "/api/v1/incidents")
        #expect(anonymous.status == 401)
        #expect(anonymous.headers["www-authenticate"]?.contains("Bearer") == true)
        #expect(anonymous.json["error"] as? String == "sign in: send an API token (Authorization: Bearer …) or a name and password (Basic)")
        let forged = try await server.request("GET", "/api/v1/incidents", headers: ["Authorization": "Bearer rbk_" + String(repeating: "0", count: 64)])
        #expect(forged.status == 401)
        #expect(try await server.request("GET", "/api/v1/policies", as: "council-it").status == 200)
        let metrics = try await server.request("GET", "/metrics")
        #expect(metrics.body.contains("hb_requests{http_route=\"/api/v1/incidents\",http_request_method=\"GET\",http_response_status_code=\"401\"}"))
        #expect(server.stop() == 0)
    }

    @Test("a school's user sees only its incidents; another school's answers 404 exactly as a missing number does")
    func schools() async throws {
        let server = try RunningServer()
        let listed = try await server.request("GET", "/api/v1/incidents", as: "madras-lead")
        let numbers = (listed.json["incidents"] as? [[String: Any]])?.compactMap { $0["number"] as? String }
        #expect(numbers == ["INC-2026-0007"])
        let all = try await server.request("GET", "/api/v1/incidents", as: "council-it")
        #expect(all.json["total"] as? Int == 5)
        let other = try await server.request("GET", "/api/v1/incidents/CNL-2026-0142", as: "madras-lead")
        let missing = try await server.request("GET", "/api/v1/incidents/CNL-2026-9999", as: "madras-lead")
        #expect(other.status == 404 && missing.status == 404)
        #expect(other.body == missing.body.replacingOccurrences(of: "9999", with: "0142"))
        for view in ["next", "assess", "audit"] {
            #expect(try await server.request("GET", "/api/v1/incidents/CNL-2026-0142/\(view)", as: "madras-lead").status == 404)
        }
        #expect(try await server.request("GET", "/api/v1/verify", as: "madras-lead").status == 403)
        #expect(try await server.request("GET", "/api/v1/verify", as: "council-it").json["intact"] as? Bool == true)
        // The report counts only their school's incidents.
        let report = try await server.request("GET", "/api/v1/report?at=2026-11-10T09:00:00Z", as: "madras-lead")
        #expect((report.json["summary"] as? [String: Any])?["incidents"] as? Int == 1)
        _ = server.stop()
    }

    @Test("next and assess kept for their second are the answers rendered afresh; another school's stays 404; a new record shows at once")
    func keptAnswers() async throws {
        let server = try RunningServer()
        let fresh = try RunningServer(sharing: server, extra: ["--page-cache", "0"])
        let base = "/api/v1/incidents/INC-2026-0007"
        for path in [base + "/next", base + "/next?role=dp_lead", base + "/next?all=true", base + "/assess", base + "/next?role=nobody"] {
            // The same second on both (the answers say which): once more if it turned.
            var same = false
            var seen: [RunningServer.Reply] = []
            for _ in 0..<5 where !same {
                seen = [try await server.request("GET", path, as: "madras-lead"), try await server.request("GET", path, as: "madras-lead"),
                        try await fresh.request("GET", path, as: "madras-lead")]
                same = seen[0].body == seen[1].body && seen[1].body == seen[2].body && Set(seen.map(\.status)).count == 1
            }
            #expect(same, "\(path): \(seen.map(\.body))")
            #expect(seen[0].status == (path.hasSuffix("nobody") ? 400 : 200), "\(path)")
        }
        // Kept for madras's lead, still not shown to another school's user.
        let missing = try await server.request("GET", "/api/v1/incidents/INC-2026-9999/next", as: "leverton-head")
        for _ in 0..<2 {
            let other = try await server.request("GET", base + "/next", as: "leverton-head")
            #expect(other.status == 404)
            #expect(other.body == missing.body.replacingOccurrences(of: "INC-2026-9999", with: "INC-2026-0007"))
        }
        // Recorded within the second: the next answer is the new head's.
        let before = try await server.request("GET", base + "/next", as: "madras-lead")
        let recorded = try await server.request("POST", base + "/events", as: "madras-lead",
                                                body: #"{"action": "coordinate_containment", "by": "dp_lead", "note": "kept answers"}"#)
        #expect(recorded.status == 201, "\(recorded.body)")
        // At once: not from the next second (an answer as at the start of the second
        // would not yet include an event recorded within it).
        #expect(try await server.request("GET", base + "/next", as: "madras-lead").body != before.body)
        // Within one second of each other, the kept server answers as the fresh one does,
        // which reads the register anew: the record shows at once.
        var agreed = false
        for _ in 0..<5 where !agreed {
            let after = try await server.request("GET", base + "/next", as: "madras-lead")
            let reference = try await fresh.request("GET", base + "/next", as: "madras-lead")
            agreed = after.body == reference.body && after.body != before.body
        }
        #expect(agreed)
        _ = fresh.stop()
        _ = server.stop()
    }

    @Test("next, assess and audit are the CLI's answers, byte for byte")
    func sameAnswers() async throws {
        let server = try RunningServer()
        for view in ["next", "assess", "audit"] {
            let api = try await server.request("GET", "/api/v1/incidents/INC-2026-0007/\(view)?at=2026-11-03T10:00:00Z", as: "madras-lead")
            let cli = try RulebookBinary.run([view, "INC-2026-0007", "--register", server.register, "--at", "2026-11-03T10:00:00Z", "--format", "json"])
            #expect(api.status == 200)
            #expect(api.body == cli.stdout, "\(view)")
        }
        _ = server.stop()
    }

    @Test("recording: in the user's name and role; a role not held 403, a missing reason 422 with diagnostics, a stale If-Match 409; nothing written by a refusal")
    func recording() async throws {
        let server = try RunningServer()
        let path = "/api/v1/incidents/INC-2026-0007"
        let before = try await server.request("GET", path, as: "madras-lead")
        let etag = try #require(before.headers["etag"])
        let count = (before.json["events"] as? [Any])?.count ?? 0
        let forbidden = try await server.request("POST", path + "/events", as: "madras-lead",
                                                 body: #"{"at": "2026-11-03T09:00:00Z", "action": "notify_ico", "by": "dpo"}"#)
        #expect(forbidden.status == 403)
        #expect((forbidden.json["error"] as? String)?.hasPrefix("you do not act as 'dpo'") == true)
        let unreasoned = try await server.request("POST", path + "/events", as: "council-it",
                                                  body: #"{"at": "2026-11-03T09:00:00Z", "action": "decide_not_to_notify_ico", "by": "dpo"}"#)
        #expect(unreasoned.status == 422)
        let diagnostic = (unreasoned.json["diagnostics"] as? [[String: Any]])?.first
        #expect(diagnostic?["code"] as? String == "missing-reason")
        #expect(diagnostic?["file"] as? String == "request body")
        let recorded = try await server.request("POST", path + "/events", as: "madras-lead", headers: ["If-Match": etag],
                                                body: #"{"at": "2026-11-03T09:00:00Z", "action": "coordinate_containment", "by": "dp_lead", "actor": "Someone Else"}"#)
        #expect(recorded.status == 201, "\(recorded.body)")
        #expect(recorded.json["position"] as? Int == count + 1)
        let stale = try await server.request("POST", path + "/events", as: "madras-lead", headers: ["If-Match": etag],
                                             body: #"{"at": "2026-11-03T09:05:00Z", "action": "coordinate_containment", "by": "dp_lead"}"#)
        #expect(stale.status == 409)
        let after = try await server.request("GET", path, as: "madras-lead")
        let events = try #require(after.json["events"] as? [[String: Any]])
        #expect(events.count == count + 1)
        #expect(events.last?["actor"] as? String == "madras-lead")
        #expect(after.headers["etag"] == "\"\(recorded.json["hash"] as? String ?? "")\"")
        // The register's chains still check out after all of it.
        #expect(try RulebookBinary.run(["verify", "--register", server.register]).status == 0)
        _ = server.stop()
    }

    @Test("opening at one's own school only; a body over --max-body is 413; bad JSON 400; an unknown path 404, a method a path does not take 405")
    func openingAndLimits() async throws {
        let server = try RunningServer(extra: ["--max-body", "1"])
        let opened = try await server.request("POST", "/api/v1/incidents", as: "madras-lead",
                                              body: #"{"policy": "madras", "at": "2026-11-20T09:00:00Z", "facts": {"data_subjects": 12}}"#)
        #expect(opened.status == 201, "\(opened.body)")
        let number = try #require(opened.json["number"] as? String)
        #expect(opened.headers["location"] == "/api/v1/incidents/\(number)")
        let elsewhere = try await server.request("POST", "/api/v1/incidents", as: "madras-lead", body: #"{"policy": "leverton", "school": "leverton"}"#)
        #expect(elsewhere.status == 403)
        let big = try await server.request("POST", "/api/v1/incidents", as: "madras-lead",
                                           body: #"{"policy": "madras", "school": ""# + String(repeating: "x", count: 2000) + #""}"#)
        #expect(big.status == 413)
        let garbled = try await server.request("POST", "/api/v1/incidents", as: "madras-lead", body: "{policy: madras")
        #expect(garbled.status == 400)
        let badFacts = try await server.request("POST", "/api/v1/incidents", as: "madras-lead", body: #"{"policy": "madras", "facts": {"data_subjects": "many"}}"#)
        #expect(badFacts.status == 422)
        #expect(try await server.request("GET", "/api/v1/nothing", as: "madras-lead").status == 404)
        let wrongMethod = try await server.request("DELETE", "/api/v1/incidents", as: "madras-lead")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.headers["allow"] == "GET, POST")
        _ = server.stop()
    }

    @Test("passwords: Basic sign-in works; repeated failures are limited (429 with Retry-After) while tokens still work; a disabled user's token stops working")
    func passwords() async throws {
        let server = try RunningServer(extra: ["--max-failed-sign-ins", "3"])
        func basic(_ password: String) -> [String: String] {
            ["Authorization": "Basic " + Data("madras-lead:\(password)".utf8).base64EncodedString()]
        }
        #expect(try await server.request("GET", "/api/v1/incidents", headers: basic(RunningServer.password)).status == 200)
        for _ in 0..<3 { #expect(try await server.request("GET", "/api/v1/incidents", headers: basic("wrong password")).status == 401) }
        let limited = try await server.request("GET", "/api/v1/incidents", headers: basic(RunningServer.password))
        #expect(limited.status == 429)
        #expect(Int(limited.headers["retry-after"] ?? "") ?? 0 >= 1)
        #expect(try await server.request("GET", "/api/v1/incidents", as: "madras-lead").status == 200)
        let disabled = try RulebookBinary.run(["user", "disable", "leverton-head", "--register", server.register])
        #expect(disabled.status == 0)
        #expect(try await server.request("GET", "/api/v1/incidents", as: "leverton-head").status == 401)
        _ = server.stop()
    }

    @Test("a browser session: HttpOnly SameSite=Strict cookie; reading needs only it; changing anything also needs the CSRF token; signing out ends it")
    func sessions() async throws {
        let server = try RunningServer()
        let wrong = try await server.request("POST", "/api/v1/session", body: #"{"name": "madras-lead", "password": "not it at all"}"#)
        #expect(wrong.status == 401)
        let signIn = try await server.request("POST", "/api/v1/session", body: #"{"name": "madras-lead", "password": "\#(RunningServer.password)"}"#)
        #expect(signIn.status == 201, "\(signIn.body)")
        let setCookie = try #require(signIn.headers["set-cookie"])
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && !setCookie.contains("Secure"))
        let cookie = try #require(setCookie.split(separator: ";").first.map(String.init))
        let csrf = try #require(signIn.json["csrf_token"] as? String)
        let me = try await server.request("GET", "/api/v1/session", headers: ["Cookie": cookie])
        #expect(me.json["user"] as? String == "madras-lead")
        #expect(try await server.request("GET", "/api/v1/incidents", headers: ["Cookie": cookie]).status == 200)
        let event = #"{"at": "2026-11-03T09:00:00Z", "action": "coordinate_containment", "by": "dp_lead"}"#
        let forged = try await server.request("POST", "/api/v1/incidents/INC-2026-0007/events", headers: ["Cookie": cookie], body: event)
        #expect(forged.status == 403)
        #expect((forged.json["error"] as? String)?.contains("CSRF") == true)
        let recorded = try await server.request("POST", "/api/v1/incidents/INC-2026-0007/events", headers: ["Cookie": cookie, "X-CSRF-Token": csrf],
                                                body: event)
        #expect(recorded.status == 201, "\(recorded.body)")
        let signOut = try await server.request("DELETE", "/api/v1/session", headers: ["Cookie": cookie, "X-CSRF-Token": csrf])
        #expect(signOut.status == 204)
        #expect(try await server.request("GET", "/api/v1/incidents", headers: ["Cookie": cookie]).status == 401)
        _ = server.stop()
    }

    @Test("a user's calendar feed: a secret address, their schools' deadlines for their roles only, parsed by icalendar; a token is not a feed secret nor the reverse")
    func calendarFeed() async throws {
        let server = try RunningServer()
        let made = try RulebookBinary.run(["user", "feed", "madras-lead", "--register", server.register])
        #expect(made.status == 0, "\(made.stderr)")
        let path = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(path.hasPrefix("/api/v1/feeds/") && path.hasSuffix(".ics"))
        let feed = try await server.request("GET", path)
        #expect(feed.status == 200)
        #expect(feed.headers["content-type"]?.hasPrefix("text/calendar") == true)
        #expect(feed.body.contains("UID:INC-2026-0007-") && !feed.body.contains("CNL-2026-0142"))
        let file = try RulebookBinary.temporaryFolder().appendingPathComponent("feed.ics")
        try feed.body.write(to: file, atomically: true, encoding: .utf8)
        let parsed = try RulebookBinary.run(["python3", "-c", """
            import icalendar, sys
            cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
            events = cal.walk('VEVENT')
            assert events and all(str(e['UID']).startswith('INC-2026-0007-') for e in events), events
            assert all(str(e['URL']) == '/api/v1/incidents/INC-2026-0007' for e in events)
            """, file.path], executable: "/usr/bin/env")
        #expect(parsed.status == 0, "\(parsed.stderr)")
        // The secret is not an API token, and an API token is not a feed secret.
        let secret = String(path.dropFirst("/api/v1/feeds/".count).dropLast(".ics".count))
        #expect(try await server.request("GET", "/api/v1/incidents", headers: ["Authorization": "Bearer \(secret)"]).status == 401)
        #expect(try await server.request("GET", "/api/v1/feeds/\(server.tokens["madras-lead"]!).ics").status == 404)
        #expect(try await server.request("GET", "/api/v1/feeds/0000.ics").status == 404)
        _ = server.stop()
    }

    @Test("user add refuses a role no policy has (with a suggestion) and a short password")
    func userCommands() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let register = folder.appendingPathComponent("r.sqlite").path
        let typo = try RulebookBinary.run(["user", "add", "sam", "--school", "madras", "--role", "dpoo", "--no-password", "--register", register])
        #expect(typo.status == 2)
        #expect(typo.stderr.contains("no policy in 'Policies' has a role 'dpoo'") && typo.stderr.contains("did you mean 'dpo'?"))
        let short = try RulebookBinary.run(["user", "add", "sam", "--school", "madras", "--role", "dpo", "--password-stdin", "--register", register],
                                           stdin: "short\n")
        #expect(short.status == 2)
        #expect(short.stderr.contains("at least 12 characters"))
        let added = try RulebookBinary.run(["user", "add", "sam", "--school", "madras", "--role", "dpo", "--no-password", "--register", register])
        #expect(added.status == 0)
        let again = try RulebookBinary.run(["user", "add", "sam", "--all-schools", "--role", "dpo", "--no-password", "--register", register])
        #expect(again.status == 2)
        #expect(again.stderr.contains("there is already a user 'sam'"))
        let listed = try RulebookBinary.run(["user", "list", "--register", register, "--format", "json"])
        #expect(listed.stdout.contains("\"name\": \"sam\""))
        #expect(!listed.stdout.contains("$2"))   // no hash is ever shown
    }
}

@Suite("rulebook serve under faults", .serialized)
struct ServeFaultTests {
    @Test("a client that trickles its headers is cut off at --request-timeout; others are served meanwhile")
    func slowloris() async throws {
        let server = try RunningServer(extra: ["--request-timeout", "PT2S"])
        let script = """
            import socket, sys, time
            port = int(sys.argv[1])
            s = socket.create_connection(('127.0.0.1', port))
            start = time.time()
            s.sendall(b'GET /health HTTP/1.1\\r\\nHost: x\\r\\n')
            closed = None
            try:
                for i in range(8):
                    s.sendall(b'X-Slow-%d: y\\r\\n' % i)
                    s.settimeout(1)
                    try:
                        if s.recv(100) == b'':
                            closed = time.time() - start
                            break
                    except socket.timeout:
                        pass
            except OSError:
                closed = time.time() - start
            print('closed' if closed is not None and 1.5 <= closed <= 4 else 'open %r' % closed)
            """
        let slow = Task { try RulebookBinary.run(["python3", "-c", script, String(server.port)], executable: "/usr/bin/env") }
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(try await server.request("GET", "/health").status == 200)
        #expect(try await server.request("GET", "/api/v1/report?format=json", as: "council-it").status == 200)
        let outcome = try await slow.value
        #expect(outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "closed", "\(outcome.stdout) \(outcome.stderr)")
        #expect(server.stop() == 0)
    }

    @Test("kill -9 during a burst of concurrent appends loses no acknowledged event; the chains still verify")
    func killDuringBurst() async throws {
        let server = try RunningServer()
        let folder = try RulebookBinary.temporaryFolder()
        let token = server.tokens["madras-lead"]!
        // Four writers, each appending as fast as it is answered, noting which were acknowledged.
        let burst = server.burst(writers: 4, each: 400, token: token, into: folder) + "wait\n"
        let writers = Process()
        writers.executableURL = URL(fileURLWithPath: "/bin/bash")
        writers.arguments = ["-c", burst]
        writers.standardOutput = FileHandle.nullDevice
        writers.standardError = FileHandle.nullDevice
        try writers.run()
        try await Task.sleep(nanoseconds: 1_500_000_000)
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        writers.waitUntilExit()
        var acknowledged: [String] = []
        for w in 1...4 {
            let text = (try? String(contentsOfFile: "\(folder.path)/acked-\(w)", encoding: .utf8)) ?? ""
            acknowledged += text.split(separator: "\n").map(String.init)
        }
        #expect(acknowledged.count >= 10, "too few appends were acknowledged before the kill to tell anything")
        let stored = try RulebookBinary.run(["sqlite3", server.register, "SELECT body FROM event"], executable: "/usr/bin/env")
        #expect(stored.status == 0, "\(stored.stderr)")
        let missing = acknowledged.filter { !stored.stdout.contains("\"\($0)\"") }
        #expect(missing.isEmpty, "acknowledged but not in the register: \(missing.prefix(5))")
        let verify = try RulebookBinary.run(["verify", "--register", server.register])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
    }
}
