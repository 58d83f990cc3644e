import Foundation
import GRDB
import RulebookCore
import RulebookDiagnostics
import RulebookTestSupport
import RulebookYAML
import Testing

@testable import RulebookRegister

/// The engine fixture policy, with its text for pinning.
private func fixture(_ text: String? = nil) throws -> (Policy, [(id: String, file: String, text: String)]) {
    let url = Fixtures.url("policies/engine/engine.yaml")
    let source = try text ?? String(contentsOf: url, encoding: .utf8)
    let library = PolicyLibrary()
    library.add(PolicySource(file: url.path, text: source))
    let result = PolicyCompiler.compile(id: "engine", library: library)
    let policy = try #require(result.policy, "\(Fixtures.describe(result.diagnostics))")
    return (policy, [("engine", url.path, source)])
}

private func t(_ text: String) -> Instant { Timestamp.parse(text)! }

/// An event node from YAML text.
private func event(_ yaml: String) throws -> Node {
    try #require(YAMLReader.read(yaml, file: "event.yaml").root)
}

private func freshRegister() throws -> Register {
    let folder = try RulebookBinary.temporaryFolder()
    return try Register(path: folder.appendingPathComponent("r.sqlite").path, create: true)
}

@Suite("Register")
struct RegisterTests {
    @Test("open numbers incidents per year; record appends; the trail reads back; verify is intact")
    func roundTrip() throws {
        let (policy, lineage) = try fixture()
        let register = try freshRegister()
        // (Dates in the past: a register refuses the future.)
        let first = try register.openIncident(lineage: lineage, policy: policy, facts: [], school: "A", at: t("2026-11-02T09:00:00Z"))
        let second = try register.openIncident(lineage: lineage, policy: policy, facts: [], school: "B", at: t("2025-12-31T23:30:00Z"))
        let third = try register.openIncident(lineage: lineage, policy: policy, facts: [], school: nil, at: t("2026-01-01T00:30:00Z"))
        #expect([first, second, third] == ["INC-2026-0001", "INC-2025-0001", "INC-2026-0002"])
        try register.record(first, event: try event("{at: 2026-11-02T09:10:00Z, action: report, by: staff, actor: A. Teacher}"), recordedAt: t("2026-11-02T09:11:00Z"))
        let (position, _) = try register.record(first, event: try event("{at: 2026-11-02T10:00:00Z, action: record_facts, by: lead, facts: {severity: major, personal: true}}"), recordedAt: t("2026-11-02T10:01:00Z"))
        #expect(position == 2)
        let (stored, pinned) = try register.incident(first)
        #expect(stored.file.events.count == 2)
        #expect(stored.file.events[0].actor == "A. Teacher")
        #expect(Engine(policy: pinned).evaluate(stored.file, at: t("2026-11-02T11:00:00Z")).values.slots[pinned.valueSlot(of: "serious")!] == .bool(true))
        #expect(try register.incidents(school: "B").map(\.number) == [second])
        let report = try register.verify()
        #expect(report.isIntact, "\(report.problems)")
        #expect((report.incidents, report.events, report.headRecords) == (3, 2, 5))
    }

    @Test("refusals write nothing: unknown action, role or fact, wrong type, missing reason, unknown incident")
    func refusals() throws {
        let (policy, lineage) = try fixture()
        let register = try freshRegister()
        let number = try register.openIncident(lineage: lineage, policy: policy, facts: [], school: nil, at: t("2026-11-02T09:00:00Z"))
        try register.record(number, event: try event("{at: 2026-11-02T10:00:00Z, action: report, by: staff}"), recordedAt: 0)
        let bad = [
            "{at: 2026-11-02T11:00:00Z, action: reprot, by: staff}",
            "{at: 2026-11-02T11:00:00Z, action: report, by: staf}",
            "{at: 2026-11-02T11:00:00Z, action: record_facts, by: lead, facts: {personel: true}}",
            "{at: 2026-11-02T11:00:00Z, action: record_facts, by: lead, facts: {personal: yes}}",
            "{at: 2026-11-02T11:00:00Z, action: no_outcome, by: lead}",
        ]
        for yaml in bad {
            #expect(throws: RegisterError.self, "\(yaml)") { try register.record(number, event: try event(yaml), recordedAt: 0) }
        }
        #expect(throws: RegisterError.self) { try register.record("INC-2026-9999", event: try event(bad[0]), recordedAt: 0) }
        #expect(try register.incident(number).0.file.events.count == 1)
        #expect(try register.verify().isIntact)
    }

    @Test("a group commit makes exactly the appends that record would make one by one: the same positions, hashes, refusals and head")
    func groupCommitMatchesOneByOne() throws {
        let (policy, lineage) = try fixture()
        struct Check: Error {}
        // Good events on two incidents, interleaved with every kind of refusal: the policy's
        // (unknown action, missing reason), a caller's check, a stale head, a missing incident.
        func items(_ numbers: [String], staleHead: String) throws -> [Register.GroupedRecord] {
            var items: [Register.GroupedRecord] = []
            for n in 0..<40 {
                let number = numbers[n % 2]
                let minute = String(format: "%02d", n)
                let at = "2026-11-02T10:\(minute):00Z"
                switch n % 8 {
                case 3: items.append(.init(number: number, event: try event("{at: \(at), action: reprot, by: staff}"), recordedAt: t(at)))
                case 5: items.append(.init(number: number, event: try event("{at: \(at), action: no_outcome, by: lead}"), recordedAt: t(at)))
                case 6: items.append(.init(number: number, event: try event("{at: \(at), action: report, by: staff}"), recordedAt: t(at),
                                           check: { _, event in if event.action >= 0 { throw Check() } }))
                case 7: items.append(.init(number: n == 15 ? "INC-2026-9999" : number, event: try event("{at: \(at), action: report, by: staff}"),
                                           recordedAt: t(at), expectedHead: staleHead))
                default: items.append(.init(number: number, event: try event("{at: \(at), action: report, by: staff, actor: Person \(n)}"), recordedAt: t(at)))
                }
            }
            return items
        }
        var outcomes: [[String]] = []
        var heads: [String] = []
        for grouped in [false, true] {
            let register = try freshRegister()
            let numbers = try ["A", "B"].map { try register.openIncident(lineage: lineage, policy: policy, facts: [], school: $0, at: t("2026-11-02T09:00:00Z")) }
            let stale = try register.head(of: numbers[0]).hash
            let batch = try items(numbers, staleHead: stale)
            let results: [Result<(position: Int, hash: String), any Error>] = grouped
                ? try register.recordGroup(batch)
                : batch.map { item in Result { try register.record(item.number, event: item.event, recordedAt: item.recordedAt,
                                                                   expectedHead: item.expectedHead, check: item.check) } }
            outcomes.append(results.map { result in
                switch result {
                case .success(let appended): "\(appended.position) \(appended.hash)"
                case .failure(let error as RegisterError): "refused \(error.status) \(error.message)"
                case .failure(let error): "refused \(type(of: error))"
                }
            })
            let report = try register.verify()
            #expect(report.isIntact, "\(report.problems)")
            heads.append("\(report.headRecords) \(report.headHash)")
        }
        #expect(outcomes[0] == outcomes[1])
        #expect(heads[0] == heads[1])
        // Both kinds of outcome were exercised.
        #expect(outcomes[1].filter { $0.hasPrefix("refused") }.count == 20)
        #expect(outcomes[1].contains { $0.contains("notFound") } && outcomes[1].contains { $0.contains("conflict") })
        #expect(outcomes[1].contains { $0.contains("refusedByPolicy") } && outcomes[1].contains { $0.contains("Check") })
    }

    @Test("a backfilled event (earlier than the last one) is accepted: the chain keeps recording order, the case time order")
    func backfilled() throws {
        let (policy, lineage) = try fixture()
        let register = try freshRegister()
        let number = try register.openIncident(lineage: lineage, policy: policy, facts: [], school: nil, at: t("2026-11-02T09:00:00Z"))
        try register.record(number, event: try event("{at: 2026-11-02T11:00:00Z, action: notify_dpo, by: lead}"),
                            recordedAt: t("2026-11-02T11:00:00Z"))
        try register.record(number, event: try event("{at: 2026-11-02T09:30:00Z, action: report, by: staff}"),
                            recordedAt: t("2026-11-06T16:00:00Z"))
        let (stored, _) = try register.incident(number)
        #expect(stored.file.events.map { policy.actions[$0.action].id } == ["report", "notify_dpo"])
        #expect(stored.file.events[0].recordedAt == t("2026-11-06T16:00:00Z"))
        #expect(stored.file.events[1].recordedAt == nil)
        #expect(stored.bodies[0].contains("\"report\""))
        let (verified, _) = try register.verifiedIncident(number)
        #expect(verified.file.events.map(\.at) == stored.file.events.map(\.at))
        #expect(verified.file.events.map(\.recordedAt) == stored.file.events.map(\.recordedAt))
        #expect(try register.verify().isIntact)
        let report = Engine(policy: policy).audit(stored.file, at: t("2026-11-07T00:00:00Z"))
        #expect(report.findings.contains { $0.kind == .recordedLate && $0.event == 0 })
        // Without a recording time, "now" is read under the write lock.
        let before = Instant((Date().timeIntervalSince1970 * 1000).rounded(.down))
        try register.record(number, event: try event("{at: 2026-11-02T09:40:00Z, action: record_facts, by: lead}"))
        let third = try register.incident(number).0.file.events[1]
        #expect((third.recordedAt ?? 0) >= before)
        #expect(try register.export(number, as: .yaml).contains("recorded_at: \"2026-11-06T16:00:00Z\""))
    }

    @Test("the append-only triggers refuse updates and deletes")
    func triggers() throws {
        let (policy, lineage) = try fixture()
        let register = try freshRegister()
        let number = try register.openIncident(lineage: lineage, policy: policy, facts: [], school: nil, at: t("2026-11-02T09:00:00Z"))
        try register.record(number, event: try event("{at: 2026-11-02T10:00:00Z, action: report, by: staff}"), recordedAt: 0)
        for sql in ["UPDATE event SET at = 0", "DELETE FROM event", "UPDATE incident SET school = 'x'", "DELETE FROM incident",
                    "DELETE FROM ledger", "UPDATE ledger SET hash = 'x'", "DELETE FROM head", "UPDATE head SET gseq = 0",
                    "UPDATE policy_pin SET lineage = '[]'"] {
            #expect(throws: DatabaseError.self, "\(sql)") { try register.queue.write { try $0.execute(sql: sql) } }
        }
    }

    @Test("a policy is pinned: editing the policy file later does not change how the incident is judged")
    func pinning() throws {
        let (policy, lineage) = try fixture()
        let register = try freshRegister()
        let number = try register.openIncident(lineage: lineage, policy: policy, facts: [], school: nil, at: t("2026-11-02T09:00:00Z"))
        try register.record(number, event: try event("{at: 2026-11-02T09:30:00Z, action: record_facts, by: lead, facts: {discovered_at: 2026-11-02T09:00:00Z}}"), recordedAt: 0)
        // Someone changes "immediately" from one hour to a day in Policies/.
        let edited = lineage[0].text.replacingOccurrences(of: "within: PT1H", with: "within: P1D")
        let (current, currentLineage) = try fixture(edited)
        #expect(Register.pinHash(currentLineage) != Register.pinHash(lineage))
        let (stored, pinned) = try register.incident(number)
        #expect(Engine(policy: pinned).evaluate(stored.file, at: t("2026-11-02T11:00:00Z")).duties[pinned.dutyIndex(of: "report")!].state == .overdue)
        #expect(Engine(policy: current).evaluate(stored.file, at: t("2026-11-02T11:00:00Z")).duties[current.dutyIndex(of: "report")!].state == .due)
        // A new incident under the edited policy pins the new text alongside.
        _ = try register.openIncident(lineage: currentLineage, policy: current, facts: [], school: nil, at: t("2026-11-03T09:00:00Z"))
        #expect(try register.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM policy_pin") } == 2)
    }

    @Test("export and import round-trip; import re-validates and re-chains")
    func exportImport() throws {
        let (policy, lineage) = try fixture()
        let register = try freshRegister()
        let number = try register.openIncident(
            lineage: lineage, policy: policy, facts: [FactAssignment(slot: policy.factSlot(of: "personal")!, value: .bool(true))],
            school: "A", at: t("2026-11-02T09:00:00Z"))
        try register.record(number, event: try event("{at: 2026-11-02T09:10:00Z, action: report, by: staff, note: \"by phone, then e-mail\"}"), recordedAt: 0)
        try register.record(number, event: try event("{at: 2026-11-02T12:00:00Z, action: no_outcome, by: lead, reason: \"nothing to add\"}"), recordedAt: 0)
        for format in ExportFormat.allCases where format != .jsonl {
            let text = try register.export(number, as: format)
            let root = try #require(format == .json ? JSONReader.read(text, file: "x").root : YAMLReader.read(text, file: "x").root, "\(text)")
            let (file, diagnostics) = CaseLoader.load(root, policy: policy)
            let imported = try #require(file, "\(Fixtures.describe(diagnostics))")
            #expect(imported.events.count == 2)
            #expect(imported.events[1].reason == "nothing to add")
            var copy = imported
            copy.incident = nil
            let other = try register.importCase(lineage: lineage, policy: policy, file: copy, school: "A", openedAt: t("2026-11-02T09:00:00Z"), recordedAt: 0)
            #expect(try register.export(other, as: .jsonl) == (try register.export(number, as: .jsonl)))
        }
        let lines = try register.export(number, as: .jsonl).split(separator: "\n")
        #expect(lines.count == 2)
        // Recorded (in this test) at 1970-01-01: when it was recorded is kept in the export.
        #expect(lines[0] == #"{"action":"report","at":"2026-11-02T09:10:00Z","by":"staff","note":"by phone, then e-mail","recorded_at":"1970-01-01T00:00:00Z"}"#)
        #expect(try register.verify().isIntact)
    }

    @Test("a reporter who asks for anonymity is never named, and their name is not stored")
    func anonymity() throws {
        let (policy, lineage) = try fixture()
        let register = try freshRegister()
        let number = try register.openIncident(lineage: lineage, policy: policy, facts: [], school: nil, at: t("2026-11-02T09:00:00Z"))
        try register.record(number, event: try event("{at: 2026-11-02T09:10:00Z, action: report, by: staff, actor: Jo Bloggs, facts: {anonymous: true}}"), recordedAt: 0)
        try register.record(number, event: try event("{at: 2026-11-02T09:20:00Z, action: record_facts, by: staff, actor: Jo Bloggs}"), recordedAt: 0)
        try register.record(number, event: try event("{at: 2026-11-02T09:30:00Z, action: notify_dpo, by: lead, actor: Pat Lead}"), recordedAt: 0)
        for format in ExportFormat.allCases {
            let text = try register.export(number, as: format)
            #expect(!text.contains("Jo Bloggs"), "\(format)")
            #expect(text.contains("Pat Lead"), "\(format)")
        }
        let stored = try Data(contentsOf: URL(fileURLWithPath: register.path)) + ((try? Data(contentsOf: URL(fileURLWithPath: register.path + "-wal"))) ?? Data())
        #expect(stored.range(of: Data("Jo Bloggs".utf8)) == nil)
        // Asked for later: the name already stored stays in the file, but no output shows it.
        let later = try register.openIncident(lineage: lineage, policy: policy, facts: [], school: nil, at: t("2026-11-02T09:00:00Z"))
        try register.record(later, event: try event("{at: 2026-11-02T09:10:00Z, action: report, by: staff, actor: Sam Staff}"), recordedAt: 0)
        try register.record(later, event: try event("{at: 2026-11-02T09:20:00Z, action: record_facts, by: lead, facts: {anonymous: true}}"), recordedAt: 0)
        for format in ExportFormat.allCases { #expect(!(try register.export(later, as: format)).contains("Sam Staff")) }
    }
}

@Suite("Register: tamper evidence")
struct TamperTests {
    /// A register with two incidents, and a way to run SQL past the triggers.
    private func populated() throws -> (Register, String, String) {
        let (policy, lineage) = try fixture()
        let register = try freshRegister()
        let a = try register.openIncident(lineage: lineage, policy: policy, facts: [], school: nil, at: t("2026-11-02T09:00:00Z"))
        let b = try register.openIncident(lineage: lineage, policy: policy, facts: [], school: nil, at: t("2026-11-02T09:05:00Z"))
        for (i, at) in ["09:10", "09:20", "09:30"].enumerated() {
            try register.record(a, event: try event("{at: 2026-11-02T\(at):00Z, action: record_facts, by: lead, note: a\(i)}"), recordedAt: 0)
            try register.record(b, event: try event("{at: 2026-11-02T\(at):00Z, action: record_facts, by: lead, note: b\(i)}"), recordedAt: 0)
        }
        #expect(try register.verify().isIntact)
        return (register, a, b)
    }

    private func tamper(_ register: Register, _ sql: String) throws {
        try register.queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            for table in ["event", "incident", "ledger"] {
                try db.execute(sql: "DROP TRIGGER IF EXISTS \(table)_no_update; DROP TRIGGER IF EXISTS \(table)_no_delete")
            }
            try db.execute(sql: "DROP TRIGGER IF EXISTS head_forward_only; DROP TRIGGER IF EXISTS head_no_delete")
            try db.execute(sql: sql)
        }
    }

    @Test("each kind of tampering is found, and the first bad record named", arguments: [
        ("UPDATE event SET body = replace(body, 'a1', 'aX') WHERE body LIKE '%a1%'", "event 2 of INC-2026-0001 was edited"),
        ("UPDATE event SET at = at + 1 WHERE position = 2 AND incident_seq = 1", "event 2 of INC-2026-0001 was edited"),
        ("UPDATE incident SET policy_id = 'other' WHERE number = 'INC-2026-0001'", "incident INC-2026-0001 was edited"),
        ("UPDATE event SET recorded_at = 'garbage' WHERE seq = 1", "was edited: its record is unreadable"),
        ("DELETE FROM event WHERE body LIKE '%a1%'", "is missing: it was deleted"),
        ("UPDATE event SET position = position + 10 WHERE incident_seq = 1 AND position = 1", "event 11 of INC-2026-0001 comes after event 0"),
        ("UPDATE incident SET school = 'Elsewhere' WHERE number = 'INC-2026-0002'", "incident INC-2026-0002 was edited"),
        ("DELETE FROM incident WHERE number = 'INC-2026-0002'", "the incident of ledger record #2 is missing"),
        ("INSERT INTO event (incident_seq, position, at, recorded_at, body, prev_hash, hash) VALUES (1, 4, 0, 0, '{}', 'x', 'y')", "event 4 of INC-2026-0001 is not in the ledger: it was inserted"),
        ("DELETE FROM ledger WHERE gseq = (SELECT MAX(gseq) FROM ledger)", "event 3 of INC-2026-0002 is not in the ledger: it was inserted"),
        ("UPDATE head SET gseq = gseq + 1", "does not match its last record"),
    ])
    func detected(_ sql: String, _ expected: String?) throws {
        let (register, _, _) = try populated()
        try tamper(register, sql)
        let report = try register.verify()
        #expect(!report.isIntact, "\(sql) went unnoticed")
        if let expected { #expect(report.problems.first?.contains(expected) == true, "\(sql): \(report.problems)") }
    }

    @Test("verify INCIDENT names that incident's problems, and says when the register is altered elsewhere")
    func scoped() throws {
        let (register, a, b) = try populated()
        try tamper(register, "UPDATE event SET body = replace(body, 'b1', 'bX') WHERE body LIKE '%b1%'")
        // An alteration elsewhere could be an event moved out of A: A is not shown intact.
        let ofA = try register.verify(incident: a)
        #expect(!ofA.isIntact)
        #expect(ofA.problems == ["the register has 1 problem outside INC-2026-0001 (records moved, edited or inserted elsewhere), so INC-2026-0001's records cannot be shown complete; run rulebook verify for the whole register"])
        #expect(try register.verify(incident: b).problems.first == "event 2 of INC-2026-0002 was edited: its record does not match its hash")
    }
}

@Suite("Register: canonical envelopes and the verified read")
struct EnvelopeTests {
    @Test("the byte-by-byte envelope is the canonical object's text")
    func envelope() {
        let numbers = ["INC-2026-0001", "odd \"number\"\\", "Zoë-7"]
        let bodies = [#"{"action":"report","at":"2026-11-02T09:30:00Z","by":"staff"}"#, "{}", #"{"note":"a\nb"}"#]
        for (i, number) in numbers.enumerated() {
            for (j, body) in bodies.enumerated() {
                let at: Instant = 1_793_611_440_000 + Int64(i * 1000 + j * 7)
                let recorded: Instant = -86_400_123 * Int64(j)
                let expected = Canonical.object([
                    "incident": .string(number), "position": .int(i * 10 - 3), "at": .string(Timestamp.format(at)),
                    "recorded_at": .string(Timestamp.format(recorded)), "event": .raw(body),
                ]).text
                #expect(Register.eventEnvelope(number: number, position: i * 10 - 3, at: at, recordedAt: recorded, body: body) == expected)
            }
        }
        #expect(Hashing.link("a", "b") == Hashing.sha256("a\nb"))
        #expect(Hashing.sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("the stored text of an event is the canonical object's text")
    func eventText() throws {
        let (policy, _) = try fixture()
        var n = 0
        for action in policy.actions.indices {
            for role in policy.roles.indices {
                n += 1
                var event = Event(at: 1_793_611_440_000 + Int64(n) * 1001, action: action, role: role)
                if n % 2 == 0 { event.actor = "A \"quoted\" name" }
                if n % 3 == 0 { event.reason = "because\nof this" }
                if n % 4 == 0 { event.note = "Zoë's note" }
                if let decides = policy.actions[action].decision, decides.asserts == nil {
                    if case .bool = policy.slotType(decides.slot) { event.decision = .bool(true) }
                }
                let facts = policy.facts.indices.filter { ($0 + n) % 3 == 0 }
                event.facts = facts.reversed().map { slot in
                    switch policy.facts[slot].type {
                    case .bool: return FactAssignment(slot: slot, value: .bool(false))
                    case .int: return FactAssignment(slot: slot, value: .int(n))
                    case .datetime, .duration: return FactAssignment(slot: slot, value: .time(1_793_611_440_000))
                    case .option: return FactAssignment(slot: slot, value: .option(0))
                    case .options: return FactAssignment(slot: slot, value: .options(3))
                    case .text: return FactAssignment(slot: slot, value: .text("t"))
                    }
                }
                #expect(Canonical.eventText(event, policy: policy) == Canonical.event(event, policy: policy).text)
            }
        }
    }

    @Test("the verified read returns the same case as the plain read, and the report verify gives")
    func verifiedRead() throws {
        let (policy, lineage) = try fixture()
        let register = try freshRegister()
        let a = try register.openIncident(lineage: lineage, policy: policy, facts: [], school: nil, at: t("2026-11-02T09:00:00Z"))
        let b = try register.openIncident(lineage: lineage, policy: policy, facts: [], school: nil, at: t("2026-11-02T09:05:00Z"))
        for (i, at) in ["09:10", "09:20", "09:30"].enumerated() {
            try register.record(a, event: try event("{at: 2026-11-02T\(at):00Z, action: record_facts, by: lead, note: \"a\\\"\(i)\"}"), recordedAt: 0)
            try register.record(b, event: try event("{at: 2026-11-02T\(at):00Z, action: record_facts, by: lead, note: b\(i)}"), recordedAt: 0)
        }
        let (verified, _) = try register.verifiedIncident(a)
        let (stored, _) = try register.incident(a)
        #expect(verified.file.events.map(\.at) == stored.file.events.map(\.at))
        #expect(verified.file.events.map(\.note) == stored.file.events.map(\.note))
        #expect(verified.file.events.map(\.action) == stored.file.events.map(\.action))
        let report = try register.verify(incident: a)
        #expect(verified.verification.isIntact && report.isIntact)
        #expect(verified.verification.events == 3 && report.events == 3)
        #expect(verified.verification.headHash == report.headHash)
    }
}

@Suite("Register: durability")
struct DurabilityTests {
    @Test("an event over the size limit is refused by record, and nothing is written")
    func oversized() throws {
        let (policy, lineage) = try fixture()
        let register = try freshRegister()
        let number = try register.openIncident(lineage: lineage, policy: policy, facts: [], school: nil, at: t("2026-11-02T09:00:00Z"))
        let big = String(repeating: "x", count: Register.maxEventBytes)
        #expect(throws: RegisterError.self) {
            try register.record(number, event: try event("{at: 2026-11-02T10:00:00Z, action: record_facts, by: lead, note: \(big)}"))
        }
        #expect(try register.incident(number).0.file.events.isEmpty)
    }

    @Test("the connection really syncs every commit: synchronous is FULL after opening")
    func synchronousFull() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let register = try Register(path: folder.appendingPathComponent("d.sqlite").path, create: true)
        #expect(try register.synchronousLevel() == 2)
    }
}

@Suite("Register: listing")
struct ListingTests {
    @Test("the one-pass listing gives what reading each incident on its own gives, filters included")
    func sameAsOneByOne() throws {
        let (policy, lineage) = try fixture()
        let register = try freshRegister()
        var numbers: [String] = []
        for (i, school) in ["A", "B", "A", "C"].enumerated() {
            let number = try register.openIncident(
                lineage: lineage, policy: policy,
                facts: [FactAssignment(slot: policy.factSlot(of: "discovered_at")!, value: .time(t("2026-11-0\(i + 1)T09:00:00Z")))],
                school: school, at: t("2026-11-0\(i + 1)T09:00:00Z"))
            numbers.append(number)
        }
        try register.record(numbers[0], event: try event("{at: 2026-11-01T09:30:00Z, action: report, by: staff}"), recordedAt: t("2026-11-01T09:31:00Z"))
        try register.record(numbers[0], event: try event("{at: 2026-11-01T09:20:00Z, action: record_facts, by: lead, facts: {personal: true, severity: major}}"),
                            recordedAt: t("2026-11-03T09:00:00Z"))
        try register.record(numbers[2], event: try event("{at: 2026-11-03T10:00:00Z, action: close, by: lead}"), recordedAt: t("2026-11-03T10:00:00Z"))
        // A body the fast reader does not take (a note with an escape) goes through the full one.
        try register.record(numbers[1], event: try event("{at: 2026-11-02T09:10:00Z, action: report, by: staff, note: \"a \\\"quoted\\\" note\"}"),
                            recordedAt: t("2026-11-02T09:11:00Z"))
        let at = t("2026-11-05T12:00:00Z")
        for (policyFilter, school) in [(nil, nil), (nil, "A"), ("engine", nil), ("other", nil)] as [(String?, String?)] {
            let listed = try register.statuses(policy: policyFilter, school: school, at: at)
            let expected = try register.incidents(policy: policyFilter, school: school)
            #expect(listed.map(\.summary.number) == expected.map(\.number))
            for row in listed {
                let (stored, pinned) = try register.incident(row.summary.number)
                let evaluation = Engine(policy: pinned).evaluate(stored.file, at: at)
                #expect(row.overdue == evaluation.overdueCount)
                #expect(row.closedAt == evaluation.closedAt)
                #expect(row.next?.deadline == evaluation.nextDeadline?.deadline)
                #expect(row.next?.duty == evaluation.nextDeadline?.duty)
                #expect(row.clockUnknown == evaluation.clockUnknownDuties)
            }
        }
    }
}
