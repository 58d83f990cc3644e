import Foundation
import RulebookDiagnostics
import RulebookTestSupport
import RulebookYAML
import Testing

@testable import RulebookCore

/// The shipped England and Wales calendar.
let englandAndWales: PolicySource = {
    let url = RulebookBinary.packageRoot.appendingPathComponent("Policies/calendars/england-and-wales.yaml")
    return PolicySource(file: url.path, bytes: Array((try? Data(contentsOf: url)) ?? Data()))
}()

/// Compiles policy text with the England and Wales calendar available.
func compileWithCalendar(_ text: String, id: String) -> CompileResult {
    let library = PolicyLibrary()
    library.addCalendar(englandAndWales)
    library.add(PolicySource(file: "\(id).yaml", text: text))
    return PolicyCompiler.compile(id: id, library: library)
}

/// The language fixture (arithmetic, grids, dates, duty questions, working days).
let languagePolicy: Policy = {
    let url = Fixtures.url("policies/language/language.yaml")
    let result = compileWithCalendar(String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self), id: "language")
    guard let policy = result.policy else { fatalError(Fixtures.describe(result.diagnostics)) }
    return policy
}()

private func language(_ yaml: String) throws -> CaseFile { try incident(yaml, policy: languagePolicy) }

private func value(_ e: Evaluation, _ id: String) -> Value { e.values.slots[e.policy.valueSlot(of: id)!] }

@Suite("Language: arithmetic")
struct ArithmeticTests {
    private func evaluate(_ text: String, _ inputs: Inputs = Inputs()) throws -> Value {
        try ExpressionCompiler(scope: TestScope()).compile(text).expr.evaluate(inputs)
    }

    @Test("multiplication, division towards zero and the remainder's sign")
    func operators() throws {
        var inputs = Inputs()
        inputs.slots[2] = .int(7)
        #expect(try evaluate("people * 3", inputs) == .int(21))
        #expect(try evaluate("people / 2", inputs) == .int(3))
        #expect(try evaluate("-people / 2", inputs) == .int(-3))
        #expect(try evaluate("-people % 2", inputs) == .int(-1))
        #expect(try evaluate("1 + people * 2 - 4 / 2", inputs) == .int(13))   // * and / bind tighter
        #expect(try evaluate("(1 + people) * 2", inputs) == .int(16))
        #expect(try evaluate("people * 3") == .unknown)                        // unknown in, unknown out
    }

    @Test("an overflow or a zero divisor is unknown, never a trap or a wrong number")
    func overflow() throws {
        var inputs = Inputs()
        inputs.slots[2] = .int(Int.max / 2 + 1)
        #expect(try evaluate("people * 2", inputs) == .unknown)
        #expect(try evaluate("people * people", inputs) == .unknown)
        inputs.slots[2] = .int(0)
        #expect(try evaluate("7 / people", inputs) == .unknown)
        #expect(try evaluate("7 % people", inputs) == .unknown)
        inputs.slots[2] = .int(Int.min)
        #expect(try evaluate("people / -1", inputs) == .unknown)
        #expect(try evaluate("-people", inputs) == .unknown)
    }

    @Test("max and min are known when a known argument is at the other's bound")
    func bounds() throws {
        // people is 0–1,000 in the test scope.
        #expect(try evaluate("max(people, 1000)") == .int(1000))
        #expect(try evaluate("max(1000, people)") == .int(1000))
        #expect(try evaluate("max(people, 999)") == .unknown)
        #expect(try evaluate("min(people, 0)") == .int(0))
        #expect(try evaluate("min(people, 1)") == .unknown)
    }

    @Test("* / % work on integers only, with the error at the operand")
    func types() throws {
        #expect(throws: ExpressionError.self) { try ExpressionCompiler(scope: TestScope()).compile("a * 2") }
        #expect(throws: ExpressionError.self) { try ExpressionCompiler(scope: TestScope()).compile("discovered_at % 2") }
    }
}

@Suite("Language: dates and questions about actions and duties")
struct DateArithmeticTests {
    private func evaluate(_ text: String, _ inputs: Inputs) throws -> Value {
        try ExpressionCompiler(scope: TestScope()).compile(text).expr.evaluate(inputs)
    }

    @Test("datetime ± duration in the zone, and the time between two datetimes")
    func shifts() throws {
        var inputs = Inputs()
        inputs.slots[5] = .time(t("2026-03-28T12:00:00Z"))
        #expect(try evaluate("discovered_at + \"PT72H\"", inputs) == .time(t("2026-03-31T12:00:00Z")))
        // P1D is a calendar day: across the spring change it is 23 hours.
        #expect(try evaluate("discovered_at + \"P1D\"", inputs) == .time(t("2026-03-29T11:00:00Z")))
        #expect(try evaluate("discovered_at - \"PT2H\"", inputs) == .time(t("2026-03-28T10:00:00Z")))
        inputs.slots[9] = .time(t("2026-03-31T13:00:00Z"))   // time_of(report)
        #expect(try evaluate("time_of(report) - discovered_at > \"PT72H\"", inputs) == .bool(true))
        #expect(try evaluate("time_of(report) - discovered_at <= \"PT73H\"", inputs) == .bool(true))
        #expect(try evaluate("time_of(report) > discovered_at + \"P3D\"", inputs) == .bool(true))
        inputs.slots[9] = .unknown
        #expect(try evaluate("time_of(report) - discovered_at > \"PT72H\"", inputs) == .unknown)
    }

    @Test("a calendar duration compared with an elapsed time is refused, with the fix")
    func calendarDurationRefused() throws {
        do {
            _ = try ExpressionCompiler(scope: TestScope()).compile("time_of(report) - discovered_at > \"P3D\"")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("calendar parts"))
            #expect(error.hint?.contains("PT72H") == true)
        }
        #expect(throws: ExpressionError.self) { try ExpressionCompiler(scope: TestScope()).compile("discovered_at + discovered_at") }
        #expect(throws: ExpressionError.self) { try ExpressionCompiler(scope: TestScope()).compile("discovered_at + 3") }
        #expect(throws: ExpressionError.self) { try ExpressionCompiler(scope: TestScope()).compile("late(nobody)") }
        #expect(throws: ExpressionError.self) { try ExpressionCompiler(scope: TestScope()).compile("time_of(notify)") }
    }

    @Test("late(duty): true when notified after 72 hours, false in time, unknown while awareness is unanswered")
    func lateDuty() throws {
        let engine = Engine(policy: languagePolicy)
        let late = try language("""
            facts: {aware_at: 2026-11-02T09:00:00Z}
            events: [{at: 2026-11-05T10:00:00Z, action: notify, by: dpo}]
            """)
        var e = engine.evaluate(late, at: t("2026-11-05T11:00:00Z"))
        #expect(e.state("notify_regulator") == .doneLate)
        #expect(e.state("reasons") == .due)
        #expect(value(e, "in_time") == .bool(false))
        #expect(value(e, "notify_by") == .time(t("2026-11-05T09:00:00Z")))

        let inTime = try language("""
            facts: {aware_at: 2026-11-02T09:00:00Z}
            events: [{at: 2026-11-04T10:00:00Z, action: notify, by: dpo}]
            """)
        e = engine.evaluate(inTime, at: t("2026-11-06T11:00:00Z"))
        #expect(e.state("reasons") == .notApplicable)
        #expect(value(e, "in_time") == .bool(true))

        // Not notified: not late before the deadline, late after it.
        let silent = try language("facts: {aware_at: 2026-11-02T09:00:00Z}")
        #expect(engine.evaluate(silent, at: t("2026-11-05T08:59:00Z")).state("reasons") == .notApplicable)
        #expect(engine.evaluate(silent, at: t("2026-11-05T09:01:00Z")).state("reasons") == .due)

        // Awareness unanswered: whether the notification is late cannot be known.
        let unknown = try language("events: [{at: 2026-11-05T10:00:00Z, action: notify, by: dpo}]")
        e = engine.evaluate(unknown, at: t("2026-11-05T11:00:00Z"))
        #expect(e.state("reasons") == .unknown)
        #expect(e.questions.map { languagePolicy.slotID($0.fact) }.contains("aware_at"))
    }

    @Test("a value or condition that a duty it asks about needs is a cycle, reported at validation")
    func cycle() throws {
        let text = """
            id: cyclic
            title: Cyclic
            organisation: O
            time_zone: Europe/London
            roles: {dpo: {title: DPO, assumption: a}}
            facts: {aware_at: {type: datetime, question: When?, assumption: a}}
            values: {behind: {expr: late(notify), assumption: a}}
            actions: {tell: {title: Tell, roles: [dpo]}}
            duties:
              notify: {title: Notify, role: dpo, action: tell, when: "!behind", from: {fact: aware_at}, within: PT72H, assumption: a}
            """
        let result = compileWithCalendar(text, id: "cyclic")
        #expect(result.policy == nil)
        #expect(result.diagnostics.contains { $0.code == "cycle" && $0.message.contains("value 'behind'") && $0.message.contains("duty 'notify'") })
    }
}

@Suite("Language: decision grids")
struct GridTests {
    @Test("a grid cell is found by its row band and its column, and explained by them")
    func lookup() throws {
        let engine = Engine(policy: languagePolicy)
        let file = try language("facts: {aware_at: 2026-11-02T09:00:00Z, likelihood: 4, severity: 5, impact: critical}")
        let e = engine.evaluate(file, at: t("2026-11-02T10:00:00Z"))
        #expect(value(e, "risk").display(languagePolicy.value("risk")!.type) == "extreme")
        #expect(value(e, "score") == .int(20))
        #expect(value(e, "band").display(languagePolicy.value("band")!.type) == "high")
        #expect(value(e, "half") == .int(10))
        #expect(e.state("escalate") == .due)
        let step = e.explain(valueAt: languagePolicy.values.firstIndex { $0.id == "risk" }!)
        #expect(step.because.contains("row 'likely' (4–5)"))
        #expect(step.because.contains("column 'critical'"))
        #expect(!step.because.contains("minor"))
        // One input unknown: the cell is unknown and the question is that input.
        let partial = engine.evaluate(try language("facts: {aware_at: 2026-11-02T09:00:00Z, likelihood: 4}"), at: t("2026-11-02T10:00:00Z"))
        #expect(value(partial, "risk") == .unknown)
        let asked = partial.questions.map { languagePolicy.slotID($0.fact) }
        #expect(asked.contains("impact") && !asked.contains("likelihood"))
    }

    @Test("max is known while its other argument is unknown, when the known one is at the other's maximum")
    func knownBound() throws {
        let engine = Engine(policy: languagePolicy)
        var e = engine.evaluate(try language("facts: {severity: 5}"), at: t("2026-11-02T10:00:00Z"))
        #expect(value(e, "peak") == .int(5))
        var blocking: [Int] = []
        languagePolicy.undecidedFacts(of: languagePolicy.valueSlot(of: "peak")!, e.values, into: &blocking)
        #expect(blocking.isEmpty)
        e = engine.evaluate(try language("facts: {severity: 2}"), at: t("2026-11-02T10:00:00Z"))
        #expect(value(e, "peak") == .unknown)
    }

    @Test("a 5x5 grid validates complete; a missing cell and overlapping bands are errors at their place")
    func validation() throws {
        func policy(rows: String, cells: String) -> String {
            """
            id: grid
            title: Grid
            organisation: O
            time_zone: Europe/London
            facts:
              likelihood: {type: integer, min: 1, max: 5, question: How likely?, assumption: a}
              severity: {type: integer, min: 1, max: 5, question: How severe?, assumption: a}
            values:
              risk:
                grid:
                  rows: {input: likelihood, bands: [\(rows)]}
                  columns: {input: severity, bands: [{to: 1}, {from: 2, to: 2}, {from: 3, to: 3}, {from: 4, to: 4}, {from: 5}]}
                  cells:
            \(cells)
                assumption: a
            """
        }
        let fiveRows = "{from: 1, to: 1}, {from: 2, to: 2}, {from: 3, to: 3}, {from: 4, to: 4}, {from: 5, to: 5}"
        let full = (1...5).map { r in "          - [" + (1...5).map { c in String(r * c) }.joined(separator: ", ") + "]" }.joined(separator: "\n")
        let complete = compileWithCalendar(policy(rows: fiveRows, cells: full), id: "grid")
        #expect(complete.diagnostics.filter { $0.severity != .note }.isEmpty, "\(Fixtures.describe(complete.diagnostics))")
        #expect(complete.policy?.range(ofSlot: complete.policy!.valueSlot(of: "risk")!) == IntRange(1, 25))

        var missing = full.split(separator: "\n").map(String.init)
        missing[2] = "          - [3, 6, 9, 12]"
        let short = compileWithCalendar(policy(rows: fiveRows, cells: missing.joined(separator: "\n")), id: "grid")
        let shape = try #require(short.diagnostics.first { $0.code == "grid-shape" })
        #expect(shape.message.contains("row 3") && shape.message.contains("a cell is missing"))
        #expect(shape.span?.start.line == 16)

        let overlapping = compileWithCalendar(
            policy(rows: "{from: 1, to: 2}, {from: 2, to: 3}, {from: 4, to: 4}, {from: 5, to: 5}, {from: 5, to: 5}", cells: full), id: "grid")
        let overlap = overlapping.diagnostics.filter { $0.code == "table-overlap" }
        #expect(overlap.count == 2)
        #expect(overlap.first?.span?.start.line == 11)

        let gap = compileWithCalendar(
            policy(rows: "{from: 1, to: 1}, {from: 3, to: 3}, {from: 4, to: 4}, {from: 5, to: 5}, {from: 6}", cells: full), id: "grid")
        #expect(gap.diagnostics.contains { $0.code == "table-gap" && $0.message.contains("nothing covers 2") })
    }

    @Test("a table over a product needs bands only over what the product can be")
    func derivedDomain() throws {
        // The language fixture's `band` covers 1–25 only, and validates with no warning.
        let library = PolicyLibrary()
        library.addCalendar(englandAndWales)
        let url = Fixtures.url("policies/language/language.yaml")
        library.add(PolicySource(file: url.path, bytes: Array(try Data(contentsOf: url))))
        let result = PolicyCompiler.compile(id: "language", library: library, options: CompileOptions(today: fixtureToday))
        #expect(result.diagnostics.filter { $0.severity != .note }.isEmpty, "\(Fixtures.describe(result.diagnostics))")
        #expect(languagePolicy.range(ofSlot: languagePolicy.valueSlot(of: "score")!) == IntRange(1, 25))
    }
}

@Suite("Language: working days")
struct WorkingDayTests {
    let engine = Engine(policy: languagePolicy)

    private func deadline(_ duty: String, from aware: String) throws -> Instant? {
        engine.evaluate(try language("facts: {aware_at: \(aware)}"), at: t(aware)).deadline(duty)
    }

    @Test("two working days after 10:00 on Thursday 24 December 2026 is 10:00 on Wednesday 30 December")
    func christmas() throws {
        #expect(try deadline("brief_board", from: "2026-12-24T10:00:00Z") == t("2026-12-30T10:00:00Z"))
        let file = try language("facts: {aware_at: 2026-12-24T10:00:00Z}")
        #expect(engine.evaluate(file, at: t("2026-12-30T09:59:00Z")).state("brief_board") == .due)
        #expect(engine.evaluate(file, at: t("2026-12-30T10:01:00Z")).state("brief_board") == .overdue)
    }

    @Test("over a weekend, from a weekend, and in summer time")
    func weekends() throws {
        // Friday 15:00 -> Tuesday 15:00.
        #expect(try deadline("brief_board", from: "2026-11-06T15:00:00Z") == t("2026-11-10T15:00:00Z"))
        // Saturday counts from Monday's beginning: Wednesday 00:00.
        #expect(try deadline("brief_board", from: "2026-11-07T11:00:00Z") == t("2026-11-11T00:00:00Z"))
        // 10:00 BST on Friday 22 May 2026 -> 10:00 BST on Wednesday 27 May (Monday 25 is the Spring bank holiday).
        #expect(try deadline("brief_board", from: "2026-05-22T09:00:00Z") == t("2026-05-27T09:00:00Z"))
    }

    @Test("the end of the next working day")
    func nextWorkingDay() throws {
        let file = try language("facts: {aware_at: 2026-12-24T10:00:00Z, likelihood: 5, impact: critical}")
        // The next working day after Thursday 24 December is Tuesday 29 December.
        #expect(engine.evaluate(file, at: t("2026-12-24T11:00:00Z")).deadline("escalate") == t("2026-12-30T00:00:00Z"))
    }

    @Test("a deadline past the calendar's end is an error naming the day, and the audit never passes")
    func exhausted() throws {
        let file = try language("""
            facts: {aware_at: 2030-12-31T10:00:00Z}
            events: [{at: 2031-01-01T09:00:00Z, action: brief, by: dpo}]
            """)
        let e = engine.evaluate(file, at: t("2031-01-02T10:00:00Z"))
        #expect(e.deadline("brief_board") == nil)
        let problem = try #require(e.calendarProblem)
        #expect(problem.contains("2031-01-01"))
        #expect(problem.contains("england-and-wales"))
        #expect(problem.contains("england-and-wales.yaml"))
        let audit = engine.audit(file, at: t("2031-01-02T10:00:00Z"))
        #expect(audit.verdict != .compliant && audit.verdict != .compliantSoFar)
    }

    @Test("working days without a calendar, or an unknown calendar, are errors with the fix")
    func noCalendar() throws {
        let base = """
            id: nocal
            title: No calendar
            organisation: O
            time_zone: Europe/London
            roles: {dpo: {title: DPO, assumption: a}}
            facts: {aware_at: {type: datetime, question: When?, assumption: a}}
            actions: {tell: {title: Tell, roles: [dpo]}}
            duties:
              notify: {title: Notify, role: dpo, action: tell, from: {fact: aware_at}, within: {working_days: 2}, assumption: a}
            """
        let missing = compileWithCalendar(base, id: "nocal")
        #expect(missing.diagnostics.contains { $0.message.contains("names no working-day calendar") && $0.hint?.contains("england-and-wales") == true })
        let unknown = compileWithCalendar(base + "\ncalendar: england-and-wale\n", id: "nocal")
        #expect(unknown.diagnostics.contains { $0.message.contains("no working-day calendar 'england-and-wale'") && $0.hint?.contains("england-and-wales") == true })
    }

    @Test("the shipped calendar: 2018-2030, 8 bank holidays a year but 2022 and 2023, none at a weekend")
    func shippedCalendar() throws {
        let calendar = try #require(languagePolicy.clock.calendar)
        #expect(Timestamp.formatDate(calendar.firstDay) == "2018-01-01")
        #expect(Timestamp.formatDate(calendar.lastDay) == "2030-12-31")
        for year in 2018...2030 {
            let count = calendar.holidays.count { Timestamp.formatDate($0).hasPrefix("\(year)-") }
            #expect(count == (year == 2022 ? 10 : year == 2023 ? 9 : 8), "\(year)")
        }
        #expect(calendar.holidays.allSatisfy { WorkingCalendar.weekday(of: $0) < 5 })
        #expect(calendar.holiday(on: Timestamp.parseDate("2026-12-28")!) == "Boxing Day (substitute day)")
        #expect(calendar.isWorkingDay(Timestamp.parseDate("2026-12-29")!) == true)
        #expect(calendar.isWorkingDay(Timestamp.parseDate("2031-01-01")!) == nil)
    }
}

@Suite("Show: sections")
struct SectionPlacementTests {
    @Test("a citation falls under the longest outline clause it starts with")
    func longestPrefix() {
        #expect(languagePolicy.outlineSection(for: "33(1)") == "33(1)")
        #expect(languagePolicy.outlineSection(for: "33(2)") == "33")
        #expect(languagePolicy.outlineSection(for: "33") == "33")
        #expect(languagePolicy.outlineSection(for: "1.2; 33") == "1")
        #expect(languagePolicy.outlineSection(for: "3") == "3")          // not under 33
        #expect(languagePolicy.outlineSection(for: "330") == "330")      // nor 33 under 330
        let markdown = PolicyMarkdown(policy: languagePolicy).render()
        let notify = try? #require(markdown.range(of: "must notify the regulator"))
        let heading = try? #require(markdown.range(of: "## 33(1). Within 72 hours"))
        #expect(notify.map { n in heading.map { $0.lowerBound < n.lowerBound } ?? false } == true)
    }

    @Test("validate warns when a duty's clause falls under no section")
    func noSection() {
        let text = """
            id: sections
            title: Sections
            organisation: O
            time_zone: Europe/London
            layout: sections
            outline: [{clause: "1", title: One, text: Staff report incidents.}]
            roles: {staff: {title: Staff, clause: "1"}}
            actions: {report: {title: Report, roles: [staff]}}
            duties: {report: {title: Report, role: staff, action: report, clause: "1"}, other: {title: Other, role: staff, action: report, clause: "2"}}
            """
        let result = compileWithCalendar(text, id: "sections")
        #expect(result.diagnostics.contains { $0.code == "no-section" && $0.message.contains("'other'") })
        #expect(!result.diagnostics.contains { $0.code == "no-section" && $0.message.contains("'report'") })
    }
}

@Suite("Engine: findings of the property-based laws, kept as regressions")
struct LawRegressionTests {
    /// Found by "a later --at never undoes a done": a review taken before the notification
    /// it counts from was `done` until the notification came, then `due` again.
    @Test("an action taken before the moment a duty counts from does not discharge it, before or after that moment")
    func actionBeforeTrigger() throws {
        let engine = Engine(policy: enginePolicy)
        let file = try incident("""
            facts: {discovered_at: 2026-11-02T09:00:00Z, personal: true, severity: minor}
            events:
              - {at: 2026-11-02T09:10:00Z, action: report, by: staff}
              - {at: 2026-11-02T10:00:00Z, action: review, by: dpo}
              - {at: 2026-11-02T11:00:00Z, action: notify_dpo, by: lead}
            """)
        #expect(engine.evaluate(file, at: t("2026-11-02T10:30:00Z")).state("review") == .waiting)
        #expect(engine.evaluate(file, at: t("2026-11-02T11:30:00Z")).state("review") == .due)
        #expect(engine.audit(file, at: t("2026-11-02T10:30:00Z")).verdict != .compliant)
    }
}

@Suite("Validation: findings of the fuzzers, kept as regressions")
struct FuzzRegressionTests {
    /// Found by the `policy` fuzz target: a band open at the top followed by another
    /// band trapped on `to + 1` (an arithmetic overflow) while gaps were checked.
    @Test("an open-ended band before another is an overlap, not a crash")
    func openBandBeforeAnother() {
        let text = """
            id: bands
            title: Bands
            organisation: O
            time_zone: Europe/London
            facts:
              n: {type: integer, min: 0, max: 9223372036854775807, question: N?, assumption: a}
              m: {type: integer, min: 1, max: 5, question: M?, assumption: a}
            values:
              v:
                table: {input: n, bands: [{from: 0, value: 1}, {from: 5, to: 9223372036854775807, value: 2}]}
                assumption: a
              product: {expr: m * m, assumption: a}
              w:
                table: {input: product, bands: [{from: 1, value: 1}, {from: 30, value: 2}]}
                assumption: a
            """
        let result = compileWithCalendar(text, id: "bands")
        #expect(result.diagnostics.filter { $0.code == "table-overlap" }.count == 2, "\(Fixtures.describe(result.diagnostics))")
        #expect(result.diagnostics.contains { $0.code == "unreachable" && $0.message.contains("30 or more") })
    }

    /// Durations far beyond any calendar saturate or give unknown, never trap.
    @Test("a duration of a billion years is unknown in an expression and far away as a deadline")
    func hugeDurations() throws {
        let clock = try #require(ZoneClock(identifier: "Europe/London"))
        let start = t("2026-11-02T09:00:00Z")
        #expect(clock.add(ISODuration(years: 999_999_999), to: start) == .max)
        #expect(clock.add(ISODuration(years: 999_999_999).negated, to: start) == .min)
        #expect(clock.add(ISODuration(months: -25), to: start) == t("2024-10-02T08:00:00Z"))
        #expect(TimeShift(duration: ISODuration(years: 999_999_999).negated, clock: clock).apply(start) == .unknown)
        #expect(TimeShift(duration: ISODuration(hours: 999_999_999), clock: clock).apply(start) == .unknown)
    }
}

@Suite("Diff: what changed in meaning")
struct PolicyDiffTests {
    static let base: String = (try? String(contentsOf: Fixtures.url("policies/language/language.yaml"), encoding: .utf8)) ?? ""

    private func changes(_ edit: (String) -> String) throws -> [PolicyChange] {
        let old = try #require(compileWithCalendar(Self.base, id: "language").policy)
        let result = compileWithCalendar(edit(Self.base), id: "language")
        let new = try #require(result.policy, "\(Fixtures.describe(result.diagnostics))")
        return PolicyDiff.compare(old, new)
    }

    private func replacing(_ a: String, _ b: String) -> (String) -> String {
        { text in
            #expect(text.contains(a), "the fixture no longer has \(a)")
            return text.replacingOccurrences(of: a, with: b)
        }
    }

    @Test("a reformatting is no change: comments, spacing and parentheses in expressions, titles, questions")
    func noOp() throws {
        let edits = [
            replacing("expr: likelihood * severity", "expr: \"(likelihood*severity)\"   # a comment"),
            replacing("when: risk == \"extreme\"", "when: 'risk==\"extreme\"'"),
            replacing("title: Brief the board", "title: Brief the Board of Directors"),
            replacing("question: What is the impact?", "question: How bad is the impact?"),
            replacing("  - {from: 1, to: 6, value: low}", "  - {value: low, to: 6, from: 1}"),
        ]
        for edit in edits { #expect(try changes(edit).isEmpty) }
    }

    @Test("each kind of change is reported with its part, old and new, and its clause")
    func kinds() throws {
        let deadline = try changes(replacing("    within: PT72H", "    within: PT48H"))
        #expect(deadline == [PolicyChange(kind: .changed, section: "duty", id: "notify_regulator",
                                          details: ["deadline: within 72 hours → within 48 hours"], clause: "§33(1)")])
        let condition = try changes(replacing("when: risk == \"extreme\"", "when: risk == \"high\""))
        #expect(condition.first?.details == ["when: `(risk == \"extreme\")` → `(risk == \"high\")`"])
        let band = try changes(replacing("{from: 7, to: 14, value: medium}", "{from: 7, to: 14, value: high}"))
        #expect(band.first?.details == ["band 7–14: medium → high"])
        let cell = try changes(replacing("- [low, medium, high]", "- [low, medium, medium]"))
        #expect(cell.first?.details == ["cell 3 × critical: high → medium"])
        let working = try changes(replacing("within: {working_days: 2}", "within: {working_days: 3}"))
        #expect(working.first?.details == ["deadline: within 2 working days → within 3 working days"])
        let added = try changes { $0 + "  extra:\n    title: Extra\n    role: dpo\n    action: brief\n    clause: \"33\"\n" }
        #expect(added.map(\.kind) == [.added] && added.first?.id == "extra")
        let removed = try changes(replacing("  escalate:\n    title: Escalate an extreme risk\n    role: dpo\n    action: escalate\n    when: risk == \"extreme\"\n    from: {fact: aware_at}\n    within: next_working_day\n    clause: \"33\"\n", ""))
        #expect(removed.map(\.kind) == [.removed] && removed.first?.id == "escalate")
        let bounds = try changes(replacing("floor: {type: integer, min: 1, max: 3,", "floor: {type: integer, min: 1, max: 4,"))
        #expect(bounds.first?.details == ["max: 3 → 4"])
    }
}

@Suite("Timeline")
struct TimelineTests {
    @Test("the axis ticks are local midnights across the October clock change")
    func ticksAcrossClockChange() throws {
        let file = try incident("""
            facts: {discovered_at: 2026-10-22T09:00:00Z, personal: true, severity: minor}
            events: [{at: 2026-10-22T09:20:00Z, action: report, by: staff}]
            """)
        let evaluation = Engine(policy: enginePolicy).evaluate(file, at: t("2026-10-28T12:00:00Z"))
        let ticks = Timeline(evaluation: evaluation, file: file).ticks()
        #expect(ticks.count >= 5)
        for tick in ticks { #expect(enginePolicy.clock.localDay(of: tick).millisecond == 0, "\(Timestamp.format(tick))") }
        // 25 October 2026 was 25 hours long in London.
        let gaps = Set(zip(ticks, ticks.dropFirst()).map { $1 - $0 })
        #expect(gaps.contains(25 * 3_600_000) && gaps.contains(24 * 3_600_000))
    }
}
