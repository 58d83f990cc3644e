import Foundation
import RulebookTestSupport
import RulebookYAML
import Testing

@testable import RulebookCore

@Suite("Batch: the fast case reader and the batch assessor")
struct BatchTests {
    /// Cases as JSON lines of many shapes: well-formed ones the fast reader should take,
    /// and near misses it must leave to the full reader (escapes, numbers with fractions,
    /// unknown options, wrong types, repeated keys, events, odd spacing).
    static func lines(_ policy: Policy, count: Int, seed: UInt64) -> [String] {
        var g = SplitMix64(seed: seed)
        var out: [String] = []
        func optionID(_ d: EnumDomain) -> String { d.options[g.below(d.options.count)].id }
        for n in 0..<count {
            var members: [String] = []
            if g.below(4) > 0 { members.append("\"incident\": \"INC-\(n)\(g.below(20) == 0 ? "\\u0041" : "")\"") }
            if g.below(10) == 0 { members.append("\"policy\": \"\(g.below(3) == 0 ? "other" : policy.id)\"") }
            var facts: [String] = []
            for fact in policy.facts where g.below(3) == 0 {
                let value: String
                switch (fact.type, g.below(12)) {
                case (_, 0): value = "null"
                case (_, 1): value = ["\"x\"", "1.5", "true", "[]", "{}", "1e3", "-0", "007"][g.below(8)]
                case (.bool, _): value = g.below(2) == 0 ? "true" : "false"
                case (.int, _): value = String([0, 1, 10, 11, 292, 10_001, -5, 99_999_999_999][g.below(8)])
                case (.text, _): value = ["\"plain\"", "\"caf\u{e9}\"", "\"tab\\there\"", "\"\""][g.below(4)]
                case (.datetime, _), (.duration, _): value = ["\"2026-11-02T09:14:00Z\"", "\"2026-11-02T09:14:00.5+01:00\"", "\"2026-13-02T09:14:00Z\"", "\"yesterday\""][g.below(4)]
                case (.option(let d), _): value = g.below(8) == 0 ? "\"no_such_option\"" : "\"\(optionID(d))\""
                case (.options(let d), _):
                    let items = (0..<g.below(4)).map { _ in g.below(10) == 0 ? "\"nope\"" : "\"\(optionID(d))\"" }
                    value = "[" + items.joined(separator: g.below(2) == 0 ? "," : " , ") + "]"
                }
                facts.append("\"\(fact.id)\"\(g.below(2) == 0 ? ":" : " : ")\(value)")
            }
            if g.below(15) == 0, let first = facts.first { facts.append(first) }          // repeated key
            if g.below(15) == 0 { facts.append("\"no_such_fact\": 1") }
            members.append("\"facts\": {" + facts.joined(separator: g.below(2) == 0 ? "," : ", ") + "}")
            if g.below(10) == 0 { members.append("\"events\": []") }
            out.append("{" + members.joined(separator: ",") + "}" + (g.below(5) == 0 ? "  " : ""))
        }
        return out
    }

    /// The full reader's verdict on one line.
    static func slow(_ line: String, _ policy: Policy) -> CaseFile? {
        guard let root = JSONReader.read(line, file: "batch.jsonl").root else { return nil }
        let (file, diagnostics) = CaseLoader.load(root, policy: policy)
        return diagnostics.contains { $0.severity == .error } ? nil : file
    }

    @Test("whatever the fast reader accepts, the full reader reads the same way; it accepts the plain shape")
    func agreement() throws {
        for policy in try ProgramTests.policies() {
            let decoder = FastCaseDecoder(policy: policy)
            var accepted = 0
            for line in Self.lines(policy, count: 3000, seed: 11) {
                var bytes = Array(line.utf8)
                guard let fast = bytes.withUnsafeMutableBufferPointer({ decoder.decode(UnsafeBufferPointer($0)) }) else { continue }
                accepted += 1
                let full = try #require(Self.slow(line, policy), "the fast reader accepted a line the full reader refuses: \(line)")
                #expect(fast.incident == full.incident, "\(line)")
                #expect(fast.policyID == full.policyID, "\(line)")
                #expect(fast.facts.map(\.slot) == full.facts.map(\.slot), "\(line)")
                #expect(fast.facts.map(\.value) == full.facts.map(\.value), "\(line)")
            }
            #expect(accepted > 300, "policy \(policy.id): the fast reader took only \(accepted) lines")
            // Lines written by the case writer (no events) always take the fast path.
            var w = JSONWriter(pretty: false)
            w.caseFile(CaseFile(incident: "W-1", facts: [FactAssignment(slot: 0, value: .unknown)]), policy: policy)
            var bytes = w.bytes
            #expect(bytes.withUnsafeMutableBufferPointer { decoder.decode(UnsafeBufferPointer($0)) } != nil)
        }
    }

    /// A parsed JSON value written back with sorted keys, for comparing two documents.
    static func canonical(_ value: Any?) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: try #require(value), options: [.sortedKeys, .fragmentsAllowed])
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs a batch over `text` and returns its output lines and problems.
    static func batch(_ text: String, _ policy: Policy, explain: Bool = false) -> ([String], [BatchProblem]) {
        let assessor = BatchAssessor(policy: policy, at: Timestamp.parse("2026-11-03T10:00:00Z")!, explain: explain, file: "cases.jsonl")
        var w = JSONWriter(pretty: false)
        var bytes = Array(text.utf8)
        let problems = bytes.withUnsafeMutableBufferPointer { assessor.run(UnsafeBufferPointer($0), firstLine: 1, into: &w) }
        return (w.text.split(separator: "\n").map(String.init), problems)
    }

    @Test("one output line per case, in order, with input line numbers; bad lines reported and the rest assessed")
    func lines() throws {
        let input = """
            {"incident": "A", "facts": {"severity": "major", "personal": true}}

            {"incident": "B", "facts": {"severity": "huge"}}
            {"incident": "C", "policy": "other", "facts": {}}
            {"incident": "D", "facts": {"personal": false}}
            """
        let (out, problems) = Self.batch(input, enginePolicy)
        #expect(out.count == 4)
        let objects = try out.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.map { $0["line"] as? Int } == [1, 3, 4, 5])
        #expect(objects[0]["incident"] as? String == "A")
        #expect((objects[0]["values"] as? [String: Any])?["serious"] as? Bool == true)
        #expect(objects[1]["error"] as? String == "line 3 is not a readable case for policy 'engine'")
        let diagnostic = try #require((objects[1]["diagnostics"] as? [[String: Any]])?.first)
        #expect((diagnostic["location"] as? [String: Any])?["line"] as? Int == 3)
        #expect((objects[2]["error"] as? String)?.contains("names policy 'other'") == true)
        #expect(problems.map(\.line) == [3, 4])
        #expect(objects[3]["questions"] as? [String] != nil)
    }

    @Test("each line carries what assess derives for the same case, and --explain adds the explanation")
    func sameAsAssess() throws {
        let policy = enginePolicy
        let lines = Self.lines(policy, count: 400, seed: 5).filter { Self.slow($0, policy) != nil && !$0.contains("\"policy\"") }
        let (out, problems) = Self.batch(lines.joined(separator: "\n"), policy, explain: true)
        #expect(problems.isEmpty)
        #expect(out.count == lines.count)
        let at = Timestamp.parse("2026-11-03T10:00:00Z")!
        for (line, result) in zip(lines, out) {
            let file = try #require(Self.slow(line, policy))
            let evaluation = Engine(policy: policy).evaluate(file, at: at)
            let reports = EngineReports(evaluation: evaluation, file: file)
            let single = try #require(try JSONSerialization.jsonObject(with: Data(reports.assessJSON().utf8)) as? [String: Any])
            let batch = try #require(try JSONSerialization.jsonObject(with: Data(result.utf8)) as? [String: Any])
            #expect(try Self.canonical(batch["values"]) == Self.canonical(single["values"]))
            #expect((batch["questions"] as? [String]) == (single["questions"] as? [[String: Any]])?.map { $0["fact"] as? String ?? "" })
            #expect(try Self.canonical(batch["explanation"]) == Self.canonical(single["explanation"]))
        }
    }

    @Test("whatever the fast event reader accepts, the full reader reads the same way")
    func events() throws {
        for policy in try ProgramTests.policies() {
            let decoder = FastCaseDecoder(policy: policy)
            var g = SplitMix64(seed: 99)
            var accepted = 0
            for n in 0..<3000 {
                let action = g.below(policy.actions.count)
                let role = g.below(policy.roles.count)
                var event = Event(at: 1_767_603_600_000 + Int64(n) * 61_000, action: action, role: role)
                if g.below(2) == 0 { event.actor = ["A. Person", "O'Brien \"Bob\"", "Zoë"][g.below(3)] }
                if g.below(3) == 0 { event.reason = ["because", "   ", ""][g.below(3)] }
                if g.below(8) == 0 { event.note = "note \(n)" }
                if let decides = policy.actions[action].decision {
                    switch policy.slotType(decides.slot) {
                    case .bool: event.decision = .bool(g.below(2) == 0)
                    case .int: event.decision = .int(g.below(5))
                    case .option(let d): event.decision = .option(g.below(d.options.count))
                    default: event.decision = decides.asserts
                    }
                }
                if g.below(4) == 0, !policy.facts.isEmpty {
                    let fact = g.below(policy.facts.count)
                    let value: Value
                    switch policy.facts[fact].type {
                    case .bool: value = .bool(true)
                    case .int: value = .int(g.below(1000))
                    case .datetime, .duration: value = .time(1_767_603_600_000)
                    case .option: value = .option(0)
                    case .options: value = .options(1)
                    case .text: value = .text("t")
                    }
                    event.facts = [FactAssignment(slot: fact, value: value)]
                }
                var w = JSONWriter(pretty: false)
                w.event(event, policy: policy)
                var line = w.text
                switch g.below(10) {
                case 0: line = line.replacingOccurrences(of: "\"by\":", with: "\"by\" : ")
                case 1: line = line.replacingOccurrences(of: "}", with: ",\"value\":1}")
                case 2: line = line.replacingOccurrences(of: "\"action\":\"", with: "\"action\":\"x")
                default: break
                }
                var bytes = Array(line.utf8)
                guard let fast = bytes.withUnsafeMutableBufferPointer({ decoder.decodeEvent(UnsafeBufferPointer($0)) }) else { continue }
                accepted += 1
                let root = try #require(JSONReader.read(line, file: "trail.jsonl").root)
                let (slow, diagnostics) = CaseLoader.event(root, policy: policy)
                #expect(diagnostics.isEmpty, "the fast reader accepted \(line): \(diagnostics.map(\.message))")
                let full = try #require(slow, "\(line)")
                #expect((fast.at, fast.action, fast.role) == (full.at, full.action, full.role), "\(line)")
                #expect(fast.actor == full.actor && fast.reason == full.reason && fast.note == full.note, "\(line)")
                #expect(fast.decision == full.decision, "\(line)")
                #expect(fast.facts.map(\.slot) == full.facts.map(\.slot) && fast.facts.map(\.value) == full.facts.map(\.value), "\(line)")
            }
            #expect(accepted > 500, "policy \(policy.id): the fast reader took only \(accepted) events")
        }
    }
}
