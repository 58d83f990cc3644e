import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import RulebookRegister

/// Who is asking: an API token (`Authorization: Bearer rbk_…`, stored as its SHA-256) or a
/// name and password (`Authorization: Basic`, checked against the bcrypt hash). Failed
/// attempts are limited per client address and per user name.
final class Authenticator: Sendable {
    let register: Register
    let limiter: AttemptLimiter

    init(register: Register, failedSignInsPerMinute: Int = 5) {
        self.register = register
        limiter = AttemptLimiter(limit: failedSignInsPerMinute, window: 60)
    }

    /// The prefix of every API token, so a leaked one is easy to recognise and search for.
    static let tokenPrefix = "rbk_"

    /// A new random API token (shown once) and its SHA-256 (kept).
    static func newToken() -> (token: String, sha256: String) {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        let token = tokenPrefix + bytes.map { String(format: "%02x", $0) }.joined()
        return (token, Register.sha256Hex(token))
    }

    /// Bcrypt at cost 12 (about a quarter of a second): slow enough to make guessing dear.
    static func hashPassword(_ password: String) -> String {
        Bcrypt.hash(password, cost: 12)
    }

    /// Browser sessions: the cookie's SHA-256 to who and until when, with the CSRF token a
    /// state-changing request must echo. Kept in memory: a restart signs everyone out.
    let sessions = SessionStore()
    static let sessionCookie = "rulebook_session"

    /// Checks a name and password (for Basic and for a browser's sign-in), limited per
    /// address and per user.
    func password(name: String, password: String, client: String) throws -> RegisterUser {
        // Passwords can be guessed: a few failures a minute per address and per user.
        for (key, what) in [("client:" + client, "from this address"), ("user:" + name, "for this user")] {
            if let wait = limiter.blocked(key) {
                throw APIError(.tooManyRequests, "too many failed sign-ins \(what); try again in \(wait) s", retryAfter: wait)
            }
        }
        if let user = try register.user(named: name), !user.disabled, let hash = user.passwordHash, Bcrypt.verify(password, hash: hash) {
            return user
        }
        limiter.failed("client:" + client)
        limiter.failed("user:" + name)
        throw APIError(.unauthorized, "wrong name or password, or the user is disabled")
    }

    /// The signed-in user, or the reason there is none (401), or too many failures (429).
    /// A browser's session cookie counts only with its CSRF token on a request that changes
    /// anything.
    func user(for request: Request, client: String) throws -> RegisterUser {
        if request.headers[.authorization] == nil, let cookie = request.cookies[Self.sessionCookie] {
            guard let session = sessions.session(Register.sha256Hex(cookie.value)),
                  let user = try register.user(named: session.user), !user.disabled
            else {
                throw APIError(.unauthorized, "the session has ended; sign in again", hint: "POST /api/v1/session")
            }
            if ![.get, .head, .options].contains(request.method), request.headers[.csrfToken] != session.csrf {
                throw APIError(.forbidden, "a request that changes anything needs the session's CSRF token in X-CSRF-Token")
            }
            return user
        }
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, "sign in: send an API token (Authorization: Bearer …) or a name and password (Basic)",
                           hint: "rulebook user token NAME makes a token")
        }
        if header.hasPrefix("Bearer ") {
            // A token is 256 random bits: guessing is hopeless, so tokens are not limited
            // (and a neighbour's failures never lock out a tool with a good one).
            let token = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
            if token.hasPrefix(Self.tokenPrefix), let user = try register.user(forTokenSHA256: Register.sha256Hex(token)) {
                return user
            }
            throw APIError(.unauthorized, "the API token is not one this register knows, or its user is disabled")
        }
        if header.hasPrefix("Basic "), let data = Data(base64Encoded: String(header.dropFirst("Basic ".count))),
           let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        {
            return try password(name: String(text[..<colon]), password: String(text[text.index(after: colon)...]), client: client)
        }
        throw APIError(.unauthorized, "the Authorization header must be Bearer TOKEN or Basic")
    }
}

/// At most `limit` failures per key in a sliding `window` of seconds; then the key is
/// refused until its oldest failure leaves the window.
final class AttemptLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [String: [Date]] = [:]
    let limit: Int
    let window: TimeInterval

    init(limit: Int, window: TimeInterval) {
        self.limit = limit
        self.window = window
    }

    /// Seconds to wait, when `key` is refused.
    func blocked(_ key: String) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        let recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
        failures[key] = recent.isEmpty ? nil : recent
        guard recent.count >= limit, let oldest = recent.first else { return nil }
        return max(1, Int((window - now.timeIntervalSince(oldest)).rounded(.up)))
    }

    func failed(_ key: String) {
        lock.lock()
        defer { lock.unlock() }
        failures[key, default: []].append(Date())
        if failures.count > 100_000 { failures.removeAll() }
    }
}

extension HTTPField.Name {
    static let csrfToken = Self("X-CSRF-Token")!
}

/// Sessions in memory, by the SHA-256 of their cookie (the cookie itself is not kept).
final class SessionStore: @unchecked Sendable {
    struct Session {
        var user: String
        var csrf: String
        var expires: Date
    }

    private let lock = NSLock()
    private var sessions: [String: Session] = [:]
    /// How long a session lasts without being used again.
    var lifetime: TimeInterval = 8 * 3600

    /// A new session for `user`: its cookie value and CSRF token.
    func open(_ user: String) -> (cookie: String, csrf: String, expires: Date) {
        let cookie = Self.random(), csrf = Self.random()
        let expires = Date().addingTimeInterval(lifetime)
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        sessions = sessions.filter { $0.value.expires > now }
        sessions[Register.sha256Hex(cookie)] = Session(user: user, csrf: csrf, expires: expires)
        return (cookie, csrf, expires)
    }

    /// The live session with this cookie hash (its expiry moved on: sliding), if any.
    func session(_ sha: String) -> Session? {
        lock.lock()
        defer { lock.unlock() }
        guard var session = sessions[sha], session.expires > Date() else {
            sessions[sha] = nil
            return nil
        }
        session.expires = Date().addingTimeInterval(lifetime)
        sessions[sha] = session
        return session
    }

    func close(_ sha: String) {
        lock.lock()
        sessions[sha] = nil
        lock.unlock()
    }

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
