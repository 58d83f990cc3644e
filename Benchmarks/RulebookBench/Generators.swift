import RulebookCore
import RulebookTestSupport

extension SplitMix64 {
    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

    /// An integer in `range`.
    mutating func int(in range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// A log-uniform integer in `low...high` (many small numbers, some large ones).
    mutating func logUniform(_ low: Int, _ high: Int) -> Int {
        guard high > low else { return low }
        let span = Double(high - low + 1)
        let x = exp(Double(next() >> 11) / Double(1 << 53) * log(span)) - 1
        return min(high, low + Int(x))
    }
}

/// Generates incidents for any policy from its declarations alone: facts of the right
/// types and ranges, trails of actions taken by roles permitted to take them (never a
/// prohibited pair), reasons where required, and recorded decisions that agree with what
/// the policy derives at that moment. Nothing here knows a policy's names.
struct IncidentGenerator {
    let policy: Policy
    var rng: SplitMix64
    /// 2026-01-05T09:00:00Z: incidents start on a working Monday.
    let base: Instant = 1_767_603_600_000

    init(policy: Policy, seed: UInt64) {
        self.policy = policy
        rng = SplitMix64(seed: seed)
    }

    /// A random value of `type` (ints within `minimum...maximum` when given).
    mutating func value(_ type: ValueType, minimum: Int? = nil, maximum: Int? = nil) -> Value {
        switch type {
        case .bool: return .bool(rng.chance(0.5))
        case .int:
            let low = minimum ?? 0
            return .int(rng.logUniform(low, max(low, maximum ?? 100_000)))
        case .text: return .text("generated note \(rng.int(in: 1...999))")
        case .datetime: return .time(base + Int64(rng.int(in: 0...(3 * 86_400))) * 1000)
        case .duration: return .int(rng.int(in: 0...(3 * 86_400)) * 1000)
        case .option(let domain): return .option(rng.int(in: 0...(domain.options.count - 1)))
        case .options(let domain):
            var mask: UInt64 = 0
            for i in domain.options.indices where rng.chance(0.3) { mask |= 1 << UInt64(i) }
            return .options(mask)
        }
    }

    /// Each fact answered with probability `known`, obeying the policy's consistency
    /// rules (a fact that would break one is left unanswered).
    mutating func facts(known: Double) -> [FactAssignment] {
        var out: [FactAssignment] = []
        for (slot, fact) in policy.facts.enumerated() where rng.chance(known) {
            out.append(FactAssignment(slot: slot, value: value(fact.type, minimum: fact.minimum, maximum: fact.maximum)))
            if !policy.constraints.isEmpty, !CaseLoader.inconsistencies(CaseFile(facts: out), policy: policy).isEmpty {
                out.removeLast()
            }
        }
        return out
    }

    /// A role that may take `action` and is not forbidden to.
    private mutating func role(for action: Int) -> Int? {
        let permitted = policy.actions[action].roles.map { roles in
            roles + roles.flatMap { policy.roles[$0].standIns }
        } ?? Array(policy.roles.indices)
        let allowed = permitted.filter { role in
            !policy.prohibitions.contains { $0.roles.contains(role) && $0.actions.contains(action) }
        }
        return allowed.isEmpty ? nil : allowed[rng.int(in: 0...(allowed.count - 1))]
    }

    /// `count` events in time order from `start`, 1 second to `maxGap` seconds apart.
    /// `state` holds the facts so far, so recorded decisions match the policy's.
    mutating func trail(count: Int, from start: Instant, maxGap: Int, state: inout SlotValues) -> [Event] {
        var events: [Event] = []
        events.reserveCapacity(count)
        var at = start
        while events.count < count {
            let action = rng.int(in: 0...(policy.actions.count - 1))
            guard let role = role(for: action) else { continue }
            at += Int64(rng.int(in: 1...maxGap)) * 1000
            var event = Event(at: at, action: action, role: role)
            if rng.chance(0.5) { event.actor = "Staff member \(rng.int(in: 1...40))" }
            if rng.chance(0.1) {
                let slot = rng.int(in: 0...(policy.facts.count - 1))
                let fact = policy.facts[slot]
                let v = value(fact.type, minimum: fact.minimum, maximum: fact.maximum)
                var next = state
                next.slots[slot] = v
                policy.deriveValues(&next)
                // Only facts that keep the incident consistent (what `record` accepts).
                if policy.mayEstablish(role, fact: slot), !policy.constraints.contains(where: { $0.rule.expr.evaluate(next) == .bool(false) }) {
                    event.facts = [FactAssignment(slot: slot, value: v)]
                    state.slots[slot] = v
                }
            }
            if policy.actions[action].reasonRequired { event.reason = "documented reason \(rng.int(in: 1...99))" }
            if rng.chance(0.05) { event.note = "note \(rng.int(in: 1...999))" }
            if let decision = policy.actions[action].decision {
                if let asserts = decision.asserts {
                    event.decision = asserts
                } else {
                    policy.deriveValues(&state)
                    let derived = state.slots[decision.slot]
                    event.decision = derived.isKnown ? derived : value(policy.slotType(decision.slot), minimum: 0, maximum: 4)
                }
            }
            state.occurred[action] = true
            events.append(event)
        }
        return events
    }

    /// An incident: facts answered with probability `known`, `events` events, evaluated
    /// at a moment from just after its last event to a few days later.
    mutating func incident(number: Int, known: Double, events: ClosedRange<Int>) -> (CaseFile, Instant) {
        var state = SlotValues(policy: policy)
        let facts = facts(known: known)
        for a in facts { state.slots[a.slot] = a.value }
        let start = base + Int64(rng.int(in: 0...(30 * 86_400))) * 1000
        let trail = trail(count: rng.int(in: events), from: start, maxGap: 4 * 3600, state: &state)
        let at = (trail.last?.at ?? start) + Int64(rng.int(in: 60...(5 * 86_400))) * 1000
        return (CaseFile(policyID: policy.id, incident: "GEN-\(number)", facts: facts, events: trail), at)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
