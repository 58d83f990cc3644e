import RulebookDiagnostics

/// A compiled policy: every reference resolved to an index, every expression compiled,
/// facts and values laid out in slots. Built by ``PolicyCompiler``; immutable.
public final class Policy: Sendable {
    /// The policy's id (`my-school`).
    public let id: String
    /// Its title.
    public let title: String
    /// The organisation it belongs to.
    public let organisation: String
    /// The source document it encodes.
    public let source: String?
    /// Version, approval and review.
    public let control: DocumentControl
    /// The time zone deadlines are computed in.
    public let clock: ZoneClock
    /// This policy then the policies it extends, nearest first.
    public let lineage: [PolicyHeader]
    /// How `show` lays the document out.
    public let layout: Layout
    /// The document's structure, in order (this policy's, then inherited ones').
    public let outline: [OutlineItem]
    /// Terms the document defines.
    public let definitions: [Definition]
    /// What the document's words mean in time.
    public let terms: [Term]
    /// The roles.
    public let roles: [Role]
    /// The facts an incident carries; fact `i` is slot `i`.
    public let facts: [Fact]
    /// The derived values, in dependency order; value `j` is slot `facts.count + j`.
    public let values: [DerivedValue]
    /// The actions a trail may record.
    public let actions: [Action]
    /// The duties, prerequisites before dependants.
    public let duties: [Duty]
    /// Actions roles must not take.
    public let prohibitions: [Prohibition]
    /// Rules among facts that a consistent incident obeys.
    public let constraints: [Constraint]
    /// The document's clauses the policy deliberately does not encode, with why.
    public let notEncoded: [NotEncoded]
    /// What this policy (and those between it and its bases) replaced or removed of the
    /// policies it extends.
    public let lineageChanges: [LineageChange]
    /// Each role with every role it includes, directly or through other groups.
    public let memberships: [[Int]]
    /// For each fact, the roles (a bit mask) whose events may set it: `set_by`, their
    /// members and unconditional stand-ins; all bits for a fact anyone may set.
    public let factSetters: [UInt64]
    /// For each duty, the stand-ins that may discharge it only while a condition holds.
    public let dutyConditionalStandIns: [[StandInCondition]]
    /// Whether any duty has a conditional stand-in (most policies have none).
    public let hasConditionalStandIns: Bool
    /// Whether any action establishes facts (`establishes:`).
    public let hasEstablishingActions: Bool
    /// The policy file.
    public let file: String
    /// What expressions ask about actions and duties (`time_of`, `done`, `late`,
    /// `deadline`): probe `k` is slot `facts.count + values.count + k`, filled by the engine.
    public let probes: [Probe]
    /// What the periodic report counts (`report:`), when the policy says.
    public let report: ReportPlan?
    /// When the people who owe a duty are reminded of it (`reminders:`), when the policy says.
    public let reminders: ReminderPlan?
    /// The notifications the document requires, as templates to draft them from (`drafts:`).
    public let drafts: [DraftTemplate]
    /// What the audit works out once per policy, not once per incident: what each (action,
    /// role) pair of an event means.
    let eventVerdicts = Locked<[Engine.EventVerdict]?>(nil)
    /// The derivations and duty conditions as flat code (the engine's hot path).
    public let program: Program

    private let factIndex: [String: Int]
    private let valueIndex: [String: Int]
    private let roleIndex: [String: Int]
    private let actionIndex: [String: Int]
    private let dutyIndex: [String: Int]

    init(
        id: String, title: String, organisation: String, source: String?, control: DocumentControl,
        clock: ZoneClock, lineage: [PolicyHeader], layout: Layout, outline: [OutlineItem],
        definitions: [Definition], terms: [Term], roles: [Role], facts: [Fact], values: [DerivedValue],
        actions: [Action], duties: [Duty], prohibitions: [Prohibition], constraints: [Constraint] = [],
        notEncoded: [NotEncoded] = [], lineageChanges: [LineageChange] = [], probes: [Probe] = [], report: ReportPlan? = nil, reminders: ReminderPlan? = nil, drafts: [DraftTemplate] = [], file: String
    ) {
        self.id = id
        self.title = title
        self.organisation = organisation
        self.source = source
        self.control = control
        self.clock = clock
        self.lineage = lineage
        self.layout = layout
        self.outline = outline
        self.definitions = definitions
        self.terms = terms
        self.roles = roles
        self.facts = facts
        self.values = values
        self.actions = actions
        self.duties = duties
        self.prohibitions = prohibitions
        self.constraints = constraints
        self.notEncoded = notEncoded
        self.lineageChanges = lineageChanges
        self.probes = probes
        self.report = report
        self.reminders = reminders
        self.drafts = drafts
        self.file = file
        let memberships = Self.closeMemberships(roles)
        self.memberships = memberships
        factSetters = facts.map { fact in
            guard let setBy = fact.setBy else { return .max }
            var mask: UInt64 = 0
            for r in setBy {
                for m in memberships[r] where m < 64 {
                    mask |= 1 << UInt64(m)
                    for s in roles[m].standIns where s < 64 && !roles[m].standInConditions.contains(where: { $0.role == s }) {
                        mask |= 1 << UInt64(s)
                    }
                }
            }
            return mask
        }
        let conditional = duties.map { duty in
            duty.roles.flatMap { r in memberships[r].flatMap { roles[$0].standInConditions } }
        }
        dutyConditionalStandIns = conditional
        hasConditionalStandIns = conditional.contains { !$0.isEmpty }
        hasEstablishingActions = actions.contains { !$0.establishes.isEmpty }
        program = Program(facts: facts.count, values: values, duties: duties, probes: probes, standIns: conditional)
        func index(_ ids: [String]) -> [String: Int] {
            Dictionary(ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
        factIndex = index(facts.map(\.id))
        valueIndex = index(values.map(\.id))
        roleIndex = index(roles.map(\.id))
        actionIndex = index(actions.map(\.id))
        dutyIndex = index(duties.map(\.id))
    }

    /// The number of slots: facts, values, then probes.
    public var slotCount: Int { facts.count + values.count + probes.count }

    /// The integers a slot can hold: a fact's `min` to `max`, a value's from its rule;
    /// unbounded for anything else.
    public func range(ofSlot slot: Int) -> IntRange {
        if slot < facts.count { return facts[slot].type == .int ? IntRange(facts[slot].minimum, facts[slot].maximum) : .unbounded }
        guard slot < facts.count + values.count else { return .unbounded }
        let value = values[slot - facts.count]
        return DerivedValue.range(of: value.rule, type: value.type, slotRange: range(ofSlot:))
    }

    /// The outline item a citation falls under: the longest of this policy's outline
    /// clauses that the citation's first clause starts with at a boundary ("33(1)" falls
    /// under "33(1)", else "33", never "3"); without one, its leading number ("7" for
    /// "7.7") or appendix ("Appendix B").
    public func outlineSection(for citation: String) -> String {
        let first = (citation.split(separator: ";").first.map(String.init) ?? citation).trimmingWhitespace
        var best: String?
        for item in outline where item.policy == id {
            let clause = item.clause
            guard first.hasPrefix(clause), clause.count > (best?.count ?? 0) else { continue }
            let rest = first.dropFirst(clause.count)
            // A boundary: the end, or a character that cannot continue a number or name.
            if let next = rest.first, next.isLetter || next.isNumber, clause.last?.isLetter == next.isLetter { continue }
            best = clause
        }
        if let best { return best }
        if first.lowercased().hasPrefix("appendix") {
            return first.split(separator: " ").prefix(2).joined(separator: " ")
        }
        return String(first.prefix { $0 != "." && $0 != " " && $0 != "(" && $0 != "," })
    }

    /// The probe a slot holds, when it holds one.
    public func probe(atSlot slot: Int) -> Probe? {
        let k = slot - facts.count - values.count
        return k >= 0 && k < probes.count ? probes[k] : nil
    }

    /// The fact with `id`.
    public func fact(_ id: String) -> Fact? { factIndex[id].map { facts[$0] } }
    /// The derived value with `id`.
    public func value(_ id: String) -> DerivedValue? { valueIndex[id].map { values[$0] } }
    /// The index of role `id`.
    public func roleIndex(of id: String) -> Int? { roleIndex[id] }
    /// The index of action `id`.
    public func actionIndex(of id: String) -> Int? { actionIndex[id] }
    /// The index of duty `id`.
    public func dutyIndex(of id: String) -> Int? { dutyIndex[id] }
    /// The index of fact `id` (its slot).
    public func factSlot(of id: String) -> Int? { factIndex[id] }
    /// The slot of value `id`.
    public func valueSlot(of id: String) -> Int? { valueIndex[id].map { facts.count + $0 } }

    /// The id of a slot: a fact's or value's id, or a probe as written (`late(notify)`).
    public func slotID(_ slot: Int) -> String {
        if slot < facts.count { return facts[slot].id }
        if slot < facts.count + values.count { return values[slot - facts.count].id }
        guard let probe = probe(atSlot: slot) else { return "#\(slot)" }
        let target = probe.kind.asksDuty ? duties.indices.contains(probe.target) ? duties[probe.target].id : "?"
            : actions.indices.contains(probe.target) ? actions[probe.target].id : "?"
        return "\(probe.kind.rawValue)(\(target))"
    }

    /// The type of a slot.
    public func slotType(_ slot: Int) -> ValueType {
        if slot < facts.count { return facts[slot].type }
        if slot < facts.count + values.count { return values[slot - facts.count].type }
        return probe(atSlot: slot)?.kind.type ?? .bool
    }

    /// Each role with the roles it includes, transitively (a role includes itself).
    /// Cycles are refused by the compiler; the walk is bounded anyway.
    static func closeMemberships(_ roles: [Role]) -> [[Int]] {
        // Bit masks, not sets: a policy has at most 64 roles, and this runs at every
        // command's start (a Set's first use costs a cold start hundreds of thousands of
        // instructions of runtime set-up).
        guard roles.count <= 64 else { return roles.indices.map { [$0] + roles[$0].includes } }
        var masks = roles.indices.map { r in roles[r].includes.reduce(UInt64(1) << UInt64(r)) { $0 | (1 << UInt64($1)) } }
        var changed = true
        var rounds = 0
        while changed && rounds <= roles.count {
            changed = false
            rounds += 1
            for r in masks.indices {
                var mask = masks[r]
                var rest = mask
                while rest != 0 {
                    let m = rest.trailingZeroBitCount
                    rest &= rest - 1
                    mask |= masks[m]
                }
                if mask != masks[r] {
                    masks[r] = mask
                    changed = true
                }
            }
        }
        return masks.map { mask in
            var out: [Int] = []
            var rest = mask
            while rest != 0 {
                out.append(rest.trailingZeroBitCount)
                rest &= rest - 1
            }
            return out
        }
    }

    /// Role `role` and every role it includes.
    public func members(of role: Int) -> [Int] { memberships[role] }

    /// Whether `member` acts as `role`: the same role, or one the group includes.
    public func role(_ member: Int, actsAs role: Int) -> Bool {
        member == role || memberships[role].contains(member)
    }

    /// Whether an event by `role` may set fact `slot` (`set_by`).
    @inline(__always)
    public func mayEstablish(_ role: Int, fact slot: Int) -> Bool {
        let mask = factSetters[slot]
        return mask == .max || (role < 64 && mask & (1 << UInt64(role)) != 0)
    }

    /// Whether event `event` counts as its action: one that establishes facts counts only
    /// when it records a value for one of them.
    @inline(__always)
    public func counts(_ event: Event) -> Bool {
        guard hasEstablishingActions else { return true }
        let establishes = actions[event.action].establishes
        return establishes.isEmpty || event.facts.contains { establishes.contains($0.slot) && $0.value.isKnown }
    }

    /// The version shown in outputs (`1`, or `unversioned`).
    public var version: String { control.version ?? "unversioned" }
}

/// One `time_of(action)`, `done(duty)`, `late(duty)` or `deadline(duty)` an expression
/// asks, answered by the engine in a slot of its own.
public struct Probe: Sendable, Hashable {
    public var kind: ProbeKind
    /// The action's or duty's index; -1 when it failed to compile.
    public var target: Int
}

/// Identity of one policy in a lineage.
public struct PolicyHeader: Sendable, Hashable {
    public var id: String
    public var title: String
    public var organisation: String
    public var source: String?
    public var file: String
}

/// Version, approval and review (`document_control`).
public struct DocumentControl: Sendable, Hashable {
    public var version: String?
    /// Approval date as written (`2018-05`) and as days since 1970, when given.
    public var approved: String?
    public var approvedBy: String?
    /// Next review date as written, and as days since 1970.
    public var nextReview: String?
    public var nextReviewDay: Int?
    public var nextReviewSpan: SourceSpan?
    /// The document's references (laws, other policies).
    public var references: [String] = []
    /// Notes on the document control: what the document says that the dates cannot
    /// hold ("Next review: Autumn 2019"), or what it leaves out.
    public var notes: String?
}

/// How `rulebook show` lays a policy out, following its document.
public enum Layout: String, Sendable, CaseIterable {
    /// Numbered MUST points with "Why must I do it?" and "How must I do it?".
    case points
    /// Numbered sections with their clauses.
    case sections
    /// Responsibilities grouped by role.
    case roles
}

/// One item of the document's structure: a point or a section.
public struct OutlineItem: Sendable {
    public var clause: String
    public var title: String?
    public var must: String?
    public var why: String?
    public var how: String?
    public var text: String?
    /// The policy that states it.
    public var policy: String
    public var span: SourceSpan
    /// The policy's own summary of a part too long to quote (an appendix), shown as a
    /// summary, never as the document's words.
    public var summary: String? = nil
    /// Where each quoted field (`must`, `why`, `how`, `text`) is written.
    public var spans = FieldSpans()
}

/// Where an outline item's quoted fields are written (a plain struct, not a dictionary:
/// a cached policy is read back at every command's start).
public struct FieldSpans: Sendable {
    public var must, why, how, text: SourceSpan?

    /// The span of field `name` (`must`, `why`, `how` or `text`).
    public subscript(name: String) -> SourceSpan? {
        get {
            switch name {
            case "must": return must
            case "why": return why
            case "how": return how
            case "text": return text
            default: return nil
            }
        }
        set {
            switch name {
            case "must": must = newValue
            case "why": why = newValue
            case "how": how = newValue
            case "text": text = newValue
            default: break
            }
        }
    }
}

/// A term the document defines ("Near Miss").
public struct Definition: Sendable, Hashable {
    public var id: String
    public var term: String
    public var text: String
    public var provenance: Provenance
    public var span: SourceSpan
}

/// When a deadline falls, relative to a clock start.
public enum DeadlineRule: Sendable, Hashable {
    /// A duration after the start (calendar parts local, time parts exact).
    case after(ISODuration)
    /// The end of the local calendar day on which the clock started.
    case endOfDay
    /// A number of working days after the start, at the same local time, in the
    /// policy's working-day calendar (a start on a day off counts from the next working
    /// day's beginning).
    case workingDays(Int)
    /// The end of the first working day after the day the clock started.
    case endOfNextWorkingDay

    /// The deadline for a clock that started at `start`; nil when it counts working days
    /// beyond the end of the policy's calendar.
    public func deadline(from start: Instant, in clock: ZoneClock) -> Instant? {
        switch self {
        case .after(let duration): return clock.add(duration, to: start)
        case .endOfDay: return clock.endOfDay(start)
        case .workingDays(let n): return clock.add(workingDays: n, to: start).0
        case .endOfNextWorkingDay: return clock.endOfNextWorkingDay(after: start).0
        }
    }

    /// Whether it counts working days (and so needs a calendar).
    public var countsWorkingDays: Bool {
        switch self {
        case .workingDays, .endOfNextWorkingDay: return true
        case .after, .endOfDay: return false
        }
    }

    /// In words: `within 48 hours`, `by the end of the day it starts`.
    public var description: String {
        switch self {
        case .after(let d): return "within \(d)"
        case .endOfDay: return "by the end of the day it starts"
        case .workingDays(let n): return "within \(n) working day\(n == 1 ? "" : "s")"
        case .endOfNextWorkingDay: return "by the end of the next working day"
        }
    }
}

/// What one of the document's words means in time (`immediately`).
public struct Term: Sendable, Hashable {
    public var id: String
    public var title: String
    public var rule: DeadlineRule
    public var provenance: Provenance
    public var span: SourceSpan
}

/// A role: who may act and who must.
public struct Role: Sendable {
    public var id: String
    public var title: String
    /// The person the document names, when it names one.
    public var holder: String?
    /// How to reach whoever holds the role (`contact:`), for notifications that must give it.
    public var contact: String? = nil
    /// Roles that may act for this one (in its absence), conditional ones included.
    public var standIns: [Int]
    public var provenance: Provenance?
    public var span: SourceSpan
    /// The stand-ins that may act only while a condition holds (`when:`), each with it.
    public var standInConditions: [StandInCondition] = []
    /// Roles this one includes (a group such as "all staff"): an action or duty of this
    /// role may be taken by any of them. Direct members only; see ``Policy/members(of:)``.
    public var includes: [Int] = []
}

/// A stand-in that may act only while its condition holds (`{role: x, when: absent}`).
public struct StandInCondition: Sendable {
    /// The standing-in role.
    public var role: Int
    /// When it may stand in.
    public var condition: CompiledExpression
}

/// A clause of the document the policy deliberately does not encode (`not_encoded:`),
/// with the reason an admin or auditor reads: advisory wording with no one named, a
/// standing governance duty with no incident event, a form's fields.
public struct NotEncoded: Sendable {
    /// The policy whose outline holds the clause (this one's, or one it extends).
    public var policy: String
    public var clause: String
    public var reason: String
    /// The policy file that gives the reason.
    public var origin: String
    public var span: SourceSpan
}

/// An entry of a base policy that a policy extending it replaced or removed.
public struct LineageChange: Sendable {
    public enum Kind: String, Sendable {
        case replaced, removed
    }
    public var kind: Kind
    /// The section's noun: duty, role, action, ...
    public var section: String
    public var id: String
    /// The policy whose entry it was.
    public var base: String
    /// The policy that replaced or removed it.
    public var by: String
}

/// A rule among facts that a consistent incident obeys (`constraints:`), such as "an
/// incident is not discovered before it occurred".
public struct Constraint: Sendable {
    public var id: String
    /// True when the facts are consistent; false breaks the rule; unknown says nothing.
    public var rule: CompiledExpression
    /// What to tell the person whose facts break it.
    public var message: String
    public var provenance: Provenance
    public var span: SourceSpan
}

/// A fact an incident carries, with the question that asks for it.
public struct Fact: Sendable {
    public var id: String
    public var title: String
    public var type: ValueType
    public var question: String
    public var provenance: Provenance
    /// Bounds for integer facts.
    public var minimum: Int?
    public var maximum: Int?
    /// When true (a bool fact), the reporter asked to stay anonymous: their name is
    /// withheld from every output and, where possible, never stored.
    public var anonymisesReporter: Bool = false
    public var span: SourceSpan
    /// The roles who may establish it on an event (`set_by:`); nil means anyone. Facts
    /// given when the incident is opened are taken as they are.
    public var setBy: [Int]? = nil
    /// For the anonymity fact: the roles a report is made in (`reporter_roles:`), which
    /// tell the reporter from someone who records the request on their behalf.
    public var reporterRoles: [Int] = []
}

/// A value derived from facts (and other values).
public struct DerivedValue: Sendable {
    /// How the value is derived.
    public enum Rule: Sendable {
        /// A compiled expression.
        case expression(CompiledExpression)
        /// A lookup over integer bands of one input slot.
        case table(input: Int, bands: [Band])
        /// The first case whose condition holds.
        case cases([Case])
        /// A decision grid: one cell per combination of a row band and a column band.
        case grid(Grid)
    }

    /// A value decided by two inputs, each banded (integers) or enumerated (options),
    /// with exactly one cell for every combination: a risk matrix.
    public struct Grid: Sendable {
        /// One input and its bands, in order.
        public struct Axis: Sendable {
            /// The input's slot (an integer or option fact or value).
            public var input: Int
            public var bands: [AxisBand]
            public var span: SourceSpan
        }

        /// A row or column: an integer band (`from`/`to`, nil = open) or a set of
        /// options (a bit mask over the input's options).
        public struct AxisBand: Sendable {
            public var from: Int?
            public var to: Int?
            /// For an option input, the options it holds; 0 for an integer band.
            public var options: UInt64
            public var label: String?
            public var span: SourceSpan

            /// Whether the input's value falls in the band.
            @inline(__always)
            public func contains(_ value: Value) -> Bool {
                switch value {
                case .int(let n): return options == 0 && (from.map { n >= $0 } ?? true) && (to.map { n <= $0 } ?? true)
                case .option(let i): return i < 64 && options & (1 << UInt64(i)) != 0
                default: return false
                }
            }
        }

        public var rows: Axis
        public var columns: Axis
        /// Row-major: the cell of row `r`, column `c` is `cells[r * columns.bands.count + c]`.
        public var cells: [Value]
        /// Where each row of cells is written.
        public var rowSpans: [SourceSpan]

        /// The row and column `rowValue` and `columnValue` fall in; nil when either is
        /// unknown or falls in no band.
        public func position(_ rowValue: Value, _ columnValue: Value) -> (row: Int, column: Int)? {
            guard let r = rows.bands.firstIndex(where: { $0.contains(rowValue) }),
                  let c = columns.bands.firstIndex(where: { $0.contains(columnValue) })
            else { return nil }
            return (r, c)
        }

        /// A band as a person reads it: `1–2`, `4 or more`, or the options it holds.
        public static func describe(_ band: AxisBand, domain: EnumDomain? = nil) -> String {
            if band.options != 0 {
                guard let domain else { return band.label ?? "" }
                return domain.options.indices.filter { band.options & (1 << UInt64($0)) != 0 }.map { domain.options[$0].id }
                    .joined(separator: ", ")
            }
            return DerivedValue.Band(from: band.from, to: band.to, value: .unknown, span: band.span).rangeDescription
        }

        /// The cell for two input values (unknown when either is unknown or in no band).
        public func lookup(_ rowValue: Value, _ columnValue: Value) -> Value {
            guard let (r, c) = position(rowValue, columnValue) else { return .unknown }
            return cells[r * columns.bands.count + c]
        }
    }

    /// One row of a lookup table: inclusive bounds (nil = open) and its result.
    public struct Band: Sendable {
        public var from: Int?
        public var to: Int?
        public var value: Value
        public var label: String?
        public var provenance: Provenance?
        public var span: SourceSpan

        /// Whether `n` falls in the band.
        public func contains(_ n: Int) -> Bool {
            (from.map { n >= $0 } ?? true) && (to.map { n <= $0 } ?? true)
        }

        /// `0–10`, `1,001 or more`.
        public var rangeDescription: String {
            switch (from, to) {
            case (let f?, let t?): return f == t ? "\(f)" : "\(f)–\(t)"
            case (let f?, nil): return "\(f) or more"
            case (nil, let t?): return "up to \(t)"
            case (nil, nil): return "any number"
            }
        }
    }

    /// One case of a first-match value; no condition means "otherwise".
    public struct Case: Sendable {
        public var condition: CompiledExpression?
        public var value: Value
        public var label: String?
        public var provenance: Provenance?
        public var span: SourceSpan
    }

    public var id: String
    public var title: String
    public var type: ValueType
    public var rule: Rule
    public var provenance: Provenance
    public var span: SourceSpan

    /// The integers a rule of `type` can give, given the range of each slot it reads:
    /// an expression's by interval arithmetic, a table's or first-match's from its results.
    public static func range(of rule: Rule, type: ValueType, slotRange: (Int) -> IntRange) -> IntRange {
        guard type == .int else { return .unbounded }
        func span(_ results: [Value]) -> IntRange {
            let numbers = results.compactMap { if case .int(let n) = $0 { return n } else { return nil } }
            return IntRange(numbers.min(), numbers.max())
        }
        switch rule {
        case .expression(let e): return e.expr.range(slotRange)
        case .table(_, let bands): return span(bands.map(\.value))
        case .cases(let cases): return span(cases.map(\.value))
        case .grid(let grid): return span(grid.cells)
        }
    }
}

/// An action a trail may record.
public struct Action: Sendable {
    /// A decision the action records, re-derived by an audit.
    public struct Decision: Sendable {
        /// The slot of the derived value the decision is about.
        public var slot: Int
        /// The value the action asserts (`false` for "decide not to notify"); nil when
        /// the event carries the decided value itself.
        public var asserts: Value?
    }

    public var id: String
    public var title: String
    /// Roles permitted to take it; nil means anyone.
    public var roles: [Int]?
    public var reasonRequired: Bool
    public var decision: Decision?
    /// Whether the action closes the incident.
    public var closes: Bool
    public var provenance: Provenance?
    public var span: SourceSpan
    /// The facts it establishes (`establishes:`): an event of it discharges a duty only
    /// when it records one of them (classifying without a classification is not done).
    public var establishes: [Int] = []
}

/// When a duty's clock starts.
public enum Clock: Sendable, Hashable {
    /// At the time held in a datetime fact.
    case fact(Int)
    /// At the first occurrence of an action.
    case action(Int)
    /// When another duty was done.
    case duty(Int)
    /// The earliest of several starts that are known (unknown while none is).
    indirect case earliest([Clock])
    /// The latest of several starts, once every one is known.
    indirect case latest([Clock])

    /// Whether it counts (in part) from a fact: unknown while that fact is unanswered.
    public var readsFact: Bool {
        switch self {
        case .fact: return true
        case .action, .duty: return false
        case .earliest(let list), .latest(let list): return list.contains { $0.readsFact }
        }
    }

    /// Whether it counts (in part) from something happening: an action or a duty done.
    public var readsEvent: Bool {
        switch self {
        case .fact: return false
        case .action, .duty: return true
        case .earliest(let list), .latest(let list): return list.contains { $0.readsEvent }
        }
    }

    /// The simple starts this one reads.
    public var parts: [Clock] {
        switch self {
        case .earliest(let list), .latest(let list): return list.flatMap(\.parts)
        default: return [self]
        }
    }
}

/// An obligation: a role must take one of some actions, when a condition holds, by a
/// deadline counted from a clock start, after some other duties.
public struct Duty: Sendable {
    public var id: String
    public var title: String
    /// Whose duty it is: any of these roles (or a stand-in for one) discharges it.
    public var roles: [Int]
    /// The roles whose actions discharge the duty: `roles` and their stand-ins, as a bit
    /// mask over role indices.
    public var dischargers: UInt64 = 0
    /// Any of these actions discharges the duty (explicit alternatives).
    public var actions: [Int]
    /// When the duty applies; nil means always.
    public var condition: CompiledExpression?
    public var clock: Clock?
    public var deadline: DeadlineRule?
    /// The term the deadline comes from, when it is one.
    public var term: Int?
    public var prerequisites: [Int]
    public var provenance: Provenance
    public var must: String?
    public var why: String?
    public var how: String?
    public var span: SourceSpan
    /// The earliest it may be done, after the clock start (`not_before: P6M`): doing it
    /// sooner does not discharge it and is the finding `early`.
    public var notBefore: ISODuration? = nil
    /// A soft target before the hard deadline (`target: immediately`): missing it is a
    /// warning, missing `within` an error.
    public var target: DeadlineRule? = nil
    /// When true (`reason: when_late`), doing it after its target (or its deadline when it
    /// has no target) needs a documented reason on the discharging event.
    public var reasonWhenLate: Bool = false
}

/// Actions some roles must not take.
public struct Prohibition: Sendable {
    public var id: String
    public var title: String
    public var roles: [Int]
    public var actions: [Int]
    public var text: String?
    public var provenance: Provenance
    public var span: SourceSpan
}
