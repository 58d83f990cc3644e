import RulebookTestSupport
import Testing

@testable import RulebookCore

/// A scope with a few typed facts in fixed slots.
struct TestScope: ExpressionScope {
    static let severity = EnumDomain(owner: "severity", options: ["minor", "major", "critical"].map { .init(id: $0, title: $0) })
    static let factors = EnumDomain(owner: "factors", options: [
        .init(id: "low", title: "low", weight: -1), .init(id: "medium", title: "medium", weight: 0),
        .init(id: "high", title: "high", weight: 1), .init(id: "distress", title: "distress", weight: 1),
    ])
    static let names: [String: (Int, ValueType)] = [
        "a": (0, .bool), "b": (1, .bool), "people": (2, .int), "severity": (3, .option(severity)),
        "factors": (4, .options(factors)), "discovered_at": (5, .datetime), "note": (6, .text),
    ]

    func binding(of name: String) -> NameBinding? { Self.names[name].map { .slot($0.0, $0.1) } }
    func action(named name: String) -> Int? { name == "report" ? 0 : nil }
    var allNames: [String] { Array(Self.names.keys) }
    var allActions: [String] { ["report"] }
    /// `people` is 0–1,000; `score` (slot 7) is 1–5.
    func range(ofSlot slot: Int) -> IntRange { slot == 2 ? IntRange(0, 1000) : slot == 7 ? IntRange(1, 5) : .unbounded }
    /// `late(notify)` is slot 8, `time_of(report)` slot 9.
    func probe(_ kind: ProbeKind, _ name: String) -> Int? {
        switch (kind, name) {
        case (.late, "notify"): return 8
        case (.done, "notify"): return 10
        case (.deadline, "notify"): return 11
        case (.timeOf, "report"): return 9
        default: return nil
        }
    }
    var allDuties: [String] { ["notify"] }
    var clock: ZoneClock? { ZoneClock(identifier: "Europe/London") }
}

struct Inputs: EvaluationInputs {
    var slots: [Value] = Array(repeating: .unknown, count: 12)
    var reported = false
    func value(at slot: Int) -> Value { slots[slot] }
    func hasOccurred(_ action: Int) -> Bool { reported }
}

private func compile(_ text: String, _ type: ValueType? = nil) throws -> CompiledExpression {
    try ExpressionCompiler(scope: TestScope()).compile(text, expecting: type)
}

private func evaluate(_ text: String, _ inputs: Inputs) throws -> Value {
    try compile(text).expr.evaluate(inputs)
}

@Suite("Expressions: three-valued logic")
struct KleeneTests {
    static let truth: [Value] = [.bool(true), .bool(false), .unknown]

    @Test("&& and || follow Kleene's tables; ! keeps unknown", arguments: truth, truth)
    func tables(_ x: Value, _ y: Value) throws {
        var inputs = Inputs()
        inputs.slots[0] = x
        inputs.slots[1] = y
        let and = try evaluate("a && b", inputs)
        let or = try evaluate("a || b", inputs)
        switch (x, y) {
        case (.bool(false), _), (_, .bool(false)): #expect(and == .bool(false))
        case (.bool(true), .bool(true)): #expect(and == .bool(true))
        default: #expect(and == .unknown)
        }
        switch (x, y) {
        case (.bool(true), _), (_, .bool(true)): #expect(or == .bool(true))
        case (.bool(false), .bool(false)): #expect(or == .bool(false))
        default: #expect(or == .unknown)
        }
        let not = try evaluate("!a", inputs)
        if case .bool(let b) = x { #expect(not == .bool(!b)) } else { #expect(not == .unknown) }
    }

    @Test("unknown propagates through comparisons, arithmetic and membership; known() never is unknown")
    func propagation() throws {
        let inputs = Inputs()
        for text in ["people > 3", "people + 1 == 2", "severity == \"major\"", "severity in [\"major\", \"critical\"]",
                     "\"high\" in factors", "sum(factors) >= 1", "count(factors) == 0", "any(factors, [\"high\"])"] {
            #expect(try evaluate(text, inputs) == .unknown, "\(text)")
        }
        #expect(try evaluate("known(people)", inputs) == .bool(false))
        #expect(try evaluate("!known(people) || people > 3", inputs) == .bool(true))
        #expect(try evaluate("occurred(report)", inputs) == .bool(false))
    }
}

@Suite("Expressions: evaluation")
struct EvaluationTests {
    var inputs: Inputs {
        var i = Inputs()
        i.slots = [.bool(true), .bool(false), .int(292), .option(1), .options(0b1101), .time(1_000), .text("x")]
        i.reported = true
        return i
    }

    @Test("arithmetic, comparisons, options, sets and functions", arguments: [
        ("people - 92 == 200", Value.bool(true)),
        ("-people < 0", .bool(true)),
        ("people >= 292 && people <= 292", .bool(true)),
        ("severity == \"major\"", .bool(true)),
        ("\"major\" == severity", .bool(true)),
        ("severity != \"minor\"", .bool(true)),
        ("severity in [\"major\", \"critical\"]", .bool(true)),
        ("people in [1, 292]", .bool(true)),
        ("\"medium\" in factors", .bool(false)),
        ("\"high\" in factors", .bool(true)),
        ("sum(factors)", .int(1)),  // low -1, high +1, distress +1
        ("count(factors)", .int(3)),
        ("any(factors, [\"medium\", \"low\"])", .bool(true)),
        ("all(factors, [\"high\", \"medium\"])", .bool(false)),
        ("min(people, 10) + max(1, 2)", .int(12)),
        ("occurred(report) && known(note)", .bool(true)),
        ("note == \"x\"", .bool(true)),
        ("discovered_at < \"2026-01-01T00:00:00Z\"", .bool(true)),
        ("(a || b) && !(b)", .bool(true)),
    ])
    func values(_ text: String, _ expected: Value) throws {
        #expect(try evaluate(text, inputs) == expected, "\(text)")
    }

    @Test("integer overflow gives unknown, not a crash")
    func overflow() throws {
        var i = inputs
        i.slots[2] = .int(.max)
        #expect(try evaluate("people + 1", i) == .unknown)
        i.slots[2] = .int(.min)
        #expect(try evaluate("-people", i) == .unknown)
        #expect(try evaluate("people - 1", i) == .unknown)
    }

    @Test("types and referenced slots are inferred")
    func types() throws {
        #expect(try compile("people + 1").type == .int)
        #expect(try compile("severity == \"major\"").type == .bool)
        #expect(try compile("severity").type == .option(TestScope.severity))
        #expect(try compile("a && people > 2 && severity == \"major\"").slots == [0, 2, 3])
    }

    @Test("undecided inputs: only those that could still decide the result")
    func undecided() throws {
        var i = Inputs()
        i.slots[0] = .bool(false)
        var out: [Int] = []
        // `a` is false, so the conjunction is decided: nothing to ask.
        try compile("a && people > 3").expr.undecidedInputs(i, into: &out) { s, list in list.append(s) }
        #expect(out.isEmpty)
        try compile("a || people > 3 || severity == \"major\"").expr.undecidedInputs(i, into: &out) { s, list in list.append(s) }
        #expect(out == [2, 3])
    }
}

@Suite("Expressions: errors point at the token")
struct ExpressionErrorTests {
    /// Each case marks where the error must be with 1️⃣ (and, for a range end, 2️⃣).
    @Test("syntax and type errors", arguments: [
        ("people + 1️⃣a2️⃣", "'+' works on integers; this is a bool"),
        ("1️⃣peopel2️⃣ > 3", "unknown name 'peopel'"),
        ("severity == 1️⃣\"majr\"2️⃣", "'majr' is not an option of severity"),
        ("1️⃣\"hgih\"2️⃣ in factors", "'hgih' is not an option of factors"),
        ("people 1️⃣=2️⃣ 3", "unexpected character '='"),
        ("1 1️⃣< people <2️⃣ 10", "comparisons cannot be chained"),
        ("1️⃣total(people)2️⃣", "unknown function 'total'"),
        ("sum(1️⃣people2️⃣)", "sum() needs a set of options; this is an integer"),
        ("a && 1️⃣2️⃣", "the expression ends too early"),
        ("(a || b1️⃣2️⃣", "expected ')'"),
        ("a 1️⃣and2️⃣ b", "unexpected name 'and' after the end of the expression"),
        ("1️⃣people2️⃣ && a", "'&&' joins conditions; this is an integer"),
        ("severity in [1️⃣3️⃣2️⃣]", "the list after 'in' must hold literals of an option of severity"),
        ("1️⃣\"unterminated2️⃣", "string is not closed"),
        ("occurred(1️⃣reprot2️⃣)", "unknown action 'reprot'"),
        ("1️⃣a < 32️⃣", "'<' compares two integers, two datetimes or two durations, not a bool and an integer"),
    ])
    func located(_ source: String, _ message: String) throws {
        let marked = MarkedText(source.replacingOccurrences(of: "3️⃣", with: "3"))
        do {
            _ = try ExpressionCompiler(scope: TestScope()).compile(marked.text)
            Issue.record("expected an error for \(marked.text)")
        } catch {
            #expect(error.message == message)
            #expect(error.range.start == marked["1️⃣"].column - 1, "start for \(marked.text)")
            if let end = marked.markers["2️⃣"], !message.contains("chained"), !message.contains("after the end") {
                #expect(error.range.end == end.column - 1, "end for \(marked.text)")
            }
        }
    }

    @Test("a condition must be a condition")
    func expectedType() {
        #expect(throws: ExpressionError.self) { try compile("people + 1", .bool) }
    }

    @Test("did-you-mean hints", arguments: [
        ("severity == \"majr\"", "did you mean 'major'?"),
        ("peopel > 1", "did you mean 'people'?"),
        ("cuont(factors)", "did you mean 'count'?"),
    ])
    func hints(_ text: String, _ hint: String) {
        do {
            _ = try ExpressionCompiler(scope: TestScope()).compile(text)
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.hint == hint)
        }
    }
}
