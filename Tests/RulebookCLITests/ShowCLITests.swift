import Foundation
import RulebookTestSupport
import Testing

@Suite("rulebook show")
struct ShowCLITests {
    static let policies = ["school-procedure", "treetops", "leverton", "madras", "council"]

    @Test("each shipped policy renders exactly as its golden file (checked by hand against the document)", arguments: policies)
    func golden(_ id: String) throws {
        let run = try RulebookBinary.run(["show", id])
        #expect(run.status == 0, "\(run.stderr)")
        if let difference = Fixtures.compare(run.stdout, golden: "show/\(id).md") {
            Issue.record(Comment(rawValue: difference))
        }
    }

    /// The numbered MUST points, as the documents word them.
    static let mustPoints: [String: [String]] = [
        "treetops": [
            "1. **MUST:** If you discover a security incident, you must immediately report it",
            "2. **MUST:** When reporting the incident, you must provide as much information as possible",
            "3. **MUST:** The Investigating Officer/ Line Manager must complete investigations as directed by the DPO team at ECC and complete an outcome report",
            "4. **MUST:** The SIRO must support investigations as directed by the DPO team and provide an outcome report",
            "5. **MUST:** The School Business Manager must oversee and support each investigation, maintaining a full record from reporting to closure",
            "6. **MUST:** The SLT must support the investigation of major and critical incidents",
            "7. **MUST:** Comply with the timescales and escalation process outlined in our Procedures for Reporting or Handling a Security Incident.",
        ],
        "leverton": [
            "1. **MUST:** If you discover a security incident, you must immediately report it",
            "2. **MUST:** When reporting the incident, you must provide as much information as possible",
            "3. **MUST:** The Investigating Officer must complete investigations and complete an outcome report (see Procedures for Reporting or Handling a Security Incident)",
            "4. **MUST:** All staff must support investigations into incidents as required",
            "5. **MUST:** Maintain a full record of each incident from reporting to closure",
            "6. **MUST:** The Headteacher/SIRO must support the investigation of major and critical incidents",
            "7. **MUST:** Comply with the timescales and escalation process outlined in our Procedures for Reporting or Handling a Security Incident",
            "8. **MUST:** Major and critical incidents must be referred to the Data Protection Officer.",
        ],
        "madras": [
            "school staff must act immediately in order to contain the situation",
            "who must then report immediately to the Schools DPO",
            "This must be undertaken on the day that the incident is identified",
            "the School Data Protection lead must complete the Schools Data Security Incident Report (Form A)",
            "the Schools DPO must decide if the matter should be reported to the ICO. This must take place within 72 hours",
            "the School Data Protection lead and Headteacher must report to the Schools DPO",
            "The school must keep a log of the data security incident",
            "Form A must be signed by both the School Data Protection lead and the Headteacher",
            "Any decision not to notify those concerned must be fully documented",
            "there must instead be a public communication",
            "| 101–1000 | 2 — 101 to 1,000 people |",
            "| `score >= 3` | 2 — Category Level 2",
        ],
        "council": [
            "must first be reported to an individual's Line Manager",
            "must be reported at the earliest opportunity to the IT Service Desk",
            "you must note the symptoms and any error messages",
            "Employees must not attempt to prove/exploit a security weakness",
            "Employees must not attempt to investigate a suspected security breach",
            "Line Managers must report any security event or weakness to the IT Service Desk",
            "The reporting Employee must be kept informed of the progress",
            "Incidents that are considered service affecting must be reported to the relevant Service Manager and System Owner",
            "### Line Manager",
            "### System & Information Management Officer (SIMO)",
        ],
        "school-procedure": [
            "it must be reported immediately to their line manager",
            "must fill in the Security and Data Protection Incident reporting form as soon as the incident/near miss is recognised",
            "should be sent to: the head teacher and the Data Protection Officer",
            "The DPO will inform Information Governance Board members and/or the Caldicott Guardian",
            "The head teacher will inform the governing body",
            "Details of incidents will be recorded in the DPO monitoring spreadsheet",
            "re-evaluated after a 6-month period",
            "**Near Miss**: Any incident which could have led to a security incident, but was avoided.",
        ],
    ]

    @Test("each rendering holds every numbered MUST point of its document, and its assumptions", arguments: policies)
    func mustPointsAndAssumptions(_ id: String) throws {
        let run = try RulebookBinary.run(["show", id])
        for point in Self.mustPoints[id] ?? [] {
            #expect(run.stdout.contains(point), "\(id) is missing: \(point)")
        }
        #expect(run.stdout.contains("## Assumptions"))
        #expect(run.stdout.contains("## Roles"))
    }

    @Test("an unknown policy is trouble")
    func unknown() throws {
        let run = try RulebookBinary.run(["show", "madrass"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("did you mean 'madras'?"))
    }
}

@Suite("README examples")
struct ReadmeExampleTests {
    @Test("every example command in README.md and docs/shipped-policies.md runs and says something useful")
    func examples() throws {
        let readme = try ["README.md", "docs/shipped-policies.md"].map {
            try String(contentsOf: RulebookBinary.packageRoot.appendingPathComponent($0), encoding: .utf8)
        }.joined(separator: "\n")
        let commands = readme.split(separator: "\n").filter { $0.hasPrefix("rulebook ") && $0.contains("Policies/examples/") }
        #expect(commands.count >= 6)
        for command in commands {
            let arguments = command.split(separator: " ").dropFirst().map(String.init)
            let run = try RulebookBinary.run(arguments)
            // audit exits 1 when it has findings, which the council example is meant to show.
            #expect(run.status == 0 || (arguments.first == "audit" && run.status == 1), "\(command): \(run.stderr)")
            #expect(run.stdout.contains("Incident"), "\(command)")
        }
    }
}
