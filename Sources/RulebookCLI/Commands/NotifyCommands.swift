import ArgumentParser
import Foundation
import RulebookCore
import RulebookNotify
import RulebookRegister

/// Where notices go: webhooks and mail. Shared by `rulebook notify` and `rulebook serve`.
struct NotifyOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("POST each notice as signed JSON to this http(s) address (repeatable).", valueName: "url"))
    var webhook: [String] = []
    @Option(name: .long, help: ArgumentHelp("The file holding the webhooks' HMAC-SHA256 key (at least 16 bytes).", valueName: "file"))
    var webhookSecretFile: String?
    @Option(name: .long, help: ArgumentHelp("Mail through this server: smtp://host:port or smtps://host:port.", valueName: "url"))
    var smtp: String?
    @Flag(name: .long, help: "Refuse to mail unless the smtp:// server takes STARTTLS.")
    var smtpStarttls = false
    @Option(name: .long, help: ArgumentHelp("The SMTP user name.", valueName: "name")) var smtpUser: String?
    @Option(name: .long, help: ArgumentHelp("The file holding the SMTP password.", valueName: "file")) var smtpPasswordFile: String?
    @Option(name: .long, help: ArgumentHelp("The sender's address.", valueName: "address")) var mailFrom: String?
    @Option(name: .long, help: ArgumentHelp("Also mail every notice here, e.g. a shared inbox (repeatable).", valueName: "address"))
    var mailTo: [String] = []
    @Option(name: .long, help: ArgumentHelp("Only these kinds: reminder, overdue, done_late, finding (repeatable; default all).", valueName: "kind"))
    var notify: [String] = []
    @Option(name: .long, help: ArgumentHelp("How often to look for notices (exact ISO 8601 duration).", valueName: "duration"))
    var notifyEvery = "PT1M"
    @Option(name: .long, help: ArgumentHelp("Attempts before a delivery becomes a dead letter.", valueName: "n"))
    var attempts = 8
    @Option(name: .long, help: ArgumentHelp("The wait after a first failed attempt; it doubles after each one (up to 6 hours).", valueName: "duration"))
    var retryAfter = "PT1M"
    @Option(name: .long, help: ArgumentHelp("The server's public address, for links in notices.", valueName: "url"))
    var baseURL: String?

    var isEmpty: Bool { webhook.isEmpty && smtp == nil }

    func validate() throws {
        _ = try settings()
        if !isEmpty, let problem = Transport.unavailable { throw ValidationError("webhooks and mail cannot be sent: \(problem)") }
    }

    var every: Int64 { (ISODuration(notifyEvery)?.exactMilliseconds).map { max($0, 1000) } ?? 60_000 }

    /// The settings, or the first thing wrong with the options.
    func settings() throws -> NotifySettings {
        var s = NotifySettings()
        for url in webhook {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw ValidationError("--webhook '\(url)' is not an http:// or https:// address") }
        }
        s.webhooks = webhook
        if !webhook.isEmpty {
            guard let file = webhookSecretFile else {
                throw ValidationError("--webhook needs --webhook-secret-file: every webhook is signed (rulebook key can make one: head -c 32 /dev/urandom | base64 > FILE)")
            }
            let secret = try Self.secret(file, option: "--webhook-secret-file")
            guard secret.count >= 16 else { throw ValidationError("the webhook secret in '\(file)' is shorter than 16 bytes") }
            s.secret = secret
        }
        if let smtp {
            guard smtp.hasPrefix("smtp://") || smtp.hasPrefix("smtps://") else { throw ValidationError("--smtp '\(smtp)' is not an smtp:// or smtps:// address") }
            guard let from = mailFrom, RegisterUser.isValidEmail(from) else { throw ValidationError("--smtp needs --mail-from ADDRESS, the sender") }
            let password = try smtpPasswordFile.map { String(decoding: try Self.secret($0, option: "--smtp-password-file"), as: UTF8.self) }
            s.mail = Transport.MailServer(url: smtp, username: smtpUser, password: password, requireTLS: smtpStarttls)
            s.mailFrom = from
        } else if !mailTo.isEmpty || mailFrom != nil {
            throw ValidationError("--mail-from and --mail-to need --smtp URL")
        }
        for address in mailTo where !RegisterUser.isValidEmail(address) { throw ValidationError("--mail-to '\(address)' is not a mail address") }
        s.mailTo = mailTo
        if !notify.isEmpty {
            var kinds = Set<Notice.Kind>()
            for k in notify {
                guard let kind = Notice.Kind(rawValue: k) else {
                    throw ValidationError("--notify '\(k)' is not one of " + Notice.Kind.allCases.map(\.rawValue).joined(separator: ", "))
                }
                kinds.insert(kind)
            }
            s.kinds = kinds
        }
        for (name, value) in [("--notify-every", notifyEvery), ("--retry-after", retryAfter)] {
            guard let d = ISODuration(value), !d.hasCalendarPart, d.exactMilliseconds > 0 else {
                throw ValidationError("\(name) '\(value)' is not an exact ISO 8601 duration above zero, e.g. PT1M")
            }
        }
        guard (1...100).contains(attempts) else { throw ValidationError("--attempts is 1 to 100") }
        s.attempts = attempts
        s.firstRetry = ISODuration(retryAfter)!.exactMilliseconds
        if let baseURL {
            guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else { throw ValidationError("--base-url '\(baseURL)' is not an http(s) address") }
        }
        s.baseURL = baseURL
        return s
    }

    /// A secret file's bytes, without the line end an editor adds.
    static func secret(_ file: String, option: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("\(option): cannot read '\(file)'") }
        var bytes = [UInt8](data)
        while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
        return bytes
    }
}

/// A flag set by SIGTERM or SIGINT, for loops that finish their round and stop.
enum StopSignal {
    nonisolated(unsafe) static var raised: sig_atomic_t = 0

    static func install() {
        signal(SIGTERM) { _ in StopSignal.raised = 1 }
        signal(SIGINT) { _ in StopSignal.raised = 1 }
    }
}

/// `rulebook notify`: the notifier without the server, for cron or a service of its own.
struct NotifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Send reminders, overdue duties, duties done late and audit findings as signed webhooks and mail, each once.",
        discussion: """
            Each round reads the register: for every owed duty the latest reminder point \
            reached (the policy's `reminders:`), every deadline passed, every duty done late, \
            and every audit finding that is a violation. Each notice is queued once per \
            target in the register's outbox, so nothing is sent twice, even across restarts; \
            then every due delivery is tried. A failed one is tried again after --retry-after, \
            doubling, until --attempts have failed: then it is a dead letter (`rulebook outbox \
            --status dead`). A webhook or mail address configured for the first time gets \
            the register's history (done late, findings) as history, not sent. `rulebook \
            serve` runs the same rounds with the same options.

            Webhooks: POST application/json with X-Rulebook-Delivery (the outbox id), \
            X-Rulebook-Event, X-Rulebook-Timestamp (Unix seconds) and X-Rulebook-Signature: \
            sha256=HEX, the HMAC-SHA256 of "TIMESTAMP.BODY" with the secret. Mail: to --mail-to \
            and to each user (`rulebook user email`) who holds the duty's role at the school.
            """)

    @Flag(name: .long, help: "One round, then stop (for cron).") var once = false
    @Option(name: .long, help: ArgumentHelp("With --once: the round's moment, RFC 3339 (default now).", valueName: "time")) var at: String?
    @OptionGroup var options: NotifyOptions
    @OptionGroup var registerOptions: RegisterOptions

    func validate() throws {
        if options.isEmpty { throw ValidationError("give somewhere to send: --webhook URL or --smtp URL") }
        if at != nil && !once { throw ValidationError("--at goes with --once") }
    }

    func run() throws {
        if registerOptions.databaseURL != nil { throw RegisterOptions.noOutbox("nothing was sent") }
        let register = try registerOptions.open(.write)
        let notifier = Notifier(register: register, settings: try options.settings()) { Terminal.standardError.write("rulebook: \($0)\n") }
        StopSignal.install()
        repeat {
            let now = try AtOption.instant(at)
            let s = try registerCall(colour: false) { try notifier.round(at: now) }
            Terminal.standardError.write("rulebook: \(Timestamp.format(now)): \(s.notices) notices, \(s.queued) newly queued, \(s.sent) sent, \(s.failed) to retry, \(s.dead) dead\n")
            if once { break }
            Notifier.pause(options.every) { StopSignal.raised != 0 }
        } while StopSignal.raised == 0
    }
}

/// `rulebook outbox`: what the notifier sent, will send, and could not.
struct OutboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "List the notifier's deliveries (pending, sent, dead letters, history); --retry ID sends dead letters again.")

    @Option(name: .long, help: ArgumentHelp("Only pending, sent, dead or history.", valueName: "status")) var status: String?
    @Option(name: .long, help: ArgumentHelp("Send this dead letter again (repeatable).", valueName: "id")) var retry: [Int64] = []
    @OptionGroup var registerOptions: RegisterOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let status, OutboxItem.Status(rawValue: status) == nil {
            throw ValidationError("--status '\(status)' is not one of " + OutboxItem.Status.allCases.map(\.rawValue).joined(separator: ", "))
        }
    }

    func run() throws {
        if registerOptions.databaseURL != nil { throw RegisterOptions.noOutbox("a PostgreSQL register has none to list") }
        if !retry.isEmpty {
            let register = try registerOptions.open(.write)
            let n = try registerCall(colour: output.colourErrors) { try register.retryDead(retry, at: try AtOption.instant(nil)) }
            Terminal.standardOutput.write("\(n) dead letter\(n == 1 ? "" : "s") queued again\n")
            if n < retry.count { throw Trouble("\(retry.count - n) of the ids given are not dead letters") }
            return
        }
        let items = try registerCall(colour: output.colourErrors) {
            try registerOptions.open(.read).outbox(status: status.flatMap(OutboxItem.Status.init))
        }
        if output.format == .json {
            var w = JSONWriter(pretty: true)
            w.object { w in
                w.field("deliveries") { w in
                    w.array { w in
                        for i in items {
                            w.object { w in
                                w.field("id", int: Int(i.id))
                                w.field("notice", string: i.notice)
                                w.field("target", string: i.target)
                                w.field("kind", string: i.kind)
                                w.field("incident", string: i.incident)
                                w.field("status", string: i.status.rawValue)
                                w.field("attempts", int: i.attempts)
                                w.field("next_attempt_at", string: i.status == .pending ? Timestamp.format(i.nextAttemptAt) : nil)
                                w.field("last_error", string: i.lastError)
                                w.field("created_at", string: Timestamp.format(i.createdAt))
                                w.field("sent_at", string: i.sentAt.map { Timestamp.format($0) })
                            }
                        }
                    }
                }
            }
            Terminal.standardOutput.write(w.text + "\n")
            return
        }
        if items.isEmpty { Terminal.standardOutput.write("The outbox is empty.\n"); return }
        var text = ""
        for i in items {
            text += "\(i.id)  \(i.status.rawValue)  \(i.notice)  → \(i.target)  attempts: \(i.attempts)"
            if let e = i.lastError { text += "  last error: \(e)" }
            text += "\n"
        }
        Terminal.standardOutput.write(text)
    }
}
