import Foundation
import RulebookDiagnostics
import RulebookTestSupport
import RulebookYAML
import Testing

@testable import RulebookCore

/// A policy compiled from text, with its diagnostics (validate's checks included).
private func compile(_ yaml: String, sources: [String: String] = [:]) -> (Policy?, [Diagnostic]) {
    let library = PolicyLibrary()
    library.add(PolicySource(file: "p.yaml", text: yaml))
    let result = PolicyCompiler.compile(id: "p", library: library, options: CompileOptions(sources: sources))
    return (result.policy, library.diagnostics + result.diagnostics)
}

private let header = """
    id: p
    title: P
    organisation: O
    time_zone: Europe/London
    source: doc.txt

    """

@Suite("Coverage: the document's clauses and what encodes them")
struct CoverageTests {
    @Test("numbered and lettered clauses are split out; a repeated number is 'second'; obligation words are found")
    func splitting() {
        let item = OutlineItem(clause: "4", title: nil, must: nil, why: nil, how: nil, text: """
            4.1 Staff must report it. 4.1.1 Within the hour.
            4.2 Examples include theft.
            4.1 The lead will log it.
            a. Keep a record.
            """, policy: "p", span: SourceSpan(file: "p.yaml", at: SourcePosition(line: 1, column: 1)))
        let units = ClauseSplitter.units(of: [item])
        #expect(units.map(\.id) == ["4", "4.1", "4.1.1", "4.2", "4.1 (second)", "4.a"])
        #expect(units.map(\.obligation) == [false, true, false, false, true, false])
        #expect(units[1].text == "Staff must report it.")
        // A MUST point is an obligation; its lettered how-items are clauses of it.
        let point = OutlineItem(clause: "3", title: nil, must: "Investigate", why: "To learn", how: "Do this:\na. Speak to staff.\nb. The lead should escalate.",
                                text: nil, policy: "p", span: SourceSpan(file: "p.yaml", at: SourcePosition(line: 1, column: 1)))
        let pointUnits = ClauseSplitter.units(of: [point])
        #expect(pointUnits.map(\.id) == ["3", "3.a", "3.b"])
        #expect(pointUnits.map(\.obligation) == [true, false, true])
    }

    @Test("each obligation clause is encoded, explained or uncovered; citations and explanations must name a clause")
    func report() throws {
        let (policy, diagnostics) = compile(header + """
            outline:
              - clause: "1"
                text: |
                  1.1 Staff must report an incident.
                  1.2 The school should review its policies.
                  1.3 The lead must log it.
                  1.4 This is background.
            not_encoded:
              "1.2": advisory, names no one and no time
              "9.9": not a clause
            roles:
              staff: {title: Staff, clause: "1.1"}
            actions:
              report: {title: Report, roles: [staff]}
            duties:
              report: {title: Report, role: staff, action: report, clause: "1.1; 7.7"}
            """)
        #expect(policy == nil)   // the stray citation and explanation are errors
        #expect(diagnostics.contains { $0.code == "unknown-clause" && $0.message.contains("cites clause '7.7'") })
        #expect(diagnostics.contains { $0.code == "unknown-clause" && $0.message.contains("'not_encoded' names clause '9.9'") })
        let uncovered = try #require(diagnostics.first { $0.code == "uncovered-clause" })
        #expect(uncovered.message.contains("clause 1.3 states an obligation that no rule encodes"))
        #expect(uncovered.span?.start.line == 11)   // the line of 1.3 in the block
        let (fixed, _) = compile(header + """
            outline:
              - clause: "1"
                text: |
                  1.1 Staff must report an incident.
                  1.2 The school should review its policies.
                  1.3 The lead must log it.
            not_encoded:
              "1.2": advisory, names no one and no time
            roles:
              staff: {title: Staff, clause: "1.1"}
              lead: {title: Lead}
            actions:
              report: {title: Report, roles: [staff]}
              log: {title: Log, roles: [lead]}
            duties:
              report: {title: Report, role: staff, action: report, clause: "1.1"}
              log: {title: Log, role: lead, action: log, clause: "1.3"}
            """)
        let coverage = CoverageReport(policy: try #require(fixed))
        #expect(coverage.entries.map { "\($0.unit.id) \($0.status.rawValue)" } == ["1 text", "1.1 encoded", "1.2 explained", "1.3 encoded"])
        #expect(coverage.summary == "3 obligation clauses: 2 encoded, 1 explained, 0 uncovered")
        #expect(coverage.text().contains("EXPLAINED  1.2         not encoded: advisory, names no one and no time"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(coverage.json().utf8)) as? [String: Any])
        #expect(json["uncovered"] as? Int == 0)
    }

    @Test("quotations must be the document's words, whatever the case, punctuation and line breaks")
    func quotations() {
        let document = "4.1 Once an incident has occurred, staff MUST act\nimmediately to contain it.\n4.2 Report to the lead."
        let (ok, okDiagnostics) = compile(header + """
            outline:
              - clause: "4"
                text: |
                  4.1 Once an incident has occurred, staff must act immediately to contain it.
                  4.2 Report to the lead.
            not_encoded:
              "4.1": tested elsewhere
            """, sources: ["doc.txt": document])
        #expect(ok != nil, "\(okDiagnostics)")
        let (bad, diagnostics) = compile(header + """
            outline:
              - clause: "4"
                text: |
                  4.1 Once an incident has occurred, staff must act immediately to contain it.
                  4.2 Report to the lead. The law requires 72 hours.
            not_encoded:
              "4.1": tested elsewhere
            """, sources: ["doc.txt": document])
        #expect(bad == nil)
        let misquote = diagnostics.filter { $0.code == "misquoted" }
        #expect(misquote.count == 1)
        #expect(misquote.first?.message.contains("\"the law requires 72 hours\"") == true)
        // Without the document, quotations are not checked.
        #expect(compile(header + "outline: [{clause: \"1\", text: Words the document lacks.}]").0 != nil)
    }
}
