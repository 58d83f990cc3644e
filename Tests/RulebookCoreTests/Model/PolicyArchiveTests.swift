import Foundation
import RulebookTestSupport
import RulebookYAML
import Testing

@testable import RulebookCore

@Suite("Policy archive: a compiled policy as bytes and back")
struct PolicyArchiveTests {
    /// Every shipped policy, the engine fixture and the valid fixtures.
    static func policies() throws -> [Policy] {
        var out = try ProgramTests.policies()
        let folder = Fixtures.url("policies/valid")
        let library = PolicyLibrary()
        for url in try Fixtures.yamlFiles(in: "policies/valid") {
            library.add(PolicySource(file: url.path, bytes: Array(try Data(contentsOf: url))))
        }
        _ = folder
        for id in library.ids {
            if let policy = PolicyCompiler.compile(id: id, library: library).policy { out.append(policy) }
        }
        return out
    }

    @Test("read back, a policy writes the same bytes, renders the same document and decides the same")
    func roundTrip() throws {
        let policies = try Self.policies()
        #expect(policies.count >= 6)
        let at = Timestamp.parse("2026-11-03T10:00:00Z")!
        for policy in policies {
            let bytes = PolicyArchive.encode(policy)
            let back = try PolicyArchive.decode(bytes)
            #expect(PolicyArchive.encode(back) == bytes, "policy \(policy.id)")
            #expect(PolicyMarkdown(policy: back).render() == PolicyMarkdown(policy: policy).render(), "policy \(policy.id)")
            // The same answers on random states: values, conditions and whole evaluations.
            var g = SplitMix64(seed: 3)
            for _ in 0..<500 {
                var a = ProgramTests.randomState(policy, &g)
                var b = a
                policy.deriveValues(&a)
                back.deriveValues(&b)
                #expect(a.slots == b.slots, "policy \(policy.id)")
            }
            let file = CaseFile(facts: policy.facts.indices.prefix(3).map { FactAssignment(slot: $0, value: .unknown) })
            let one = EngineReports(evaluation: Engine(policy: policy).evaluate(file, at: at), file: file)
            let two = EngineReports(evaluation: Engine(policy: back).evaluate(file, at: at), file: file)
            #expect(one.nextJSON(role: nil, all: true) == two.nextJSON(role: nil, all: true), "policy \(policy.id)")
            #expect(one.assessJSON() == two.assessJSON(), "policy \(policy.id)")
        }
    }

    @Test("damaged bytes are refused, never trusted")
    func damaged() throws {
        let bytes = PolicyArchive.encode(enginePolicy)
        #expect(throws: PolicyArchive.Damaged.self) { try PolicyArchive.decode([]) }
        #expect(throws: PolicyArchive.Damaged.self) { try PolicyArchive.decode(Array(bytes.dropLast())) }
        #expect(throws: PolicyArchive.Damaged.self) { try PolicyArchive.decode(bytes + [0]) }
        var version = bytes
        version[4] &+= 1
        #expect(throws: PolicyArchive.Damaged.self) { try PolicyArchive.decode(version) }
        // A flipped bit is caught by the checksum...
        var flipped = bytes
        flipped[bytes.count / 2] ^= 4
        #expect(throws: PolicyArchive.Damaged.self) { try PolicyArchive.decode(flipped) }
        // ...and even with the checksum made to match, damage never crashes: the archive
        // decodes to a policy whose indices all hold, or is refused.
        var g = SplitMix64(seed: 17)
        var refused = 0
        for _ in 0..<3000 {
            var copy = Array(bytes.dropLast(8))
            let i = 8 + g.below(copy.count - 8)
            copy[i] ^= UInt8(truncatingIfNeeded: 1 << g.below(8))
            let sum = PolicyArchive.checksum(copy[...])
            for k in 0..<8 { copy.append(UInt8(truncatingIfNeeded: sum >> UInt64(8 * k))) }
            if let policy = try? PolicyArchive.decode(copy) {
                // Whatever it decoded to runs.
                var state = SlotValues(policy: policy)
                policy.deriveValues(&state)
                _ = Engine(policy: policy).evaluate(CaseFile(), at: 0)
            } else {
                refused += 1
            }
        }
        #expect(refused > 100)
    }
}
