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
        let program = policy.program
        let factCount = policy.facts.count
        let base = factCount
        guard factCount > 0 else { return [] }
        // Every (fact, duty or value it would decide) pair, in the order found, then
        // grouped by fact. Scratch memory is temporary; only the result is allocated.
        let capacity = (policy.values.count + 2 * policy.duties.count) * factCount
        return withUnsafeTemporaryAllocation(of: (fact: Int32, duty: Int32, value: Int32).self, capacity: max(1, capacity)) { pairs in
            var count = 0
            program.withUndecided(values) { undecided, facts in
                for j in policy.values.indices where !values.slots[base + j].isKnown {
                    facts.removeAll()
                    undecided.facts(ofSlot: base + j, into: &facts)
                    for i in 0..<facts.count {
                        pairs[count] = (Int32(facts[i]), -1, Int32(base + j))
                        count += 1
                    }
                }
                for status in duties {
                    if status.state == .unknown {
                        facts.removeAll()
                        undecided.facts(ofDuty: status.duty, into: &facts)
                        for i in 0..<facts.count {
                            pairs[count] = (Int32(facts[i]), Int32(status.duty), -1)
                            count += 1
                        }
                    }
                    // An applicable duty whose clock fact is unanswered has no deadline yet.
                    let plan = program.plans[status.duty]
                    if status.state == .due || status.state == .unknown, case .fact(let slot)? = plan.clock,
                       !values.slots[slot].isKnown, plan.deadline != nil
                    {
                        pairs[count] = (Int32(slot), Int32(status.duty), -1)
                        count += 1
                    }
                }
            }
            guard count > 0 else { return [] }
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * factCount) { scratch in
                // Per fact: its position among the questions, and how many duties and
                // values it decides (with repeats; lists are sized by these).
                let position = UnsafeMutableBufferPointer(rebasing: scratch[0..<factCount])
                let dutyCounts = UnsafeMutableBufferPointer(rebasing: scratch[factCount..<(2 * factCount)])
                let valueCounts = UnsafeMutableBufferPointer(rebasing: scratch[(2 * factCount)...])
                position.initialize(repeating: -1)
                dutyCounts.initialize(repeating: 0)
                valueCounts.initialize(repeating: 0)
                var found: [Question] = []
                found.reserveCapacity(min(count, factCount))
                for i in 0..<count {
                    let fact = Int(pairs[i].fact)
                    if position[fact] < 0 {
                        position[fact] = found.count
                        found.append(Question(fact: fact, duties: [], values: []))
                    }
                    if pairs[i].duty >= 0 { dutyCounts[fact] += 1 } else { valueCounts[fact] += 1 }
                }
                for q in found.indices {
                    found[q].duties.reserveCapacity(dutyCounts[found[q].fact])
                    found[q].values.reserveCapacity(valueCounts[found[q].fact])
                }
                for i in 0..<count {
                    let q = position[Int(pairs[i].fact)]
                    if pairs[i].duty >= 0 {
                        let duty = Int(pairs[i].duty)
                        if !found[q].duties.contains(duty) { found[q].duties.append(duty) }
                    } else {
                        let value = Int(pairs[i].value)
                        if !found[q].values.contains(value) { found[q].values.append(value) }
                    }
                }
                // Most decisive first: duties decided, then values, then the policy's
                // order (no two questions tie: their facts differ).
                found.sort { ($0.duties.count, $0.values.count, -$0.fact) > ($1.duties.count, $1.values.count, -$1.fact) }
                return found
            }
        }
    }
}
