import Foundation
import PropertyBased
import RulebookTestSupport
import Testing

@testable import RulebookCore

/// The engine's laws, checked on generated incidents for every shipped policy and the
/// language fixture (swift-property-based: a failure prints the input and a seed to
/// replay it).
@Suite("Engine laws (property-based)")
struct EngineLawTests {
    static let policies: [Policy] = (try? ProgramTests.policies()) ?? []

    /// An incident from generated numbers: facts from `seed`, and one event per number
    /// (its action, role and minute), optionally carrying facts.
    static func incident(_ policy: Policy, seed: Int, events: [Int], withFacts: Bool) -> CaseFile {
        var g = SplitMix64(seed: UInt64(seed))
        var file = CaseFile()
        let state = ProgramTests.randomState(policy, &g)
        for slot in policy.facts.indices where state.slots[slot].isKnown {
            file.facts.append(FactAssignment(slot: slot, value: state.slots[slot]))
        }
        if !CaseLoader.inconsistencies(file, policy: policy).isEmpty { file.facts = [] }
        let start: Instant = 1_793_611_440_000   // 2026-11-02T09:24:00Z
        for (i, n) in events.enumerated() {
            // Distinct minutes: equal times keep their listed order by design.
            var event = Event(at: start + Int64(n % 5000) * 60_000 + Int64(i), action: (n / 5000) % policy.actions.count,
                              role: (n / 7) % policy.roles.count)
            if withFacts, n % 3 == 0, !policy.facts.isEmpty {
                let slot = n % policy.facts.count
                let value = ProgramTests.randomState(policy, &g).slots[slot]
                if value.isKnown { event.facts = [FactAssignment(slot: slot, value: value)] }
            }
            if n % 4 == 0 { event.reason = "reasons" }
            file.events.append(event)
        }
        file.orderByTime()
        return file
    }

    static let seeds = Gen.int(in: 0...1_000_000)
    static let eventLists = Gen.int(in: 0...200_000).array(of: 0...12)
    static let policyIndex = Gen.int(in: 0...max(0, policies.count - 1))
    static let minutes = Gen.int(in: 0...(20 * 24 * 60))

    private static func same(_ a: Evaluation, _ b: Evaluation) -> Bool {
        a.values.slots == b.values.slots && zip(a.duties, b.duties).allSatisfy {
            $0.state == $1.state && $0.deadline == $1.deadline && $0.doneAt == $1.doneAt && $0.clockStart == $1.clockStart
        }
    }

    @Test("evaluation is deterministic")
    func deterministic() async {
        await propertyCheck(count: 300, input: Self.policyIndex, Self.seeds, Self.eventLists, Self.minutes) { p, seed, events, minute in
            let policy = Self.policies[p]
            let file = Self.incident(policy, seed: seed, events: events, withFacts: true)
            let at: Instant = 1_793_611_440_000 + Int64(minute) * 60_000
            let engine = Engine(policy: policy)
            #expect(Self.same(engine.evaluate(file, at: at), engine.evaluate(file, at: at)), "policy \(policy.id)")
        }
    }

    @Test("a later --at never undoes a done (no fact changes in the trail)")
    func doneStaysDone() async {
        await propertyCheck(count: 300, input: Self.policyIndex, Self.seeds, Self.eventLists, Self.minutes, Self.minutes) { p, seed, events, m1, m2 in
            let policy = Self.policies[p]
            let file = Self.incident(policy, seed: seed, events: events, withFacts: false)
            let engine = Engine(policy: policy)
            let early = engine.evaluate(file, at: 1_793_611_440_000 + Int64(min(m1, m2)) * 60_000)
            let late = engine.evaluate(file, at: 1_793_611_440_000 + Int64(max(m1, m2)) * 60_000)
            for (a, b) in zip(early.duties, late.duties) where a.state == .done || a.state == .doneLate {
                #expect(b.state == a.state && b.doneAt == a.doneAt, "policy \(policy.id), duty \(policy.duties[a.duty].id): \(a.state) became \(b.state)")
            }
        }
    }

    @Test("the order events are listed in never matters")
    func listingOrder() async {
        await propertyCheck(count: 300, input: Self.policyIndex, Self.seeds, Self.eventLists, Self.minutes) { p, seed, events, minute in
            let policy = Self.policies[p]
            let sorted = Self.incident(policy, seed: seed, events: events, withFacts: true)
            var shuffled = sorted
            var g = SplitMix64(seed: UInt64(seed) &+ 1)
            shuffled.events.shuffle(using: &g)
            shuffled.orderByTime()
            let at: Instant = 1_793_611_440_000 + Int64(minute) * 60_000
            let engine = Engine(policy: policy)
            #expect(Self.same(engine.evaluate(sorted, at: at), engine.evaluate(shuffled, at: at)), "policy \(policy.id)")
            #expect(engine.audit(sorted, at: at).findings.map(\.kind) == engine.audit(shuffled, at: at).findings.map(\.kind))
        }
    }

    /// Facts no value, condition, clock, constraint or stand-in reads.
    static func unrelatedFacts(_ policy: Policy) -> [Int] {
        var read = Set<Int>()
        func mark(_ slot: Int) {
            guard read.insert(slot).inserted, slot >= policy.facts.count, slot < policy.facts.count + policy.values.count else { return }
            switch policy.values[slot - policy.facts.count].rule {
            case .expression(let e): e.slots.forEach(mark)
            case .table(let input, _): mark(input)
            case .cases(let cases): cases.compactMap(\.condition).flatMap(\.slots).forEach(mark)
            case .grid(let grid): mark(grid.rows.input); mark(grid.columns.input)
            }
        }
        for duty in policy.duties {
            duty.condition?.slots.forEach(mark)
            for part in duty.clock?.parts ?? [] { if case .fact(let s) = part { mark(s) } }
        }
        policy.constraints.flatMap(\.rule.slots).forEach(mark)
        policy.roles.flatMap(\.standInConditions).flatMap(\.condition.slots).forEach(mark)
        policy.values.indices.forEach { mark(policy.facts.count + $0) }
        return policy.facts.indices.filter {
            !read.contains($0) && !policy.facts[$0].anonymisesReporter && policy.facts[$0].type != .datetime
        }
    }

    @Test("answering a fact nothing reads changes no duty")
    func unrelatedFact() async {
        await propertyCheck(count: 300, input: Self.policyIndex, Self.seeds, Self.eventLists, Self.minutes) { p, seed, events, minute in
            let policy = Self.policies[p]
            let unrelated = Self.unrelatedFacts(policy)
            guard !unrelated.isEmpty else { return }
            let file = Self.incident(policy, seed: seed, events: events, withFacts: true)
            var more = file
            var g = SplitMix64(seed: UInt64(seed) &+ 2)
            let slot = unrelated[seed % unrelated.count]
            more.facts.removeAll { $0.slot == slot }
            let value = ProgramTests.randomState(policy, &g).slots[slot]
            more.facts.append(FactAssignment(slot: slot, value: value.isKnown ? value : .bool(true)))
            let at: Instant = 1_793_611_440_000 + Int64(minute) * 60_000
            let engine = Engine(policy: policy)
            let a = engine.evaluate(file, at: at), b = engine.evaluate(more, at: at)
            #expect(zip(a.duties, b.duties).allSatisfy { $0.state == $1.state && $0.deadline == $1.deadline },
                    "policy \(policy.id): fact \(policy.facts[slot].id) changed a duty")
        }
    }

    /// Findings about the duty itself: an event's finding (an action by a stand-in whose
    /// condition is unanswered is `undetermined` while the duty counts as done) is about
    /// how the action was taken, and keeps the audit from passing.
    @Test("a duty that is done or does not apply is never reported missing, open, undetermined or with an unknown clock")
    func settledNeverOwed() async {
        await propertyCheck(count: 300, input: Self.policyIndex, Self.seeds, Self.eventLists, Self.minutes) { p, seed, events, minute in
            let policy = Self.policies[p]
            let file = Self.incident(policy, seed: seed, events: events, withFacts: true)
            let report = Engine(policy: policy).audit(file, at: 1_793_611_440_000 + Int64(minute) * 60_000)
            let owed: Set<Finding.Kind> = [.missing, .open, .undetermined, .clockUnknown]
            for finding in report.findings where owed.contains(finding.kind) && finding.event == nil {
                guard let d = finding.duty else { continue }
                let state = report.evaluation.duties[d].state
                #expect(state != .done && state != .notApplicable,
                        "policy \(policy.id): \(finding.kind.rawValue) for duty \(policy.duties[d].id), which is \(state.rawValue)")
            }
        }
    }

    @Test("a deadline across clock changes is the same instant through the zone table and through Foundation")
    func zoneTable() async {
        let zones = ["Europe/London", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "Europe/Dublin"]
        let clocks = zones.map { ZoneClock(identifier: $0)! }
        let tabled = clocks.map { ZoneClock(identifier: $0.identifier, table: $0.tableForWindow()) }
        await propertyCheck(count: 500, input: Gen.int(in: 0...(zones.count - 1)), Gen.int(in: 0...(60 * 365 * 24 * 60)),
                            Gen.int(in: 0...400), Gen.int(in: 0...2)) { z, minute, hours, months in
            let start: Instant = 946_684_800_000 + Int64(minute) * 60_000   // from 2000
            let duration = ISODuration(months: months, days: hours % 9, hours: hours)
            #expect(clocks[z].add(duration, to: start) == tabled[z].add(duration, to: start), "\(zones[z]) from \(Timestamp.format(start))")
            #expect(clocks[z].endOfDay(start) == tabled[z].endOfDay(start))
            #expect(clocks[z].offset(at: start) == tabled[z].offset(at: start))
        }
    }
}
