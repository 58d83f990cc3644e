import RulebookDiagnostics
import RulebookYAML

extension PolicyCompiler {
    // MARK: Actions

    func compileActions() {
        for entry in sections[.actions, default: []] {
            let object = object(entry, .actions, allowed: ["title", "roles", "reason", "decides", "closes", "establishes"],
                                required: ["title"])
            var permitted: [Int]?
            if let node = object?["roles"] {
                if node.scalar?.text == "any" {
                    permitted = nil
                } else {
                    permitted = (object?.ids("roles") ?? []).compactMap { role($0.0, $0.1) }
                }
            } else {
                permitted = []  // filled from the duties it discharges, below
                rolesFromDuties.insert(actions.count)
            }
            let reason = object?.choice("reason", ["required", "optional"]) ?? "optional"
            var decision: Action.Decision?
            if let node = object?["decides"] {
                decision = self.decision(node, action: entry.id)
            }
            actions.append(Action(
                id: entry.id, title: object?.nonEmptyText("title") ?? entry.id, roles: permitted,
                reasonRequired: reason == "required", decision: decision, closes: object?.bool("closes") ?? false,
                provenance: object.flatMap { provenance($0, of: entry, required: false) }, span: entry.key.span,
                establishes: (object?.ids("establishes") ?? []).compactMap { id, node in
                    if let slot = factIndex[id] { return slot }
                    if !poisoned.contains(id) {
                        decoder.error("unknown fact '\(id)'", at: node.span, code: "unknown-reference",
                                      hint: Suggestions.didYouMean(id, among: Array(factIndex.keys)))
                    }
                    return nil
                }))
        }
    }

    /// `decides: {value: category}` (the event carries the decided value) or
    /// `decides: {value: reportable, equals: false}` (the action itself asserts it).
    private func decision(_ node: Node, action: String) -> Action.Decision? {
        guard let object = decoder.object(node, "'decides' of action '\(action)'", allowed: ["value", "equals"],
                                          required: ["value"]),
              let id = object.text("value"), let valueNode = object["value"]
        else { return nil }
        guard let slot = valueSlots[id], let type = valueTypes[id] else {
            if !poisoned.contains(id) {
                decoder.error("unknown value '\(id)'", at: valueNode.span, code: "unknown-reference",
                              hint: Suggestions.didYouMean(id, among: Array(valueSlots.keys)) ?? "a decision is about a derived value")
            }
            return nil
        }
        guard let equalsNode = object["equals"] else { return Action.Decision(slot: slot, asserts: nil) }
        guard let asserted = CaseValues.decode(equalsNode, as: type) else {
            decoder.error("'equals' must be \(type.phrase) (the type of '\(id)'); found \(equalsNode.kindDescription)",
                          at: equalsNode.span, code: "wrong-type")
            return nil
        }
        return Action.Decision(slot: slot, asserts: asserted)
    }

    // MARK: Duties

    func compileDuties() {
        let entries = sections[.duties, default: []]
        for entry in entries { dutyIndex[entry.id] = dutyIndex.count }
        var compiled: [Duty?] = []
        var prerequisiteNodes: [[(Int, Node)]] = []
        for entry in entries {
            let (duty, prerequisites) = compileDuty(entry)
            compiled.append(duty)
            prerequisiteNodes.append(prerequisites)
        }
        // Actions with no `roles:` may be taken by the roles of the duties they discharge.
        for duty in compiled.compactMap({ $0 }) {
            for action in duty.actions where rolesFromDuties.contains(action) {
                actions[action].roles = Array(Set(actions[action].roles ?? []).union(duty.roles)).sorted()
            }
        }
        for (index, action) in actions.enumerated() where rolesFromDuties.contains(index) && action.roles?.isEmpty == true {
            decoder.warning(
                "action '\(action.id)' names no roles and no duty uses it, so nobody may take it", at: action.span,
                code: "unused-action", hint: "add `roles: [...]`, or `roles: any`")
        }
        // Prerequisite cycles (including clocks that start when another duty is done).
        var state = [Int](repeating: 0, count: entries.count)
        var order: [Int] = []
        var stack: [Int] = []
        func visit(_ i: Int) {
            if state[i] == 2 { return }
            if state[i] == 1 {
                let cycle = Array(stack[stack.firstIndex(of: i)!...]) + [i]
                decoder.error(
                    "duties wait for each other in a cycle: \(cycle.map { entries[$0].id }.joined(separator: " -> "))",
                    at: entries[i].key.span, code: "cycle",
                    notes: cycle.dropFirst().dropLast().map { Diagnostic.Note("'\(entries[$0].id)' is defined here", at: entries[$0].key.span) })
                return
            }
            state[i] = 1
            stack.append(i)
            for (p, _) in prerequisiteNodes[i] { visit(p) }
            for case .duty(let d) in compiled[i]?.clock?.parts ?? [] { visit(d) }
            stack.removeLast()
            state[i] = 2
            order.append(i)
        }
        for i in entries.indices { visit(i) }
        // The depth-first order keeps declaration order wherever dependencies allow. Duties
        // that failed to compile are left out and references to them dropped (the policy
        // has errors then, and is not applied).
        let surviving = order.filter { compiled[$0] != nil }
        var newIndex = [Int?](repeating: nil, count: entries.count)
        for (n, i) in surviving.enumerated() { newIndex[i] = n }
        duties = surviving.map { i in
            var d = compiled[i]!
            d.prerequisites = d.prerequisites.compactMap { newIndex[$0] }
            func renumber(_ clock: Clock) -> Clock? {
                switch clock {
                case .duty(let x): return newIndex[x].map(Clock.duty)
                case .earliest(let list): return .earliest(list.compactMap(renumber))
                case .latest(let list): return .latest(list.compactMap(renumber))
                default: return clock
                }
            }
            d.clock = d.clock.flatMap(renumber)
            return d
        }
        dutyIndex = Dictionary(uniqueKeysWithValues: duties.enumerated().map { ($1.id, $0) })
        // Whoever may discharge a duty: its roles, the members of those that are groups, and
        // their stand-ins (a conditional stand-in's condition is checked when it acts).
        let memberships = Policy.closeMemberships(roles)
        for i in duties.indices {
            var mask: UInt64 = 0
            for r in duties[i].roles where r < 64 {
                for m in memberships[r] where m < 64 {
                    mask |= 1 << UInt64(m)
                    for s in roles[m].standIns where s < 64 { mask |= 1 << UInt64(s) }
                }
            }
            duties[i].dischargers = mask
        }
    }

    private func compileDuty(_ entry: Entry) -> (Duty?, [(Int, Node)]) {
        guard let object = object(
            entry, .duties,
            allowed: ["title", "role", "action", "any_of", "when", "from", "within", "target", "not_before", "reason", "after",
                      "must", "why", "how"],
            required: ["title", "role"])
        else { return (nil, []) }
        let what = "duty '\(entry.id)'"
        let roles = (object.ids("role") ?? []).compactMap { role($0.0, $0.1) }
        // The discharging action(s): one `action`, or explicit alternatives in `any_of`.
        var discharging: [Int] = []
        switch (object["action"], object["any_of"]) {
        case (let node?, nil):
            if let id = node.scalar?.text, case .string = node.scalar!.value {
                if let a = action(id, node) { discharging = [a] }
            } else {
                decoder.error("'action' in \(what) must be one action id; found \(node.kindDescription)", at: node.span,
                              code: "wrong-type", hint: node.sequence != nil ? "list alternatives under 'any_of'" : nil)
            }
        case (nil, _?):
            let list = object.ids("any_of") ?? []
            discharging = list.compactMap { action($0.0, $0.1) }
            if list.count < 2 {
                decoder.warning("'any_of' lists one action; use 'action' for a single one", at: object["any_of"]?.span,
                                code: "style")
            }
        case (_?, _?):
            decoder.error("\(what) has both 'action' and 'any_of'; give one", at: object["any_of"]?.span, code: "conflict")
        case (nil, nil):
            decoder.error("\(what) needs 'action' (what discharges it) or 'any_of' (alternatives)", at: entry.key.span,
                          code: "missing-key")
        }
        var condition: CompiledExpression?
        var conditionFailed = false
        if let when = object["when"] {
            condition = expression(when, origin: entry.origin, expecting: .bool, what: "the condition of \(what)")
            conditionFailed = condition == nil
        }
        var clock: Clock?
        if let from = object["from"] {
            clock = self.clock(from, duty: entry.id)
        }
        var term: Int?
        let deadline = object["within"].flatMap { timing($0, key: "within", of: what) }
        if let within = object["within"]?.scalar?.text { term = termIndex[within] }
        let target = object["target"].flatMap { timing($0, key: "target", of: what) }
        var notBefore: ISODuration?
        if let node = object["not_before"], let text = node.scalar?.text {
            if let duration = ISODuration(text) { notBefore = duration } else {
                decoder.error("'\(text)' is not an ISO 8601 duration", at: node.span, code: "bad-duration",
                              hint: "write e.g. P6M (six calendar months) or PT24H")
            }
        }
        if notBefore != nil && object["from"] == nil {
            decoder.error("\(what) has an earliest time but no clock start", at: object["not_before"]?.span, code: "missing-key",
                          hint: "add `from:`: the moment `not_before` counts from")
        }
        if target != nil && deadline == nil {
            decoder.error("\(what) has a target but no hard deadline", at: object["target"]?.span, code: "missing-key",
                          hint: "a target is the soft aim before `within`; give `within` too, or make the target the deadline")
        }
        let reasonWhenLate = object.choice("reason", ["when_late"]) != nil
        if reasonWhenLate && deadline == nil {
            decoder.error("\(what) asks for a reason when late but has no deadline", at: object["reason"]?.span,
                          code: "missing-key")
        }
        if (deadline != nil || target != nil) && object["from"] == nil {
            decoder.error("\(what) has a deadline but no clock start", at: object["within"]?.span, code: "missing-key",
                          hint: "add `from: {fact: discovered_at}` or `from: {action: <id>}`: the moment the deadline counts from")
        }
        // A clock from an action or duty makes the duty wait for it even without a
        // deadline; a clock from a fact does nothing without one.
        if case .fact? = clock, object["within"] == nil, object["not_before"] == nil, object["target"] == nil {
            decoder.warning("\(what) has a clock start ('from') but no deadline ('within')", at: object["from"]?.span,
                            code: "unused-clock")
        }
        var prerequisites: [(Int, Node)] = []
        for (id, node) in object.ids("after") ?? [] {
            guard let index = dutyIndex[id] else {
                decoder.error("unknown duty '\(id)'", at: node.span, code: "unknown-reference",
                              hint: Suggestions.didYouMean(id, among: Array(dutyIndex.keys)))
                continue
            }
            if id == entry.id {
                decoder.error("\(what) cannot come after itself", at: node.span, code: "cycle")
                continue
            }
            prerequisites.append((index, node))
        }
        let provenance = provenance(object, of: entry, required: true)
        guard let provenance, !roles.isEmpty, !discharging.isEmpty, !conditionFailed,
              object["from"] == nil || clock != nil
        else { return (nil, prerequisites) }
        // A duty for a role that none of its actions permits can never be met correctly.
        let duty = Duty(
            id: entry.id, title: object.nonEmptyText("title") ?? entry.id, roles: roles, actions: discharging,
            condition: condition, clock: clock, deadline: deadline, term: term,
            prerequisites: prerequisites.map(\.0), provenance: provenance, must: object.text("must"),
            why: object.text("why"), how: object.text("how"), span: entry.key.span, notBefore: notBefore, target: target,
            reasonWhenLate: reasonWhenLate)
        return (duty, prerequisites)
    }

    /// A deadline (`within`, `target`): an ISO 8601 duration or a term.
    private func timing(_ node: Node, key: String, of what: String) -> DeadlineRule? {
        if node.mapping != nil { return workingDays(node, of: what) }
        guard let text = node.scalar?.text, node.scalar?.value != .null else {
            decoder.error("'\(key)' in \(what) must be a duration, {working_days: N} or a term; found \(node.kindDescription)", at: node.span, code: "wrong-type")
            return nil
        }
        if let t = termIndex[text] { return terms[t].rule }
        if text.first == "P" {
            if let duration = ISODuration(text) { return .after(duration) }
            // One error for a malformed duration, not a second "neither ... nor a term".
            decoder.error("'\(text)' is not an ISO 8601 duration", at: node.span, code: "bad-duration",
                          hint: "write e.g. PT24H (24 hours), PT48H, P1D (one calendar day), P6M, or {working_days: 2}")
            return nil
        }
        decoder.error("'\(text)' is neither an ISO 8601 duration nor a term", at: node.span, code: "unknown-reference",
                      hint: Suggestions.didYouMean(text, among: Array(termIndex.keys))
                          ?? "write a duration such as PT24H, or declare the word under terms:")
        return nil
    }

    /// `from: {fact: discovered_at}`, `from: {action: report}` or `from: {duty: triage}`.
    private func clock(_ node: Node, duty: String) -> Clock? {
        if let word = node.scalar?.text, node.scalar?.value != .null {
            decoder.error("'from' of duty '\(duty)' must say what kind of moment '\(word)' is", at: node.span,
                          code: "wrong-type",
                          hint: "write `from: {fact: \(word)}` for a datetime fact, or `from: {action: \(word)}` for an action")
            return nil
        }
        guard let object = decoder.object(node, "'from' of duty '\(duty)'",
                                          allowed: ["fact", "action", "duty", "earliest_of", "latest_of"]) else {
            return nil
        }
        for key in ["earliest_of", "latest_of"] {
            guard let listNode = object[key] else { continue }
            guard object.fields.count == 1, let items = listNode.sequence, items.count >= 2 else {
                decoder.error("'\(key)' in 'from' of duty '\(duty)' is a list of at least two starts, and nothing beside it",
                              at: listNode.span, code: "wrong-type",
                              hint: "e.g. `from: {\(key): [{fact: occurred_at}, {fact: discovered_at}]}`")
                return nil
            }
            let parts = items.compactMap { clock($0, duty: duty) }
            guard parts.count == items.count else { return nil }
            return key == "earliest_of" ? .earliest(parts) : .latest(parts)
        }
        let given = ["fact", "action", "duty"].filter { object.has($0) }
        guard given.count == 1, let id = object.text(given[0]), let idNode = object[given[0]] else {
            decoder.error("'from' names exactly one of fact, action or duty", at: node.span, code: "wrong-type",
                          hint: "e.g. `from: {fact: discovered_at}`, `from: {action: report}` or `from: {earliest_of: [...]}`")
            return nil
        }
        switch given[0] {
        case "fact":
            guard let slot = factIndex[id] else {
                if !poisoned.contains(id) {
                    decoder.error("unknown fact '\(id)'", at: idNode.span, code: "unknown-reference",
                                  hint: Suggestions.didYouMean(id, among: Array(factIndex.keys)))
                }
                return nil
            }
            guard facts[slot].type == .datetime else {
                decoder.error("a clock starts at a datetime fact; '\(id)' is \(facts[slot].type.phrase)", at: idNode.span,
                              code: "wrong-type")
                return nil
            }
            return .fact(slot)
        case "action":
            return action(id, idNode).map(Clock.action)
        default:
            guard let index = dutyIndex[id] else {
                decoder.error("unknown duty '\(id)'", at: idNode.span, code: "unknown-reference",
                              hint: Suggestions.didYouMean(id, among: Array(dutyIndex.keys)))
                return nil
            }
            return .duty(index)
        }
    }

    // MARK: Prohibitions

    func compileProhibitions() {
        for entry in sections[.prohibitions, default: []] {
            guard let object = object(entry, .prohibitions, allowed: ["title", "role", "action", "text"],
                                      required: ["role", "action"])
            else { continue }
            let roles = (object.ids("role") ?? []).compactMap { role($0.0, $0.1) }
            let forbidden = (object.ids("action") ?? []).compactMap { action($0.0, $0.1) }
            guard let provenance = provenance(object, of: entry, required: true), !roles.isEmpty,
                  !forbidden.isEmpty
            else { continue }
            prohibitions.append(Prohibition(
                id: entry.id, title: object.text("title") ?? entry.id.replacingUnderscores, roles: roles,
                actions: forbidden, text: object.text("text"), provenance: provenance, span: entry.key.span))
        }
    }
}

/// Reading fact and decision values written in case files and policies.
enum CaseValues {
    /// Decodes `node` as a value of `type`; nil when it does not fit.
    static func decode(_ node: Node, as type: ValueType) -> Value? {
        if let scalar = node.scalar, scalar.value == .null { return .unknown }
        switch type {
        case .bool:
            if case .bool(let b)? = node.scalar?.value { return .bool(b) }
        case .int:
            if case .int(let n)? = node.scalar?.value { return .int(n) }
        case .text:
            if let s = node.scalar, case .string = s.value { return .text(s.text) }
        case .datetime:
            if let s = node.scalar?.text, let t = Timestamp.parse(s) { return .time(t) }
        case .option(let domain):
            if let s = node.scalar?.text, let i = domain.position(of: s) { return .option(i) }
        case .options(let domain):
            guard let items = node.sequence else { return nil }
            var mask: UInt64 = 0
            for item in items {
                guard let s = item.scalar?.text, let i = domain.position(of: s) else { return nil }
                mask |= 1 << UInt64(i)
            }
            return .options(mask)
        case .duration:
            if let s = node.scalar?.text, let d = ISODuration(s), !d.hasCalendarPart { return .int(Int(d.exactMilliseconds)) }
        }
        return nil
    }
}
