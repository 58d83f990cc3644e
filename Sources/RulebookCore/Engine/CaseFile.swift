import RulebookDiagnostics
import RulebookYAML

/// A fact's value as recorded in a case or an event.
public struct FactAssignment: Sendable {
    /// The fact's slot.
    public var slot: Int
    /// Its value (`unknown` clears an earlier answer).
    public var value: Value
    /// Where it was written.
    public var span: SourceSpan?

    public init(slot: Int, value: Value, span: SourceSpan? = nil) {
        self.slot = slot
        self.value = value
        self.span = span
    }
}

/// One entry of an incident's trail: who did what, when, with what reason, and which
/// facts became known.
public struct Event: Sendable {
    /// When it happened.
    public var at: Instant
    /// The action taken (index into the policy's actions).
    public var action: Int
    /// The role it was taken in.
    public var role: Int
    /// The person's name, when recorded.
    public var actor: String?
    /// Facts recorded with the event.
    public var facts: [FactAssignment]
    /// The documented reason, when given.
    public var reason: String?
    /// The decided value, for actions that record a decision.
    public var decision: Value?
    /// A free note.
    public var note: String?
    /// Where the event is in its file.
    public var span: SourceSpan?
    /// When it was recorded, where that differs from when it happened (a backfilled event).
    public var recordedAt: Instant? = nil

    public init(at: Instant, action: Int, role: Int, actor: String? = nil, facts: [FactAssignment] = [],
                reason: String? = nil, decision: Value? = nil, note: String? = nil, span: SourceSpan? = nil) {
        self.at = at
        self.action = action
        self.role = role
        self.actor = actor
        self.facts = facts
        self.reason = reason
        self.decision = decision
        self.note = note
        self.span = span
    }
}

/// An incident: the facts known when it was opened and its trail, in time order (events
/// with the same time keep the order they were listed or recorded in).
public struct CaseFile: Sendable {
    /// The policy the case names, if it names one.
    public var policyID: String?
    /// The incident's id, if any.
    public var incident: String?
    /// Facts known when the case was opened.
    public var facts: [FactAssignment]
    /// The trail, in time order.
    public var events: [Event]

    public init(policyID: String? = nil, incident: String? = nil, facts: [FactAssignment] = [], events: [Event] = []) {
        self.policyID = policyID
        self.incident = incident
        self.facts = facts
        self.events = events
    }

    /// Puts the trail in time order, keeping the listed order of events with equal times.
    /// Real trails are backfilled: what was done on Tuesday may be recorded on Friday.
    public mutating func orderByTime() {
        guard !events.isEmpty, zip(events, events.dropFirst()).contains(where: { $0.at > $1.at }) else { return }
        let order = events.indices.sorted { (events[$0].at, $0) < (events[$1].at, $1) }
        events = order.map { events[$0] }
    }

    /// The same trail in time order.
    public func inTimeOrder() -> CaseFile {
        var copy = self
        copy.orderByTime()
        return copy
    }
}

/// Reads case files (YAML or JSON) and trails (JSON Lines) against a compiled policy.
public enum CaseLoader {
    static let caseKeys = ["policy", "incident", "facts", "events"]
    static let eventKeys = ["at", "action", "by", "actor", "facts", "reason", "value", "note", "recorded_at"]

    /// Reads a case whose root node is `root`. Unknown actions, roles and facts, values of
    /// the wrong type and facts that break the policy's consistency rules are errors; a
    /// missing reason where the action requires one is a warning (an audit reports it as a
    /// finding). Events may be listed in any order: the trail is put in time order.
    public static func load(_ root: Node, policy: Policy) -> (CaseFile?, [Diagnostic]) {
        let decoder = NodeDecoder()
        guard let object = decoder.object(root, "a case file", allowed: caseKeys) else {
            return (nil, decoder.bag.finished(file: root.span.file))
        }
        var file = CaseFile()
        file.policyID = object.text("policy")
        file.incident = object.text("incident")
        if let facts = object["facts"] {
            file.facts = assignments(facts, policy: policy, decoder: decoder, what: "the case's facts")
        }
        if let events = object["events"] {
            if let list = events.sequence {
                file.events = list.compactMap { event($0, policy: policy, decoder: decoder) }
                file.orderByTime()
            } else if !(events.scalar?.value == .null) {
                decoder.error("'events' must be a list of events; found \(events.kindDescription)", at: events.span,
                              code: "wrong-type")
            }
        }
        if !decoder.bag.diagnostics.contains(where: { $0.severity == .error }) {
            for broken in inconsistencies(file, policy: policy) {
                decoder.error("\(broken.constraint.message) (\(broken.constraint.rule.source) is false)", at: broken.span,
                              code: "inconsistent-facts",
                              hint: "rule '\(broken.constraint.id)' [\(broken.constraint.provenance.citation(in: policy.id))]")
            }
        }
        let diagnostics = decoder.bag.finished(file: root.span.file)
        return (diagnostics.contains { $0.severity == .error } ? nil : file, diagnostics)
    }

    /// The consistency rules a case breaks, each once, at the first fact (the case's or an
    /// event's, in time order) after which it is false.
    public static func inconsistencies(_ file: CaseFile, policy: Policy) -> [(constraint: Constraint, span: SourceSpan?)] {
        guard !policy.constraints.isEmpty else { return [] }
        var broken: [(Constraint, SourceSpan?)] = []
        var seen = Set<String>()
        var state = SlotValues(policy: policy)
        func check(_ assignments: [FactAssignment], fallback: SourceSpan?) {
            policy.deriveValues(&state)
            for c in policy.constraints where !seen.contains(c.id) && c.rule.expr.evaluate(state) == .bool(false) {
                seen.insert(c.id)
                // Point at the assignment of a fact the rule reads, else at the event.
                let span = assignments.first { c.rule.slots.contains($0.slot) }?.span ?? assignments.first?.span ?? fallback
                broken.append((c, span))
            }
        }
        for a in file.facts { state.slots[a.slot] = a.value }
        check(file.facts, fallback: nil)
        for event in file.events {
            for a in event.facts where policy.mayEstablish(event.role, fact: a.slot) { state.slots[a.slot] = a.value }
            if !event.facts.isEmpty { check(event.facts, fallback: event.span) }
        }
        return broken
    }

    /// Reads a trail: one event per JSON Lines record, put in time order (`ordered`), or
    /// one event per record in the records' order for a caller that orders them itself.
    public static func loadTrail(_ records: [Node], policy: Policy, ordered: Bool = true) -> ([Event], [Diagnostic]) {
        let decoder = NodeDecoder()
        var trail = CaseFile(events: records.compactMap { event($0, policy: policy, decoder: decoder) })
        if ordered { trail.orderByTime() }
        return (trail.events, decoder.bag.finished(file: records.first?.span.file))
    }

    /// Reads one event (also used by the register to validate before writing).
    public static func event(_ node: Node, policy: Policy) -> (Event?, [Diagnostic]) {
        let decoder = NodeDecoder()
        let event = event(node, policy: policy, decoder: decoder)
        let diagnostics = decoder.bag.finished(file: node.span.file)
        return (diagnostics.contains { $0.severity == .error } ? nil : event, diagnostics)
    }

    static func event(_ node: Node, policy: Policy, decoder: NodeDecoder) -> Event? {
        guard let object = decoder.object(node, "an event", allowed: eventKeys, required: ["at", "action", "by"]) else {
            return nil
        }
        /// An RFC 3339 time under `key`, reported where it does not read.
        func time(_ key: String) -> Instant? {
            guard let text = object.text(key) else { return nil }
            let parsed = Timestamp.parse(text)
            if parsed == nil {
                decoder.error("'\(text)' is not an RFC 3339 time", at: object[key]?.span, code: "bad-time",
                              hint: "write e.g. 2026-11-02T09:30:00Z or 2026-11-02T09:30:00+01:00 (the offset is required)")
            }
            return parsed
        }
        let at = time("at")
        let actionIndex = object.text("action").flatMap { id -> Int? in
            if let index = policy.actionIndex(of: id) { return index }
            decoder.error("unknown action '\(id)' in policy '\(policy.id)'", at: object["action"]?.span, code: "unknown-action",
                          hint: Suggestions.didYouMean(id, among: policy.actions.map(\.id))
                              ?? "the actions are: " + policy.actions.map(\.id).joined(separator: ", "))
            return nil
        }
        let roleIndex = object.text("by").flatMap { id -> Int? in
            if let index = policy.roleIndex(of: id) { return index }
            decoder.error("unknown role '\(id)' in policy '\(policy.id)'", at: object["by"]?.span, code: "unknown-role",
                          hint: Suggestions.didYouMean(id, among: policy.roles.map(\.id))
                              ?? "the roles are: " + policy.roles.map(\.id).joined(separator: ", "))
            return nil
        }
        let facts = object["facts"].map { assignments($0, policy: policy, decoder: decoder, what: "the event's facts") } ?? []
        let reason = object.text("reason")
        var decision: Value?
        if let actionIndex, let decides = policy.actions[actionIndex].decision {
            let type = policy.slotType(decides.slot)
            if let node = object["value"] {
                decision = CaseValues.decode(node, as: type)
                if decision == nil || decision == .unknown {
                    decoder.error("'value' must be \(type.phrase) (the decided \(policy.slotID(decides.slot))); found \(node.kindDescription)",
                                  at: node.span, code: "wrong-type", hint: optionsHint(type))
                    decision = nil
                }
            } else if decides.asserts == nil {
                decoder.error("action '\(policy.actions[actionIndex].id)' records a decision: give the decided "
                                  + "\(policy.slotID(decides.slot)) as `value:`",
                              at: node.span.startOnly, code: "missing-key")
            } else {
                decision = decides.asserts
            }
        } else if let node = object["value"] {
            decoder.error("'value' is only for actions that record a decision", at: node.span, code: "misplaced-key")
        }
        if let actionIndex, policy.actions[actionIndex].reasonRequired, (reason?.trimmingWhitespace.isEmpty ?? true) {
            decoder.warning(
                "action '\(policy.actions[actionIndex].id)' requires a documented reason, and this event has none",
                at: node.span.startOnly, code: "missing-reason", hint: "add `reason: ...`")
        }
        let recordedAt = time("recorded_at")
        guard let at, let actionIndex, let roleIndex else { return nil }
        var event = Event(at: at, action: actionIndex, role: roleIndex, actor: object.text("actor"), facts: facts,
                          reason: reason, decision: decision, note: object.text("note"), span: node.span)
        if let recordedAt, recordedAt != at { event.recordedAt = recordedAt }
        return event
    }

    /// `{fact: value, ...}` checked against the facts' types.
    static func assignments(_ node: Node, policy: Policy, decoder: NodeDecoder, what: String) -> [FactAssignment] {
        guard let pairs = node.mapping else {
            if node.scalar?.value == .null { return [] }
            decoder.error("\(what) must be a mapping of `fact: value` lines; found \(node.kindDescription)", at: node.span,
                          code: "wrong-type")
            return []
        }
        var out: [FactAssignment] = []
        for pair in pairs {
            guard let slot = policy.factSlot(of: pair.name) else {
                let isValue = policy.value(pair.name) != nil
                decoder.error(
                    isValue ? "'\(pair.name)' is derived by the policy, not recorded" : "unknown fact '\(pair.name)' in policy '\(policy.id)'",
                    at: pair.key.span, code: "unknown-fact",
                    hint: isValue ? "record the facts it is derived from" : Suggestions.didYouMean(pair.name, among: policy.facts.map(\.id)))
                continue
            }
            let fact = policy.facts[slot]
            guard let value = CaseValues.decode(pair.value, as: fact.type) else {
                if let (unknown, node, domain) = unknownOption(pair.value, fact.type) {
                    decoder.error("'\(unknown)' is not an option of '\(fact.id)'", at: node.span, code: "unknown-option",
                                  hint: Suggestions.didYouMean(unknown, among: domain.ids) ?? optionsHint(fact.type))
                    continue
                }
                var hint = optionsHint(fact.type)
                if fact.type == .bool, pair.value.scalar?.isYAML11Boolean == true {
                    hint = "YAML 1.2 reads '\(pair.value.scalar!.text)' as text, not a boolean: write true or false"
                }
                decoder.error("'\(fact.id)' must be \(fact.type.phrase); found \(pair.value.kindDescription)",
                              at: pair.value.span, code: "wrong-type", hint: hint)
                continue
            }
            if case .int(let n) = value {
                if let minimum = fact.minimum, n < minimum {
                    decoder.error("'\(fact.id)' must be at least \(minimum); found \(n)", at: pair.value.span, code: "out-of-range")
                    continue
                }
                if let maximum = fact.maximum, n > maximum {
                    decoder.error("'\(fact.id)' must be at most \(maximum); found \(n)", at: pair.value.span, code: "out-of-range")
                    continue
                }
            }
            out.append(FactAssignment(slot: slot, value: value, span: pair.value.span))
        }
        return out
    }

    /// The first option named in `node` that `type`'s options do not have.
    private static func unknownOption(_ node: Node, _ type: ValueType) -> (String, Node, EnumDomain)? {
        switch type {
        case .option(let domain):
            if let text = node.scalar?.text, node.scalar?.value != .null, domain.position(of: text) == nil { return (text, node, domain) }
        case .options(let domain):
            for item in node.sequence ?? [] {
                if let text = item.scalar?.text, domain.position(of: text) == nil { return (text, item, domain) }
            }
        default:
            break
        }
        return nil
    }

    private static func optionsHint(_ type: ValueType) -> String? {
        switch type {
        case .option(let d): return "one of: " + d.ids.joined(separator: ", ")
        case .options(let d): return "a list of: " + d.ids.joined(separator: ", ")
        case .datetime: return "an RFC 3339 time such as 2026-11-02T09:14:00Z"
        case .bool: return "true or false"
        default: return nil
        }
    }
}
