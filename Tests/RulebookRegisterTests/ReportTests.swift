import Foundation
import RulebookCore
import RulebookTestSupport
import Testing

@testable import RulebookRegister

/// A shipped policy (with its `report:` section) and its lineage's texts for pinning.
private func shipped(_ id: String) throws -> (Policy, [(id: String, file: String, text: String)]) {
    let folder = RulebookBinary.packageRoot.appendingPathComponent("Policies")
    let library = PolicyLibrary()
    for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".yaml") {
        let path = folder.appendingPathComponent(name).path
        library.add(PolicySource(file: path, text: try String(contentsOfFile: path, encoding: .utf8)))
    }
    let result = PolicyCompiler.compile(id: id, library: library)
    let policy = try #require(result.policy, "\(Fixtures.describe(result.diagnostics))")
    let lineage = try policy.lineage.map { (id: $0.id, file: $0.file, text: try String(contentsOfFile: $0.file, encoding: .utf8)) }
    return (policy, lineage)
}

private func t(_ text: String) -> Instant { Timestamp.parse(text)! }

/// What the test itself put into each generated incident, to check the report against.
private struct Planted {
    var number: String
    var school: String
    var month: String
    var nearMiss: Bool
    var breach: String
    /// Minutes from discovery to the `report` action, when one was recorded.
    var reportedAfter: Int64?
}

/// A register of `count` incidents under one policy, each planted with a discovery time
/// (months apart, one across a DST boundary), a near-miss answer, a breach type, a school
/// and, for most, a staff report some minutes later.
private func generated(_ count: Int) throws -> (Register, Policy, [Planted]) {
    let (policy, lineage) = try shipped("madras")
    let folder = try RulebookBinary.temporaryFolder()
    let register = try Register(path: folder.appendingPathComponent("r.sqlite").path, create: true)
    let discovered = try #require(policy.factSlot(of: "discovered_at"))
    let nearMiss = try #require(policy.factSlot(of: "near_miss"))
    let breach = try #require(policy.factSlot(of: "breach_type"))
    guard case .option(let domain) = policy.facts[breach].type else { throw Failure("breach_type is not an enum") }
    let report = try #require(policy.actionIndex(of: "report"))
    let staff = try #require(policy.roleIndex(of: "staff"))
    var rng = SplitMix64(seed: 20261202)
    var planted: [Planted] = []
    // Discovery days: the 15th of January to June 2026 at 10:00 UTC, and one at 23:30 UTC
    // on 31 March, which is 00:30 on 1 April in London (summer time).
    for i in 0..<count {
        let month = 1 + i % 6
        let start = i == 0 ? t("2026-03-31T23:30:00Z") : t("2026-0\(month)-15T10:00:00Z")
        let localMonth = i == 0 ? "2026-04" : "2026-0\(month)"
        let isNearMiss = i % 3 == 0
        let option = Int(rng.next() % UInt64(domain.options.count))
        var file = CaseFile(policyID: policy.id, facts: [
            FactAssignment(slot: discovered, value: .time(start)),
            FactAssignment(slot: nearMiss, value: .bool(isNearMiss)),
            FactAssignment(slot: breach, value: .option(option)),
        ])
        var after: Int64?
        if i % 5 != 4 {
            after = Int64(1 + rng.next() % 180)
            file.events.append(Event(at: start + after! * 60_000, action: report, role: staff))
        }
        let school = ["Ash", "Beech", "Cedar"][i % 3]
        let number = try register.importCase(lineage: lineage, policy: policy, file: file, school: school, openedAt: start,
                                             recordedAt: start + 3_600_000)
        planted.append(Planted(number: number, school: school, month: localMonth, nearMiss: isNearMiss,
                               breach: domain.options[option].title, reportedAfter: after))
    }
    return (register, policy, planted)
}

private struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

private func report(_ register: Register, at: Instant, from: String? = nil, to: String? = nil, school: String? = nil) throws -> PeriodicReport {
    var report = PeriodicReport(at: at, from: from.flatMap(Timestamp.parseDate), to: to.flatMap(Timestamp.parseDate))
    try register.cases(school: school) { summary, policy, file in
        report.add(number: summary.number, school: summary.school, openedAt: summary.openedAt,
                   audit: Engine(policy: policy).audit(file, at: at))
    }
    return report
}

private func table(_ report: PeriodicReport, _ id: String) throws -> ReportTable {
    try #require(report.tables().first { $0.id == id })
}

private func int(_ cell: ReportTable.Cell) -> Int? {
    if case .int(let n) = cell { return n }
    return nil
}

private func text(_ cell: ReportTable.Cell) -> String? {
    if case .text(let s) = cell { return s }
    return nil
}

@Suite("Periodic report")
struct ReportTests {
    let at = t("2026-07-01T12:00:00Z")

    @Test("counts by month (local, across DST), school, near miss and breach type agree with what was planted")
    func counts() throws {
        let (register, _, planted) = try generated(60)
        let r = try report(register, at: at)
        #expect(r.incidents == 60)
        #expect(r.nearMisses == planted.count { $0.nearMiss })
        let months = try table(r, "by_month")
        for row in months.rows {
            let month = try #require(text(row[0]))
            #expect(int(row[1]) == planted.count { $0.month == month }, "\(month)")
            #expect(int(row[2]) == planted.count { $0.month == month && $0.nearMiss }, "\(month)")
        }
        #expect(months.rows.compactMap { int($0[1]) }.reduce(0, +) == 60)
        // The incident discovered at 23:30 UTC on 31 March counts in April (00:30 BST).
        #expect(months.rows.contains { text($0[0]) == "2026-04" && int($0[1]) == planted.count { $0.month == "2026-04" } })
        let schools = try table(r, "by_school")
        #expect(schools.rows.map { text($0[0])! } == ["Ash", "Beech", "Cedar"])
        for row in schools.rows { #expect(int(row[1]) == planted.count { $0.school == text(row[0]) }) }
        let kinds = try table(r, "by_kind").rows.filter { text($0[1]) == "Nature of the incident" }
        for row in kinds { #expect(int(row[3]) == planted.count { $0.breach == text(row[2]) }, "\(row)") }
        #expect(kinds.compactMap { int($0[3]) }.reduce(0, +) == 60)
    }

    @Test("the median and 90th percentile from discovery to the report are the planted minutes' (nearest rank)")
    func milestones() throws {
        let (register, _, planted) = try generated(60)
        let r = try report(register, at: at)
        let row = try #require(try table(r, "milestones").rows.first { text($0[1]) == "reported" })
        let minutes = planted.compactMap(\.reportedAfter).sorted()
        #expect(int(row[2]) == minutes.count)
        #expect(int(row[3]) == 60 - minutes.count)
        // Nearest rank, worked out here by hand: the ceil(p% of n)th smallest.
        let n = minutes.count
        let median = minutes[(n * 50 + 99) / 100 - 1], p90 = minutes[(n * 90 + 99) / 100 - 1]
        #expect(row[4] == .duration(median * 60_000))
        #expect(row[5] == .duration(p90 * 60_000))
    }

    @Test("a duty counts as missed exactly when the audit of that incident read on its own finds it missing")
    func dutiesAgreeWithAudit() throws {
        let (register, policy, planted) = try generated(30)
        let r = try report(register, at: at)
        var missing: [String: Int] = [:]
        var done: [String: Int] = [:]
        for p in planted {
            let (stored, pinned) = try register.incident(p.number)
            let audit = Engine(policy: pinned).audit(stored.file, at: at)
            for f in audit.findings where f.kind == .missing { missing[pinned.duties[f.duty!].id, default: 0] += 1 }
            for s in audit.evaluation.duties where s.state == .done { done[pinned.duties[s.duty].id, default: 0] += 1 }
        }
        let rows = try table(r, "duties").rows
        #expect(!missing.isEmpty)
        for duty in policy.duties {
            let row = rows.first { text($0[1]) == duty.id }
            #expect((row.flatMap { int($0[6]) } ?? 0) == missing[duty.id, default: 0], "\(duty.id) missed")
            #expect((row.flatMap { int($0[4]) } ?? 0) == done[duty.id, default: 0], "\(duty.id) on time")
        }
        let findings = try table(r, "findings").rows
        #expect(findings.first { text($0[0]) == "missing" }.flatMap { int($0[1]) } == missing.values.reduce(0, +))
    }

    @Test("--school and --from/--to choose incidents: by school, and by the local day each started")
    func filters() throws {
        let (register, _, planted) = try generated(30)
        let cedar = try report(register, at: at, school: "Cedar")
        #expect(cedar.incidents == planted.count { $0.school == "Cedar" })
        #expect(try table(cedar, "by_school").rows.map { text($0[0])! } == ["Cedar"])
        // April in London: the incident discovered at 23:30 UTC on 31 March is in, none of March's.
        let april = try report(register, at: at, from: "2026-04-01", to: "2026-04-30")
        #expect(april.incidents == planted.count { $0.month == "2026-04" })
        #expect(try table(april, "by_month").rows.map { text($0[0])! } == ["2026-04"])
        let march = try report(register, at: at, from: "2026-03-01", to: "2026-03-31")
        #expect(march.incidents == planted.count { $0.month == "2026-03" })
    }

    @Test("an empty register gives a report of zeros and empty tables in every format")
    func empty() throws {
        let folder = try RulebookBinary.temporaryFolder()
        let register = try Register(path: folder.appendingPathComponent("r.sqlite").path, create: true)
        let r = try report(register, at: at)
        #expect(r.incidents == 0)
        let tables = r.tables()
        #expect(tables.map(\.id) == PeriodicReport.sectionIDs)
        #expect(tables.filter { $0.id != "summary" }.allSatisfy { $0.rows.isEmpty && $0.chart == nil })
        #expect(r.markdown().contains("## Open incidents, the soonest deadline first\n\nNone."))
        #expect(r.json().contains("\"incidents\": 0"))
        #expect(r.csv(section: "summary") == "incidents,near_misses,open,open_overdue,closed\r\n0,0,0,0,0\r\n")
    }

    @Test("Register.periodicReport (what the CLI and the server call) counts as a plain loop does, with its filter")
    func registerReport() throws {
        let (register, _, _) = try generated(30)
        var all = PeriodicReport(at: at)
        try register.periodicReport(into: &all)
        #expect(all.json() == (try report(register, at: at)).json())
        var cedar = PeriodicReport(at: at)
        try register.periodicReport(into: &cedar, include: { $0.school == "Cedar" })
        #expect(cedar.json() == (try report(register, at: at, school: "Cedar")).json())
    }

    @Test("nearest-rank percentiles")
    func percentiles() {
        let ten: [Int64] = Array(1...10)
        #expect(PeriodicReport.percentile(50, of: ten) == 5)
        #expect(PeriodicReport.percentile(90, of: ten) == 9)
        #expect(PeriodicReport.percentile(100, of: ten) == 10)
        #expect(PeriodicReport.percentile(90, of: [7]) == 7)
        #expect(PeriodicReport.percentile(50, of: []) == nil)
    }
}
