import RulebookDiagnostics
import Testing

@Suite("Diagnostic rendering")
struct DiagnosticRendererTests {
    let source = "id: madras\nduties:\n  report:\n    wihtin: PT24H\n"

    func renderer(colour: Bool = false) -> DiagnosticRenderer {
        let text = source
        return DiagnosticRenderer(colour: colour) { $0 == "p.yaml" ? text : nil }
    }

    @Test("file:line:col, source line, caret spanning the token, hint and notes")
    func fullForm() {
        let span = SourceSpan(file: "p.yaml", start: SourcePosition(line: 4, column: 5), end: SourcePosition(line: 4, column: 11))
        let note = Diagnostic.Note("duty 'report' starts here", at: SourceSpan(file: "p.yaml", at: SourcePosition(line: 3, column: 3)))
        let d = Diagnostic.error("unknown key 'wihtin' in a duty", at: span, code: "unknown-key",
                                 hint: "did you mean 'within'?", notes: [note])
        #expect(renderer().render(d) == """
            p.yaml:4:5: error: unknown key 'wihtin' in a duty
             4 |     wihtin: PT24H
               |     ^~~~~~
            hint: did you mean 'within'?
            p.yaml:3:3: note: duty 'report' starts here
             3 |   report:
               |   ^

            """)
    }

    @Test("no colour escapes unless asked")
    func colour() {
        let d = Diagnostic.warning("review date is past", at: SourceSpan(file: "p.yaml", at: SourcePosition(line: 1, column: 1)), code: "review")
        #expect(!renderer().render(d).contains("\u{1B}["))
        #expect(renderer(colour: true).render(d).contains("\u{1B}[1;33mwarning"))
    }

    @Test("a diagnostic without a location, or in an unknown file, prints the message only")
    func unlocated() {
        let d = Diagnostic.error("no policies found", at: nil, code: "x")
        #expect(renderer().render(d) == "error: no policies found\n")
        let elsewhere = Diagnostic.error("bad", at: SourceSpan(file: "other.yaml", at: SourcePosition(line: 2, column: 1)), code: "x")
        #expect(renderer().render(elsewhere) == "other.yaml:2:1: error: bad\n")
    }

    @Test("long lines are clipped around the caret; control characters are masked")
    func clipping() {
        let long = String(repeating: "a", count: 300) + "X" + String(repeating: "b", count: 300) + "\u{1}"
        let r = DiagnosticRenderer(colour: false) { _ in long }
        let d = Diagnostic.error("here", at: SourceSpan(file: "f", at: SourcePosition(line: 1, column: 301)), code: "x")
        let lines = r.render(d).split(separator: "\n")
        #expect(lines[1].count < 120)
        let caretColumn = lines[2].firstIndex(of: "^").map { lines[2].distance(from: lines[2].startIndex, to: $0) }
        let xColumn = lines[1].firstIndex(of: "X").map { lines[1].distance(from: lines[1].startIndex, to: $0) }
        #expect(caretColumn == xColumn)
        let tail = DiagnosticRenderer(colour: false) { _ in "a: \u{1}" }
        #expect(tail.render(.error("c", at: SourceSpan(file: "f", at: SourcePosition(line: 1, column: 4)), code: "x")).contains("a: \u{FFFD}"))
    }

    @Test("the bag keeps going after errors, up to its limit, then says how many it dropped")
    func bag() {
        var bag = DiagnosticBag(errorLimit: 3)
        for i in 0..<10 { bag.error("e\(i)", at: nil, code: "x") }
        bag.warning("w", at: nil, code: "y")
        let list = bag.finished(file: "f.yaml")
        #expect(list.count == 5)
        #expect(list.last?.message == "too many errors: 7 more not shown (stopped after 3)")
        #expect(bag.totalErrors == 10)
    }
}
