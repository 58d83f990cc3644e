import Foundation
import RulebookTestSupport
import Testing

/// The shipped Madras policy beside a local one that extends it and gives the Schools DPO
/// a contact, as a school would: the notification to data subjects can then be complete.
private func policies() throws -> String {
    let folder = try RulebookBinary.temporaryFolder().appendingPathComponent("policies")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try FileManager.default.copyItem(at: RulebookBinary.packageRoot.appendingPathComponent("Policies/madras.yaml"),
                                     to: folder.appendingPathComponent("madras.yaml"))
    try """
        id: madras-local
        title: Data Breach Policy and Procedure (this school)
        extends: madras
        roles:
          dpo:
            title: Schools DPO
            holder: A. Shah
            contact: dpo@example.org, 0161 000 0000
            clause: "3.3"
        """.write(to: folder.appendingPathComponent("madras-local.yaml"), atomically: true, encoding: .utf8)
    return folder.path
}

private func caseFile(_ policy: String, facts: [String]) throws -> String {
    let file = try RulebookBinary.temporaryFolder().appendingPathComponent("case.yaml")
    try """
        policy: \(policy)
        incident: INC-2026-0042
        facts:
          occurred_at: 2026-11-02T08:30:00Z
          discovered_at: 2026-11-02T09:14:00Z
          breach_type: disclosed_in_error
          data_subjects: 292
        \(facts.map { "  " + $0 }.joined(separator: "\n"))
        events:
          - {at: 2026-11-02T09:40:00Z, action: contain_incident, by: staff, actor: J. Clerk, note: FOI response withdrawn from the portal}
          - {at: 2026-11-02T11:00:00Z, action: coordinate_containment, by: dp_lead, note: Recipients asked to delete the file *and* confirm}
        """.write(to: file, atomically: true, encoding: .utf8)
    return file.path
}

private let allFacts = [
    "description: A spreadsheet of children's social care data was sent in reply to a Freedom of Information request.",
    "data_involved: Names, dates of birth and social care notes of 292 children",
    "likely_consequences: Distress; the information could identify the children and their families",
    "advice_to_subjects: Tell us if you are contacted about it; we will support you",
]

@Suite("rulebook draft")
struct DraftCLITests {
    @Test("every field filled: exit 0, the Markdown with the facts, the trail's notes as a list and the role's contact; plain text without marks")
    func complete() throws {
        let folder = try policies()
        let file = try caseFile("madras-local", facts: allFacts)
        let md = try RulebookBinary.run(["draft", file, "data_subjects", "--policies", folder, "--at", "2026-11-03T10:00:00Z"])
        #expect(md.status == 0, "\(md.stderr)")
        #expect(md.stderr.isEmpty)
        #expect(md.stdout.hasPrefix("# Telling the people affected about the breach\n"))
        #expect(md.stdout.contains("**What happened.** A spreadsheet of children's social care data was sent in reply to a Freedom of Information request."))
        #expect(md.stdout.contains("reference INC-2026-0042"))
        #expect(md.stdout.contains("- 2026-11-02 09:40 GMT: FOI response withdrawn from the portal\n- 2026-11-02 11:00 GMT: Recipients asked to delete the file \\*and\\* confirm"))
        #expect(md.stdout.contains("contact the Schools DPO: A. Shah, dpo@example.org, 0161 000 0000."))
        #expect(!md.stdout.contains("not known"))

        let text = try RulebookBinary.run(["draft", file, "data_subjects", "--policies", folder, "--format", "text"])
        #expect(text.status == 0)
        #expect(text.stdout.hasPrefix("Telling the people affected about the breach\n"))
        #expect(text.stdout.contains("What happened. A spreadsheet"))
        #expect(text.stdout.contains("delete the file *and* confirm"))
        #expect(!text.stdout.contains("**") && !text.stdout.contains("\\"))

        let json = try RulebookBinary.run(["draft", file, "data_subjects", "--policies", folder, "--format", "json"])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["complete"] as? Bool == true)
        #expect((object["questions"] as? [Any])?.isEmpty == true)
        #expect((object["fields"] as? [[String: Any]])?.map { $0["id"] as? String } == ["nature", "data", "dpo_contact", "consequences", "measures", "advice"])
        #expect(object["markdown"] as? String == md.stdout.dropLast().description || object["markdown"] as? String == md.stdout)
    }

    @Test("two fields missing (an unanswered fact, a role with no contact): exit 1, each listed as its question, the draft marks where")
    func twoMissing() throws {
        let file = try caseFile("madras", facts: allFacts.filter { !$0.hasPrefix("likely_consequences") })
        let policiesFolder = RulebookBinary.packageRoot.appendingPathComponent("Policies").path
        let md = try RulebookBinary.run(["draft", file, "data_subjects", "--policies", policiesFolder])
        #expect(md.status == 1)
        #expect(md.stdout.contains("**What this may mean for you.** _[not known: What are the likely consequences of the breach for the people affected?]_"))
        #expect(md.stderr == """

            2 fields could not be filled:
              - What are the contact details of the Schools DPO, where more information can be obtained? (Add `contact:` to role dpo in the policy.)
              - What are the likely consequences of the breach for the people affected? [facts: likely_consequences]

            """)
        let json = try RulebookBinary.run(["draft", file, "data_subjects", "--policies", policiesFolder, "--format", "json"])
        #expect(json.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["complete"] as? Bool == false)
        let questions = try #require(object["questions"] as? [[String: Any]])
        #expect(questions.map { $0["field"] as? String } == ["dpo_contact", "consequences"])
        #expect(questions.last?["waits_for"] as? [String] == ["likely_consequences"])
    }

    @Test("without a template, the policy's templates are listed; an unknown one is trouble with a suggestion")
    func listing() throws {
        let file = try caseFile("madras", facts: [])
        let policiesFolder = RulebookBinary.packageRoot.appendingPathComponent("Policies").path
        let list = try RulebookBinary.run(["draft", file, "--policies", policiesFolder])
        #expect(list.status == 0)
        #expect(list.stdout.contains("  data_subjects  Telling the people affected about the breach"))
        #expect(list.stdout.contains("  regulator  Report of a personal data breach to the ICO"))
        let wrong = try RulebookBinary.run(["draft", file, "regulater", "--policies", policiesFolder])
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("has no notification template 'regulater'"))
        #expect(wrong.stderr.contains("regulator"))
    }

    @Test("a template that names what is not a field, a field with no question, bad Mustache: errors at the file's line")
    func compileErrors() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let policy = folder.appendingPathComponent("p.yaml")
        try """
            id: p
            title: T
            organisation: O
            time_zone: Europe/London
            roles:
              lead: {title: Lead}
            facts:
              summary: {type: text, question: What happened?, clause: "1"}
              people: {type: integer, question: How many?, clause: "1"}
            actions:
              tell: {title: Tell, roles: [lead]}
            drafts:
              notice:
                title: Notice
                clause: "2"
                fields:
                  what: {value: summary}
                  many: {value: people + 1}
                template: |
                  {{wht}} happened.
              broken:
                title: Broken
                clause: "3"
                fields:
                  what: {value: summary}
                template: "{{#what}} never closed"
            """.write(to: policy, atomically: true, encoding: .utf8)
        let run = try RulebookBinary.run(["validate", policy.path, "--color", "never"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("p.yaml:18:7: error: field 'many' of draft 'notice' needs a 'question'"), "\(run.stderr)")
        #expect(run.stderr.contains("p.yaml:19:15: error: the template of draft 'notice' names 'wht' (line 1), which is not one of its fields"), "\(run.stderr)")
        #expect(run.stderr.contains("did you mean 'what'?"))
        #expect(run.stderr.contains("p.yaml:26:15: error: the template of draft 'broken' is not valid Mustache at line 1, column 23 of the template: a section ({{#name}} or {{^name}}) is never closed with {{/name}}"), "\(run.stderr)")
    }

    @Test("the README's draft example is what the command prints (its lines, in order; '...' skips)")
    func readmeExample() throws {
        let readme = try String(contentsOf: RulebookBinary.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "$ rulebook draft "))
        let end = try #require(readme[start.lowerBound...].range(of: "\n```"))
        let block = readme[start.lowerBound..<end.lowerBound]
        var lines = block.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let command = lines.removeFirst().dropFirst(2).split(separator: " ").dropFirst().map(String.init)
        let run = try RulebookBinary.run(command)
        #expect(run.status == 1)
        let printed = (run.stdout + "\n" + run.stderr).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var at = 0
        for line in lines where line != "..." && !line.isEmpty {
            guard let found = printed[at...].firstIndex(of: line) else {
                Issue.record("README line not printed (in order): \(line)")
                return
            }
            at = found + 1
        }
    }
}
