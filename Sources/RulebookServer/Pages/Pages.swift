import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import RulebookCore
import RulebookRegister

/// The web pages: what a school's staff use instead of a terminal. Server-rendered HTML
/// (swift-mustache templates built into the binary) with no JavaScript; every answer comes
/// from the same core as the CLI and the API. A browser signs in once (a session cookie,
/// HttpOnly and SameSite=Strict) and every form that changes anything carries the
/// session's CSRF token.
struct Pages: Sendable {
    let api: API
    let library: MustacheLibrary
    let diagrams: DiagramCache
    let version: String

    let incidentPages: PageCache

    init(api: API, version: String, cachedPages: Int = 512) {
        self.api = api
        self.version = version
        diagrams = DiagramCache()
        incidentPages = PageCache(capacity: cachedPages)
        var library = MustacheLibrary()
        _ = PageHTML.registered
        for (name, bytes) in Self.templates {
            // The templates are part of the program: one that does not parse is a bug that
            // the tests catch, not a user's mistake. Each escapes with PageHTML (a partial
            // starts again with Mustache's own HTML type otherwise).
            try! library.register("{{% CONTENT_TYPE: \(PageHTML.name)}}" + String(decoding: bytes, as: UTF8.self), named: name)
        }
        self.library = library
    }

    static let templates: [(String, [UInt8])] = [
        ("layout", PackageResources.layout_mustache), ("sign_in", PackageResources.sign_in_mustache),
        ("incidents", PackageResources.incidents_mustache), ("report", PackageResources.report_mustache),
        ("incident", PackageResources.incident_mustache), ("duty", PackageResources.duty_mustache),
        ("record", PackageResources.record_mustache), ("fact", PackageResources.fact_mustache),
        ("policies", PackageResources.policies_mustache), ("policy", PackageResources.policy_mustache),
        ("error", PackageResources.error_mustache), ("audit", PackageResources.audit_mustache),
        ("record_page", PackageResources.record_page_mustache),
    ]

    /// Who is looking: the signed-in user and their session's CSRF token.
    struct Viewer {
        var user: RegisterUser
        var csrf: String
        /// Their roles as a policy knows them.
        func roles(in policy: Policy) -> [Int] { user.roles.compactMap { policy.roleIndex(of: $0) } }
    }

    // MARK: Responses

    /// Headers every page carries: no caching of personal data, no framing, no scripts,
    /// nothing loaded from elsewhere.
    static let pageHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
        HTTPField.Name("Content-Security-Policy")!: "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff", HTTPField.Name("Referrer-Policy")!: "same-origin",
    ]

    func page(_ template: String, _ model: [String: Any], title: String, viewer: Viewer?, nav: String? = nil, flash: String? = nil,
              status: HTTPResponse.Status = .ok) -> Response {
        page(body: library.render(model, withTemplate: template) ?? "", title: title, viewer: viewer, nav: nav, flash: flash, status: status)
    }

    /// A page around a body already rendered.
    func page(body: String, title: String, viewer: Viewer?, nav: String? = nil, flash: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        var layout: [String: Any] = ["title": title, "body": body, "version": version, "flash": opt(flash),
                                     "nav_incidents": nav == "incidents", "nav_report": nav == "report", "nav_policies": nav == "policies"]
        if let viewer {
            layout["user"] = ["name": viewer.user.name, "roles": viewer.user.roles.joined(separator: ", "), "csrf": viewer.csrf] as [String: Any]
        } else {
            layout["user"] = false
        }
        let html = library.render(layout, withTemplate: "layout") ?? ""
        return Response(status: status, headers: Self.pageHeaders, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    func redirect(_ location: String, cookie: Cookie? = nil) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
        if let cookie { response.setCookie(cookie) }
        return response
    }

    func errorPage(_ error: APIError, viewer: Viewer?) -> Response {
        let heading: String
        switch error.status {
        case .notFound: heading = "Not found"
        case .forbidden: heading = "Not allowed"
        case .tooManyRequests: heading = "Too many attempts"
        case .contentTooLarge: heading = "Too much to send"
        case .internalServerError: heading = "Something went wrong"
        case .serviceUnavailable: heading = "Not available just now"
        default: heading = "That did not work"
        }
        var response = page("error", ["heading": heading, "message": error.report.message, "hint": opt(error.report.hint)], title: heading,
                            viewer: viewer, status: error.status)
        if let retry = error.retryAfter { response.headers[.retryAfter] = String(retry) }
        return response
    }

    // MARK: Signing in

    /// The viewer, from the session cookie; nil when nobody (or a disabled user) is signed in.
    func viewer(_ request: Request) throws -> Viewer? {
        guard let cookie = request.cookies[Authenticator.sessionCookie],
              let session = api.auth.sessions.session(Register.sha256Hex(cookie.value)),
              let user = try api.register.user(named: session.user), !user.disabled
        else { return nil }
        return Viewer(user: user, csrf: session.csrf)
    }

    /// A page for signed-in users: anyone else is sent to sign in, and back here after.
    func signedIn(_ request: Request, _ context: ServerContext, _ body: (Viewer) async throws -> Response) async -> Response {
        var viewer: Viewer?
        do {
            guard let found = try self.viewer(request) else {
                guard request.method == .get else {
                    // A form sent after the session ended: said so, and back to the
                    // incident (or the list) after signing in.
                    let segments = request.uri.path.split(separator: "/")
                    let back = segments.count >= 2 && segments[0] == "incidents" && segments[1] != "new" ? "/incidents/\(segments[1])" : "/incidents"
                    return signInPage(error: "You were signed out (a session ends after 8 hours unused, or at sign-out), so nothing was recorded. "
                                          + "Sign in, then send it again.", name: "", next: back, status: .unauthorized)
                }
                let here = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                return redirect("/sign-in?next=" + (here.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? "/"))
            }
            viewer = found
            return try await body(found)
        } catch let error as APIError {
            return errorPage(error, viewer: viewer)
        } catch let error as RegisterError {
            return errorPage(APIError(error.told(by: api.register)), viewer: viewer)
        } catch is NIOTooManyBytesError {
            return errorPage(APIError(.contentTooLarge, "the form is larger than \(api.maxBody / 1024) KiB"), viewer: viewer)
        } catch {
            context.logger.error("page failed", metadata: ["error": "\(error)"])
            return errorPage(APIError(.internalServerError, "the server could not answer: \(error)"), viewer: viewer)
        }
    }

    /// A submitted form, after its CSRF token is checked against the session's.
    func form(_ request: Request, _ viewer: Viewer?) async throws -> FormData {
        // A form sent from another site is refused whoever is signed in (the sign-in form
        // included, so nobody can be signed in as someone else behind their back).
        if let origin = request.headers[.origin], origin != "null", let host = request.head.authority {
            let sent = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init)
            if sent != host {
                throw APIError(.forbidden, "the form was sent from another site (\(origin)), so nothing was changed")
            }
        }
        var request = request
        let buffer = try await request.collectBody(upTo: api.maxBody)
        let form = FormData(String(buffer: buffer))
        if let viewer, form["csrf"] != viewer.csrf {
            throw APIError(.forbidden, "the form did not carry this session's token, so nothing was changed",
                           hint: "go back, reload the page and send it again")
        }
        return form
    }

    /// RFC 3986's unreserved characters: everything else in a query value is escaped.
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Where to go after signing in: a path on this site only.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else { return "/incidents" }
        return next
    }

    func signInPage(error: String?, name: String, next: String, status: HTTPResponse.Status = .ok) -> Response {
        page("sign_in", ["error": opt(error), "name": name, "next": next], title: "Sign in", viewer: nil, status: status)
    }

    // MARK: Routes

    func add(to router: Router<ServerContext>) {
        router.get("/") { _, _ in redirect("/incidents") }
        router.get("static/style.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: PackageResources.style_css)))
        }

        router.get("sign-in") { request, _ in
            if (try? viewer(request)) != nil { return redirect(Self.safeNext(api.query(request, "next"))) }
            return signInPage(error: nil, name: "", next: Self.safeNext(api.query(request, "next")))
        }
        router.post("sign-in") { request, context in
            do {
                let form = try await form(request, nil)
                let next = Self.safeNext(form["next"])
                guard let name = form["name"], let password = form.all("password").first, !password.isEmpty else {
                    return signInPage(error: "Give your name and your password.", name: form["name"] ?? "", next: next, status: .badRequest)
                }
                do {
                    let user = try api.auth.password(name: name, password: password, client: context.remote)
                    let (cookie, _, _) = api.auth.sessions.open(user.name)
                    return redirect(next, cookie: Cookie(name: Authenticator.sessionCookie, value: cookie, maxAge: Int(api.auth.sessions.lifetime),
                                                         path: "/", secure: api.secureCookies, httpOnly: true, sameSite: .strict))
                } catch let error as APIError {
                    var response = signInPage(error: error.status == .tooManyRequests ? error.report.message.capitalisedFirst + "."
                                                  : "That name and password do not match an active user.",
                                              name: name, next: next, status: error.status)
                    if let retry = error.retryAfter { response.headers[.retryAfter] = String(retry) }
                    return response
                }
            } catch let error as APIError {
                return errorPage(error, viewer: nil)
            } catch {
                return errorPage(APIError(.badRequest, "the form could not be read"), viewer: nil)
            }
        }
        router.post("sign-out") { request, context in
            await signedIn(request, context) { viewer in
                _ = try await form(request, viewer)
                if let cookie = request.cookies[Authenticator.sessionCookie] { api.auth.sessions.close(Register.sha256Hex(cookie.value)) }
                return redirect("/sign-in", cookie: Cookie(name: Authenticator.sessionCookie, value: "", maxAge: 0, path: "/",
                                                           secure: api.secureCookies, httpOnly: true, sameSite: .strict))
            }
        }

        router.get("incidents") { request, context in
            await signedIn(request, context) { viewer in try incidentsPage(request, viewer) }
        }
        router.get("incidents/new") { request, context in
            await signedIn(request, context) { viewer in try reportPage(policy: api.query(request, "policy"), viewer: viewer, state: nil) }
        }
        router.post("incidents/new") { request, context in
            await signedIn(request, context) { viewer in try await openIncident(request, viewer) }
        }
        router.get("incidents/:number") { request, context in
            await signedIn(request, context) { viewer in
                let flash: String? = switch api.query(request, "flash") {
                case "opened": "The incident is open. What the policy asks next is below."
                case "recorded": "Recorded. The duties below are worked out again with it."
                default: nil
                }
                return try await incidentPage(api.parameter(context, "number"), viewer, flash: flash)
            }
        }
        router.get("incidents/:number/record") { request, context in
            await signedIn(request, context) { viewer in
                try recordPage(api.parameter(context, "number"), viewer, duty: api.query(request, "duty"), question: api.query(request, "question"),
                               action: api.query(request, "action"), state: nil)
            }
        }
        router.post("incidents/:number/record") { request, context in
            await signedIn(request, context) { viewer in try await record(request, api.parameter(context, "number"), viewer) }
        }
        router.get("incidents/:number/audit") { request, context in
            await signedIn(request, context) { viewer in try auditPage(api.parameter(context, "number"), viewer) }
        }
        router.get("incidents/:number/timeline.svg") { request, context in
            await signedIn(request, context) { viewer in
                let number = api.parameter(context, "number")
                let (stored, policy) = try api.visibleIncident(number, viewer.user)
                let svg = Timeline(evaluation: Engine(policy: policy).evaluate(stored.file, at: api.clock()), file: stored.file).svg()
                return Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "no-store"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: svg)))
            }
        }
        router.get("incidents/:number/export.yaml") { request, context in
            await signedIn(request, context) { viewer in
                let number = api.parameter(context, "number")
                try api.checkVisible(number, viewer.user)
                let yaml = try api.register.export(number, as: .yaml)
                return Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8", .cacheControl: "no-store",
                                                       .contentDisposition: "attachment; filename=\"\(number).yaml\""],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: yaml)))
            }
        }
        router.get("policies") { request, context in
            await signedIn(request, context) { viewer in policiesPage(viewer) }
        }
        router.get("policies/:id") { request, context in
            await signedIn(request, context) { viewer in try policyPage(api.parameter(context, "id"), viewer) }
        }
        router.get("policies/:id/diagram.svg") { request, context in
            await signedIn(request, context) { _ in
                let served = try api.served(api.parameter(context, "id"))
                guard let svg = diagrams.svg(for: served.policy) else {
                    throw APIError(.notFound, "no diagram: Graphviz (dot) is not installed on the server")
                }
                return Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "max-age=300"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: svg)))
            }
        }
    }

    /// The paths the pages answer (for 405 with `Allow` instead of 404).
    static let routes: [(pattern: [String], methods: [HTTPRequest.Method])] = [
        ([], [.get]), (["sign-in"], [.get, .post]), (["sign-out"], [.post]), (["incidents"], [.get]), (["incidents", "new"], [.get, .post]),
        (["incidents", ":n"], [.get]), (["incidents", ":n", "record"], [.get, .post]), (["incidents", ":n", "audit"], [.get]), (["incidents", ":n", "timeline.svg"], [.get]),
        (["incidents", ":n", "export.yaml"], [.get]), (["policies"], [.get]), (["policies", ":id"], [.get]),
        (["policies", ":id", "diagram.svg"], [.get]), (["static", "style.css"], [.get]),
    ]

    static func methods(of path: String) -> [HTTPRequest.Method]? { API.methods(of: path, in: routes) }
}

extension String {
    var capitalisedFirst: String { prefix(1).uppercased() + dropFirst() }
}

extension HTTPField.Name {
    static let contentDisposition = Self("Content-Disposition")!
}

/// HTML escaping for the pages: the same five characters as Mustache's own HTML type
/// (`<`, `>`, `&`, `"`, `'`), over UTF-8 bytes, and no copy of a text with none of them. It
/// is the pages' hottest loop (a quarter of an incident page's time went to escaping one
/// Character at a time through a dictionary); a test checks it against Mustache's own.
struct PageHTML: MustacheContentType {
    static let name = "RULEBOOK_HTML"
    static let registered: Bool = {
        MustacheContentTypes.register(PageHTML(), named: name)
        return true
    }()

    func escapeText(_ text: String) -> String { Self.escape(text) }

    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x3C || $0 == 0x3E || $0 == 0x26 || $0 == 0x22 || $0 == 0x27 }) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 32)
        for b in text.utf8 {
            switch b {
            case 0x3C: out.append(contentsOf: "&lt;".utf8)
            case 0x3E: out.append(contentsOf: "&gt;".utf8)
            case 0x26: out.append(contentsOf: "&amp;".utf8)
            case 0x22: out.append(contentsOf: "&quot;".utf8)
            case 0x27: out.append(contentsOf: "&#39;".utf8)
            default: out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Answers as rendered, by incident, the hash of its last record, what else they depend
/// on (`variant`: the viewer's roles for a page, the query for an API answer) and the
/// moment they are "as at" (`period`: a page's minute, an answer's second). Incident pages
/// are kept without the layout that names the viewer and carries their CSRF token. A new
/// record changes the hash, so an answer is never older than its incident; the period
/// moves on by itself. Bounded: when full, it starts again empty. A capacity of 0 renders
/// every time (what the tests compare it with).
///
/// One rendering per key at a time: at the start of each period every client asking about
/// an incident misses at once, and rendering a long incident for each of them in parallel
/// made a crowd of sixty-four wait a quarter of a second. The others wait for the first
/// one's answer, and render for themselves only when it was not kept.
final class PageCache: @unchecked Sendable {
    struct Key: Hashable {
        var number: String
        var head: String
        var variant: [String]
        var period: Instant
    }

    struct Entry {
        var body: String
        var school: String?
    }

    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func keep(_ entry: Entry, for key: Key) {
        guard capacity > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = entry
    }

    private enum Turn { case kept(Entry), lead, alone }
    private var rendering: [Key: [CheckedContinuation<Turn, Never>]] = [:]

    /// The answer kept for `key` (`kept` true: the caller still asks whether its user may
    /// see it), or the one `render` makes, kept when `render` says so. While a request
    /// renders a key, others asking for it wait for it; when its answer was not kept (or
    /// it failed: perhaps that user may not see the incident), they render their own.
    func answer(_ key: Key, render: () async throws -> (entry: Entry, keep: Bool)) async throws -> (entry: Entry, kept: Bool) {
        guard capacity > 0 else { return (try await render().entry, false) }
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            lock.withLock {
                if let entry = entries[key] {
                    continuation.resume(returning: .kept(entry))
                } else if rendering[key] == nil {
                    rendering[key] = []
                    continuation.resume(returning: .lead)
                } else {
                    rendering[key]!.append(continuation)
                }
            }
        }
        switch turn {
        case .kept(let entry):
            return (entry, true)
        case .alone:
            let made = try await render()
            if made.keep { keep(made.entry, for: key) }
            return (made.entry, false)
        case .lead:
            var handed = Turn.alone
            defer {
                let waiting = lock.withLock { rendering.removeValue(forKey: key) ?? [] }
                for continuation in waiting { continuation.resume(returning: handed) }
            }
            let made = try await render()
            if made.keep {
                keep(made.entry, for: key)
                handed = .kept(made.entry)
            }
            return (made.entry, false)
        }
    }
}

/// Each policy's diagram as SVG, drawn once by Graphviz (`dot`) when first asked for.
final class DiagramCache: @unchecked Sendable {
    private let lock = NSLock()
    private var drawn: [String: String?] = [:]

    /// Where `dot` is, if it is on the PATH.
    static let dot: String? = {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = String(dir) + "/dot"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }()

    var available: Bool { Self.dot != nil }

    func svg(for policy: Policy) -> String? {
        let key = policy.id + "@" + policy.version
        lock.lock()
        if let known = drawn[key] {
            lock.unlock()
            return known
        }
        lock.unlock()
        let svg = Self.draw(PolicyGraph(policy: policy).dot())
        lock.lock()
        drawn[key] = svg
        lock.unlock()
        return svg
    }

    private static func draw(_ dotText: String) -> String? {
        guard let dot else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: dot)
        process.arguments = ["-Tsvg"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        // Written from another thread: a large graph fills the pipe both ways.
        let text = Data(dotText.utf8)
        Thread.detachNewThread {
            input.fileHandleForWriting.write(text)
            try? input.fileHandleForWriting.close()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let svg = String(data: data, encoding: .utf8), svg.contains("<svg") else { return nil }
        return svg
    }
}
