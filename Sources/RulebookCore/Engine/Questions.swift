/// An unanswered fact whose answer would decide a value, a duty's applicability, or a
/// deadline.
public struct Question: Sendable {
    /// The fact's slot.
    public var fact: Int
    /// Duties it would decide (applicability or deadline), by index.
    public var duties: [Int]
    /// Values it would decide, by slot.
    public var values: [Int]
}

extension Evaluation {
    /// The open questions, most decisive first: ranked by how many duties they decide,
    /// then how many values, then the policy's order of facts.
    public var questions: [Question] {
        var byFact: [Int: Question] = [:]
        func add(_ facts: [Int], duty: Int? = nil, value: Int? = nil) {
            for fact in facts {
                var q = byFact[fact] ?? Question(fact: fact, duties: [], values: [])
                if let duty, !q.duties.contains(duty) { q.duties.append(duty) }
                if let value, !q.values.contains(value) { q.values.append(value) }
                byFact[fact] = q
            }
        }
        let base = policy.facts.count
        for j in policy.values.indices where !values.slots[base + j].isKnown {
            var facts: [Int] = []
            policy.undecidedFacts(of: base + j, values, into: &facts)
            add(facts, value: base + j)
        }
        for status in duties {
            let duty = policy.duties[status.duty]
            if status.state == .unknown, let condition = duty.condition {
                var facts: [Int] = []
                condition.expr.undecidedInputs(values, into: &facts) { slot, list in
                    policy.undecidedFacts(of: slot, values, into: &list)
                }
                add(facts, duty: status.duty)
            }
            // An applicable duty whose clock fact is unanswered has no deadline yet.
            if status.state == .due || status.state == .unknown, case .fact(let slot)? = duty.clock,
               !values.slots[slot].isKnown, duty.deadline != nil
            {
                add([slot], duty: status.duty)
            }
        }
        return byFact.values.sorted {
            ($0.duties.count, $0.values.count, -$0.fact) > ($1.duties.count, $1.values.count, -$1.fact)
        }
    }
}
