/// Reads the command lines of `assess`, `next` and `audit` without ArgumentParser, when
/// they are plain: the subcommand, known long options with their values, positionals.
///
/// Why: these are the commands people run while handling an incident, and start-up is
/// most of their time. ArgumentParser builds its whole command tree by reflection and
/// looks protocol conformances up at run time, which in a statically linked binary means
/// scanning thousands of records: several milliseconds before any work. Anything not
/// plain (help, a short option, an unknown or repeated option, a bad value, `--`, a usage
/// error) returns nil, and ArgumentParser reads the command line and says what is wrong,
/// exactly as before. A test checks both readings agree.
enum FastPath {
    /// The subcommands read here, with their options that take a value and their flags.
    /// (A switch, not a dictionary: building a dictionary type at start-up costs more
    /// than the lookup saves.)
    private static func options(of command: String) -> (values: [String], flags: [String])? {
        let shared = ["trail", "at", "policies", "register", "database", "format", "color"]
        switch command {
        case "assess": return (shared + ["batch"], ["explain"])
        case "next": return (shared + ["role"], ["all"])
        case "audit": return (shared, ["compare-current"])
        default: return nil
        }
    }

    static func request(_ arguments: [String]) -> Request? {
        guard let name = arguments.first, let spec = options(of: name) else { return nil }
        var values: [(name: String, value: String)] = []
        var flags: [String] = []
        var items: [String] = []
        var i = 1
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            guard argument.hasPrefix("-"), argument != "-" else {
                items.append(argument)
                continue
            }
            guard argument.hasPrefix("--"), argument != "--" else { return nil }
            let body = argument.dropFirst(2)
            let option: String
            var value: String?
            if let equals = body.firstIndex(of: "=") {
                option = String(body[..<equals])
                value = String(body[body.index(after: equals)...])
                // `--register=` with nothing after it: ArgumentParser takes the next
                // argument as the value (found by fuzzing); leave it to ArgumentParser.
                if value!.isEmpty { return nil }
            } else {
                option = String(body)
            }
            if spec.flags.contains(option) {
                guard value == nil, !flags.contains(option) else { return nil }
                flags.append(option)
            } else if spec.values.contains(option) {
                if value == nil {
                    guard i < arguments.count else { return nil }
                    value = arguments[i]
                    i += 1
                    // A value that looks like an option is ArgumentParser's to judge.
                    if value!.hasPrefix("-") && value! != "-" { return nil }
                }
                guard !values.contains(where: { $0.name == option }) else { return nil }
                values.append((option, value!))
            } else {
                return nil
            }
        }
        func value(_ name: String) -> String? { values.first { $0.name == name }?.value }
        var incident = IncidentRequest(items: items, trail: value("trail"), at: value("at"), register: value("register"), database: value("database"))
        if let policies = value("policies") { incident.policies = policies }
        if let format = value("format") {
            guard let parsed = OutputFormat(rawValue: format) else { return nil }
            incident.format = parsed
        }
        if let color = value("color") {
            guard let parsed = ColourChoice(rawValue: color) else { return nil }
            incident.color = parsed
        }
        let request: Request
        do {
            switch name {
            case "assess":
                let r = AssessRequest(incident: incident, batch: value("batch"), explain: flags.contains("explain"))
                try r.validate()
                request = r
            case "next":
                let r = NextRequest(incident: incident, role: value("role"), all: flags.contains("all"))
                try r.validate()
                request = r
            default:
                let r = AuditRequest(incident: incident, compareCurrent: flags.contains("compare-current"))
                try r.validate()
                request = r
            }
        } catch {
            return nil
        }
        return request
    }
}
