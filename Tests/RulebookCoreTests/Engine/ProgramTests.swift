import Foundation
import RulebookTestSupport
import Testing

@testable import RulebookCore

/// The flat ``Program`` must compute exactly what the rule-walking reference computes.
@Suite("Program: flat derivations agree with the reference")
struct ProgramTests {
    /// Every shipped policy and the engine fixture, compiled.
    static func policies() throws -> [Policy] {
        let folder = RulebookBinary.packageRoot.appendingPathComponent("Policies")
        let library = PolicyLibrary()
        for url in try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        where url.pathExtension == "yaml" {
            library.add(PolicySource(file: url.path, bytes: Array(try Data(contentsOf: url))))
        }
        var out = [enginePolicy, languagePolicy]
        for id in library.ids {
            out.append(try #require(PolicyCompiler.compile(id: id, library: library, options: CompileOptions(reviewChecks: false)).policy))
        }
        return out
    }

    /// Random facts (some unknown) and random occurred actions.
    static func randomState(_ policy: Policy, _ g: inout SplitMix64) -> SlotValues {
        var state = SlotValues(policy: policy)
        for (slot, fact) in policy.facts.enumerated() where g.below(10) >= 3 {
            switch fact.type {
            case .bool: state.slots[slot] = .bool(g.below(2) == 0)
            case .int:
                // Around band edges and thresholds as well as far from them.
                let picks = [0, 1, 2, 3, 9, 10, 11, 100, 101, 1000, 1001, 10_000, 10_001, 250_000]
                state.slots[slot] = .int(g.below(2) == 0 ? picks[g.below(picks.count)] : g.below(20_000) - 5)
            case .text: state.slots[slot] = .text(["a", "b", ""][g.below(3)])
            case .datetime, .duration: state.slots[slot] = .time(1_767_603_600_000 + Int64(g.below(10 * 86_400)) * 1000)
            case .option(let d): state.slots[slot] = .option(g.below(d.options.count))
            case .options(let d): state.slots[slot] = .options(g.next() & ((d.options.count >= 64 ? ~0 : (1 << UInt64(d.options.count)) - 1)))
            }
        }
        for a in policy.actions.indices { state.occurred[a] = g.below(2) == 0 }
        return state
    }

    @Test("values and duty conditions match on 20,000 random states per policy")
    func agreement() throws {
        var g = SplitMix64(seed: 42)
        for policy in try Self.policies() {
            var decided = 0
            for _ in 0..<20_000 {
                let start = Self.randomState(policy, &g)
                var reference = start
                for j in policy.values.indices {
                    reference.slots[policy.facts.count + j] = policy.derive(policy.values[j], reference)
                }
                var fast = start
                policy.deriveValues(&fast)
                #expect(fast.slots == reference.slots, "policy \(policy.id)")
                if fast.slots != reference.slots { return }
                for (i, duty) in policy.duties.enumerated() {
                    let expected = duty.condition?.expr.evaluate(reference) ?? .bool(true)
                    #expect(policy.program.dutyCondition(i, reference) == expected, "policy \(policy.id), duty \(duty.id)")
                    if expected.isKnown { decided += 1 }
                }
            }
            // The states reach decided conditions, not only unknown ones.
            #expect(decided > 0 || policy.duties.allSatisfy { $0.condition == nil }, "policy \(policy.id)")
        }
    }

    @Test("the facts blocking each undecided value and duty condition match the reference")
    func undecided() throws {
        var g = SplitMix64(seed: 7)
        for policy in try Self.policies() {
            var blocked = 0
            for _ in 0..<5000 {
                var state = Self.randomState(policy, &g)
                policy.deriveValues(&state)
                for slot in policy.facts.count..<policy.slotCount {
                    var expected: [Int] = []
                    policy.undecidedFacts(of: slot, state, into: &expected)
                    var actual: [Int] = []
                    policy.program.undecidedFacts(ofSlot: slot, state, into: &actual)
                    #expect(actual == expected, "policy \(policy.id), value \(policy.slotID(slot))")
                    blocked += expected.count
                }
                for (i, duty) in policy.duties.enumerated() {
                    var expected: [Int] = []
                    duty.condition?.expr.undecidedInputs(state, into: &expected) { slot, list in
                        policy.undecidedFacts(of: slot, state, into: &list)
                    }
                    var actual: [Int] = []
                    policy.program.undecidedFacts(ofDuty: i, state, into: &actual)
                    #expect(actual == expected, "policy \(policy.id), duty \(duty.id)")
                    blocked += expected.count
                }
            }
            #expect(blocked > 0, "policy \(policy.id): no state left anything undecided")
        }
    }
}
