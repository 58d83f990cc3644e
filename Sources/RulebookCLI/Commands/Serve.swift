import ArgumentParser
import Foundation
import Logging
import RulebookCore
import RulebookNotify
import RulebookPostgres
import RulebookRegister
import RulebookServer

/// `rulebook serve`: the register as web pages and an HTTP JSON API for an organisation's schools.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the register over HTTP: web pages (/) and a JSON API (/api/v1) for the people and tools of many schools.",
        discussion: """
            Every request is signed in (an API token from `rulebook user token`, or a name \
            and password) and sees only the incidents of the user's schools; an event is \
            recorded in the user's name, in a role they hold. The answers are the CLI's, in \
            the same JSON shapes; the API is described at /api/v1/openapi.yaml. /health and \
            /metrics (Prometheus) need no sign-in. The web pages (sign in at /) show a \
            user's incidents, what is due for their roles, a form to record each action \
            and to report an incident, the audit and the policies. SIGTERM or SIGINT \
            finish the requests in flight and stop. The policies are read once, at start.
            """)

    @Option(name: .long, help: ArgumentHelp("Address and port to listen on (port 0 picks a free one).", valueName: "host:port"))
    var listen = "127.0.0.1:8080"
    @Option(name: .long, help: ArgumentHelp("Largest request body accepted, in KiB.", valueName: "KiB"))
    var maxBody = 1024
    @Option(name: .long, help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel = "info"
    @Option(name: .long, help: ArgumentHelp("Failed password sign-ins allowed per minute, per client address and per user (then 429).",
                                            valueName: "n"))
    var maxFailedSignIns = 5
    @Flag(name: .long, help: "Mark session cookies Secure: clients reach the server over HTTPS (behind a TLS proxy).")
    var secureCookies = false
    @Option(name: .long, help: ArgumentHelp("The longest a client may take to send a request, head and body, from connecting or from the last answer (then the connection is closed).",
                                            valueName: "duration"))
    var requestTimeout = "PT30S"
    @Option(name: .long, help: ArgumentHelp("Incident web pages, and the API's next and assess answers for now, kept rendered, each until its incident gets a new record or the minute (a page) or second (an answer) it is as at ends (0: render every time).",
                                            valueName: "n"))
    var pageCache = 512
    @OptionGroup var locations: PolicyOptions
    @OptionGroup var registerOptions: RegisterOptions
    @OptionGroup(title: "Notifications (as rulebook notify; off unless --webhook or --smtp is given)") var notifyOptions: NotifyOptions
    @Option(name: .long, help: "Colour diagnostics: auto (only on a terminal), always or never.")
    var color: ColourChoice = .auto

    func validate() throws {
        guard parsedListen != nil else { throw ValidationError("--listen '\(listen)' is not HOST:PORT, e.g. 127.0.0.1:8080") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level '\(logLevel)' is not a log level") }
        guard maxBody >= 1 && maxBody <= 1 << 20 else { throw ValidationError("--max-body is 1 to 1048576 KiB") }
        guard maxFailedSignIns >= 1 else { throw ValidationError("--max-failed-sign-ins is at least 1") }
        guard pageCache >= 0 && pageCache <= 100_000 else { throw ValidationError("--page-cache is 0 to 100000") }
        guard let d = ISODuration(requestTimeout), !d.hasCalendarPart, d.exactMilliseconds >= 1000 else {
            throw ValidationError("--request-timeout '\(requestTimeout)' is not an exact ISO 8601 duration of a second or more, e.g. PT30S")
        }
    }

    var parsedListen: (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        let host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host.isEmpty ? nil : (host, port)
    }

    func run() throws {
        if registerOptions.databaseURL != nil, !notifyOptions.isEmpty { throw RegisterOptions.noOutbox("nothing was started") }
        let register = try registerOptions.open(.create)
        if let database = registerOptions.databaseURL,
           let problem = try? PostgresRegister.writerProblem(try PostgresLocation(url: database)) {
            Terminal.standardError.write("rulebook: warning: \(problem), so it could turn off the triggers that keep the register append-only; serve as the role given to rulebook migrate --writer-role\n")
        }
        let policies = try Self.loadPolicies(folder: locations.policies, colour: color.colourErrors)
        let (host, port) = parsedListen!
        var options = RulebookServer.Options(host: host, port: port, maxBodyBytes: maxBody * 1024, logLevel: Logger.Level(rawValue: logLevel)!,
                                             failedSignInsPerMinute: maxFailedSignIns)
        options.secureCookies = secureCookies
        options.version = Rulebook.version
        options.cachedPages = pageCache
        options.requestTimeoutMilliseconds = ISODuration(requestTimeout)!.exactMilliseconds
        let server = RulebookServer(register: register, policies: policies,
                                    options: options,
                                    openAPI: RulebookServer.openAPIDocument)
        let names = policies.map(\.policy.id).sorted().joined(separator: ", ")
        // The command line is synchronous; the server runs on Swift's concurrency pool
        // while this thread waits for it to stop (SIGTERM or SIGINT).
        let outcome = ServeOutcome()
        let done = DispatchSemaphore(value: 0)
        // The notifier works on a thread of its own: its rounds read the whole register and
        // wait on the network, which must not hold up requests.
        let notifying = ServeOutcome()
        if !notifyOptions.isEmpty {
            let notifier = Notifier(register: register, settings: try notifyOptions.settings()) { Terminal.standardError.write("rulebook: \($0)\n") }
            let every = notifyOptions.every
            let thread = Thread {
                while !notifying.stopped {
                    do {
                        let s = try notifier.round(at: try AtOption.instant(nil))
                        if s.queued + s.sent + s.failed + s.dead > 0 {
                            Terminal.standardError.write("rulebook: notices: \(s.queued) newly queued, \(s.sent) sent, \(s.failed) to retry, \(s.dead) dead\n")
                        }
                    } catch {
                        Terminal.standardError.write("rulebook: the notifier's round failed: \(error)\n")
                    }
                    Notifier.pause(every) { notifying.stopped }
                }
            }
            thread.name = "rulebook-notifier"
            thread.start()
        }
        defer { notifying.stopped = true }
        Task {
            do {
                try await server.run { port in
                    Terminal.standardError.write("rulebook: serving \(register.name) with \(policies.count) policies (\(names)) on http://\(host):\(port)\n")
                }
            } catch {
                outcome.error = error
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw Trouble("the server stopped: \(error)") }
        Terminal.standardError.write("rulebook: stopped\n")
    }

    /// Every policy in the folder, compiled once, with the texts an incident pins.
    static func loadPolicies(folder: String, colour: Bool) throws -> [ServedPolicy] {
        var ids: [String] = []
        let library = PolicyLibrary()
        for file in try PolicyFiles.expand([folder]) {
            if let source = try? PolicyFiles.source(at: file), let id = library.add(source) { ids.append(id) }
        }
        guard !ids.isEmpty else { throw Trouble("no policies in '\(folder)'", hint: "give --policies DIR") }
        return try ids.sorted().map { id in
            let policy = try Workspace.policy(id, folder: folder, colour: colour)
            return ServedPolicy(policy: policy, lineage: try Workspace.lineageTexts(policy))
        }
    }
}

final class ServeOutcome: @unchecked Sendable {
    var error: Error?
    private let lock = NSLock()
    private var _stopped = false
    var stopped: Bool {
        get { lock.withLock { _stopped } }
        set { lock.withLock { _stopped = newValue } }
    }
}

/// `rulebook user`: who may use `rulebook serve`, kept in the register (outside its
/// hash chains).
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage the people and tools who may use `rulebook serve`.",
        subcommands: [Add.self, ListUsers.self, Disable.self, Enable.self, ResetPassword.self, Token.self, Feed.self, Email.self])

    /// A password typed at a terminal (not echoed), or one line of standard input.
    static func readPassword(fromStandardInput: Bool) throws -> String {
        let password: String
        if fromStandardInput || !Terminal.standardInput.isTerminal {
            password = (readLine(strippingNewline: true) ?? "")
        } else {
            guard let typed = getpass("Password (at least 12 characters): ") else { throw Trouble("no password was typed") }
            password = String(cString: typed)
            guard let again = getpass("The same again: "), String(cString: again) == password else {
                throw Trouble("the two passwords differ; nothing was changed")
            }
        }
        guard password.count >= 12 else { throw Trouble("a password needs at least 12 characters; nothing was changed") }
        return password
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Add a user: the schools they see and the roles they act in.",
            discussion: """
                Roles are role ids as the policies name them. --all-schools is for \
                roles that oversee every school, who see all incidents. Without \
                --no-password, a password is asked for (or read from standard input).
                """)
        @Argument(help: "The user's name (letters, digits, . _ @ -).") var name: String
        @Option(name: .long, help: ArgumentHelp("A school whose incidents they see (repeatable).", valueName: "name")) var school: [String] = []
        @Flag(name: .long, help: "They see every school's incidents.") var allSchools = false
        @Option(name: .long, help: ArgumentHelp("A role they act in (repeatable).", valueName: "id")) var role: [String] = []
        @Flag(name: .long, help: "No password: the user signs in with API tokens only.") var noPassword = false
        @Flag(name: .long, help: "Read the password from standard input.") var passwordStdin = false
        @Option(name: .long, help: ArgumentHelp("Where reminders of their roles' duties are mailed (rulebook serve --smtp).", valueName: "address"))
        var email: String?
        @OptionGroup var locations: PolicyOptions
        @OptionGroup var registerOptions: RegisterOptions

        func validate() throws {
            guard allSchools || !school.isEmpty else { throw ValidationError("give --school NAME (repeatable) or --all-schools") }
            guard !role.isEmpty else { throw ValidationError("give --role ID (repeatable): the roles they act in") }
            if let email, !RegisterUser.isValidEmail(email) { throw ValidationError("--email '\(email)' is not a mail address (name@example.org)") }
        }

        func run() throws {
            // A role no policy has is almost always a typo.
            if let policies = try? Serve.loadPolicies(folder: locations.policies, colour: false) {
                let known = Set(policies.flatMap { $0.policy.roles.map(\.id) })
                for r in role where !known.contains(r) {
                    throw Trouble("no policy in '\(locations.policies)' has a role '\(r)'",
                                  hint: Suggestions.didYouMean(r, among: Array(known)) ?? "the roles are: " + known.sorted().joined(separator: ", "))
                }
            }
            let hash = noPassword ? nil : RulebookServer.hashPassword(try UserCommand.readPassword(fromStandardInput: passwordStdin))
            let register = try registerOptions.open(.create)
            try registerCall(colour: false) {
                var user = RegisterUser(name: name, schools: school, allSchools: allSchools, roles: role, passwordHash: hash)
                user.email = email
                try register.addUser(user, at: try AtOption.instant(nil))
            }
            Terminal.standardOutput.write("added user \(name)\n")
        }
    }

    struct ListUsers: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the users, their schools and roles.")
        @OptionGroup var registerOptions: RegisterOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let users = try registerCall(colour: output.colourErrors) { try registerOptions.open(.read).users() }
            if output.format == .json {
                var w = JSONWriter(pretty: true)
                w.object { w in
                    w.field("users") { w in
                        w.array { w in
                            for u in users {
                                w.object { w in
                                    w.field("name", string: u.name)
                                    w.field("schools") { $0.array(strings: u.schools) }
                                    w.field("all_schools", bool: u.allSchools)
                                    w.field("roles") { $0.array(strings: u.roles) }
                                    w.field("disabled", bool: u.disabled)
                                    w.field("password", bool: u.passwordHash != nil)
                                    w.field("email", string: u.email)
                                }
                            }
                        }
                    }
                }
                Terminal.standardOutput.write(w.text + "\n")
                return
            }
            var text = ""
            for u in users {
                text += "\(u.name)\(u.disabled ? " (disabled)" : "")  schools: \(u.allSchools ? "all" : u.schools.joined(separator: ", "))"
                    + "  roles: \(u.roles.joined(separator: ", "))" + (u.email.map { "  mail: \($0)" } ?? "") + "\n"
            }
            Terminal.standardOutput.write(text.isEmpty ? "no users\n" : text)
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "disable", abstract: "Stop a user signing in; their API tokens are revoked.")
        @Argument(help: "The user's name.") var name: String
        @OptionGroup var registerOptions: RegisterOptions

        func run() throws {
            try registerCall(colour: false) { try registerOptions.open(.write).setDisabled(name, true) }
            Terminal.standardOutput.write("disabled user \(name)\n")
        }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enable", abstract: "Let a disabled user sign in again (with new tokens).")
        @Argument(help: "The user's name.") var name: String
        @OptionGroup var registerOptions: RegisterOptions

        func run() throws {
            try registerCall(colour: false) { try registerOptions.open(.write).setDisabled(name, false) }
            Terminal.standardOutput.write("enabled user \(name)\n")
        }
    }

    struct ResetPassword: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reset-password", abstract: "Give a user a new password.")
        @Argument(help: "The user's name.") var name: String
        @Flag(name: .long, help: "Read the password from standard input.") var passwordStdin = false
        @OptionGroup var registerOptions: RegisterOptions

        func run() throws {
            let register = try registerOptions.open(.write)
            guard try registerCall(colour: false, { try register.user(named: name) }) != nil else {
                throw Trouble("there is no user '\(name)'", hint: "rulebook user list shows them")
            }
            let hash = RulebookServer.hashPassword(try UserCommand.readPassword(fromStandardInput: passwordStdin))
            try registerCall(colour: false) { try register.setPasswordHash(name, hash) }
            Terminal.standardOutput.write("new password set for \(name)\n")
        }
    }

    struct Feed: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "feed",
            abstract: "Make a secret calendar feed address for a user (shown once): their deadlines, for Outlook, Google or Apple Calendar.",
            discussion: """
                Prints the path to add to the server's address (/api/v1/feeds/SECRET.ics). The                 secret is the only sign-in a calendar app sends: anyone with the address reads                 the user's deadlines. It is kept only as a hash; disabling the user ends it.
                """)
        @Argument(help: "The user's name.") var name: String
        @OptionGroup var registerOptions: RegisterOptions

        func run() throws {
            let secret = RulebookServer.newSecret()
            try registerCall(colour: false) {
                try registerOptions.open(.write).addToken(user: name, sha256: Register.feedSHA256(secret), label: "calendar feed",
                                                          at: try AtOption.instant(nil))
            }
            Terminal.standardOutput.write("/api/v1/feeds/\(secret).ics\n")
        }
    }

    struct Email: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "email", abstract: "Set the address a user's reminders are mailed to (or remove it with --none).")
        @Argument(help: "The user's name.") var name: String
        @Argument(help: ArgumentHelp("The address.", valueName: "address")) var address: String?
        @Flag(name: .long, help: "Mail them nothing.") var none = false
        @OptionGroup var registerOptions: RegisterOptions

        func validate() throws {
            if address == nil && !none { throw ValidationError("give an ADDRESS or --none") }
            if address != nil && none { throw ValidationError("give an ADDRESS or --none, not both") }
        }

        func run() throws {
            try registerCall(colour: false) { try registerOptions.open(.write).setEmail(name, none ? nil : address) }
            Terminal.standardOutput.write(none ? "\(name) will be mailed nothing\n" : "\(name) will be mailed at \(address!)\n")
        }
    }

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token", abstract: "Make an API token for a user (for tools); it is shown once and kept only as its hash.")
        @Argument(help: "The user's name.") var name: String
        @Option(name: .long, help: ArgumentHelp("What the token is for.", valueName: "text")) var label = "api"
        @OptionGroup var registerOptions: RegisterOptions

        func run() throws {
            let (token, sha) = RulebookServer.newToken()
            try registerCall(colour: false) {
                try registerOptions.open(.write).addToken(user: name, sha256: sha, label: label, at: try AtOption.instant(nil))
            }
            Terminal.standardOutput.write(token + "\n")
        }
    }
}
