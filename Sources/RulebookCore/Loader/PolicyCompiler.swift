import RulebookDiagnostics
import RulebookYAML

/// What compiling one policy produced.
public struct CompileResult: Sendable {
    /// The compiled policy, or nil when it has errors.
    public var policy: Policy?
    /// Every problem found, and the notes (assumptions) and warnings.
    public var diagnostics: [Diagnostic]
}

/// Choices that affect checks but not meaning.
public struct CompileOptions: Sendable {
    /// Today's date (days since 1970-01-01), for the "review date has passed" warning;
    /// nil skips that check (tests pass a fixed day).
    public var today: Int?
    /// Whether to list every assumption as a note.
    public var listAssumptions: Bool
    /// Whether to run the reviewer's checks that evaluate the policy (duties that can
    /// never apply, unreachable cases). `validate` runs them; commands that apply a
    /// policy skip them, as they cost start-up time and change nothing a policy means.
    public var reviewChecks: Bool
    /// The published documents the policies quote, by the name their `source:` gives:
    /// with them, `validate` checks that every quotation is the document's words.
    public var sources: [String: String]

    /// Creates options.
    public init(today: Int? = nil, listAssumptions: Bool = true, reviewChecks: Bool = true, sources: [String: String] = [:]) {
        self.today = today
        self.listAssumptions = listAssumptions
        self.reviewChecks = reviewChecks
        self.sources = sources
    }
}

/// The sections of a policy file that hold entries by id, in the order they compile.
enum Section: String, CaseIterable {
    case definitions, terms, roles, facts, values, actions, duties, prohibitions, constraints

    /// How one entry is named in messages.
    var noun: String {
        switch self {
        case .definitions: return "definition"
        case .terms: return "term"
        case .roles: return "role"
        case .facts: return "fact"
        case .values: return "value"
        case .actions: return "action"
        case .duties: return "duty"
        case .prohibitions: return "prohibition"
        case .constraints: return "constraint"
        }
    }
}

/// One entry after `extends` is applied: its id, nodes and the file that defined it.
struct Entry {
    let id: String
    let key: Node
    let value: Node
    let origin: ParsedPolicyFile
}

/// Compiles a policy (and the policies it extends) from a ``PolicyLibrary`` into a
/// ``Policy``, reporting every problem at its position.
public final class PolicyCompiler {
    static let topLevelKeys = [
        "id", "title", "organisation", "source", "document_control", "time_zone", "calendar", "extends", "remove", "layout",
        "outline", "definitions", "terms", "roles", "facts", "values", "actions", "duties", "prohibitions",
        "constraints", "not_encoded", "report", "reminders", "drafts",
    ]
    static let provenanceKeys = ["clause", "law", "assumption"]

    let decoder = NodeDecoder()
    let options: CompileOptions
    let chain: [ParsedPolicyFile]
    /// The working-day calendars a policy may name.
    let calendars: [String: WorkingCalendar]
    var sections: [Section: [Entry]] = [:]
    var locators: [String: ExpressionLocator] = [:]

    // Symbol tables, filled as sections compile.
    var roleIndex: [String: Int] = [:]
    var roles: [Role] = []
    var facts: [Fact] = []
    var factIndex: [String: Int] = [:]
    var terms: [Term] = []
    var termIndex: [String: Int] = [:]
    var values: [DerivedValue] = []
    var valueSlots: [String: Int] = [:]
    var valueTypes: [String: ValueType] = [:]
    /// The integers each integer value can take, as its rule says.
    var valueRanges: [String: IntRange] = [:]
    /// The `time_of`/`done`/`late`/`deadline` slots expressions ask for.
    let probes = ProbeRegistry()
    /// The policy's clock, once its header compiled.
    var clock: ZoneClock?
    /// Whether "counts working days without a calendar" was said (once is enough).
    var reportedMissingCalendar = false
    var actionIndex: [String: Int] = [:]
    var actions: [Action] = []
    /// Actions without `roles:`, whose permitted roles come from the duties they discharge.
    var rolesFromDuties: Set<Int> = []
    var duties: [Duty] = []
    var dutyIndex: [String: Int] = [:]
    var prohibitions: [Prohibition] = []
    var constraints: [Constraint] = []
    /// What each policy of the lineage replaced or removed of the ones it extends.
    var lineageChanges: [LineageChange] = []
    /// Conditional stand-ins (role, stand-in, condition node), compiled once facts and
    /// values are known.
    var pendingStandIns: [(role: Int, standIn: Int, condition: Node, origin: ParsedPolicyFile)] = []
    /// Names whose definitions failed: references to them are not reported again.
    var poisoned: Set<String> = []

    private init(chain: [ParsedPolicyFile], options: CompileOptions, calendars: [String: WorkingCalendar]) {
        self.chain = chain
        self.options = options
        self.calendars = calendars
        for file in chain { locators[file.file] = ExpressionLocator(text: file.text) }
    }

    /// Compiles policy `id` from `library`.
    public static func compile(id: String, library: PolicyLibrary, options: CompileOptions = CompileOptions()) -> CompileResult {
        let decoder = NodeDecoder()
        let chain = library.lineage(of: id, decoder: decoder)
        guard !chain.isEmpty else {
            return CompileResult(policy: nil, diagnostics: [
                .error("no policy with id '\(id)'", at: nil, code: "unknown-policy",
                       hint: Suggestions.didYouMean(id, among: library.ids)),
            ])
        }
        let compiler = PolicyCompiler(chain: chain, options: options, calendars: library.calendars)
        compiler.decoder.bag.report(contentsOf: decoder.bag.diagnostics)
        let policy = compiler.run()
        let diagnostics = compiler.decoder.bag.finished(file: chain[0].file)
        return CompileResult(policy: diagnostics.contains { $0.severity == .error } ? nil : policy, diagnostics: diagnostics)
    }

    private func run() -> Policy? {
        let top = chain[0]
        for file in chain {
            _ = decoder.object(file.root, "a policy", allowed: Self.topLevelKeys, required: ["id", "title"])
        }
        mergeSections()
        let header = compileHeader()
        clock = header?.clock
        compileDefinitions()
        compileRoles()
        compileFacts()
        compileTerms()
        declareActions()
        compileValues()
        compileStandInConditions()
        compileActions()
        compileDuties()
        compileProhibitions()
        compileConstraints()
        let report = compileReport()
        let reminders = compileReminders()
        let drafts = compileDrafts()
        let outline = compileOutline()
        let notEncoded = compileNotEncoded()
        guard let header else { return nil }
        let policy = Policy(
            id: top.id, title: header.title, organisation: header.organisation, source: header.source,
            control: header.control, clock: header.clock, lineage: header.lineage, layout: header.layout,
            outline: outline, definitions: definitions, terms: terms, roles: roles, facts: facts, values: values,
            actions: actions, duties: duties, prohibitions: prohibitions, constraints: constraints, notEncoded: notEncoded,
            lineageChanges: lineageChanges,
            probes: probes.requests.map { Probe(kind: $0.kind, target: ($0.kind.asksDuty ? dutyIndex[$0.name] : actionIndex[$0.name]) ?? -1) },
            report: report, reminders: reminders, drafts: drafts, file: top.file)
        if let cycle = policy.program.scheduleCycle {
            // A value or duty that asks about a duty whose own condition needs that answer.
            let names = cycle.map { step -> String in
                switch step {
                case .value(let j): return "value '\(policy.values[Int(j)].id)'"
                case .duty(let d): return "duty '\(policy.duties[Int(d)].id)'"
                }
            }
            let span: SourceSpan
            switch cycle[0] {
            case .value(let j): span = policy.values[Int(j)].span
            case .duty(let d): span = policy.duties[Int(d)].span
            }
            decoder.error("these depend on each other in a cycle: \(names.joined(separator: " -> "))", at: span, code: "cycle",
                          hint: "done(), late() and deadline() ask about a duty: they cannot decide whether that duty applies, "
                              + "or anything it waits for")
        }
        PolicyChecks(policy: policy, compiler: self).run()
        return policy
    }

    // MARK: Merging the lineage

    /// Applies the lineage base-first: a child's entry replaces the base's entry with the
    /// same id in place; new entries are appended; `remove:` drops inherited ones.
    private func mergeSections() {
        for file in chain.reversed() {
            let removals = file.root["remove"].flatMap { node -> Object? in
                if file.root["extends"] == nil {
                    decoder.error("'remove' only applies to a policy that extends another", at: node.span,
                                  code: "misplaced-key", hint: "add `extends: <base policy id>` or delete 'remove'")
                    return nil
                }
                return decoder.object(node, "'remove'", allowed: Section.allCases.map(\.rawValue))
            }
            var removed: [Section: Set<String>] = [:]
            for section in Section.allCases {
                if let ids = removals?.ids(section.rawValue) {
                    for (id, node) in ids {
                        guard let position = sections[section, default: []].firstIndex(where: { $0.id == id }) else {
                            decoder.error(
                                "'remove' names \(section.noun) '\(id)', but the base policy has none", at: node.span,
                                code: "unknown-reference",
                                hint: Suggestions.didYouMean(id, among: sections[section, default: []].map(\.id)))
                            continue
                        }
                        let base = sections[section]![position].origin.id
                        sections[section]!.remove(at: position)
                        removed[section, default: []].insert(id)
                        lineageChanges.append(LineageChange(kind: .removed, section: section.noun, id: id, base: base, by: file.id))
                    }
                }
                guard let node = file.root[section.rawValue] else { continue }
                for pair in decoder.entries(node, section.rawValue) {
                    guard decoder.checkID(pair.key, section.noun) else { continue }
                    let entry = Entry(id: pair.name, key: pair.key, value: pair.value, origin: file)
                    if removed[section]?.contains(entry.id) == true {
                        decoder.error("\(section.noun) '\(entry.id)' is both removed and defined here", at: pair.key.span,
                                      code: "conflict", hint: "to change an inherited entry, define it again without removing it")
                    }
                    if let position = sections[section, default: []].firstIndex(where: { $0.id == entry.id }) {
                        let base = sections[section]![position].origin.id
                        if base != file.id {
                            lineageChanges.append(LineageChange(kind: .replaced, section: section.noun, id: entry.id, base: base, by: file.id))
                        }
                        sections[section]![position] = entry
                    } else {
                        sections[section, default: []].append(entry)
                    }
                }
            }
        }
        // Facts and values share one namespace: expressions name both.
        let factIDs = Dictionary(sections[.facts, default: []].map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for value in sections[.values, default: []] {
            if let fact = factIDs[value.id] {
                decoder.error("'\(value.id)' names both a fact and a value", at: value.key.span, code: "duplicate-id",
                              hint: "expressions could not tell them apart; rename one",
                              notes: [Diagnostic.Note("the fact '\(value.id)' is defined here", at: fact.key.span)])
                poisoned.insert(value.id)
            }
        }
    }

    // MARK: Header

    struct Header {
        var title: String
        var organisation: String
        var source: String?
        var control: DocumentControl
        var clock: ZoneClock
        var lineage: [PolicyHeader]
        var layout: Layout
    }

    /// The value of a top-level key from the nearest file in the lineage that has it.
    private func inherited(_ key: String) -> (Node, ParsedPolicyFile)? {
        for file in chain { if let node = file.root[key] { return (node, file) } }
        return nil
    }

    private func compileHeader() -> Header? {
        let top = chain[0]
        let topObject = Object(node: top.root, what: "a policy", fields: Dictionary(
            (top.root.mapping ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }), decoder: decoder)
        let title = topObject.nonEmptyText("title")
        var organisation: String?
        if let (node, file) = inherited("organisation") {
            organisation = Object(node: file.root, what: "a policy", fields: ["organisation": Node.Pair(key: node, value: node)],
                                  decoder: decoder).nonEmptyText("organisation")
        } else {
            decoder.error("a policy needs 'organisation'", at: top.idNode.span, code: "missing-key",
                          hint: "name the organisation the document belongs to")
        }
        let source = topObject.text("source")
        var control = DocumentControl()
        if let node = top.root["document_control"],
           let object = decoder.object(node, "'document_control'",
                                       allowed: ["version", "approved", "approved_by", "next_review", "references", "notes"])
        {
            control.version = object.text("version")
            control.approvedBy = object.text("approved_by")
            control.references = object.textList("references") ?? []
            control.notes = object.text("notes")
            if let approved = object.text("approved") {
                control.approved = approved
                if Timestamp.parseDate(approved) == nil {
                    decoder.error("'approved' must be a date, YYYY-MM-DD or YYYY-MM; found '\(approved)'",
                                  at: object["approved"]?.span, code: "bad-date")
                }
            }
            if let review = object.text("next_review") {
                control.nextReview = review
                control.nextReviewSpan = object["next_review"]?.span
                control.nextReviewDay = Timestamp.parseDate(review)
                if control.nextReviewDay == nil {
                    decoder.error("'next_review' must be a date, YYYY-MM-DD or YYYY-MM; found '\(review)'",
                                  at: object["next_review"]?.span, code: "bad-date",
                                  hint: "where the document gives a season (\"Autumn 2019\"), give the month it means")
                }
            }
        }
        var clock: ZoneClock?
        if let (node, _) = inherited("time_zone") {
            if let name = node.scalar?.text, let zone = ZoneClock(identifier: name) {
                clock = zone
            } else {
                decoder.error("'\(node.scalar?.text ?? node.kindDescription)' is not an IANA time zone", at: node.span,
                              code: "bad-time-zone", hint: "use a name such as Europe/London")
            }
        } else {
            decoder.error("a policy needs 'time_zone'", at: top.idNode.span, code: "missing-key",
                          hint: "deadlines are computed in it; English schools use Europe/London")
        }
        if let (node, _) = inherited("calendar"), let zone = clock {
            if let name = node.scalar?.text, let calendar = calendars[name] {
                clock = zone.with(calendar: calendar)
            } else {
                let name = node.scalar?.text ?? node.kindDescription
                // Its absence is the one problem: uses of working days are not errors too.
                reportedMissingCalendar = true
                decoder.error("no working-day calendar '\(name)'", at: node.span, code: "unknown-reference",
                              hint: Suggestions.didYouMean(name, among: Array(calendars.keys))
                                  ?? "calendars are read from calendars/<id>.yaml beside the policies"
                                  + (calendars.isEmpty ? "" : "; there are: \(calendars.keys.sorted().joined(separator: ", "))"))
            }
        }
        var layout = Layout.sections
        if let (node, file) = inherited("layout") {
            let object = Object(node: file.root, what: "a policy", fields: ["layout": Node.Pair(key: node, value: node)],
                                decoder: decoder)
            layout = object.choice("layout", Layout.allCases.map(\.rawValue)).flatMap(Layout.init) ?? .sections
        }
        let lineage = chain.map { file in
            PolicyHeader(
                id: file.id, title: file.root["title"]?.scalar?.text ?? file.id,
                organisation: file.root["organisation"]?.scalar?.text ?? organisation ?? "",
                source: file.root["source"]?.scalar?.text, file: file.file)
        }
        guard let title, let organisation, let clock else { return nil }
        return Header(title: title, organisation: organisation, source: source, control: control, clock: clock,
                      lineage: lineage, layout: layout)
    }

    // MARK: Shared helpers

    /// The fields of an entry, with the provenance keys allowed.
    func object(_ entry: Entry, _ section: Section, allowed: [String], required: [String] = []) -> Object? {
        decoder.object(entry.value, "\(section.noun) '\(entry.id)'", allowed: allowed + Self.provenanceKeys, required: required)
    }

    /// The provenance of a section entry; a missing citation is reported at its id.
    func provenance(_ object: Object, of entry: Entry, required: Bool) -> Provenance? {
        provenance(object, origin: entry.origin, required: required, at: entry.key)
    }

    /// Reads `clause`, `law` and `assumption`; when `required`, a rule that cites none is
    /// an error (every rule cites where it comes from).
    func provenance(_ object: Object, origin: ParsedPolicyFile, required: Bool, at key: Node? = nil) -> Provenance? {
        let clause = object.text("clause")
        let law = object.text("law")
        let assumption = object.nonEmptyText("assumption")
        if clause == nil && law == nil && assumption == nil {
            if required {
                decoder.error(
                    "\(object.what) cites no clause", at: key?.span ?? object.node.span.startOnly, code: "missing-provenance",
                    hint: "add `clause:` (the document's clause number), `law:`, or `assumption:` with a note saying "
                        + "why the policy needs it when the document is silent")
            }
            return required ? Provenance(policy: origin.id, span: object.node.span) : nil
        }
        let span = object["assumption"]?.span ?? object["clause"]?.span ?? object["law"]?.span
        return Provenance(policy: origin.id, clause: clause, law: law, assumption: assumption, span: span)
    }

    /// The citation written on a node (already checked where the node was decoded).
    func citation(of node: Node, origin: ParsedPolicyFile) -> Provenance? {
        let clause = node["clause"]?.scalar?.text
        let law = node["law"]?.scalar?.text
        let assumption = node["assumption"]?.scalar?.text
        guard clause != nil || law != nil || assumption != nil else { return nil }
        return Provenance(policy: origin.id, clause: clause, law: law, assumption: assumption,
                          span: (node["assumption"] ?? node["clause"] ?? node["law"])?.span)
    }

    /// Resolves a role id, reporting an unknown one.
    func role(_ id: String, _ node: Node) -> Int? {
        if let index = roleIndex[id] { return index }
        if !poisoned.contains("role:" + id) {
            decoder.error("unknown role '\(id)'", at: node.span, code: "unknown-reference",
                          hint: Suggestions.didYouMean(id, among: Array(roleIndex.keys)) ?? "declare it under roles:")
        }
        return nil
    }

    /// Resolves an action id, reporting an unknown one.
    func action(_ id: String, _ node: Node) -> Int? {
        if let index = actionIndex[id] { return index }
        decoder.error("unknown action '\(id)'", at: node.span, code: "unknown-reference",
                      hint: Suggestions.didYouMean(id, among: Array(actionIndex.keys)) ?? "declare it under actions:")
        return nil
    }

    // MARK: Definitions, roles, facts, terms

    var definitions: [Definition] = []

    private func compileDefinitions() {
        for entry in sections[.definitions, default: []] {
            guard let object = object(entry, .definitions, allowed: ["term", "text"], required: ["term", "text"]) else { continue }
            guard let term = object.nonEmptyText("term"), let text = object.nonEmptyText("text"),
                  let provenance = provenance(object, of: entry, required: true)
            else { continue }
            definitions.append(Definition(id: entry.id, term: term, text: text, provenance: provenance, span: entry.key.span))
        }
    }

    private func compileRoles() {
        let entries = sections[.roles, default: []]
        if entries.count > 64, let extra = entries.dropFirst(64).first {
            decoder.error("a policy may have at most 64 roles; this one has \(entries.count)", at: extra.key.span,
                          code: "too-many-roles")
        }
        for entry in entries { roleIndex[entry.id] = roleIndex.count }
        for entry in entries {
            let object = object(entry, .roles, allowed: ["title", "holder", "contact", "stand_ins", "includes"], required: ["title"])
            let me = roleIndex[entry.id]!
            // `stand_ins: [a, {role: b, when: b_may_act}]`: plain ids, or a role with the
            // condition under which it may stand in.
            var standIns: [Int] = []
            for item in object?["stand_ins"]?.sequence ?? [] {
                if let id = item.scalar?.text, item.scalar?.value != .null {
                    if let r = role(id, item) { standIns.append(r) }
                } else if let entryObject = decoder.object(item, "a stand-in of role '\(entry.id)'", allowed: ["role", "when"],
                                                          required: ["role", "when"]),
                          let id = entryObject.text("role"), let idNode = entryObject["role"], let r = role(id, idNode) {
                    standIns.append(r)
                    if let when = entryObject["when"] { pendingStandIns.append((me, r, when, entry.origin)) }
                }
            }
            if let node = object?["stand_ins"], node.sequence == nil, node.scalar?.value != .null {
                decoder.error("'stand_ins' of role '\(entry.id)' must be a list of roles; found \(node.kindDescription)",
                              at: node.span, code: "wrong-type")
            }
            if standIns.contains(me) {
                decoder.error("role '\(entry.id)' cannot stand in for itself", at: object?["stand_ins"]?.span,
                              code: "self-reference")
            }
            let includes = (object?.ids("includes") ?? []).compactMap { role($0.0, $0.1) }
            if includes.contains(me) {
                decoder.error("role '\(entry.id)' cannot include itself", at: object?["includes"]?.span, code: "self-reference")
            }
            roles.append(Role(
                id: entry.id, title: object?.nonEmptyText("title") ?? entry.id, holder: object?.text("holder"),
                contact: object?.text("contact"), standIns: standIns, provenance: object.flatMap { provenance($0, of: entry, required: false) },
                span: entry.key.span, includes: includes))
        }
        // Groups that include each other would make every member of one a member of all.
        var state = [UInt8](repeating: 0, count: roles.count)
        func visit(_ r: Int, path: [Int]) {
            if state[r] == 2 { return }
            if state[r] == 1 {
                let cycle = path[path.firstIndex(of: r)!...] + [r]
                decoder.error("roles include each other in a cycle: \(cycle.map { roles[$0].id }.joined(separator: " -> "))",
                              at: roles[r].span, code: "cycle")
                return
            }
            state[r] = 1
            for m in roles[r].includes { visit(m, path: path + [r]) }
            state[r] = 2
        }
        for r in roles.indices { visit(r, path: []) }
    }

    /// `not_encoded: {"4.7": reason, "base-id 5.1": reason}`: clauses deliberately not
    /// encoded, from every file of the lineage; a clause explained by the policy nearer
    /// the top wins. A clause of a policy this one extends is named with its id first.
    func compileNotEncoded() -> [NotEncoded] {
        var out: [NotEncoded] = []
        var seen = Set<String>()
        let ids = Set(chain.map(\.id))
        for file in chain {
            guard let node = file.root["not_encoded"] else { continue }
            guard let pairs = node.mapping else {
                decoder.error("'not_encoded' must map clauses to the reason each is not encoded; found \(node.kindDescription)",
                              at: node.span, code: "wrong-type")
                continue
            }
            for pair in pairs {
                var policy = file.id
                var clause = pair.name
                if let space = clause.firstIndex(of: " "), ids.contains(String(clause[..<space])) {
                    policy = String(clause[..<space])
                    clause = String(clause[clause.index(after: space)...])
                }
                guard let reason = pair.value.scalar?.text, pair.value.scalar?.value != .null,
                      !reason.trimmingWhitespace.isEmpty
                else {
                    decoder.error("clause '\(pair.name)' in 'not_encoded' needs the reason it is not encoded", at: pair.value.span,
                                  code: "missing-provenance", hint: "e.g. advisory wording with no one named")
                    continue
                }
                guard seen.insert(policy + "\u{0}" + clause).inserted else { continue }
                out.append(NotEncoded(policy: policy, clause: clause, reason: reason, origin: file.id, span: pair.key.span))
            }
        }
        return out
    }

    /// The conditions of conditional stand-ins: boolean expressions over facts and values.
    func compileStandInConditions() {
        for pending in pendingStandIns {
            let what = "the condition under which '\(roles[pending.standIn].id)' stands in for '\(roles[pending.role].id)'"
            guard let condition = expression(pending.condition, origin: pending.origin, expecting: .bool, what: what) else { continue }
            roles[pending.role].standInConditions.append(StandInCondition(role: pending.standIn, condition: condition))
        }
    }

    /// `constraints:`: rules among facts that a consistent incident obeys, each with the
    /// message for whoever breaks it.
    func compileConstraints() {
        for entry in sections[.constraints, default: []] {
            guard let object = object(entry, .constraints, allowed: ["rule", "message"], required: ["rule", "message"]),
                  let ruleNode = object["rule"]
            else { continue }
            let rule = expression(ruleNode, origin: entry.origin, expecting: .bool, what: "the rule of constraint '\(entry.id)'")
            guard let rule, let message = object.nonEmptyText("message"),
                  let provenance = provenance(object, of: entry, required: true)
            else { continue }
            constraints.append(Constraint(id: entry.id, rule: rule, message: message, provenance: provenance, span: entry.key.span))
        }
    }

    static let factTypes = ["bool", "integer", "enum", "set", "datetime", "text"]

    private func compileFacts() {
        for entry in sections[.facts, default: []] {
            guard let object = object(entry, .facts, allowed: ["title", "type", "question", "options", "min", "max", "anonymises_reporter",
                                                               "set_by", "reporter_roles"],
                                      required: ["type", "question"]),
                  let typeName = object.choice("type", Self.factTypes)
            else {
                poisoned.insert(entry.id)
                continue
            }
            let what = "fact '\(entry.id)'"
            var type: ValueType
            switch typeName {
            case "bool": type = .bool
            case "integer": type = .int
            case "datetime": type = .datetime
            case "text": type = .text
            default:
                guard let domain = options(object, owner: entry.id, origin: entry.origin) else {
                    poisoned.insert(entry.id)
                    continue
                }
                type = typeName == "enum" ? .option(domain) : .options(domain)
            }
            if typeName != "enum" && typeName != "set", let node = object["options"] {
                decoder.error("only enum and set facts have options; \(what) is \(typeName)", at: node.span,
                              code: "misplaced-key")
            }
            let minimum = object.int("min")
            let maximum = object.int("max")
            if (minimum != nil || maximum != nil) && type != .int {
                decoder.error("min and max apply to integer facts only", at: (object["min"] ?? object["max"])?.span,
                              code: "misplaced-key")
            }
            if let minimum, let maximum, minimum > maximum {
                decoder.error("min (\(minimum)) is greater than max (\(maximum))", at: object["min"]?.span, code: "bad-range")
            }
            guard let question = object.nonEmptyText("question"),
                  let provenance = provenance(object, of: entry, required: true)
            else {
                poisoned.insert(entry.id)
                continue
            }
            let anonymises = object.bool("anonymises_reporter") ?? false
            if anonymises && type != .bool {
                decoder.error("only a bool fact can mark the reporter as anonymous", at: object["anonymises_reporter"]?.span,
                              code: "wrong-type")
            }
            // Who may establish it on an event; nil (no `set_by`) means anyone.
            let setBy = object.has("set_by") ? (object.ids("set_by") ?? []).compactMap { role($0.0, $0.1) } : nil
            let reporterRoles = (object.ids("reporter_roles") ?? []).compactMap { role($0.0, $0.1) }
            if object.has("reporter_roles") && !anonymises {
                decoder.error("'reporter_roles' belongs to the fact that marks the reporter as anonymous", at: object["reporter_roles"]?.span,
                              code: "misplaced-key", hint: "add `anonymises_reporter: true`, or remove 'reporter_roles'")
            }
            factIndex[entry.id] = facts.count
            facts.append(Fact(
                id: entry.id, title: object.text("title") ?? entry.id, type: type, question: question,
                provenance: provenance, minimum: minimum, maximum: maximum, anonymisesReporter: anonymises,
                span: entry.key.span, setBy: setBy, reporterRoles: reporterRoles))
        }
    }

    /// An enumeration's options: a list of ids, or a mapping from ids to
    /// `{title, weight, clause...}`. At most 64 (sets are bit masks).
    func options(_ object: Object, owner: String, origin: ParsedPolicyFile) -> EnumDomain? {
        guard let node = object["options"] else {
            decoder.error("\(object.what) needs 'options' (its possible answers)", at: object.node.span.startOnly,
                          code: "missing-key")
            return nil
        }
        var list: [EnumDomain.Option] = []
        var seen: [String: SourceSpan] = [:]
        func add(_ id: String, _ key: Node, title: String?, weight: Int?, provenance: Provenance?) {
            guard decoder.checkID(key, "option") else { return }
            if let first = seen[id] {
                decoder.error("option '\(id)' is listed twice", at: key.span, code: "duplicate-id",
                              notes: [Diagnostic.Note("first listed here", at: first)])
                return
            }
            seen[id] = key.span
            list.append(EnumDomain.Option(id: id, title: title ?? id, weight: weight, provenance: provenance))
        }
        if let items = node.sequence {
            for item in items {
                guard let id = item.scalar?.text, item.scalar?.value != .null else {
                    decoder.error("options must be ids; found \(item.kindDescription)", at: item.span, code: "wrong-type")
                    continue
                }
                add(id, item, title: nil, weight: nil, provenance: nil)
            }
        } else if let pairs = node.mapping {
            for pair in pairs {
                if case .scalar(let s) = pair.value.content, s.value == .null {
                    add(pair.name, pair.key, title: nil, weight: nil, provenance: nil)
                    continue
                }
                guard let option = decoder.object(pair.value, "option '\(pair.name)'",
                                                  allowed: ["title", "weight"] + Self.provenanceKeys)
                else { continue }
                let weight = option.int("weight")
                // A weight is a rule (it changes a score): it must cite its source.
                let provenance = provenance(option, origin: origin, required: weight != nil)
                add(pair.name, pair.key, title: option.text("title"), weight: weight, provenance: provenance)
            }
        } else {
            decoder.error("'options' must be a list of ids or a mapping from ids to options; found \(node.kindDescription)",
                          at: node.span, code: "wrong-type")
            return nil
        }
        guard !list.isEmpty else {
            decoder.error("\(object.what) has no options", at: node.span, code: "empty")
            return nil
        }
        guard list.count <= 64 else {
            decoder.error("\(object.what) has \(list.count) options; at most 64 are supported", at: node.span,
                          code: "too-many-options")
            return nil
        }
        let weighted = list.filter { $0.weight != nil }.count
        if weighted > 0 && weighted < list.count {
            decoder.error("either every option of \(object.what) has a weight or none does", at: node.span,
                          code: "partial-weights",
                          hint: "missing: " + list.filter { $0.weight == nil }.map(\.id).joined(separator: ", "))
        }
        return EnumDomain(owner: owner, options: list)
    }

    private func compileTerms() {
        for entry in sections[.terms, default: []] {
            guard let object = object(entry, .terms, allowed: ["title", "within", "end_of"]) else { continue }
            var rule: DeadlineRule?
            switch (object["within"], object.has("end_of")) {
            case (let node?, false):
                if let days = workingDays(node, of: "term '\(entry.id)'") {
                    rule = days
                } else if node.mapping == nil, let text = node.scalar?.text, let duration = ISODuration(text) {
                    rule = .after(duration)
                } else if node.mapping == nil {
                    decoder.error("'\(node.scalar?.text ?? node.kindDescription)' is not an ISO 8601 duration", at: node.span,
                                  code: "bad-duration",
                                  hint: "write e.g. PT1H (one hour), PT48H, P1D (one calendar day), P6M, or {working_days: 2}")
                }
            case (nil, true):
                switch object.choice("end_of", ["day", "next_working_day"]) {
                case "day"?: rule = .endOfDay
                case "next_working_day"?: rule = .endOfNextWorkingDay
                default: break
                }
            case (_?, true):
                decoder.error("a term has either 'within' or 'end_of', not both", at: object["end_of"]?.span, code: "conflict")
            case (nil, false):
                decoder.error("term '\(entry.id)' needs 'within' (a duration) or 'end_of: day' (or 'next_working_day')", at: entry.key.span,
                              code: "missing-key")
            }
            guard let rule, let provenance = provenance(object, of: entry, required: true) else { continue }
            if rule.countsWorkingDays { requireCalendar(at: object["within"]?.span ?? object["end_of"]?.span, what: "term '\(entry.id)'") }
            termIndex[entry.id] = terms.count
            terms.append(Term(id: entry.id, title: object.text("title") ?? entry.id.replacingUnderscores, rule: rule,
                              provenance: provenance, span: entry.key.span))
        }
    }

    /// `{working_days: N}`: nil (silently) when `node` is not a mapping, nil after an
    /// error when it is a wrong one.
    func workingDays(_ node: Node, of what: String) -> DeadlineRule? {
        guard node.mapping != nil,
              let object = decoder.object(node, "a working-day duration in \(what)", allowed: ["working_days"], required: ["working_days"])
        else { return nil }
        guard let n = object.int("working_days"), n >= 1, n <= 3650 else {
            decoder.error("'working_days' must be a whole number from 1 to 3650", at: object["working_days"]?.span, code: "wrong-type")
            return nil
        }
        requireCalendar(at: node.span, what: what)
        return .workingDays(n)
    }

    /// Working days need a calendar: an error when the policy names none.
    func requireCalendar(at span: SourceSpan?, what: String) {
        guard clock != nil, clock?.calendar == nil, !reportedMissingCalendar else { return }
        reportedMissingCalendar = true
        decoder.error("\(what) counts working days, but the policy names no working-day calendar", at: span, code: "missing-key",
                      hint: "add `calendar: <id>` at the top level"
                          + (calendars.isEmpty ? "" : " (there are: \(calendars.keys.sorted().joined(separator: ", ")))"))
    }

    /// Action ids are needed by expressions (`occurred`) before actions compile.
    private func declareActions() {
        for entry in sections[.actions, default: []] { actionIndex[entry.id] = actionIndex.count }
    }

    // MARK: Outline

    private func compileOutline() -> [OutlineItem] {
        var items: [OutlineItem] = []
        for file in chain {
            guard let node = file.root["outline"] else { continue }
            guard let list = node.sequence else {
                decoder.error("'outline' must be a list of the document's points or sections; found \(node.kindDescription)",
                              at: node.span, code: "wrong-type")
                continue
            }
            for item in list {
                guard let object = decoder.object(item, "an outline item",
                                                  allowed: ["clause", "title", "must", "why", "how", "text", "summary"],
                                                  required: ["clause"]),
                      let clause = object.text("clause")
                else { continue }
                items.append(OutlineItem(
                    clause: clause, title: object.text("title"), must: object.text("must"), why: object.text("why"),
                    how: object.text("how"), text: object.text("text"), policy: file.id, span: item.span,
                    summary: object.text("summary"), spans: FieldSpans(must: object["must"]?.span, why: object["why"]?.span, how: object["how"]?.span,
                                      text: object["text"]?.span)))
            }
        }
        return items
    }
}

extension String {
    /// `end_of_day` as `end of day`.
    var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
