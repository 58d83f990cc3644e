import Foundation
import RulebookTestSupport
import Testing

@Suite("rulebook timeline")
struct TimelineCLITests {
    /// Each shipped example, drawn the morning after it began.
    static let examples = [
        ("madras-foi-disclosure", "2026-11-03T10:00:00Z"), ("council-weakness", "2026-11-03T10:00:00Z"),
        ("treetops-major-laptop", "2026-11-05T09:00:00Z"), ("leverton-critical-email", "2026-11-03T10:00:00Z"),
        ("school-procedure-near-miss", "2026-11-03T10:00:00Z"),
    ]

    @Test("each example's SVG is its golden file, valid XML, and renders to a PNG", arguments: examples.map(\.0))
    func svg(_ name: String) throws {
        let at = Self.examples.first { $0.0 == name }!.1
        let case_ = RulebookBinary.packageRoot.appendingPathComponent("Policies/examples/\(name).yaml").path
        let run = try RulebookBinary.run(["timeline", case_, "--at", at])
        #expect(run.status == 0, "\(run.stderr)")
        if let difference = Fixtures.compare(run.stdout, golden: "timeline/\(name).svg") { Issue.record(Comment(rawValue: difference)) }
        let dir = try RulebookBinary.temporaryFolder()
        let svg = dir.appendingPathComponent("\(name).svg"), png = dir.appendingPathComponent("\(name).png")
        try run.stdout.write(to: svg, atomically: true, encoding: .utf8)
        let (lint, lintErrors) = try RulebookBinary.tool(["xmllint", "--noout", svg.path])
        #expect(lint == 0, "\(lintErrors)")
        let (render, renderErrors) = try RulebookBinary.tool(["rsvg-convert", "-o", png.path, svg.path])
        #expect(render == 0, "\(renderErrors)")
        let size = (try? FileManager.default.attributesOfItem(atPath: png.path)[.size] as? Int) ?? 0
        #expect(size > 20_000, "\(name): a PNG of \(size) bytes")
    }

    @Test("states differ by pattern and mark as well as colour; clauses and times on hover; now is drawn")
    func encoding() throws {
        let case_ = RulebookBinary.packageRoot.appendingPathComponent("Policies/examples/madras-foi-disclosure.yaml").path
        let svg = try RulebookBinary.run(["timeline", case_, "--at", "2026-11-03T10:00:00Z"]).stdout
        #expect(svg.contains("url(#hatch-overdue)"))
        #expect(svg.contains("data-state=\"overdue\""))
        #expect(svg.contains("<title>Sign Form A and send it to the Schools DPO within 24 hours of the incident occurring — overdue — §7.7; 4.5"))
        #expect(svg.contains("<title>now: 2026-11-03 10:00 GMT</title>"))
        let html = try RulebookBinary.run(["timeline", case_, "--at", "2026-11-03T10:00:00Z", "--format", "html"]).stdout
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("What must happen next"))
        let text = try RulebookBinary.run(["timeline", case_, "--at", "2026-11-03T10:00:00Z", "--format", "text"]).stdout
        #expect(text.contains("OVERDUE      Sign Form A"))
    }
}
