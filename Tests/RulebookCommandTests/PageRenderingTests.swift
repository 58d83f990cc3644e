import Foundation
import Mustache
import RulebookCore
import Testing

@testable import RulebookServer

/// The pages' own text handling, in process: escaping (against Mustache's own, which it
/// shadows), the Markdown of `rulebook show` as HTML, and reading forms.
@Suite("Pages: escaping, Markdown, forms")
struct PageRenderingTests {
    /// Texts made of the characters that matter and those that must pass untouched
    /// (multi-byte letters, a combining accent, an emoji, quotes of both kinds).
    static func texts(count: Int) -> [String] {
        let pieces = ["<", ">", "&", "\"", "'", "a", " ", "é", "e\u{301}", "💡", "&amp;", "<script>", "\n", "§", "«»", "\\", "/"]
        var generator = SplitMix(seed: 20261202)
        return (0..<count).map { _ in
            (0..<Int(generator.next() % 12)).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }.joined()
        }
    }

    @Test("the pages' HTML escaping gives exactly what Mustache's own HTML escaping gives, on 2,000 texts")
    func escapingMatchesMustache() throws {
        _ = PageHTML.registered
        let mustache = try MustacheTemplate(string: "{{x}}")
        let ours = try MustacheTemplate(string: "{{% CONTENT_TYPE: \(PageHTML.name)}}{{x}}")
        for text in Self.texts(count: 2000) {
            let expected = mustache.render(["x": text])
            #expect(ours.render(["x": text]) == expected, "\(text.debugDescription)")
            #expect(PageHTML.escape(text) == expected)
        }
        #expect(PageHTML.escape("<a href='x'>&</a>") == "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;")
    }

    @Test("Markdown as HTML: nothing in the text becomes markup; bold, italic, code, lists with their numbers, quotes and tables do")
    func markdown() {
        let html = MarkdownHTML.render("""
            # Title <script>alert(1)</script>

            A **bold** and *italic* word, `code_id`, snake_case_ids kept, and a <b>tag</b>.

            3. third
            4. fourth

            - one
              continued
            - two

            > a note
            > on two lines

            | a | b \\| c |
            |---|---|
            | <i>x</i> | **y** |
            """)
        #expect(html.contains(#"<h1 id="title-script-alert-1-script">Title &lt;script&gt;alert(1)&lt;/script&gt;</h1>"#))
        #expect(html.contains("A <strong>bold</strong> and <em>italic</em> word, <code>code_id</code>, snake_case_ids kept, and a &lt;b&gt;tag&lt;/b&gt;."))
        #expect(html.contains(#"<ol>"# + "\n" + #"<li value="3">third</li>"# + "\n" + #"<li value="4">fourth</li>"#))
        #expect(html.contains("<li>one continued</li>"))
        #expect(html.contains("<blockquote><p>a note<br>\non two lines</p></blockquote>"))
        #expect(html.contains(#"<th scope="col">b | c</th>"#))
        #expect(html.contains("<td>&lt;i&gt;x&lt;/i&gt;</td><td><strong>y</strong></td>"))
        #expect(!html.contains("<script>") && !html.contains("<b>") && !html.contains("<i>"))
    }

    @Test("a form's fields: + is a space, escapes are decoded, a name given twice keeps both values, a broken escape is kept as written")
    func formData() {
        let form = FormData("note=told+the%20head%3A+%26+DPO&fact.sensitivity=a&fact.sensitivity=b&odd=100%&empty=&csrf=x")
        #expect(form["note"] == "told the head: & DPO")
        #expect(form.all("fact.sensitivity") == ["a", "b"])
        #expect(form["odd"] == "100%")
        #expect(form["empty"] == nil)
        #expect(form["missing"] == nil)
    }

    @Test("a browser's date and time is read in the policy's zone: a summer time, a winter time, the hour that does not exist, and nonsense")
    func localTimes() throws {
        let london = try #require(ZoneClock(identifier: "Europe/London"))
        #expect(FormNodes.localTime("2026-07-01T09:30", clock: london).map { Timestamp.format($0) } == "2026-07-01T08:30:00Z")
        #expect(FormNodes.localTime("2026-12-01T09:30:15", clock: london).map { Timestamp.format($0) } == "2026-12-01T09:30:15Z")
        // 01:30 on the night the clocks go forward is read as 02:30 BST, as ZoneClock does.
        #expect(FormNodes.localTime("2026-03-29T01:30", clock: london).map { Timestamp.format($0) } == "2026-03-29T01:30:00Z")
        for nonsense in ["yesterday", "2026-13-01T10:00", "2026-12-01T24:00", "2026-12-01", "2026-12-01T10", "2026-12-01T10:00:00:00"] {
            #expect(FormNodes.localTime(nonsense, clock: london) == nil, "\(nonsense)")
        }
        #expect(FormNodes.localField(try #require(Timestamp.parse("2026-07-01T08:30:00Z")), clock: london) == "2026-07-01T09:30")
    }
}

/// A small seeded generator, so the texts are the same on every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
