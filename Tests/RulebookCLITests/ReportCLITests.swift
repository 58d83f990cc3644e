import Foundation
import RulebookTestSupport
import Testing

@Suite("rulebook report")
struct ReportCLITests {
    static let at = "2026-11-10T09:00:00Z"

    /// A register holding the five shipped examples, each at a school named after it.
    static func register() throws -> String {
        let folder = try RulebookBinary.temporaryFolder()
        let path = folder.appendingPathComponent("r.sqlite").path
        let examples = RulebookBinary.packageRoot.appendingPathComponent("Policies/examples")
        for name in try FileManager.default.contentsOfDirectory(atPath: examples.path).sorted() where name.hasSuffix(".yaml") {
            let school = String(name.prefix { $0 != "-" }).capitalized + " School"
            let run = try RulebookBinary.run(["import", examples.appendingPathComponent(name).path, "--school", school, "--register", path])
            #expect(run.status == 0, "\(run.stderr)")
        }
        return path
    }

    @Test("Markdown over the five examples is its golden file: summary, months, schools, kinds, milestones, duties, open incidents, findings")
    func markdown() throws {
        let run = try RulebookBinary.run(["report", "--register", try Self.register(), "--at", Self.at])
        #expect(run.status == 0, "\(run.stderr)")
        if let difference = Fixtures.compare(run.stdout, golden: "report/examples.md") { Issue.record(Comment(rawValue: difference)) }
        #expect(run.stdout.contains("| 5 | 1 | 5 |"))
    }

    @Test("JSON follows Schemas/report.schema.json, and says the same as CSV")
    func jsonAndCSV() throws {
        let register = try Self.register()
        let json = try RulebookBinary.run(["report", "--register", register, "--at", Self.at, "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let file = try RulebookBinary.temporaryFolder().appendingPathComponent("report.json")
        try json.stdout.write(to: file, atomically: true, encoding: .utf8)
        let (status, errors) = try RulebookBinary.tool(["python3", "-m", "check_jsonschema", "--schemafile",
                                         RulebookBinary.packageRoot.appendingPathComponent("Schemas/report.schema.json").path, file.path])
        #expect(status == 0, "\(errors)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let duties = try #require(object["duties"] as? [[String: Any]])
        let missedJSON = duties.compactMap { $0["missed"] as? Int }.reduce(0, +)
        let csv = try RulebookBinary.run(["report", "--register", register, "--at", Self.at, "--format", "csv", "--section", "duties"])
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.first == "policy,duty,title,clause,on_time,late,missed,open,undetermined,on_time_share")
        #expect(lines.count == duties.count + 1)
        // Every title is quoted when it holds a comma; the missed column is the 7th after them.
        let (parsed, parseErrors) = try RulebookBinary.tool(["python3", "-c", """
            import csv, io, sys
            rows = list(csv.reader(io.StringIO(open(sys.argv[1]).read())))
            assert all(len(r) == 10 for r in rows), rows
            assert sum(int(r[6]) for r in rows[1:]) == int(sys.argv[2]), "missed"
            """, try Self.write(csv.stdout), String(missedJSON)])
        #expect(parsed == 0, "\(parseErrors)")
        let all = try RulebookBinary.run(["report", "--register", register, "--at", Self.at, "--format", "csv"])
        #expect(all.stdout.hasPrefix("summary,Summary\r\nincidents,near_misses,open,open_overdue,closed,"))
        #expect(all.stdout.contains("\r\n\r\nfindings,Audit findings by kind\r\nkind,findings\r\n"))
    }

    static func write(_ text: String) throws -> String {
        let file = try RulebookBinary.temporaryFolder().appendingPathComponent("out.txt")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test("charts: SVG files beside the Markdown, each valid XML that renders; HTML is one page with them inline and no script")
    func charts() throws {
        let register = try Self.register()
        let folder = try RulebookBinary.temporaryFolder().appendingPathComponent("charts")
        let run = try RulebookBinary.run(["report", "--register", register, "--at", Self.at, "--charts", folder.path])
        #expect(run.status == 0, "\(run.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(files == ["by_month.svg", "by_school.svg", "duties.svg", "findings.svg"])
        for name in files {
            let svg = folder.appendingPathComponent(name).path
            #expect(run.stdout.contains("](\(svg))"))
            let (lint, lintErrors) = try RulebookBinary.tool(["xmllint", "--noout", svg])
            #expect(lint == 0, "\(name): \(lintErrors)")
            let png = svg + ".png"
            let (render, renderErrors) = try RulebookBinary.tool(["rsvg-convert", "-o", png, svg])
            #expect(render == 0, "\(name): \(renderErrors)")
            let size = (try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
            #expect(size > 5_000, "\(name): a PNG of \(size) bytes")
        }
        let duties = try String(contentsOfFile: folder.appendingPathComponent("duties.svg").path, encoding: .utf8)
        // Outcomes differ by pattern as well as colour, with the numbers on hover.
        #expect(duties.contains("url(#chart-cross)") && duties.contains("url(#chart-hatch)"))
        #expect(duties.contains("<title>Sign Form A and send it to the Schools DPO within 24 hours of the incident occurring: on time: 0, late: 0, missed: 1, open: 0</title>"))
        let html = try RulebookBinary.run(["report", "--register", register, "--at", Self.at, "--format", "html"])
        #expect(html.status == 0)
        #expect(html.stdout.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        #expect(html.stdout.components(separatedBy: "<svg ").count - 1 == 4)
        #expect(!html.stdout.contains("<script"))
        #expect(!html.stdout.contains("<?xml"))
    }

    @Test("filters: one school, one policy, a period; an empty register")
    func filters() throws {
        let register = try Self.register()
        let one = try RulebookBinary.run(["report", "--register", register, "--at", Self.at, "--format", "json", "--school", "Madras School"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])
        #expect((object["summary"] as? [String: Any])?["incidents"] as? Int == 1)
        #expect((object["by_school"] as? [[String: Any]])?.map { $0["school"] as? String } == ["Madras School"])
        let policy = try RulebookBinary.run(["report", "--register", register, "--at", Self.at, "--format", "csv", "--section", "summary",
                                             "--policy", "council"])
        #expect(policy.stdout.components(separatedBy: "\r\n")[1].hasPrefix("1,0,1,"))
        let before = try RulebookBinary.run(["report", "--register", register, "--at", Self.at, "--format", "csv", "--section", "summary",
                                             "--to", "2026-10-31"])
        #expect(before.stdout.components(separatedBy: "\r\n")[1] == "0,0,0,0,0")
        let empty = try RulebookBinary.temporaryFolder().appendingPathComponent("empty.sqlite").path
        let opened = try RulebookBinary.run(["open", "council", "--register", empty, "--at", "2026-11-01T09:00:00Z"])
        #expect(opened.status == 0, "\(opened.stderr)")
        let none = try RulebookBinary.run(["report", "--register", empty, "--at", Self.at, "--school", "Nowhere"])
        #expect(none.status == 0, "\(none.stderr)")
        #expect(none.stdout.contains("| 0 | 0 | 0 | 0 | 0 |"))
        #expect(none.stdout.contains("## Audit findings by kind\n\nThe audit found nothing in these incidents.\n\nNone."))
    }

    @Test("bad input: a date that is not one, --from after --to, --section without csv or unknown, no register: exit 2 with the reason")
    func badInput() throws {
        let register = try Self.register()
        let cases: [([String], String)] = [
            (["--from", "2026-02-30"], "--from '2026-02-30' is not a date"),
            (["--from", "2026-05-01", "--to", "2026-04-01"], "--from 2026-05-01 is after --to 2026-04-01"),
            (["--section", "duties"], "--section chooses one table of --format csv"),
            (["--format", "csv", "--section", "dutys"], "--section 'dutys' is not a table of the report"),
            (["--format", "json", "--charts", "x"], "--charts writes the charts of --format md"),
            (["--at", "yesterday"], "--at 'yesterday' is not an RFC 3339 time"),
        ]
        for (arguments, message) in cases {
            let run = try RulebookBinary.run(["report", "--register", register] + arguments)
            #expect(run.status == 2, "\(arguments)")
            // (With --format json the error is JSON on standard output, as for every command.)
            #expect((run.stderr + run.stdout).contains(message), "\(arguments): \(run.stderr)")
        }
        let missing = try RulebookBinary.run(["report", "--register", "/nonexistent/r.sqlite"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("there is no register at '/nonexistent/r.sqlite'"))
        let notSQLite = try Self.write("not a database\n")
        let garbage = try RulebookBinary.run(["report", "--register", notSQLite])
        #expect(garbage.status == 2, "\(garbage.stderr)")
        #expect(!garbage.stderr.contains("Fatal error"))
    }
}
