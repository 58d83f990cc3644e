extension JSONWriter {
    /// A typed value as JSON: numbers, booleans, option ids, lists of option ids (in the
    /// policy's order), RFC 3339 times (in `clock`'s zone, UTC without one), `null` for
    /// unknown. The shape case files and trails are read in.
    public mutating func value(_ value: Value, _ type: ValueType, clock: ZoneClock? = nil) {
        switch (value, type) {
        case (.unknown, _): null()
        case (.bool(let b), _): bool(b)
        case (.int(let n), _): int(n)
        case (.option(let i), .option(let d)) where i < d.options.count: string(d.options[i].id)
        case (.options(let mask), .options(let d)):
            array { w in for i in d.options.indices where mask & (1 << UInt64(i)) != 0 { w.string(d.options[i].id) } }
        case (.time(let t), _): string(clock?.format(t) ?? Timestamp.format(t))
        case (.text(let s), _): string(s)
        default: null()
        }
    }

    /// `{fact: value, ...}` in the policy's order of facts.
    public mutating func facts(_ assignments: [FactAssignment], policy: Policy) {
        object { w in
            for a in assignments {
                w.field(policy.facts[a.slot].id) { $0.value(a.value, policy.facts[a.slot].type) }
            }
        }
    }

    /// An event as a trail record (one line of a JSON Lines trail).
    public mutating func event(_ event: Event, policy: Policy) {
        object { w in
            w.field("at", string: Timestamp.format(event.at))
            w.field("action", string: policy.actions[event.action].id)
            w.field("by", string: policy.roles[event.role].id)
            if let actor = event.actor { w.field("actor", string: actor) }
            if !event.facts.isEmpty { w.field("facts") { $0.facts(event.facts, policy: policy) } }
            if let reason = event.reason { w.field("reason", string: reason) }
            if let decision = event.decision, let decides = policy.actions[event.action].decision, decides.asserts == nil {
                w.field("value") { $0.value(decision, policy.slotType(decides.slot)) }
            }
            if let note = event.note { w.field("note", string: note) }
        }
    }

    /// A whole case as a case file reads: `{policy, incident, facts, events}`.
    public mutating func caseFile(_ file: CaseFile, policy: Policy) {
        object { w in
            if let id = file.policyID { w.field("policy", string: id) }
            if let incident = file.incident { w.field("incident", string: incident) }
            w.field("facts") { $0.facts(file.facts, policy: policy) }
            if !file.events.isEmpty {
                w.field("events") { w in w.array { w in for e in file.events { w.event(e, policy: policy) } } }
            }
        }
    }
}
