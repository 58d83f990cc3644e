import ArgumentParser
import Testing

@testable import RulebookCLI

/// The fast reading of `assess`, `next` and `audit` command lines must mean exactly what
/// ArgumentParser's means, and leave everything else to ArgumentParser.
@Suite("Fast path: command lines read without ArgumentParser")
struct FastPathTests {
    /// What ArgumentParser makes of a command line, as a request (nil: not one of ours,
    /// or an error).
    static func parsed(_ arguments: [String]) -> (any Request)? {
        guard let command = try? Rulebook.parseAsRoot(arguments) else { return nil }
        switch command {
        case let c as Assess: return c.request
        case let c as Next: return c.request
        case let c as Audit: return c.request
        default: return nil
        }
    }

    static func same(_ a: (any Request)?, _ b: (any Request)?) -> Bool {
        switch (a, b) {
        case (let x as AssessRequest, let y as AssessRequest): return x == y
        case (let x as NextRequest, let y as NextRequest): return x == y
        case (let x as AuditRequest, let y as AuditRequest): return x == y
        default: return false
        }
    }

    @Test("plain command lines read the same both ways", arguments: [
        ["assess", "madras", "case.yaml"],
        ["assess", "madras", "case.yaml", "--format", "json", "--at", "2026-11-03T10:00:00Z"],
        ["assess", "case.yaml", "--format=json", "--color=never", "--policies", "Other"],
        ["assess", "madras", "--batch", "cases.jsonl", "--explain", "--at", "2026-11-03T10:00:00Z"],
        ["assess", "madras", "--batch", "-"],
        ["next", "INC-2026-0001", "--register", "r.sqlite", "--role", "dpo", "--all"],
        ["next", "--at", "2026-11-03T10:00:00+01:00", "council", "case.yaml", "--trail", "t.jsonl"],
        ["audit", "INC-2026-0001", "--compare-current", "--format", "text"],
        ["audit", "policy.yaml", "case.json", "--color", "always"],
    ])
    func agree(_ arguments: [String]) throws {
        let fast = try #require(FastPath.request(arguments), "the fast path should take \(arguments)")
        let slow = try #require(Self.parsed(arguments), "ArgumentParser refused \(arguments)")
        #expect(Self.same(fast, slow), "\(arguments)")
    }

    @Test("anything else is left to ArgumentParser", arguments: [
        ["assess"],                                          // no CASE: a usage error
        ["assess", "--help"], ["next", "-h"], ["audit", "--version"],
        ["assess", "madras", "case.yaml", "--format", "yaml"], // a bad value
        ["assess", "madras", "case.yaml", "--at"],             // a missing value
        ["assess", "madras", "case.yaml", "--at", "1", "--at", "2"], // repeated
        ["assess", "madras", "case.yaml", "--explain"],        // --explain without --batch
        ["assess", "madras", "case.yaml", "--batch", "x.jsonl"], // two items with --batch
        ["next", "madras", "case.yaml", "--unknown"],
        ["next", "madras", "case.yaml", "--all=yes"],
        ["next", "madras", "case.yaml", "--role", "--all"],
        ["next", "--", "case.yaml"],
        ["audit", "audit", "--register=", "r.sqlit"],         // an empty attached value (found by fuzzing)
        ["validate", "Policies"], ["show", "madras"], [],
    ])
    func refused(_ arguments: [String]) {
        #expect(FastPath.request(arguments) == nil, "\(arguments)")
    }
}
