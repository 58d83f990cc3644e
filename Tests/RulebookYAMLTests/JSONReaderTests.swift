import RulebookDiagnostics
import RulebookTestSupport
import Testing

@testable import RulebookYAML

private func readJSON(_ source: String) -> (ReadResult, MarkedText) {
    let marked = MarkedText(source)
    return (JSONReader.read(marked.text, file: "c.json"), marked)
}

@Suite("JSON reader")
struct JSONReaderTests {
    @Test("values resolve like YAML plain scalars, strings stay strings")
    func values() throws {
        let (result, marked) = readJSON(#"{"a": 1, "b": -2.5e1, "c": "true", "d": true, "e": null, "f": [1, {"g": 1️⃣"é\n\u00e9\ud83d\ude00"}]}"#)
        let root = try #require(result.root)
        #expect(result.diagnostics.isEmpty)
        #expect(root["a"]?.scalar?.value == .int(1))
        #expect(root["b"]?.scalar?.value == .float(-25))
        #expect(root["c"]?.scalar?.value == .string("true"))
        #expect(root["d"]?.scalar?.value == .bool(true))
        #expect(root["e"]?.scalar?.value == .null)
        let g = try #require(root["f"]?.sequence?[1]["g"])
        #expect(g.scalar?.text == "é\né😀")
        #expect(g.span.start == marked["1️⃣"])
    }

    @Test("a duplicate member is an error on the second, with a note on the first")
    func duplicates() throws {
        let (result, marked) = readJSON(#"{1️⃣"a": 1, 2️⃣"a": 2}"#)
        let problem = try #require(result.diagnostics.first)
        #expect(problem.code == "duplicate-key")
        #expect(problem.span?.start == marked["2️⃣"])
        #expect(problem.notes.first?.span?.start == marked["1️⃣"])
    }

    @Test("syntax errors are positioned", arguments: [
        #"{"a": 1,1️⃣}"#,
        #"{"a" 1️⃣1}"#,
        #"{"a": 1️⃣tru}"#,
        #"{"a": 01️⃣1}"#,
        #"{"a": "x1️⃣"#,
        "{\"a\":\n  [1, 2 1️⃣3]}",
        #"{"a": 1} 1️⃣x"#,
    ])
    func syntax(_ source: String) throws {
        let (result, marked) = readJSON(source)
        #expect(result.root == nil)
        let problem = try #require(result.diagnostics.first)
        #expect(problem.span?.start == marked["1️⃣"], "\(problem.message)")
    }

    @Test("depth is capped")
    func depth() {
        let text = String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000)
        let result = JSONReader.read(text, file: "d.json", requireMapping: false)
        #expect(result.diagnostics.first?.code == "too-deep")
    }

    @Test("JSON Lines: one object per line, bad lines reported at their line")
    func jsonLines() throws {
        var text = """
            {"at": "2026-11-02T09:30:00Z", "action": "report"}

            {"at": "2026-11-02T11:00:00Z", "action": oops}
            {"at": "2026-11-02T12:00:00Z", "action": "close"}
            """
        let result = text.withUTF8 { JSONLinesReader.read(bytes: $0, file: "t.jsonl") }
        #expect(result.records.count == 2)
        #expect(result.records[1]["action"]?.scalar?.text == "close")
        #expect(result.records[1].span.start.line == 4)
        let problem = try #require(result.diagnostics.first)
        #expect(problem.span?.start == SourcePosition(line: 3, column: 42))
    }
}
