import Foundation
import RulebookCore
import RulebookTestSupport

/// (h) What the newer constructs cost beside the ones they replace: a 5×5 decision grid
/// beside the same matrix written as 25 first-match cases, and a deadline in working
/// days beside one in hours and one at the end of the day. The policy is synthetic (it
/// stands for any organisation's risk matrix), compiled from the text below.
enum ConstructWorkloads {
    static func policyText(grid useGrid: Bool) -> String {
        let ratings = ["low", "moderate", "high", "extreme"]
        func rating(_ r: Int, _ c: Int) -> String { ratings[min(3, (r * c - 1) / 6)] }
        var cases = ""
        for r in 1...5 {
            for c in 1...5 {
                cases += "        - {when: \"likelihood == \(r) && severity == \(c)\", value: \(rating(r, c))}\n"
            }
        }
        let rows = (1...5).map { r in "        - [" + (1...5).map { rating(r, $0) }.joined(separator: ", ") + "]" }.joined(separator: "\n")
        let bands = "[{from: 1, to: 1}, {from: 2, to: 2}, {from: 3, to: 3}, {from: 4, to: 4}, {from: 5, to: 5}]"
        let grid = """
                grid:
                  rows: {input: likelihood, bands: \(bands)}
                  columns: {input: severity, bands: \(bands)}
                  cells:
            \(rows)

            """
        return """
            id: constructs
            title: Risk matrix
            organisation: Benchmark
            time_zone: Europe/London
            facts:
              likelihood: {type: integer, min: 1, max: 5, question: How likely?, assumption: synthetic}
              severity: {type: integer, min: 1, max: 5, question: How severe?, assumption: synthetic}
            values:
              rating:
            \(useGrid ? grid : "    cases:\n" + cases)    assumption: synthetic

            """
    }

    static func run(_ ctx: BenchContext) throws -> [BenchResult] {
        let count = 1 << 16
        var rng = SplitMix64(seed: ctx.seed)
        let pairs = (0..<count).map { _ in (Int(rng.next() % 5) + 1, Int(rng.next() % 5) + 1) }
        let passes = ctx.scale.pick(16, smoke: 1)
        var checksum = 0
        // The same matrix in two one-value policies: one a grid, one 25 cases.
        func derive(grid: Bool) throws -> [Double] {
            let library = PolicyLibrary()
            _ = library.add(PolicySource(file: "constructs.yaml", text: policyText(grid: grid)))
            let policy = try compile("constructs", library)
            let likelihood = policy.factSlot(of: "likelihood")!, severity = policy.factSlot(of: "severity")!
            let rating = policy.valueSlot(of: "rating")!
            var state = SlotValues(policy: policy)
            return measureRates(ctx.scale, units: count * passes) {
                for _ in 0..<passes {
                    for (l, s) in pairs {
                        state.slots[likelihood] = .int(l)
                        state.slots[severity] = .int(s)
                        policy.deriveValues(&state)
                        if case .option(let o) = state.slots[rating] { checksum &+= o }
                    }
                }
            }
        }
        let gridRates = try derive(grid: true)
        let caseRates = try derive(grid: false)
        let library = PolicyLibrary()
        let calendarPath = ctx.root + "/Policies/calendars/england-and-wales.yaml"
        _ = library.addCalendar(PolicySource(file: calendarPath, text: try readText(calendarPath)))
        _ = library.add(PolicySource(file: "constructs.yaml", text: policyText(grid: true)))
        let policy = try compile("constructs", library)
        // Deadlines from starts spread over 2026, at any time of day.
        let starts = (0..<count).map { _ in Instant(1_767_225_600_000) + Int64(rng.next() % (365 * 86_400)) * 1000 }
        var clock = policy.clock
        clock = clock.with(calendar: library.calendars["england-and-wales"])
        func deadlines(_ rule: DeadlineRule) -> [Double] {
            measureRates(ctx.scale, units: count * passes) {
                for _ in 0..<passes {
                    for start in starts { checksum &+= Int(truncatingIfNeeded: rule.deadline(from: start, in: clock) ?? 0) }
                }
            }
        }
        let working = deadlines(.workingDays(2))
        let hours = deadlines(.after(ISODuration(hours: 48)))
        let days = deadlines(.after(ISODuration(days: 2)))
        blackHole(checksum)
        func result(_ id: String, _ title: String, _ unit: String, _ rates: [Double], _ notes: [String] = []) -> BenchResult {
            BenchResult(id: id, title: title, unit: unit, runs: rates, stats: Stats(rates), target: nil, higherIsBetter: true,
                        peakRSSKiB: peakRSSKiB(), notes: notes)
        }
        return [
            result("constructs/grid", "(h) a 5×5 decision grid, the policy's one value", "derivations/s", gridRates),
            result("constructs/cases", "(h) the same matrix as 25 first-match cases", "derivations/s", caseRates,
                   ["the grid is \(formatFigure(Stats(gridRates).median / Stats(caseRates).median))× the cases"]),
            result("constructs/working-days", "(h) a deadline 2 working days on (England and Wales)", "deadlines/s", working),
            result("constructs/hours", "(h) a deadline 48 hours on", "deadlines/s", hours),
            result("constructs/days", "(h) a deadline 2 calendar days on (local)", "deadlines/s", days,
                   ["working days cost \(formatFigure(Stats(days).median / Stats(working).median))× calendar days"]),
        ]
    }
}
