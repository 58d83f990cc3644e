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
        let factCount = policy.facts.count
        return withQuestionPairs { pairs in
            guard !pairs.isEmpty else { return [] }
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * factCount) { scratch in
                // Per fact: its position among the questions, and how many duties and
                // values it decides (lists are allocated once, at these sizes).
                let position = UnsafeMutableBufferPointer(rebasing: scratch[0..<factCount])
                let dutyCounts = UnsafeMutableBufferPointer(rebasing: scratch[factCount..<(2 * factCount)])
                let valueCounts = UnsafeMutableBufferPointer(rebasing: scratch[(2 * factCount)...])
                position.initialize(repeating: -1)
                dutyCounts.initialize(repeating: 0)
                valueCounts.initialize(repeating: 0)
                var found: [Question] = []
                found.reserveCapacity(min(pairs.count, factCount))
                for pair in pairs {
                    let fact = Int(pair.fact)
                    if position[fact] < 0 {
                        position[fact] = found.count
                        found.append(Question(fact: fact, duties: [], values: []))
                    }
                    if pair.duty >= 0 { dutyCounts[fact] += 1 } else { valueCounts[fact] += 1 }
                }
                for q in found.indices {
                    found[q].duties.reserveCapacity(dutyCounts[found[q].fact])
                    found[q].values.reserveCapacity(valueCounts[found[q].fact])
                }
                for pair in pairs {
                    let q = position[Int(pair.fact)]
                    if pair.duty >= 0 { found[q].duties.append(Int(pair.duty)) } else { found[q].values.append(Int(pair.value)) }
                }
                // Most decisive first: duties decided, then values, then the policy's
                // order (no two questions tie: their facts differ).
                found.sort { ($0.duties.count, $0.values.count, -$0.fact) > ($1.duties.count, $1.values.count, -$1.fact) }
                return found
            }
        }
    }

    /// The facts of ``questions``, in the same order, without the lists of what each
    /// decides: what a batch line needs, for less work.
    public var questionFacts: [Int] {
        let factCount = policy.facts.count
        return withQuestionPairs { pairs in
            guard !pairs.isEmpty else { return [] }
            return withUnsafeTemporaryAllocation(of: (duties: Int, values: Int, seen: Bool).self, capacity: factCount) { counts in
                counts.initialize(repeating: (0, 0, false))
                var facts: [Int] = []
                facts.reserveCapacity(min(pairs.count, factCount))
                for pair in pairs {
                    let fact = Int(pair.fact)
                    if !counts[fact].seen {
                        counts[fact].seen = true
                        facts.append(fact)
                    }
                    if pair.duty >= 0 { counts[fact].duties += 1 } else { counts[fact].values += 1 }
                }
                facts.sort { (counts[$0].duties, counts[$0].values, -$0) > (counts[$1].duties, counts[$1].values, -$1) }
                return facts
            }
        }
    }

    /// Every (fact, duty it would decide, or value it would decide) pair, in the order
    /// found, each once, in temporary memory (`duty` or `value` is -1).
    private func withQuestionPairs<R>(_ body: (UnsafeBufferPointer<(fact: Int32, duty: Int32, value: Int32)>) -> R) -> R {
        let program = policy.program
        let factCount = policy.facts.count
        let base = factCount
        guard factCount > 0 else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        let capacity = (policy.values.count + 2 * policy.duties.count) * factCount
        return withUnsafeTemporaryAllocation(of: (fact: Int32, duty: Int32, value: Int32).self, capacity: max(1, capacity)) { pairs in
            var count = 0
            program.withUndecided(values) { undecided, facts in
                for j in 0..<(program.derivations.count) where !values.slots[base + j].isKnown {
                    facts.removeAll()
                    undecided.facts(ofSlot: base + j, into: &facts)
                    for i in 0..<facts.count {
                        pairs[count] = (Int32(facts[i]), -1, Int32(base + j))
                        count += 1
                    }
                }
                for status in duties {
                    facts.removeAll()
                    if status.state == .unknown { undecided.facts(ofDuty: status.duty, into: &facts) }
                    // An applicable duty whose clock fact is unanswered has no deadline yet.
                    if status.clockUnknown, status.state == .due || status.state == .unknown || status.state == .waiting {
                        for case .fact(let slot) in policy.duties[status.duty].clock?.parts ?? [] where !values.slots[slot].isKnown && !facts.contains(slot) {
                            facts.append(slot)
                        }
                    }
                    for i in 0..<facts.count {
                        pairs[count] = (Int32(facts[i]), Int32(status.duty), -1)
                        count += 1
                    }
                }
            }
            return body(UnsafeBufferPointer(rebasing: pairs[0..<count]))
        }
    }
}
