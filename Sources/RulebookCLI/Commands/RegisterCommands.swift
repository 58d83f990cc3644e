import ArgumentParser
import Foundation
import RulebookCore
import RulebookDiagnostics
import RulebookPostgres
import RulebookRegister
import RulebookYAML

/// Where the register is: `--register`, else `$RULEBOOK_REGISTER`, else
/// `rulebook.sqlite` in the working folder.
struct RegisterOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The register file (default: $RULEBOOK_REGISTER, else ./rulebook.sqlite).", valueName: "path"),
            completion: .file(extensions: ["sqlite"]))
    var register: String?

    @Option(name: .long, help: ArgumentHelp(
        "Sign the register's new head with this private key (default: $RULEBOOK_SIGNING_KEY); see `rulebook key new`.",
        valueName: "file"))
    var signingKey: String?

    @Option(name: .long, help: ArgumentHelp(
        "A register in PostgreSQL instead of a file (default: $RULEBOOK_DATABASE when --register is not given): postgres://USER@HOST:PORT/DATABASE, the password from $PGPASSWORD or ~/.pgpass; make one with `rulebook migrate`.",
        valueName: "url"))
    var database: String?

    var path: String { Self.path(register) }

    /// The notifier's outbox is kept in SQLite registers only: said in words, not as an
    /// empty outbox or a refused table.
    static func noOutbox(_ consequence: String) -> Trouble {
        Trouble("the notifier keeps its outbox in an SQLite register only in this version: \(consequence)",
                hint: "serve the PostgreSQL register without --webhook or --smtp, or run notifications against an SQLite register")
    }

    /// The PostgreSQL register meant: `--database`, else `$RULEBOOK_DATABASE` unless
    /// `--register` names a file.
    var databaseURL: String? { Self.database(database, given: register) }

    static func database(_ database: String?, given file: String?) -> String? {
        if let database { return database }
        guard file == nil, let env = ProcessInfo.processInfo.environment["RULEBOOK_DATABASE"], !env.isEmpty else { return nil }
        return env
    }

    /// Opens it; reading commands open it read-only and never create one. A writer with a
    /// signing key signs the head it leaves.
    func open(_ access: Register.Access) throws -> Register {
        let register = try Self.open(path, database: database, given: register, access)
        if access != .read, let file = signingKey ?? ProcessInfo.processInfo.environment["RULEBOOK_SIGNING_KEY"], !file.isEmpty {
            let text = String(decoding: try FileReader.bytes(at: file, limit: 4096), as: UTF8.self)
            do {
                register.signingKey = try SigningKey.parsePrivate(text)
            } catch let error as RegisterError {
                throw Trouble("'\(file)': \(error.message)", hint: error.hint)
            }
        }
        return register
    }

    /// The public key in `file` (`--public-key`), checked, or nil without one.
    static func publicKey(_ file: String?) throws -> [UInt8]? {
        guard let file else { return nil }
        do {
            return try SigningKey.parsePublic(String(decoding: try FileReader.bytes(at: file, limit: 4096), as: UTF8.self))
        } catch let error as RegisterError {
            throw Trouble("'\(file)': \(error.message)", hint: error.hint)
        }
    }

    /// `--register`'s value, else $RULEBOOK_REGISTER, else ./rulebook.sqlite.
    static func path(_ register: String?) -> String {
        register ?? ProcessInfo.processInfo.environment["RULEBOOK_REGISTER"] ?? "rulebook.sqlite"
    }

    static func open(_ path: String, _ access: Register.Access) throws -> Register {
        try open(path, database: nil, given: nil, access)
    }

    /// The register file, or with `database` a read-only copy of the register in
    /// PostgreSQL, taken in one snapshot (see PostgresRegister).
    static func open(_ path: String, database: String?, given file: String?, _ access: Register.Access) throws -> Register {
        do {
            guard let database = Self.database(database, given: file) else { return try Register(path: path, access: access) }
            if file != nil { throw Trouble("give --register or --database, not both", hint: "--register is a register file, --database a register in PostgreSQL") }
            let location = try PostgresLocation(url: database)
            return access == .read ? try PostgresRegister.openCopy(location) : try PostgresRegister.openForWriting(location)
        } catch let error as RegisterError {
            throw Trouble(error.message, hint: error.hint)
        }
    }
}

/// Runs a register operation, turning its refusal into trouble (exit 2) with the
/// reasons listed.
func registerCall<T>(colour: Bool, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as RegisterError {
        // Diagnostics about a file are shown with their source line; those about the
        // command line become the reasons listed under the message.
        let located = error.diagnostics.filter { $0.span.map { FileManager.default.fileExists(atPath: $0.file) } ?? false }
        Workspace.printDiagnostics(located, colour: colour)
        let details = error.diagnostics.filter { !located.contains($0) }.map { d -> String in
            let hint = d.code == "missing-reason" ? "give --reason TEXT" : d.hint
            return d.message + (hint.map { " (\($0))" } ?? "")
        }
        throw Trouble(error.message, hint: error.hint, details: details)
    }
}

/// An incident number (the register's one pattern), as opposed to a case file's path.
func looksLikeIncidentNumber(_ text: String) -> Bool {
    Register.isIncidentNumber(text) && !text.hasSuffix(".yaml") && !text.hasSuffix(".yml") && !text.hasSuffix(".json")
        && !text.hasSuffix(".jsonl")
}

struct Open: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Open an incident in the register under a policy, which is pinned with it.",
        discussion: """
            Prints the new incident's number (INC-2026-0001). The policy's text (and the texts \
            of the policies it extends) is stored with its SHA-256, so later edits to Policies/ \
            never change how this incident is judged.
            """)

    @Argument(help: "Policy id or path.", completion: Completions.policies) var policy: String
    @Option(name: .long, help: ArgumentHelp("Facts known at opening: a YAML or JSON mapping of fact: value.", valueName: "file"))
    var facts: String?
    @Option(name: .long, help: ArgumentHelp("The school (or service) the incident belongs to.", valueName: "name"))
    var school: String?
    @OptionGroup var time: AtOption
    @OptionGroup var locations: PolicyOptions
    @OptionGroup var registerOptions: RegisterOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let policy = try Workspace.policy(policy, folder: locations.policies, colour: output.colourErrors)
        var assignments: [FactAssignment] = []
        if let facts {
            let bytes = try FileReader.bytes(at: facts, limit: ReaderLimits().maxBytes)
            let read = facts.hasSuffix(".json")
                ? bytes.withUnsafeBufferPointer { JSONReader.read(bytes: $0, file: facts) }
                : YAMLReader.read(bytes: bytes, file: facts)
            guard let root = read.root else {
                Workspace.printDiagnostics(read.diagnostics, colour: output.colourErrors)
                throw Trouble("'\(facts)' is not a readable facts file")
            }
            let wrapped = Node(.mapping([Node.Pair(key: Node(.scalar(Scalar(text: "facts", style: .plain, value: .string("facts"))), span: root.span), value: root)]), span: root.span)
            let (file, diagnostics) = CaseLoader.load(wrapped, policy: policy)
            Workspace.printDiagnostics(diagnostics, colour: output.colourErrors)
            guard let file else { throw Trouble("'\(facts)' does not fit policy '\(policy.id)'; nothing was opened") }
            assignments = file.facts
        }
        let lineage = try Workspace.lineageTexts(policy)
        let register = try registerOptions.open(.create)
        let number = try registerCall(colour: output.colourErrors) {
            try register.openIncident(lineage: lineage, policy: policy, facts: assignments, school: school, at: try time.instant())
        }
        Open.printNumber(number, output.format)
    }

    /// The new incident's number, or as POST /api/v1/incidents answers.
    static func printNumber(_ number: String, _ format: OutputFormat) {
        guard format == .json else { return Terminal.standardOutput.write(number + "\n") }
        var w = JSONWriter(pretty: true)
        w.object { w in w.field("number", string: number) }
        Terminal.standardOutput.write(w.text + "\n")
    }
}

struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record an action on an incident (appended to its hash-chained trail).",
        discussion: """
            The event is checked against the incident's pinned policy before anything is \
            written: an unknown action, role or fact, a value of the wrong type, a missing \
            required reason, or a time more than five minutes in the future is refused \
            (exit 2). An event dated before the last one is a backfill: it is kept in the \
            order it was recorded and evaluated in the order things happened. Fact \
            values are YAML, as the fact's type asks: --fact a_count=12 --fact a_flag=false \
            --fact 'a_set=[option_a, option_b]'.
            """)

    @Argument(help: "The incident number.", completion: Completions.incidents) var incident: String
    @Argument(help: "The action's id.") var action: String
    @Option(name: .long, help: ArgumentHelp("The role the action was taken in.", valueName: "role")) var by: String
    @Option(name: .long, help: ArgumentHelp("The person's name.", valueName: "name")) var actor: String?
    @Option(name: .long, help: ArgumentHelp("A fact recorded with the event, KEY=VALUE (repeatable).", valueName: "key=value"))
    var fact: [String] = []
    @Option(name: .long, help: ArgumentHelp("The documented reason.", valueName: "text")) var reason: String?
    @Option(name: .long, help: ArgumentHelp("The decided value, for actions that record a decision.", valueName: "value"))
    var value: String?
    @Option(name: .long, help: ArgumentHelp("A free note.", valueName: "text")) var note: String?
    @OptionGroup var time: AtOption
    @OptionGroup var registerOptions: RegisterOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let at = try time.instant()
        func scalar(_ text: String, quoted: Bool = true) -> Node {
            Node(.scalar(Scalar(text: text, style: quoted ? .doubleQuoted : .plain, value: quoted ? .string(text) : ScalarValue.resolvePlain(text))),
                 span: SourceSpan(file: "command line", at: SourcePosition(line: 1, column: 1)))
        }
        /// A YAML value typed on the command line (`292`, `false`, `[a, b]`).
        func yamlValue(_ text: String, named: String) throws -> Node {
            let read = YAMLReader.read("v: " + text, file: named)
            guard let node = read.root?["v"] else {
                throw Trouble("\(named) '\(text)' is not a value", hint: read.diagnostics.first?.message)
            }
            return node
        }
        var pairs: [Node.Pair] = [
            Node.Pair(key: scalar("at"), value: scalar(Timestamp.format(at))),
            Node.Pair(key: scalar("action"), value: scalar(action)),
            Node.Pair(key: scalar("by"), value: scalar(by)),
        ]
        if let actor { pairs.append(Node.Pair(key: scalar("actor"), value: scalar(actor))) }
        if let reason { pairs.append(Node.Pair(key: scalar("reason"), value: scalar(reason))) }
        if let note { pairs.append(Node.Pair(key: scalar("note"), value: scalar(note))) }
        if let value { pairs.append(Node.Pair(key: scalar("value"), value: try yamlValue(value, named: "--value"))) }
        if !fact.isEmpty {
            var facts: [Node.Pair] = []
            for item in fact {
                guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                    throw Trouble("--fact '\(item)' is not KEY=VALUE", hint: "e.g. --fact a_flag=false")
                }
                let key = String(item[..<equals])
                facts.append(Node.Pair(key: scalar(key, quoted: false), value: try yamlValue(String(item[item.index(after: equals)...]), named: "--fact \(key)")))
            }
            pairs.append(Node.Pair(key: scalar("facts"), value: Node(.mapping(facts), span: SourceSpan(file: "command line", at: SourcePosition(line: 1, column: 1)))))
        }
        let node = Node(.mapping(pairs), span: SourceSpan(file: "command line", at: SourcePosition(line: 1, column: 1)))
        let register = try registerOptions.open(.write)
        // When it was recorded is read once the write lock is held (nil), so concurrent
        // recorders keep the chain's recording times in order.
        let (position, hash) = try registerCall(colour: output.colourErrors) {
            try register.record(incident, event: node)
        }
        if output.format == .json {
            // As POST /api/v1/incidents/{number}/events answers.
            var w = JSONWriter(pretty: true)
            w.object { w in
                w.field("incident", string: incident)
                w.field("position", int: position)
                w.field("hash", string: hash)
            }
            Terminal.standardOutput.write(w.text + "\n")
        } else {
            Terminal.standardOutput.write("recorded event \(position) of \(incident) (\(hash.prefix(12)))\n")
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the register's incidents with each one's next deadline and role.")

    @Flag(name: .long, help: "Only incidents not yet closed.") var open = false
    @Flag(name: .long, help: "Only incidents with an overdue duty.") var overdue = false
    @Option(name: .long, help: ArgumentHelp("Only this school's incidents.", valueName: "name")) var school: String?
    @Option(name: .long, help: ArgumentHelp("Only incidents under this policy id.", valueName: "id"), completion: Completions.policyIDs) var policy: String?
    @OptionGroup var time: AtOption
    @OptionGroup var registerOptions: RegisterOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let register = try registerOptions.open(.read)
        let at = try time.instant()
        func wanted(_ row: IncidentStatus) -> Bool { !(open && row.closedAt != nil) && !(overdue && row.overdue == 0) }
        if output.format == .json {
            var w = JSONWriter(pretty: true)
            var failure: Error?
            w.object { w in
                w.field("register", string: register.name)
                w.field("at", string: Timestamp.format(at))
                w.field("incidents") { w in
                    w.array { w in
                        do {
                            try registerCall(colour: output.colourErrors) {
                                try register.statuses(policy: policy, school: school, at: at) { row in
                                    guard wanted(row) else { return }
                                    row.writeJSON(&w)
                                }
                            }
                        } catch {
                            failure = error
                        }
                    }
                }
            }
            if let failure { throw failure }
            Terminal.standardOutput.write(w.text + "\n")
            return
        }
        // Written as it goes, in chunks: a large register's hundred thousand incidents are never
        // all held at once.
        var text = ""
        var listed = 0
        try registerCall(colour: output.colourErrors) {
            try register.statuses(policy: policy, school: school, at: at) { row in
                guard wanted(row) else { return }
                listed += 1
                let p = row.policy
                let s = row.summary
                let state = row.closedAt != nil ? "closed" : row.overdue > 0 ? "\(row.overdue) overdue" : "open"
                text += "\(s.number.printable)  \(s.policyID.printable)\(s.school.map { " · \($0.printable)" } ?? "")  opened \(p.clock.describe(s.openedAt))  \(state)\n"
                if let next = row.next {
                    let duty = p.duties[next.duty]
                    let late = next.deadline < at
                    text += "    next: \(duty.title) — \(p.roles[duty.roles[0]].title), \(late ? "was due" : "by") \(p.clock.describe(next.deadline))"
                    text += late ? " (overdue by \(Durations.describe(at - next.deadline)))\n" : " (\(Durations.describe(next.deadline - at)) left)\n"
                }
                if !row.clockUnknown.isEmpty {
                    text += "    deadline unknown: \(row.clockUnknown.count) dut\(row.clockUnknown.count == 1 ? "y" : "ies") (\(row.clockUnknown.map { p.duties[$0].id }.joined(separator: ", "))) until a date is recorded\n"
                }
                if text.utf8.count > 1 << 16 {
                    Terminal.standardOutput.write(text)
                    text = ""
                }
            }
        }
        if listed == 0 { text = "no incidents\n" }
        Terminal.standardOutput.write(text)
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the register's hash chains and name the first record that was tampered with.",
        discussion: """
            Every incident and event is hashed (SHA-256) with the one before it; the ledger \
            chains all records to a head. An edited, deleted, inserted or reordered record is \
            found. Exit 0 intact, 1 tampered, 2 trouble. Note the head it prints: comparing it \
            later shows whether the register was rewritten from scratch.
            """)

    @Argument(help: "Only this incident (default: the whole register).", completion: Completions.incidents) var incident: String?
    @Option(name: .long, help: ArgumentHelp(
        "Check the records against the checkpoints signed with this public key: a rewrite, truncation or append made without the private key is found.",
        valueName: "file"))
    var publicKey: String?
    @OptionGroup var registerOptions: RegisterOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let register = try registerOptions.open(.read)
        let key = try RegisterOptions.publicKey(publicKey)
        let report = try registerCall(colour: output.colourErrors) { try register.verify(incident: incident, publicKey: key) }
        if output.format == .json {
            Terminal.standardOutput.write(report.json(register: register.name))
        } else if report.isIntact {
            Terminal.standardOutput.write(
                "intact: \(report.incidents) incident\(report.incidents == 1 ? "" : "s"), \(report.events) event\(report.events == 1 ? "" : "s") verified\n"
                    + "head: record #\(report.headRecords), \(report.headHash)\n"
                    + (report.signaturesChecked
                        ? "signed: \(report.checkpoints) checkpoint\(report.checkpoints == 1 ? "" : "s") checked against the public key, the last covering every record\n"
                        : "unsigned: only the hash chains were checked; someone who recomputes every hash is not detected without --public-key\n"))
        } else {
            var text = "TAMPERED: \(report.problems[0])\n"
            if report.problems.count > 1 { text += "(and \(report.problems.count - 1) more problem\(report.problems.count == 2 ? "" : "s"):\n" }
            for p in report.problems.dropFirst().prefix(20) { text += "  - \(p)\n" }
            if report.problems.count > 1 { text += ")\n" }
            Terminal.standardOutput.write(text)
        }
        if !report.isIntact { throw ExitCode(1) }
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an incident out as a case file (YAML or JSON) or a trail (JSON Lines).",
        discussion: "A reporter who asked to stay anonymous is never named in an export.")

    @Argument(help: "The incident number.", completion: Completions.incidents) var incident: String
    @Option(name: .customLong("as"), help: ArgumentHelp("yaml, json or jsonl.", valueName: "form"))
    var form: String = "yaml"
    @OptionGroup var registerOptions: RegisterOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        guard let format = ExportFormat(rawValue: form) else {
            throw Trouble("--as must be yaml, json or jsonl, not '\(form)'")
        }
        let register = try registerOptions.open(.read)
        Terminal.standardOutput.write(try registerCall(colour: output.colourErrors) { try register.export(incident, as: format) })
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Add a case file (YAML or JSON) to the register as an incident, re-validated and re-chained.",
        discussion: "The incident keeps the case's number when it is free; otherwise a new one is given.")

    @Argument(help: "The case file.") var file: String
    @Option(name: .long, help: ArgumentHelp("The policy, when the case does not name it.", valueName: "id"), completion: Completions.policyIDs) var policy: String?
    @Option(name: .long, help: ArgumentHelp("The school the incident belongs to.", valueName: "name")) var school: String?
    @OptionGroup var locations: PolicyOptions
    @OptionGroup var registerOptions: RegisterOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        guard let policyID = try policy ?? Workspace.policyNamed(inCase: file, colour: output.colourErrors) else {
            throw Trouble("'\(file)' does not name its policy", hint: "give --policy ID")
        }
        let policy = try Workspace.policy(policyID, folder: locations.policies, colour: output.colourErrors)
        let incident = try Workspace.incident(file, policy: policy, trail: nil, colour: output.colourErrors)
        let lineage = try Workspace.lineageTexts(policy)
        let register = try registerOptions.open(.create)
        let now = Instant((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let opened = incident.events.first?.at ?? now
        let number = try registerCall(colour: output.colourErrors) {
            try register.importCase(lineage: lineage, policy: policy, file: incident, school: school, openedAt: opened, recordedAt: now)
        }
        Open.printNumber(number, output.format)
    }
}

struct Key: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Make the key pair that signs a register's checkpoints.",
        subcommands: [New.self])

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new",
            abstract: "Write a new Ed25519 key pair: FILE (private, mode 0600) and FILE.pub (public).",
            discussion: """
                Give the private key to the commands that write the register (--signing-key FILE, \
                or $RULEBOOK_SIGNING_KEY): each signs the head it leaves. Give the public key to \
                auditors: `rulebook verify --public-key FILE.pub` then finds a rewrite, truncation \
                or append made without the private key. Keep the private key away from the register.
                """)

        @Option(name: .long, help: ArgumentHelp("The private key's file; the public key goes to FILE.pub.", valueName: "file"))
        var out = "rulebook-key"

        func run() throws {
            for path in [out, out + ".pub"] where FileManager.default.fileExists(atPath: path) {
                throw Trouble("'\(path)' exists; a key is never overwritten", hint: "give another --out, or move the old key away")
            }
            let (privateKey, publicKey) = try Ed25519.generate()
            let descriptor = Foundation.open(out, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard descriptor >= 0 else { throw Trouble("cannot write '\(out)': \(String(cString: strerror(errno)))") }
            let text = Array(SigningKey.fileText(privateKey: privateKey).utf8)
            let written = text.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
            guard written == text.count else { throw Trouble("cannot write '\(out)'") }
            do {
                try SigningKey.fileText(publicKey: publicKey).write(toFile: out + ".pub", atomically: true, encoding: .utf8)
            } catch {
                throw Trouble("cannot write '\(out).pub': \(error.localizedDescription)")
            }
            Terminal.standardOutput.write("private key: \(out) (keep it secret)\npublic key: \(out).pub\n")
        }
    }
}

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Print the register's latest signed head, for an auditor to keep outside the register.")

    @OptionGroup var registerOptions: RegisterOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let register = try registerOptions.open(.read)
        guard let checkpoint = try registerCall(colour: output.colourErrors, { try register.latestCheckpoint() }) else {
            throw Trouble("the register has no signed checkpoint", hint: "write with --signing-key FILE (rulebook key new makes one)")
        }
        if output.format == .json {
            var w = JSONWriter(pretty: true)
            w.object { w in
                w.field("records", int: Int(checkpoint.records))
                w.field("hash", string: checkpoint.hash)
                w.field("at", string: Timestamp.format(checkpoint.at))
                w.field("public_key", string: checkpoint.publicKey)
                w.field("signature", string: checkpoint.signature)
            }
            Terminal.standardOutput.write(w.text + "\n")
        } else {
            Terminal.standardOutput.write("""
                records: \(checkpoint.records)
                hash: \(checkpoint.hash)
                signed at: \(Timestamp.format(checkpoint.at))
                public key: \(checkpoint.publicKey)
                signature: \(checkpoint.signature)

                """)
        }
    }
}
