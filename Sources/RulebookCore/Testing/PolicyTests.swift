import RulebookDiagnostics
import RulebookYAML

/// The outcome of one policy test case.
public struct PolicyTestOutcome: Sendable {
    /// The test's name.
    public var name: String
    /// The clause it checks.
    public var clause: String?
    /// Where the test is.
    public var span: SourceSpan
    /// What did not match, one line each (`values.category: expected 2, got 1 at ...`).
    public var failures: [String]

    /// True when everything matched.
    public var passed: Bool { failures.isEmpty }
}

/// Runs the test cases of a policy test file:
///
/// ```yaml
/// policy: my-school
/// tests:
///   - name: the document's worked example
///     clause: "4.2"
///     case: {facts: {...}, events: [...]}     # or case_file: ../examples/x.yaml
///     at: 2026-11-03T10:00:00Z
///     expect:
///       values: {a_value: 3, another: 2}
///       duties: {a_duty: due}
///       deadlines: {a_duty: 2026-12-30T10:00:00Z}   # null: no deadline (yet)
///       findings: [{kind: late, duty: other_duty}]   # exactly these audit findings
///       verdict: not_compliant                   # compliant, compliant_so_far, not_compliant, undetermined
///       compliant: false                         # true only for the verdict compliant
///       questions: [a_fact]                      # exactly these open questions
///     checks:                                    # more moments, each {at, expect}
///       - {at: ..., expect: {...}}
/// ```
public enum PolicyTestRunner {
    /// Reads a case file referenced by `case_file`, relative to the test file; nil when
    /// it cannot be read.
    public typealias CaseResolver = (String) -> Node?

    static let testKeys = ["name", "clause", "case", "case_file", "at", "expect", "checks"]
    static let expectKeys = ["values", "duties", "deadlines", "findings", "compliant", "verdict", "questions"]

    /// The policy id a test file is for.
    public static func policyID(of root: Node) -> String? {
        root["policy"]?.scalar?.text
    }

    /// Runs every test in `root` against `policy`. Problems with the test file itself
    /// (unknown keys, unknown duties, bad times) are diagnostics, not failures.
    public static func run(_ root: Node, policy: Policy, resolve: CaseResolver) -> ([PolicyTestOutcome], [Diagnostic]) {
        let decoder = NodeDecoder()
        guard let file = decoder.object(root, "a policy test file", allowed: ["policy", "tests"], required: ["policy", "tests"]),
              let tests = file["tests"]?.sequence
        else {
            if root["tests"] != nil, root["tests"]?.sequence == nil {
                decoder.error("'tests' must be a list of test cases", at: root["tests"]?.span, code: "wrong-type")
            }
            return ([], decoder.bag.finished(file: root.span.file))
        }
        var outcomes: [PolicyTestOutcome] = []
        for test in tests {
            let before = decoder.bag.diagnostics.count { $0.severity == .error }
            guard var outcome = run(test, policy: policy, resolve: resolve, decoder: decoder) else { continue }
            // A test whose own expectations are broken (an unknown duty, a bad value)
            // checked less than it says: it does not pass.
            if decoder.bag.diagnostics.count(where: { $0.severity == .error }) > before {
                outcome.failures.append("the test itself has errors (reported above): it checked less than it says")
            }
            outcomes.append(outcome)
        }
        return (outcomes, decoder.bag.finished(file: root.span.file))
    }

    private static func run(_ node: Node, policy: Policy, resolve: CaseResolver, decoder: NodeDecoder) -> PolicyTestOutcome? {
        guard let test = decoder.object(node, "a test case", allowed: testKeys, required: ["name"]),
              let name = test.nonEmptyText("name")
        else { return nil }
        // The case: inline, or from a file.
        var caseNode: Node?
        switch (test["case"], test.text("case_file")) {
        case (let inline?, nil): caseNode = inline
        case (nil, let path?):
            caseNode = resolve(path)
            if caseNode == nil {
                decoder.error("cannot read the case file '\(path)'", at: test["case_file"]?.span, code: "unreadable")
                return nil
            }
        case (_?, _?):
            decoder.error("a test has 'case' or 'case_file', not both", at: test["case_file"]?.span, code: "conflict")
            return nil
        case (nil, nil):
            decoder.error("test '\(name)' needs 'case' (inline) or 'case_file'", at: node.span.startOnly, code: "missing-key")
            return nil
        }
        let (loaded, caseDiagnostics) = CaseLoader.load(caseNode!, policy: policy)
        decoder.bag.report(contentsOf: caseDiagnostics.filter { $0.severity == .error })
        guard let file = loaded else { return nil }
        // The moments to check.
        var checks: [(Instant, Object)] = []
        if test.has("at") || test.has("expect") {
            guard let at = time(test, decoder: decoder), let expect = test["expect"],
                  let object = decoder.object(expect, "'expect'", allowed: expectKeys)
            else {
                if !test.has("expect") { decoder.error("test '\(name)' has 'at' but no 'expect'", at: node.span.startOnly, code: "missing-key") }
                return nil
            }
            checks.append((at, object))
        }
        for check in test["checks"]?.sequence ?? [] {
            guard let object = decoder.object(check, "a check", allowed: ["at", "expect"], required: ["at", "expect"]),
                  let at = time(object, decoder: decoder),
                  let expect = decoder.object(object["expect"]!, "'expect'", allowed: expectKeys)
            else { continue }
            checks.append((at, expect))
        }
        if checks.isEmpty {
            decoder.error("test '\(name)' checks nothing: give 'at' and 'expect', or 'checks'", at: node.span.startOnly,
                          code: "missing-key")
            return nil
        }
        let engine = Engine(policy: policy)
        var failures: [String] = []
        for (at, expect) in checks {
            failures += compare(expect, engine.audit(file, at: at), file: file, policy: policy, decoder: decoder)
        }
        return PolicyTestOutcome(name: name, clause: test.text("clause"), span: node.span, failures: failures)
    }

    private static func time(_ object: Object, decoder: NodeDecoder) -> Instant? {
        guard let text = object.text("at") else {
            decoder.error("a check needs 'at' (an RFC 3339 time)", at: object.node.span.startOnly, code: "missing-key")
            return nil
        }
        guard let at = Timestamp.parse(text) else {
            decoder.error("'\(text)' is not an RFC 3339 time", at: object["at"]?.span, code: "bad-time")
            return nil
        }
        return at
    }

    /// The differences between `expect` and the audit at one moment.
    private static func compare(_ expect: Object, _ report: AuditReport, file: CaseFile, policy: Policy, decoder: NodeDecoder) -> [String] {
        let evaluation = report.evaluation
        let when = "at \(Timestamp.format(evaluation.at))"
        var failures: [String] = []
        if let values = expect["values"]?.mapping {
            for pair in values {
                guard let slot = policy.valueSlot(of: pair.name) ?? policy.factSlot(of: pair.name) else {
                    decoder.error("unknown value '\(pair.name)'", at: pair.key.span, code: "unknown-reference",
                                  hint: Suggestions.didYouMean(pair.name, among: policy.values.map(\.id)))
                    continue
                }
                let type = policy.slotType(slot)
                guard let expected = CaseValues.decode(pair.value, as: type) else {
                    decoder.error("expected \(type.phrase) for '\(pair.name)'; found \(pair.value.kindDescription)",
                                  at: pair.value.span, code: "wrong-type")
                    continue
                }
                let actual = evaluation.values.slots[slot]
                if actual != expected {
                    failures.append("values.\(pair.name): expected \(expected.display(type)), got \(actual.display(type)) \(when)")
                }
            }
        }
        if let duties = expect["duties"]?.mapping {
            for pair in duties {
                guard let index = policy.dutyIndex(of: pair.name) else {
                    decoder.error("unknown duty '\(pair.name)'", at: pair.key.span, code: "unknown-reference",
                                  hint: Suggestions.didYouMean(pair.name, among: policy.duties.map(\.id)))
                    continue
                }
                guard let word = pair.value.scalar?.text, let expected = DutyState(rawValue: word) else {
                    decoder.error("a duty state is one of: \(DutyState.allCases.map(\.rawValue).joined(separator: ", "))",
                                  at: pair.value.span, code: "wrong-value",
                                  hint: pair.value.scalar.flatMap { Suggestions.didYouMean($0.text, among: DutyState.allCases.map(\.rawValue)) })
                    continue
                }
                let actual = evaluation.duties[index].state
                if actual != expected {
                    failures.append("duties.\(pair.name): expected \(expected.rawValue), got \(actual.rawValue) \(when)")
                }
            }
        }
        if let deadlines = expect["deadlines"]?.mapping {
            for pair in deadlines {
                guard let index = policy.dutyIndex(of: pair.name) else {
                    decoder.error("unknown duty '\(pair.name)'", at: pair.key.span, code: "unknown-reference",
                                  hint: Suggestions.didYouMean(pair.name, among: policy.duties.map(\.id)))
                    continue
                }
                guard let expected = CaseValues.decode(pair.value, as: .datetime) else {
                    decoder.error("a deadline is an RFC 3339 time, or null for none", at: pair.value.span, code: "bad-time")
                    continue
                }
                let actual: Value = evaluation.duties[index].deadline.map { .time($0) } ?? .unknown
                if actual != expected {
                    let show = { (v: Value) -> String in
                        if case .time(let t) = v { return policy.clock.describe(t) }
                        return "none"
                    }
                    failures.append("deadlines.\(pair.name): expected \(show(expected)), got \(show(actual)) \(when)")
                }
            }
        }
        if let verdict = expect.choice("verdict", Verdict.allCases.map(\.rawValue)), verdict != report.verdict.rawValue {
            failures.append("verdict: expected \(verdict), got \(report.verdict.rawValue) \(when)")
        }
        if let compliant = expect.bool("compliant"), compliant != report.compliant {
            failures.append("compliant: expected \(compliant), got \(report.compliant) \(when)")
        }
        if let list = expect["findings"] {
            var expected: [String] = []
            for item in list.sequence ?? [] {
                guard let f = decoder.object(item, "an expected finding", allowed: ["kind", "duty", "action"], required: ["kind"]),
                      let kind = f.choice("kind", Finding.Kind.allCases.map(\.rawValue))
                else { continue }
                if let duty = f.text("duty"), policy.dutyIndex(of: duty) == nil {
                    decoder.error("unknown duty '\(duty)'", at: f["duty"]?.span, code: "unknown-reference",
                                  hint: Suggestions.didYouMean(duty, among: policy.duties.map(\.id)))
                }
                expected.append(describe(kind: kind, duty: f.text("duty"), action: f.text("action")))
            }
            let actual = report.findings.map { finding in
                describe(kind: finding.kind.rawValue, duty: finding.duty.map { policy.duties[$0].id },
                         action: finding.event.map { policy.actions[file.events[$0].action].id })
            }
            let missing = difference(expected, actual, exact: true)
            let unexpected = difference(actual, expected, exact: false)
            if !missing.isEmpty || !unexpected.isEmpty {
                var text = "findings \(when):"
                if !missing.isEmpty { text += " expected but absent: \(missing.joined(separator: ", "));" }
                if !unexpected.isEmpty { text += " found but not expected: \(unexpected.joined(separator: ", "));" }
                failures.append(String(text.dropLast()))
            }
        }
        if let list = expect["questions"] {
            let expected = (list.sequence ?? []).compactMap { $0.scalar?.text }
            for id in expected where policy.factSlot(of: id) == nil {
                decoder.error("unknown fact '\(id)'", at: list.span, code: "unknown-reference")
            }
            let actual = evaluation.questions.map { policy.facts[$0.fact].id }
            if Set(expected) != Set(actual) {
                failures.append("questions: expected [\(expected.sorted().joined(separator: ", "))], got [\(actual.sorted().joined(separator: ", "))] \(when)")
            }
        }
        return failures
    }

    /// `late a_duty`, `forbidden (investigate)`: how a finding is matched and shown.
    private static func describe(kind: String, duty: String?, action: String?) -> String {
        if let duty { return "\(kind) \(duty)" }
        if let action { return "\(kind) (\(action))" }
        return kind
    }

    /// Items of `a` not matched in `b`. An expected finding without a duty or action
    /// matches any finding of its kind.
    private static func difference(_ a: [String], _ b: [String], exact: Bool) -> [String] {
        var pool = b
        var out: [String] = []
        for item in a {
            if let i = pool.firstIndex(where: { $0 == item || (exact ? !item.contains(" ") && $0.hasPrefix(item + " ") : !$0.contains(" ") && item.hasPrefix($0 + " ")) }) {
                pool.remove(at: i)
            } else {
                out.append(item)
            }
        }
        return out
    }
}
