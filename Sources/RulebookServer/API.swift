import Foundation
import Hummingbird
import NIOCore
import RulebookCore
import RulebookDiagnostics
import RulebookRegister
import RulebookYAML

/// A refusal as the API gives it: the status, and the same JSON object a command prints
/// with `--format json` when it cannot answer (`error`, `hint`, `details`, `diagnostics`).
struct APIError: Error {
    var status: HTTPResponse.Status
    var report: ErrorReport
    var retryAfter: Int?

    init(_ status: HTTPResponse.Status, _ message: String, hint: String? = nil, details: [String] = [], diagnostics: [Diagnostic] = [],
         retryAfter: Int? = nil) {
        self.status = status
        report = ErrorReport(message: message, hint: hint, details: details, diagnostics: diagnostics)
        self.retryAfter = retryAfter
    }

    /// A register's refusal, with the status its kind calls for.
    init(_ error: RegisterError) {
        let status: HTTPResponse.Status
        switch error.status {
        case .notFound: status = .notFound
        case .conflict: status = .conflict
        case .refusedByPolicy: status = .unprocessableContent
        case .invalid: status = .badRequest
        case .failed: status = error.diagnostics.isEmpty ? .internalServerError : .badRequest
        case .unavailable: status = .serviceUnavailable
        }
        self.init(status, error.message, hint: error.hint, diagnostics: error.diagnostics)
        if error.status == .unavailable { retryAfter = 5 }
    }

    var response: Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"rulebook\", Basic realm=\"rulebook\"" }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: report.json() + "\n")))
    }
}

extension RegisterError {
    /// As told to a client: a database's address and its own messages name its host, port
    /// and users, which are the server's business (its log has them).
    func told(by register: Register) -> RegisterError {
        guard register.isReplica else { return self }
        var told = self
        if let toClients {
            told.message = toClients.message
            told.hint = toClients.hint
            return told
        }
        told.message = message.replacingOccurrences(of: register.name, with: "the register's database")
        told.hint = hint?.replacingOccurrences(of: register.name, with: "the register's database")
        return told
    }
}

/// Each request's context: the client's address (for the sign-in limiter) besides the core.
struct ServerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remote: String

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remote = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// A policy the server applies, with the texts an incident opened under it pins.
public struct ServedPolicy: Sendable {
    public var policy: Policy
    public var lineage: [(id: String, file: String, text: String)]

    public init(policy: Policy, lineage: [(id: String, file: String, text: String)]) {
        self.policy = policy
        self.lineage = lineage
    }
}

/// The `/api/v1` routes: the CLI's answers, in the CLI's JSON shapes, for the signed-in
/// user's schools only.
struct API: Sendable {
    let register: Register
    /// Where events are appended: committed in groups (see GroupCommit).
    let appends: GroupCommit
    /// `next` and `assess` answers for "now", kept for the second they are as at.
    let answers: PageCache
    let policies: [String: ServedPolicy]
    let auth: Authenticator
    let openAPI: String
    /// The largest request body read (413 beyond it).
    let maxBody: Int
    /// Now, for answers given "at now" (a test may fix it).
    let clock: @Sendable () -> Instant
    /// Session cookies carry Secure (clients reach the server over HTTPS).
    var secureCookies = false

    static func now() -> Instant { Instant((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    func json(_ text: String, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text.hasSuffix("\n") ? text : text + "\n")))
    }

    func text(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// Runs a handler, turning every refusal into its JSON answer.
    func answer(_ request: Request, _ context: ServerContext, _ body: (RegisterUser) async throws -> Response) async -> Response {
        do {
            let client = context.remote
            let user = try auth.user(for: request, client: client)
            return try await body(user)
        } catch let error as APIError {
            return error.response
        } catch let error as RegisterError {
            if error.toClients != nil { context.logger.error("request failed", metadata: ["error": "\(error.message)"]) }
            return APIError(error.told(by: register)).response
        } catch is NIOTooManyBytesError {
            return APIError(.contentTooLarge, "the request body is larger than \(maxBody / 1024) KiB").response
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            return APIError(.internalServerError, "the server could not answer: \(error)").response
        }
    }

    // MARK: Reading requests

    func instant(_ request: Request, _ name: String = "at") throws -> Instant {
        guard let text = request.uri.queryParameters[Substring(name)] else { return clock() }
        guard let at = Timestamp.parse(String(text)) else {
            throw APIError(.badRequest, "\(name) '\(text)' is not an RFC 3339 time", hint: "e.g. 2026-11-03T10:00:00Z (the offset is required)")
        }
        return at
    }

    func query(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters[Substring(name)].map(String.init)
    }

    func body(_ request: Request) async throws -> Node {
        var request = request
        let buffer = try await request.collectBody(upTo: maxBody)
        let text = String(buffer: buffer)
        let read = JSONReader.read(text, file: "request body")
        guard let root = read.root, read.diagnostics.allSatisfy({ $0.severity != .error }) else {
            throw APIError(.badRequest, "the request body is not JSON", diagnostics: read.diagnostics)
        }
        guard root.mapping != nil else { throw APIError(.badRequest, "the request body must be a JSON object; found \(root.kindDescription)") }
        return root
    }

    /// What every question about an incident that is not there answers: the same words
    /// for a number that is not one, one the register lacks, and another school's.
    static func notFound(_ number: String) -> APIError { APIError(.notFound, "the register has no incident \(number)") }

    /// `read`'s answer about incident `number`, a missing one answering 404 (as `notFound`).
    func found<T>(_ number: String, _ read: () throws -> T) throws -> T {
        guard Register.isIncidentNumber(number) else { throw Self.notFound(number) }
        do {
            return try read()
        } catch let error as RegisterError where error.status == .notFound {
            throw Self.notFound(number)
        }
    }

    /// That the incident exists and is of one of `user`'s schools (404 otherwise, as for
    /// a number that does not exist), without reading its trail.
    @discardableResult
    func checkVisible(_ number: String, _ user: RegisterUser) throws -> Register.Summary {
        let summary = try found(number) { try register.summary(of: number) }
        guard user.sees(school: summary.school) else { throw Self.notFound(number) }
        return summary
    }

    /// An incident the user may see, with its pinned policy; another school's answers 404,
    /// exactly as a number that does not exist does.
    func visibleIncident(_ number: String, _ user: RegisterUser) throws -> (StoredIncident, Policy) {
        let incident = try found(number) { try register.incident(number) }
        guard user.sees(school: incident.0.school) else { throw Self.notFound(number) }
        return incident
    }

    func parameter(_ context: ServerContext, _ name: String) -> String {
        context.parameters.get(name) ?? ""
    }

    // MARK: Routes

    func add(to router: Router<ServerContext>) {
        let v1 = router.group("api/v1")
        v1.get("openapi.yaml") { _, _ in text(openAPI, type: "application/yaml") }
        for (name, bytes) in RulebookServer.schemaDocuments {
            v1.get(RouterPath(name)) { _, _ in
                Response(status: .ok, headers: [.contentType: "application/schema+json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
            }
        }

        // A browser signs in once: a session cookie (HttpOnly, SameSite=Strict) and the CSRF
        // token every request that changes anything must send back in X-CSRF-Token.
        v1.post("session") { request, context in
            do {
                let root = try await body(request)
                guard let name = root["name"]?.scalar?.text, let password = root["password"]?.scalar?.text else {
                    throw APIError(.badRequest, "the request body needs \"name\" and \"password\"")
                }
                let user = try auth.password(name: name, password: password, client: context.remote)
                let (cookie, csrf, expires) = auth.sessions.open(user.name)
                var response = json(sessionJSON(user, csrf: csrf, expires: expires), status: .created)
                response.setCookie(Cookie(name: Authenticator.sessionCookie, value: cookie, maxAge: Int(auth.sessions.lifetime), path: "/",
                                          secure: secureCookies, httpOnly: true, sameSite: .strict))
                return response
            } catch let error as APIError {
                return error.response
            } catch is NIOTooManyBytesError {
                return APIError(.contentTooLarge, "the request body is larger than \(maxBody / 1024) KiB").response
            } catch {
                return APIError(.internalServerError, "the server could not answer: \(error)").response
            }
        }
        v1.get("session") { request, context in
            await answer(request, context) { user in json(sessionJSON(user, csrf: nil, expires: nil)) }
        }
        v1.delete("session") { request, context in
            await answer(request, context) { _ in
                if let cookie = request.cookies[Authenticator.sessionCookie] { auth.sessions.close(Register.sha256Hex(cookie.value)) }
                var response = Response(status: .noContent)
                response.setCookie(Cookie(name: Authenticator.sessionCookie, value: "", maxAge: 0, path: "/", secure: secureCookies, httpOnly: true,
                                          sameSite: .strict))
                return response
            }
        }

        // A user's calendar: the deadlines of their schools' incidents that fall to their
        // roles, with alarms at the policies' reminder points. The secret in the path is the
        // sign-in (calendar apps subscribe to a URL and send nothing else).
        v1.get("feeds/:secret") { request, context in
            do {
                let secret = parameter(context, "secret").replacingOccurrences(of: ".ics", with: "")
                guard let user = try register.user(forFeedSecret: secret) else {
                    throw APIError(.notFound, "no calendar feed here", hint: "rulebook user feed NAME gives a user's feed address")
                }
                let at = clock()
                var entries: [CalendarFeed.Entry] = []
                try register.cases { summary, policy, file in
                    guard user.sees(school: summary.school) else { return }
                    let roles = user.roles.compactMap { policy.roleIndex(of: $0) }
                    guard !roles.isEmpty else { return }
                    entries.append(CalendarFeed.Entry(incident: summary.number, evaluation: Engine(policy: policy).evaluate(file, at: at),
                                                      file: file, roles: roles))
                }
                let feed = CalendarFeed.ics(entries, at: at) { "/api/v1/incidents/" + $0 }
                return Response(status: .ok, headers: [.contentType: "text/calendar; charset=utf-8"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: feed)))
            } catch let error as APIError {
                return error.response
            } catch let error as RegisterError {
                return APIError(error.told(by: register)).response
            } catch {
                return APIError(.internalServerError, "the server could not answer: \(error)").response
            }
        }

        v1.get("policies") { request, context in
            await answer(request, context) { _ in
                var w = JSONWriter(pretty: true)
                w.object { w in
                    w.field("policies") { w in
                        w.array { w in
                            for p in policies.values.map(\.policy).sorted(by: { $0.id < $1.id }) {
                                w.object { w in
                                    w.field("id", string: p.id)
                                    w.field("title", string: p.title)
                                    w.field("organisation", string: p.organisation)
                                    w.field("version", string: p.control.version)
                                    w.field("extends", string: p.lineage.count > 1 ? p.lineage[1].id : nil)
                                }
                            }
                        }
                    }
                }
                return json(w.text)
            }
        }

        v1.get("policies/:id") { request, context in
            await answer(request, context) { _ in
                let policy = try served(parameter(context, "id")).policy
                if let format = query(request, "format"), format != "md" && format != "json" {
                    throw APIError(.badRequest, "format '\(format)' is not one of: json, md")
                }
                if query(request, "format") == "md" { return text(PolicyMarkdown(policy: policy).render() + "\n", type: "text/markdown; charset=utf-8") }
                return json(PolicyJSON(policy: policy).render())
            }
        }

        v1.get("policies/:id/coverage") { request, context in
            await answer(request, context) { _ in
                let policy = try served(parameter(context, "id")).policy
                var w = JSONWriter(pretty: true)
                w.object { w in w.field("policies") { w in w.array { w in CoverageReport(policy: policy).writeJSON(&w) } } }
                return json(w.text)
            }
        }

        v1.get("incidents") { request, context in
            await answer(request, context) { user in try list(request, user) }
        }

        v1.post("incidents") { request, context in
            await answer(request, context) { user in try await open(request, user) }
        }

        v1.get("incidents/:number") { request, context in
            await answer(request, context) { user in
                let number = parameter(context, "number")
                try checkVisible(number, user)
                let head = try register.head(of: number)
                return json(try register.export(number, as: .json), headers: [.eTag: "\"\(head.hash)\""])
            }
        }

        v1.post("incidents/:number/events") { request, context in
            await answer(request, context) { user in try await record(request, context, user) }
        }

        for view in ["next", "assess", "audit"] {
            v1.get("incidents/:number/\(view)") { request, context in
                await answer(request, context) { user in
                    let number = parameter(context, "number")
                    if view == "audit" {
                        // As `rulebook audit INC`: the chains are checked in the same read.
                        // Who may see it from its summary: verifiedIncident reads it whole, once.
                        _ = try checkVisible(number, user)
                        let at = try instant(request)
                        let (verified, pinned) = try register.verifiedIncident(number)
                        let check = verified.verification
                        guard check.isIntact else {
                            throw APIError(.conflict, "the register's records of \(number) do not check out, so they cannot be audited",
                                           details: check.problems)
                        }
                        let audit = Engine(policy: pinned).audit(verified.file, at: at)
                        let chain = ChainCheck(events: check.events, headRecords: check.headRecords, headHash: check.headHash)
                        return json(EngineReports(evaluation: audit.evaluation, file: verified.file).auditJSON(audit, chain: chain))
                    }
                    // As at `at`, or as at the last thing recorded up to `now` when that was
                    // later (what someone has just recorded shows at once).
                    func render(at: Instant, now: Instant? = nil) throws -> (body: String, school: String?, events: Int) {
                        let (stored, policy) = try visibleIncident(number, user)
                        var at = at
                        if let now { at = max(at, stored.file.events.lazy.map(\.at).filter { $0 <= now }.max() ?? at) }
                        let reports = EngineReports(evaluation: Engine(policy: policy).evaluate(stored.file, at: at), file: stored.file)
                        guard view == "next" else { return (reports.assessJSON(), stored.school, stored.file.events.count) }
                        var role: Int?
                        if let id = query(request, "role") {
                            guard let r = policy.roleIndex(of: id) else {
                                throw APIError(.badRequest, "policy '\(policy.id)' has no role '\(id)'",
                                               hint: Suggestions.didYouMean(id, among: policy.roles.map(\.id)))
                            }
                            role = r
                        }
                        let all = query(request, "all")
                        if let all, all != "true" && all != "false" { throw APIError(.badRequest, "all must be true or false; found '\(all)'") }
                        return (reports.nextJSON(role: role, all: all == "true"), stored.school, stored.file.events.count)
                    }
                    if query(request, "at") != nil { return json(try render(at: try instant(request)).body) }
                    // "Now" is the start of the current second (or the last record, when
                    // later), so that an answer can be kept for that second: one rendering
                    // serves every client asking within it. A new record changes the
                    // incident's head and so the key.
                    let head = try found(number) { try register.head(of: number) }
                    let now = clock()
                    let key = PageCache.Key(number: number, head: head.hash, variant: [view, query(request, "role") ?? "", query(request, "all") ?? ""],
                                            period: now - ((now % 1000) + 1000) % 1000)
                    let (entry, kept) = try await answers.answer(key) {
                        let made = try render(at: key.period, now: now)
                        // Kept only when read at that head (nothing recorded in between).
                        return (PageCache.Entry(body: made.body, school: made.school), made.events == head.events)
                    }
                    // Whether this user may see a kept answer is asked every time.
                    if kept, !user.sees(school: entry.school) { throw Self.notFound(number) }
                    return json(entry.body)
                }
            }
        }

        v1.get("verify") { request, context in
            await answer(request, context) { user in
                guard user.allSchools else {
                    throw APIError(.forbidden, "verifying the whole register is for users who see every school",
                                   hint: "GET /api/v1/incidents/{number}/audit checks one incident's chain")
                }
                return json(try register.verify().json(register: register.name))
            }
        }

        v1.get("report") { request, context in
            await answer(request, context) { user in try report(request, user) }
        }

    }

    /// Each path of the API and the methods it takes (for 405 and `Allow`).
    static let routes: [(String, [HTTPRequest.Method])] = [
        ("policies", [.get]), ("policies/:id", [.get]), ("policies/:id/coverage", [.get]), ("incidents", [.get, .post]),
        ("incidents/:number", [.get]), ("incidents/:number/events", [.post]), ("incidents/:number/next", [.get]),
        ("incidents/:number/assess", [.get]), ("incidents/:number/audit", [.get]), ("verify", [.get]), ("report", [.get]),
        ("openapi.yaml", [.get]), ("session", [.get, .post, .delete]), ("feeds/:secret", [.get]),
    ]
    static let paths: [(pattern: [String], methods: [HTTPRequest.Method])] = routes.map { route -> ([String], [HTTPRequest.Method]) in
        (["api", "v1"] + route.0.split(separator: "/").map(String.init), route.1)
    }

    /// The methods the path takes, when it is one of the API's.
    static func methods(of path: String) -> [HTTPRequest.Method]? { methods(of: path, in: paths) }

    /// The methods of the first route whose pattern (segments, `:name` for any one) the
    /// path matches: for the API's routes and the pages' alike.
    static func methods(of path: String, in routes: [(pattern: [String], methods: [HTTPRequest.Method])]) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/").map(String.init)
        return routes.first { entry in
            entry.pattern.count == segments.count && zip(entry.pattern, segments).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
        }?.methods
    }

    /// Who is signed in: name, schools, roles (and, when a session opens, its CSRF token).
    func sessionJSON(_ user: RegisterUser, csrf: String?, expires: Date?) -> String {
        var w = JSONWriter(pretty: true)
        w.object { w in
            w.field("user", string: user.name)
            w.field("schools") { $0.array(strings: user.schools) }
            w.field("all_schools", bool: user.allSchools)
            w.field("roles") { $0.array(strings: user.roles) }
            if let csrf { w.field("csrf_token", string: csrf) }
            if let expires { w.field("expires_at", string: Timestamp.format(Instant(expires.timeIntervalSince1970 * 1000))) }
        }
        return w.text
    }

    func served(_ id: String) throws -> ServedPolicy {
        guard let p = policies[id] else {
            throw APIError(.notFound, "no policy '\(id)'", hint: Suggestions.didYouMean(id, among: Array(policies.keys)))
        }
        return p
    }

    // MARK: Incidents

    static let states = ["open", "closed", "overdue"]

    func list(_ request: Request, _ user: RegisterUser) throws -> Response {
        let at = try instant(request)
        let school = query(request, "school"), policy = query(request, "policy"), state = query(request, "state")
        if let state, !Self.states.contains(state) {
            throw APIError(.badRequest, "state '\(state)' is not one of: \(Self.states.joined(separator: ", "))")
        }
        let page = try positive(request, "page", default: 1), perPage = try positive(request, "per_page", default: 50)
        guard perPage <= 1000 else { throw APIError(.badRequest, "per_page is at most 1000") }
        let from = try day(request, "from"), to = try day(request, "to")
        if let school, !user.sees(school: school) { throw APIError(.notFound, "no school '\(school)' among yours") }
        var w = JSONWriter(pretty: true)
        var total = 0
        var failure: Error?
        w.object { w in
            w.field("register", string: register.name)
            w.field("at", string: Timestamp.format(at))
            w.field("incidents") { w in
                w.array { w in
                    do {
                        try register.statuses(policy: policy, school: school, at: at) { row in
                            guard user.sees(school: row.summary.school) else { return }
                            switch state {
                            case "open": guard row.closedAt == nil else { return }
                            case "closed": guard row.closedAt != nil else { return }
                            case "overdue": guard row.overdue > 0 else { return }
                            default: break
                            }
                            let day = row.policy.clock.localDay(of: row.summary.openedAt).day
                            if let from, day < from { return }
                            if let to, day > to { return }
                            total += 1
                            guard total > (page - 1) * perPage, total <= page * perPage else { return }
                            row.writeJSON(&w)
                        }
                    } catch {
                        failure = error
                    }
                }
            }
            w.field("page", int: page)
            w.field("per_page", int: perPage)
            w.field("total", int: total)
        }
        if let failure { throw failure }
        return json(w.text)
    }

    func positive(_ request: Request, _ name: String, default value: Int) throws -> Int {
        guard let text = query(request, name) else { return value }
        guard let n = Int(text), n >= 1 else { throw APIError(.badRequest, "\(name) must be a whole number from 1; found '\(text)'") }
        return n
    }

    func day(_ request: Request, _ name: String) throws -> Int? {
        guard let text = query(request, name) else { return nil }
        guard let day = Timestamp.parseDate(text) else { throw APIError(.badRequest, "\(name) '\(text)' is not a date: write YYYY-MM-DD") }
        return day
    }

    /// `POST /incidents {"policy", "school", "facts", "at"}`: opens an incident at one of
    /// the user's schools.
    func open(_ request: Request, _ user: RegisterUser) async throws -> Response {
        let root = try await body(request)
        for pair in root.mapping ?? [] where !["policy", "school", "facts", "at"].contains(pair.name) {
            throw APIError(.badRequest, "unknown key '\(pair.name)' in the request body", hint: "the keys are policy, school, facts and at")
        }
        guard let id = root["policy"]?.scalar?.text else { throw APIError(.badRequest, "the request body needs \"policy\": a policy id") }
        let served = try served(id)
        let school = root["school"]?.scalar?.text
        if let school { guard user.sees(school: school) else { throw APIError(.forbidden, "you may not open incidents for '\(school)'") } }
        else if !user.allSchools {
            guard user.schools.count == 1 else { throw APIError(.badRequest, "say which of your schools: \"school\"") }
        }
        let at: Instant
        if let text = root["at"]?.scalar?.text {
            guard let parsed = Timestamp.parse(text) else { throw APIError(.badRequest, "at '\(text)' is not an RFC 3339 time") }
            at = parsed
        } else {
            at = clock()
        }
        var facts: [FactAssignment] = []
        if let node = root["facts"] {
            let wrapped = Node(.mapping([Node.Pair(key: Node(.scalar(Scalar(text: "facts", style: .plain, value: .string("facts"))), span: node.span),
                                                   value: node)]), span: node.span)
            let (file, diagnostics) = CaseLoader.load(wrapped, policy: served.policy)
            guard let file, !diagnostics.contains(where: { $0.severity == .error }) else {
                throw APIError(.unprocessableContent, "the facts do not fit policy '\(id)'; nothing was opened", diagnostics: diagnostics)
            }
            facts = file.facts
        }
        let number = try register.openIncident(lineage: served.lineage, policy: served.policy, facts: facts,
                                                school: school ?? (user.allSchools ? nil : user.schools[0]), at: at)
        let head = try register.head(of: number)
        return json("{\n  \"number\": \"\(number)\"\n}\n", status: .created,
                    headers: [.location: "/api/v1/incidents/\(number)", .eTag: "\"\(head.hash)\""])
    }

    /// `POST /incidents/{number}/events`: an event as a trail line has it; the actor is the
    /// signed-in user, who must hold the role it is recorded in.
    func record(_ request: Request, _ context: ServerContext, _ user: RegisterUser) async throws -> Response {
        let number = parameter(context, "number")
        try checkVisible(number, user)
        var root = try await body(request)
        guard var pairs = root.mapping else { throw APIError(.badRequest, "the request body must be a JSON object") }
        if pairs.first(where: { $0.name == "at" }) == nil {
            pairs.insert(Node.Pair(key: Self.scalar("at", root.span), value: Self.scalar(Timestamp.format(clock()), root.span)), at: 0)
        }
        // Whoever is signed in is who acted: a name given in the body is not taken.
        pairs.removeAll { $0.name == "actor" }
        pairs.append(Node.Pair(key: Self.scalar("actor", root.span), value: Self.scalar(user.name, root.span)))
        root = Node(.mapping(pairs), span: root.span)
        var expected: String?
        if let match = request.headers[.ifMatch] {
            expected = match.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        }
        let (position, hash) = try await appends.record(Register.GroupedRecord(number: number, event: root, expectedHead: expected) { policy, event in
            let role = policy.roles[event.role].id
            guard user.roles.contains(role) else {
                throw APIError(.forbidden, "you do not act as '\(role)' (\(policy.roles[event.role].title)); nothing was recorded",
                               hint: "your roles: \(user.roles.joined(separator: ", ")); an administrator gives roles with rulebook user add")
            }
        })
        return json("{\n  \"incident\": \"\(number)\",\n  \"position\": \(position),\n  \"hash\": \"\(hash)\"\n}\n", status: .created,
                    headers: [.eTag: "\"\(hash)\""])
    }

    static func scalar(_ text: String, _ span: SourceSpan) -> Node {
        Node(.scalar(Scalar(text: text, style: .doubleQuoted, value: .string(text))), span: span)
    }

    // MARK: Report

    func report(_ request: Request, _ user: RegisterUser) throws -> Response {
        let at = try instant(request)
        let school = query(request, "school"), policy = query(request, "policy")
        if let school, !user.sees(school: school) { throw APIError(.notFound, "no school '\(school)' among yours") }
        var report = PeriodicReport(at: at, from: try day(request, "from"), to: try day(request, "to"))
        report.school = school
        report.policyFilter = policy
        try register.periodicReport(into: &report, policy: policy, school: school, include: { user.sees(school: $0.school) })
        switch query(request, "format") ?? "json" {
        case "json": return json(report.json())
        case "md": return text(report.markdown() + "\n", type: "text/markdown; charset=utf-8")
        case "html": return text(report.html(), type: "text/html; charset=utf-8")
        case "csv": return text(report.csv(), type: "text/csv; charset=utf-8")
        case let other: throw APIError(.badRequest, "format '\(other)' is not one of: json, md, html, csv")
        }
    }
}
