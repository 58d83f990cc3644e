import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import RulebookCore
import RulebookRegister

/// `rulebook serve`: the register as an HTTP service for many schools. Hummingbird
/// 2 on SwiftNIO; SIGTERM and SIGINT drain the requests in flight and stop cleanly
/// (swift-service-lifecycle); one structured log line per request (swift-log); `/health`
/// and `/metrics` (Prometheus text format).
public struct RulebookServer: Sendable {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        public var maxBodyBytes: Int
        public var logLevel: Logger.Level
        /// Failed password sign-ins allowed per minute, per client address and per user.
        public var failedSignInsPerMinute: Int
        /// Session cookies carry Secure: clients reach the server over HTTPS (a TLS proxy).
        public var secureCookies = false
        /// The longest a client may take to send a whole request (head and body), counted
        /// from the connection opening or the last response; then the connection is closed.
        public var requestTimeoutMilliseconds: Int64 = 30_000
        /// The version the pages' footer names.
        public var version = ""
        /// Incident pages kept rendered (0: render every time).
        public var cachedPages = 512

        public init(host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 1 << 20, logLevel: Logger.Level = .info,
                    failedSignInsPerMinute: Int = 5) {
            self.host = host
            self.port = port
            self.maxBodyBytes = maxBodyBytes
            self.logLevel = logLevel
            self.failedSignInsPerMinute = failedSignInsPerMinute
        }
    }

    let register: Register
    let policies: [String: ServedPolicy]
    let options: Options
    let openAPI: String

    public init(register: Register, policies: [ServedPolicy], options: Options, openAPI: String) {
        self.register = register
        self.policies = Dictionary(policies.map { ($0.policy.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.options = options
        self.openAPI = openAPI
    }

    /// Metrics go to one registry for the process: swift-metrics is bootstrapped once.
    private static let metrics: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// The router: health, metrics and the API.
    func router(logger: Logger) -> Router<ServerContext> {
        let registry = Self.metrics
        let router = Router(context: ServerContext.self)
        router.add(middleware: LogRequestsMiddleware(.info))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: NotFoundMiddleware())
        var api = API(register: register, appends: GroupCommit(register: register), answers: PageCache(capacity: options.cachedPages), policies: policies,
                      auth: Authenticator(register: register, failedSignInsPerMinute: options.failedSignInsPerMinute), openAPI: openAPI,
                      maxBody: options.maxBodyBytes, clock: API.now)
        api.secureCookies = options.secureCookies
        let pages = Pages(api: api, version: options.version, cachedPages: options.cachedPages)
        if register.isReplica { router.add(middleware: RefreshMiddleware(register: register, pages: pages)) }
        let register = register
        router.get("health") { _, context -> Response in
            // On PostgreSQL, healthy only while the database answers. Why not is logged,
            // not told: /health answers anyone, and the address names the database.
            if register.isReplica {
                do {
                    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                        DispatchQueue.global().async { continuation.resume(with: Result { try register.checkReachable() }) }
                    }
                } catch {
                    context.logger.error("health: the register's database does not answer", metadata: ["error": "\((error as? RegisterError)?.message ?? "\(error)")"])
                    return Response(status: .serviceUnavailable, headers: [.contentType: "application/json", .retryAfter: "5"],
                                    body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"status\":\"unavailable\",\"error\":\"the register's database does not answer\"}\n")))
                }
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}\n")))
        }
        router.get("metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: registry.emitToString())))
        }
        api.add(to: router)
        pages.add(to: router)
        return router
    }

    /// Serves until SIGTERM or SIGINT; `onListening` is told the port (0 picks a free one).
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        var logger = Logger(label: "rulebook.serve")
        logger.logLevel = options.logLevel
        let timeout = options.requestTimeoutMilliseconds
        let app = Application(
            router: router(logger: logger),
            server: .http1(configuration: .init(additionalChannelHandlers: [RequestDeadlineHandler(limit: .milliseconds(timeout))])),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "rulebook"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await app.runService()
    }
}

extension RulebookServer {
    /// A password's bcrypt hash (cost 12).
    public static func hashPassword(_ password: String) -> String { Authenticator.hashPassword(password) }

    /// A new API token (shown once) and its SHA-256 (kept).
    public static func newToken() -> (token: String, sha256: String) { Authenticator.newToken() }

    /// 256 random bits as hex (a calendar feed's secret).
    public static func newSecret() -> String { SessionStore.random() }

    /// The OpenAPI 3.1 description of the API (Schemas/openapi.yaml, built in).
    public static var openAPIDocument: String { String(decoding: PackageResources.openapi_yaml, as: UTF8.self) }

    /// The JSON Schemas the description refers to, by file name (served beside it).
    static let schemaDocuments: [String: [UInt8]] = [
        "next.schema.json": PackageResources.next_schema_json, "assess.schema.json": PackageResources.assess_schema_json,
        "audit.schema.json": PackageResources.audit_schema_json, "coverage.schema.json": PackageResources.coverage_schema_json,
        "report.schema.json": PackageResources.report_schema_json,
    ]
}

/// With a register in PostgreSQL: every request but /health and /metrics first brings the
/// server's working copy up to the database (one query when nothing changed), so it
/// answers with every record acknowledged before it arrived, whoever wrote it.
struct RefreshMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let gate: RefreshGate
    let register: Register
    /// The web pages answer a page, not JSON.
    let pages: Pages

    init(register: Register, pages: Pages) {
        self.register = register
        self.pages = pages
        gate = RefreshGate(register: register)
    }

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if path != "/health", path != "/metrics" {
            do {
                try await gate.refresh()
            } catch let error as RegisterError {
                context.logger.error("the register could not be brought up to date", metadata: ["error": "\(error.message)"])
                // Unreachable: 503 with Retry-After, as any request meeting it answers.
                let told = error.told(by: register)
                let refusal = error.status == .unavailable ? APIError(told)
                    : APIError(.serviceUnavailable, "the register could not be brought up to date: \(told.message)", hint: told.hint)
                return path.hasPrefix("/api/") ? refusal.response : pages.errorPage(refusal, viewer: nil)
            }
        }
        return try await next(request, context)
    }
}

/// Requests waiting for a check of PostgreSQL share it: a check covers every request that
/// arrived before it began, so requests that arrive during one wait for the next, and one
/// query answers them all. Checks run on a thread of their own, never on SwiftNIO's.
final class RefreshGate: @unchecked Sendable {
    private let register: Register
    private let lock = NSLock()
    private var checking = false
    private var waiting: [CheckedContinuation<Void, any Error>] = []
    private let queue = DispatchQueue(label: "rulebook-refresh")

    init(register: Register) { self.register = register }

    func refresh() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            lock.withLock {
                waiting.append(continuation)
                if !checking {
                    checking = true
                    startCheck()
                }
            }
        }
    }

    /// Takes everyone waiting now and checks for them (called with the lock held).
    private func startCheck() {
        let batch = waiting
        waiting = []
        queue.async { [self] in
            let result = Result { try register.refresh() }
            lock.withLock {
                for continuation in batch { continuation.resume(with: result) }
                if waiting.isEmpty { checking = false } else { startCheck() }
            }
        }
    }
}

/// What no route answers: a method the path does not take is 405 with `Allow` (not 404);
/// anything else is a JSON 404 like every other refusal.
struct NotFoundMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            if let allowed = API.methods(of: request.uri.path) ?? Pages.methods(of: request.uri.path) {
                let list = allowed.map(\.rawValue).joined(separator: ", ")
                var response = APIError(.methodNotAllowed, "\(request.method) is not a method of \(request.uri.path)", hint: "it takes \(list)").response
                response.headers[.allow] = list
                return response
            }
            return APIError(.notFound, "no such path: \(request.uri.path)", hint: "the API is described at /api/v1/openapi.yaml").response
        }
    }
}
