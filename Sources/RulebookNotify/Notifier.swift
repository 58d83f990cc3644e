import CLibCrypto
import Foundation
import RulebookCore
import RulebookRegister

/// Where notices go and how hard to try.
public struct NotifySettings: Sendable {
    /// Webhook addresses; each receives every notice of the kinds in `kinds`.
    public var webhooks: [String] = []
    /// The HMAC-SHA256 key webhooks are signed with (required when there are webhooks).
    public var secret: [UInt8] = []
    public var mail: Transport.MailServer?
    public var mailFrom: String?
    /// Addresses that receive every notice (a shared inbox); users with an address
    /// receive those of their roles at their schools.
    public var mailTo: [String] = []
    public var kinds: Set<Notice.Kind> = Set(Notice.Kind.allCases)
    /// Attempts before a delivery becomes a dead letter.
    public var attempts = 8
    /// The wait after the first failure; each later one doubles it, up to six hours.
    public var firstRetry: Int64 = 60_000
    /// The server's public address, for links in notices.
    public var baseURL: String?

    public init() {}

    /// Whether there is anywhere to send anything.
    public var isEmpty: Bool { webhooks.isEmpty && mail == nil }

    /// The wait before attempt `attempts + 1` (after `attempts` failures).
    public func backoff(afterFailures failures: Int) -> Int64 {
        let cap: Int64 = 6 * 3_600_000
        guard failures > 0 else { return firstRetry }
        var wait = firstRetry
        for _ in 1..<failures where wait < cap { wait *= 2 }
        return min(wait, cap)
    }
}

/// What one round did.
public struct RoundSummary: Sendable, Equatable {
    public var notices = 0
    public var queued = 0
    public var sent = 0
    public var failed = 0
    public var dead = 0
}

/// Turns the register's state into notices and delivers them: each notice is queued once
/// per target in the register's outbox (so a restart sends nothing twice), then every due
/// delivery is tried, failures retried with back-off until they become dead letters.
///
/// The guarantee is at-least-once at the transport, exactly-once in the outbox: a notice
/// is queued at most once per target, and a delivery the receiver acknowledged is never
/// repeated; one whose acknowledgement was lost (a crash between the receiver's 2xx and
/// the outbox update) may be tried again, with the same `X-Rulebook-Delivery` id so the
/// receiver can drop it.
public final class Notifier: Sendable {
    let register: Register
    let settings: NotifySettings
    let log: @Sendable (String) -> Void

    public init(register: Register, settings: NotifySettings, log: @escaping @Sendable (String) -> Void) {
        self.register = register
        self.settings = settings
        self.log = log
    }

    /// One round at `at`: queue what is new, then deliver what is due.
    public func round(at: Instant) throws -> RoundSummary {
        var summary = RoundSummary()
        var notices: [Notice] = []
        try register.cases { incident, policy, file in
            notices += Notice.of(incident: incident.number, school: incident.school, policy: policy, file: file, at: at)
        }
        notices = notices.filter { settings.kinds.contains($0.kind) }
        summary.notices = notices.count
        let users = settings.mail == nil ? [] : try register.users().filter { !$0.disabled && $0.email != nil }
        // A target seen for the first time gets the register's history (done late,
        // findings) recorded as history, not sent.
        var newTargets = Set<String>()
        func target(_ t: String) throws -> String {
            if try register.isNewNotifyTarget(t, at: at) { newTargets.insert(t) }
            return t
        }
        var queue: [(notice: String, target: String, kind: String, incident: String, payload: String, status: OutboxItem.Status)] = []
        let webhookTargets = try settings.webhooks.map { try target("webhook:" + $0) }
        let sharedMail = try settings.mailTo.map { try target("mail:" + $0) }
        var userTargets: [String: String] = [:]
        for user in users { userTargets[user.name] = try target("mail:" + user.email!) }
        for notice in notices {
            let history = notice.kind == .doneLate || notice.kind == .finding
            let json = notice.json(at: at, baseURL: settings.baseURL)
            func add(_ t: String, _ payload: String) {
                queue.append((notice.key, t, notice.kind.rawValue, notice.incident, payload, history && newTargets.contains(t) ? .history : .pending))
            }
            for t in webhookTargets { add(t, json) }
            guard let from = settings.mailFrom else { continue }
            var recipients = Set(sharedMail)
            for user in users where user.sees(school: notice.school) {
                let holds = notice.roles.contains { dutyRole in
                    user.roles.contains { id in notice.policy.roleIndex(of: id).map { notice.policy.role($0, actsAs: dutyRole) } ?? false }
                }
                if holds, let t = userTargets[user.name] { recipients.insert(t) }
            }
            for t in recipients.sorted() {
                add(t, notice.mail(from: from, to: String(t.dropFirst("mail:".count)), at: at, baseURL: settings.baseURL))
            }
        }
        summary.queued = try register.enqueue(queue, at: at)
        for item in try register.dueDeliveries(at: at) {
            do {
                try deliver(item, at: at)
                try register.markSent(item.id, at: at)
                summary.sent += 1
            } catch {
                let failures = item.attempts + 1
                let dead = failures >= settings.attempts
                try register.markFailed(item.id, error: "\(error)", retryAt: dead ? nil : at + settings.backoff(afterFailures: failures))
                if dead {
                    summary.dead += 1
                    log("dead letter \(item.id) (\(item.notice) to \(item.target)) after \(failures) attempts: \(error)")
                } else {
                    summary.failed += 1
                    log("delivery \(item.id) (\(item.notice) to \(item.target)) failed, attempt \(failures) of \(settings.attempts): \(error)")
                }
            }
        }
        return summary
    }

    /// Waits `milliseconds` between rounds, looking at `stopped` every fifth of a second so
    /// a stop (SIGTERM, the server ending) is noticed at once, not a round later.
    public static func pause(_ milliseconds: Int64, until stopped: () -> Bool) {
        var slept: Int64 = 0
        while slept < milliseconds && !stopped() {
            usleep(200_000)
            slept += 200
        }
    }

    func deliver(_ item: OutboxItem, at: Instant) throws {
        if item.target.hasPrefix("webhook:") {
            let url = String(item.target.dropFirst("webhook:".count))
            let body = Array(item.payload.utf8)
            let timestamp = String(at / 1000)
            let signature = Self.signature(secret: settings.secret, timestamp: timestamp, body: body)
            let response = try Transport.post(url: url, body: body, headers: [
                "Content-Type: application/json", "User-Agent: rulebook", "X-Rulebook-Delivery: \(item.id)",
                "X-Rulebook-Event: \(item.kind)", "X-Rulebook-Timestamp: \(timestamp)", "X-Rulebook-Signature: sha256=\(signature)",
            ])
            guard (200..<300).contains(response.status) else {
                throw DeliveryFailure("HTTP \(response.status)" + (response.body.isEmpty ? "" : ": " + String(response.body.prefix(200))))
            }
        } else if item.target.hasPrefix("mail:"), let server = settings.mail, let from = settings.mailFrom {
            try Transport.mail(Array(item.payload.utf8), from: from, to: [String(item.target.dropFirst("mail:".count))], via: server)
        } else {
            throw DeliveryFailure("no way to deliver to '\(item.target)' is configured any more")
        }
    }

    /// HMAC-SHA256 of "TIMESTAMP.BODY" with the secret, as lowercase hex: what
    /// `X-Rulebook-Signature: sha256=...` carries. A receiver recomputes it, and refuses a
    /// timestamp far from now (a replay).
    public static func signature(secret: [UInt8], timestamp: String, body: [UInt8]) -> String {
        hmacSHA256(key: secret, message: Array(timestamp.utf8) + [UInt8(ascii: ".")] + body).map { String(format: "%02x", $0) }.joined()
    }

    /// HMAC-SHA256 (RFC 2104) over OpenSSL's one-call SHA-256, as the register's chains
    /// hash: no EVP context, which a fully static build cannot initialise.
    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        func sha256(_ parts: [UInt8]...) -> [UInt8] {
            var context = SHA256_CTX()
            SHA256_Init(&context)
            for part in parts { part.withUnsafeBytes { _ = SHA256_Update(&context, $0.baseAddress, $0.count) } }
            var digest = [UInt8](repeating: 0, count: 32)
            SHA256_Final(&digest, &context)
            return digest
        }
        var block = key.count > 64 ? sha256(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        let inner = sha256(block.map { $0 ^ 0x36 }, message)
        return sha256(block.map { $0 ^ 0x5c }, inner)
    }
}
