import Foundation
import RulebookTestSupport
import Testing

/// A register in a fresh folder, and `rulebook` run against it (shipped policies).
private struct Workbench {
    let folder: URL
    var register: String { folder.appendingPathComponent("rulebook.sqlite").path }

    init() throws {
        folder = try RulebookBinary.temporaryFolder()
    }

    func run(_ arguments: [String]) throws -> RulebookBinary.Run {
        try RulebookBinary.run(arguments, environment: ["RULEBOOK_REGISTER": register])
    }

    /// Runs and expects success, returning standard output.
    func ok(_ arguments: [String]) throws -> String {
        let run = try run(arguments)
        #expect(run.status == 0, "\(arguments.joined(separator: " ")): \(run.stderr)")
        return run.stdout
    }

    func write(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Runs SQL with the sqlite3 shell, as someone editing the file by hand would.
    func sqlite(_ sql: String) throws -> Int32 { try RulebookBinary.sqlite(register, sql) }
}

@Suite("rulebook register commands")
struct RegisterCLITests {
    @Test("open, record, list, next, audit and export on a Madras incident")
    func lifecycle() throws {
        let bench = try Workbench()
        let facts = try bench.write("facts.yaml", "discovered_at: 2026-11-02T09:14:00Z\noccurred_at: 2026-11-02T08:30:00Z\ndata_subjects: 292\n")
        let number = try bench.ok(["open", "madras", "--facts", facts, "--school", "Madras V.A.", "--at", "2026-11-02T09:20:00Z"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(number == "INC-2026-0001")
        let recorded = try bench.ok(["record", number, "report", "--by", "staff", "--actor", "J. Clerk", "--at", "2026-11-02T09:30:00Z"])
        #expect(recorded.hasPrefix("recorded event 1 of INC-2026-0001 ("))
        _ = try bench.ok(["record", number, "report_to_dpo", "--by", "dp_lead", "--at", "2026-11-02T10:05:00Z"])
        _ = try bench.ok(["record", number, "preliminary_investigation", "--by", "dp_lead", "--at", "2026-11-02T13:30:00Z",
                          "--fact", "near_miss=false", "--fact", "sensitivity=[limited_demographic, limited_clinical, particularly_sensitive, parents_distressed]"])
        _ = try bench.ok(["record", number, "advise_dpo_of_score", "--by", "dp_lead", "--value", "3", "--at", "2026-11-02T13:45:00Z"])
        let list = try bench.ok(["list", "--at", "2026-11-03T10:00:00Z"])
        #expect(list.contains("INC-2026-0001  madras · Madras V.A.  opened 2026-11-02 09:20 GMT"))
        #expect(list.contains("next: "))
        #expect(try bench.ok(["list", "--school", "Elsewhere"]) == "no incidents\n")
        #expect(try bench.ok(["list", "--overdue", "--at", "2026-11-02T09:25:00Z"]) == "no incidents\n")
        let json = try JSONSerialization.jsonObject(with: Data(try bench.ok(["list", "--format", "json", "--at", "2026-11-03T10:00:00Z"]).utf8)) as? [String: Any]
        let incidents = try #require(json?["incidents"] as? [[String: Any]])
        #expect(incidents.first?["number"] as? String == number)
        #expect((incidents.first?["overdue"] as? Int ?? 0) > 0)
        let next = try bench.ok(["next", number, "--at", "2026-11-03T10:00:00Z"])
        #expect(next.contains("Incident INC-2026-0001 at 2026-11-03 10:00 GMT"))
        // 72 hours from the earlier of occurrence and discovery (madras 3.3, 4.6, 6.4).
        #expect(next.contains("Decide within 72 hours whether to report a Category Level 2 breach to the ICO — by 2026-11-05 08:30 GMT"))
        let assess = try bench.ok(["assess", number, "--at", "2026-11-03T10:00:00Z"])
        #expect(assess.contains("category = 2 (Category Level 2"))
        let audit = try bench.run(["audit", number, "--at", "2026-11-03T10:00:00Z"])
        #expect(audit.status == 1)
        #expect(audit.stdout.contains("missing"))
        // An audit of a register incident rests on its records verified first.
        #expect(audit.stdout.contains("Hash chain verified: 4 events; register head #5 "))
        let auditJSON = try JSONSerialization.jsonObject(with: Data(try bench.run(["audit", number, "--format", "json", "--at", "2026-11-03T10:00:00Z"]).stdout.utf8)) as? [String: Any]
        let chain = try #require(auditJSON?["chain"] as? [String: Any])
        #expect(chain["events"] as? Int == 4)
        #expect(chain["head_records"] as? Int == 5)
        let exported = try bench.ok(["export", number])
        #expect(exported.contains("incident: INC-2026-0001"))
        #expect(exported.contains("{at: \"2026-11-02T13:45:00Z\", action: \"advise_dpo_of_score\", by: \"dp_lead\", value: 3, recorded_at: "))
        // An exported case is itself a case file the engine reads.
        let file = try bench.write("exported.yaml", exported)
        #expect(try bench.ok(["next", file, "--at", "2026-11-03T10:00:00Z"]) == next)
        #expect(try bench.ok(["verify"]).hasPrefix("intact: 1 incident, 4 events verified\nhead: record #5, "))
    }

    @Test("open and record with --format json answer as the API's POSTs do: the number; the incident, its position and the whole hash")
    func jsonAnswers() throws {
        let bench = try Workbench()
        func object(_ text: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
        }
        let opened = try object(try bench.ok(["open", "council", "--at", "2026-11-05T09:00:00Z", "--format", "json"]))
        #expect(opened.keys.sorted() == ["number"])
        let number = try #require(opened["number"] as? String)
        #expect(number == "INC-2026-0001")
        let recorded = try object(try bench.ok(["record", number, "record_facts", "--by", "employee", "--at", "2026-11-05T09:10:00Z", "--format", "json"]))
        #expect(recorded.keys.sorted() == ["hash", "incident", "position"])
        #expect(recorded["incident"] as? String == number)
        #expect(recorded["position"] as? Int == 1)
        let hash = try #require(recorded["hash"] as? String)
        #expect(hash.count == 64 && hash.allSatisfy(\.isHexDigit))
        // The text answer of the next one abbreviates the same kind of hash.
        let text = try bench.ok(["record", number, "record_facts", "--by", "employee", "--at", "2026-11-05T09:20:00Z"])
        #expect(text.hasPrefix("recorded event 2 of \(number) ("))
    }

    @Test("record refuses bad input with a clear error, writes nothing, exit 2")
    func refusals() throws {
        let bench = try Workbench()
        let number = try bench.ok(["open", "council", "--at", "2026-11-05T09:00:00Z"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let cases: [([String], String)] = [
            (["record", number, "report_to_line_manger", "--by", "employee"], "unknown action 'report_to_line_manger' in policy 'council' (did you mean 'report_to_line_manager'?)"),
            (["record", number, "report_to_line_manager", "--by", "employe"], "unknown role 'employe' in policy 'council' (did you mean 'employee'?)"),
            (["record", number, "record_facts", "--by", "employee", "--fact", "it_related=yes"], "'it_related' must be a bool; found the string 'yes'"),
            (["record", number, "record_facts", "--by", "employee", "--fact", "classification=accident"], "'accident' is not an option of 'classification' (did you mean 'incident'?)"),
            (["record", number, "record_facts", "--by", "employee", "--fact", "colour=red"], "unknown fact 'colour' in policy 'council'"),
            (["record", number, "record_facts", "--by", "employee", "--fact", "nonsense"], "--fact 'nonsense' is not KEY=VALUE"),
            (["record", "INC-2026-0042", "record_facts", "--by", "employee"], "the register has no incident INC-2026-0042"),
            (["record", number, "record_facts", "--by", "employee", "--at", "yesterday"], "--at 'yesterday' is not an RFC 3339 time"),
        ]
        for (arguments, message) in cases {
            let run = try bench.run(arguments)
            #expect(run.status == 2, "\(arguments)")
            #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
            #expect(!run.stderr.contains("Stack"))
        }
        #expect(try bench.ok(["export", number, "--as", "jsonl"]) == "")
        #expect(try bench.run(["list"]).status == 0)
        let missing = try RulebookBinary.run(["list"], environment: ["RULEBOOK_REGISTER": bench.folder.appendingPathComponent("none.sqlite").path])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("there is no register at"))
    }

    @Test("editing, deleting or reordering a row with the sqlite3 shell: verify fails and names the record")
    func tamperWithShell() throws {
        let bench = try Workbench()
        let number = try bench.ok(["open", "council", "--at", "2026-11-05T09:00:00Z"]).trimmingCharacters(in: .whitespacesAndNewlines)
        for (i, action) in ["report_to_line_manager", "report_to_service_desk", "note_symptoms"].enumerated() {
            _ = try bench.ok(["record", number, action, "--by", "employee", "--at", "2026-11-05T09:1\(i):00Z"])
        }
        #expect(try bench.run(["verify"]).status == 0)
        // The triggers refuse a plain edit.
        #expect(try bench.sqlite("UPDATE event SET body = replace(body, '09:11', '09:05') WHERE position = 2") != 0)
        // With the trigger dropped, the edit lands, and verify finds it.
        #expect(try bench.sqlite("DROP TRIGGER event_no_update; UPDATE event SET body = replace(body, '09:11', '09:05') WHERE position = 2") == 0)
        let run = try bench.run(["verify"])
        #expect(run.status == 1)
        #expect(run.stdout.hasPrefix("TAMPERED: event 2 of INC-2026-0001 was edited: its record does not match its hash"))
        let json = try JSONSerialization.jsonObject(with: Data(try bench.run(["verify", "--format", "json"]).stdout.utf8)) as? [String: Any]
        #expect(json?["intact"] as? Bool == false)
        // An audit refuses to judge records that do not check out.
        let audit = try bench.run(["audit", number, "--at", "2026-11-06T09:00:00Z"])
        #expect(audit.status == 2)
        #expect(audit.stderr.contains("the register's records of INC-2026-0001 do not check out, so they cannot be audited"))
        #expect(audit.stderr.contains("- event 2 of INC-2026-0001 was edited: its record does not match its hash"))
        // Deletion.
        let other = try Workbench()
        let n = try other.ok(["open", "council", "--at", "2026-11-05T09:00:00Z"]).trimmingCharacters(in: .whitespacesAndNewlines)
        for i in 0..<3 { _ = try other.ok(["record", n, "record_facts", "--by", "employee", "--note", "n\(i)", "--at", "2026-11-05T09:0\(i):00Z"]) }
        #expect(try other.sqlite("DROP TRIGGER event_no_delete; DELETE FROM event WHERE position = 2") == 0)
        let deleted = try other.run(["verify", n])
        #expect(deleted.status == 1)
        #expect(deleted.stdout.contains("is missing: it was deleted"))
    }

    @Test("a reporter who asked for anonymity is never named: not in list, export, next, assess or audit, text or JSON")
    func anonymity() throws {
        let bench = try Workbench()
        let facts = try bench.write("facts.yaml", "discovered_at: 2026-11-04T08:10:00Z\n")
        let number = try bench.ok(["open", "treetops", "--facts", facts, "--at", "2026-11-04T08:15:00Z"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try bench.ok(["record", number, "report_anonymously", "--by", "staff", "--actor", "Jo Bloggs", "--fact", "reporter_anonymous=true", "--at", "2026-11-04T08:30:00Z"])
        _ = try bench.ok(["record", number, "provide_full_details", "--by", "staff", "--actor", "Jo Bloggs", "--at", "2026-11-04T08:40:00Z"])
        _ = try bench.ok(["record", number, "classify_incident", "--by", "business_manager", "--actor", "Sandra Slade", "--fact", "severity=major", "--at", "2026-11-04T09:00:00Z"])
        var outputs: [String] = []
        for format in ["text", "json"] {
            outputs.append(try bench.ok(["list", "--format", format]))
            outputs.append(try bench.ok(["next", number, "--all", "--format", format, "--at", "2026-11-04T10:00:00Z"]))
            outputs.append(try bench.ok(["assess", number, "--format", format, "--at", "2026-11-04T10:00:00Z"]))
            outputs.append(try bench.run(["audit", number, "--format", format, "--at", "2026-11-04T10:00:00Z"]).stdout)
        }
        for form in ["yaml", "json", "jsonl"] { outputs.append(try bench.ok(["export", number, "--as", form])) }
        for output in outputs { #expect(!output.contains("Jo Bloggs"), "\(output)") }
        #expect(outputs.contains { $0.contains("Sandra Slade") })
        // Nor is the name in the register file itself.
        for suffix in ["", "-wal"] {
            let data = (try? Data(contentsOf: URL(fileURLWithPath: bench.register + suffix))) ?? Data()
            #expect(data.range(of: Data("Jo Bloggs".utf8)) == nil)
        }
    }

    @Test("import re-validates a case file and re-chains it; audit can compare the pinned policy with the current one")
    func importAndCompare() throws {
        let bench = try Workbench()
        let example = RulebookBinary.packageRoot.appendingPathComponent("Policies/examples/madras-foi-disclosure.yaml").path
        let number = try bench.ok(["import", example]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(number == "INC-2026-0007")
        #expect(try bench.ok(["next", number, "--at", "2026-11-03T10:00:00Z"])
            == (try RulebookBinary.run(["next", example, "--at", "2026-11-03T10:00:00Z"]).stdout))
        let again = try bench.ok(["import", example]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(again == "INC-2026-0007" ? false : again.hasPrefix("INC-2026-"))
        let bad = try bench.write("bad.yaml", "policy: madras\nevents:\n  - {at: 2026-11-02T09:00:00Z, action: teleport, by: staff}\n")
        let refused = try bench.run(["import", bad])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("unknown action 'teleport'"))
        let compared = try bench.run(["audit", number, "--compare-current", "--at", "2026-11-03T10:00:00Z"])
        #expect(compared.stdout.contains("Under the current policy 'madras'"))
        #expect(compared.stdout.contains("the same findings"))
        #expect(try bench.ok(["verify"]).hasPrefix("intact: 2 incidents, 16 events verified"))
    }

    @Test("eight processes recording on one incident at once, with no --at, all land in one linear chain")
    func eightWithoutAt() throws {
        let bench = try Workbench()
        let number = try bench.ok(["open", "council", "--at", "2026-11-05T09:00:00Z"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let group = DispatchGroup()
        let statuses = LockedList()
        for side in 0..<8 {
            group.enter()
            DispatchQueue.global().async {
                let run = try? bench.run(["record", number, "record_facts", "--by", "employee", "--note", "p\(side)"])
                statuses.append(run?.status ?? -1)
                group.leave()
            }
        }
        group.wait()
        #expect(statuses.items == Array(repeating: 0, count: 8))
        let lines = try bench.ok(["export", number, "--as", "jsonl"]).split(separator: "\n")
        #expect(lines.count == 8)
        #expect(try bench.ok(["verify"]).hasPrefix("intact: 1 incident, 8 events verified"))
    }

    @Test("two processes recording on one incident at once both land, in one linear chain")
    func concurrency() throws {
        let bench = try Workbench()
        let number = try bench.ok(["open", "council", "--at", "2026-11-05T09:00:00Z"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let rounds = 12
        for round in 0..<rounds {
            let group = DispatchGroup()
            let statuses = LockedList()
            for side in ["a", "b"] {
                group.enter()
                DispatchQueue.global().async {
                    let run = try? bench.run(["record", number, "record_facts", "--by", "employee", "--note", "\(side)\(round)", "--at", "2026-11-05T10:00:00Z"])
                    statuses.append(run?.status ?? -1)
                    group.leave()
                }
            }
            group.wait()
            #expect(statuses.items == [0, 0], "round \(round)")
        }
        let lines = try bench.ok(["export", number, "--as", "jsonl"]).split(separator: "\n")
        #expect(lines.count == rounds * 2)
        for round in 0..<rounds {
            #expect(lines.contains { $0.contains("\"a\(round)\"") } && lines.contains { $0.contains("\"b\(round)\"") })
        }
        #expect(try bench.ok(["verify"]).hasPrefix("intact: 1 incident, \(rounds * 2) events verified"))
    }

    @Test("kill -9 in the middle of recording leaves the register consistent, with every acknowledged event present")
    func killed() throws {
        let bench = try Workbench()
        let number = try bench.ok(["open", "council", "--at", "2026-11-05T09:00:00Z"]).trimmingCharacters(in: .whitespacesAndNewlines)
        var acknowledged: [String] = []
        var killed = 0
        for i in 0..<40 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: RulebookBinary.path)
            process.arguments = ["record", number, "record_facts", "--by", "employee", "--note", "k\(i)", "--at", "2026-11-05T10:00:00Z"]
            process.environment = ProcessInfo.processInfo.environment.merging(["RULEBOOK_REGISTER": bench.register]) { $1 }
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Kill most runs after a short, varying delay: some before, some during, some
            // after the write.
            if i % 4 != 0 {
                usleep(UInt32(2_000 + (i * 7_919) % 40_000))
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
            let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            if process.terminationReason == .uncaughtSignal { killed += 1 }
            if printed.hasPrefix("recorded event") { acknowledged.append("k\(i)") }
        }
        #expect(killed > 0)
        #expect(try bench.run(["verify"]).status == 0, "the register must verify after kill -9")
        let trail = try bench.ok(["export", number, "--as", "jsonl"])
        for note in acknowledged { #expect(trail.contains("\"\(note)\""), "acknowledged \(note) is missing") }
        // And it still takes appends.
        _ = try bench.ok(["record", number, "record_facts", "--by", "employee", "--note", "after", "--at", "2026-11-05T11:00:00Z"])
        #expect(try bench.run(["verify"]).status == 0)
    }
}

private final class LockedList: @unchecked Sendable {
    private var values: [Int32] = []
    private let lock = NSLock()
    func append(_ v: Int32) { lock.lock(); values.append(v); lock.unlock() }
    var items: [Int32] { lock.lock(); defer { lock.unlock() }; return values.sorted() }
}
