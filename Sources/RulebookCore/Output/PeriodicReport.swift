/// The register's periodic report (`rulebook report`): incidents and near misses by
/// month and by school, by the facts each policy counts by, the time from an incident's
/// start to its milestones (median and 90th percentile), each duty's record (on time,
/// late, missed, open), the incidents still open with their next deadline, and the audit
/// findings by kind.
///
/// It is built one incident at a time (``add(number:school:openedAt:policy:file:audit:)``)
/// from the same audit `rulebook audit` gives, so its counts agree with it: a duty counts
/// as missed exactly when the audit finds it missing. What a policy counts by and measures
/// is the policy's `report:` section; without one its incidents are still counted by month,
/// school, duty and finding.
public struct PeriodicReport: Sendable {
    /// The moment the duties are judged at.
    public let at: Instant
    /// The first and last local day (days since 1970-01-01) of the period, inclusive.
    public let from: Int?
    public let to: Int?
    /// The filters the report was asked for, to say so in it.
    public var school: String?
    public var policyFilter: String?

    public private(set) var incidents = 0
    public private(set) var nearMisses = 0
    public private(set) var open = 0
    public private(set) var openOverdue = 0
    public private(set) var verdicts: [Verdict: Int] = [:]
    private var months: [String: (incidents: Int, nearMisses: Int)] = [:]
    private var schools: [String: SchoolTally] = [:]
    private var policies: [String: PolicyTally] = [:]
    private var policyOrder: [String] = []
    private var openList: [OpenIncident] = []
    private var findings: [Finding.Kind: Int] = [:]
    /// For each policy met (by object: each pinned version is one), the tally row of each of
    /// its duties, filled as they are first counted: a duty's id, title and citation are
    /// read once, not once per incident.
    private var dutyRows: [ObjectIdentifier: (policy: Policy, rows: [Int?])] = [:]

    /// An incident still open, with what is owed next.
    public struct OpenIncident: Sendable {
        public var number: String
        public var school: String?
        /// Its pinned policy (the duty's words are read from it only when the table is made).
        public var policy: Policy
        public var openedAt: Instant
        public var next: (deadline: Instant, duty: Int)?
        public var overdue: Int
    }

    struct SchoolTally: Sendable {
        var incidents = 0, nearMisses = 0, open = 0, openOverdue = 0
    }

    struct DutyTally: Sendable {
        var id: String, title: String, clause: String
        var onTime = 0, late = 0, missed = 0, open = 0, undetermined = 0
        var settled: Int { onTime + late + missed }
    }

    struct PolicyTally: Sendable {
        var id: String, title: String
        var incidents = 0
        var breakdowns: [(title: String, source: String, counts: [String: Int])] = []
        var milestones: [(title: String, durations: [Int64], unmeasured: Int)] = []
        var duties: [DutyTally] = []
        var dutyIndex: [String: Int] = [:]

        mutating func breakdown(_ title: String, _ source: String) -> Int {
            if let i = breakdowns.firstIndex(where: { $0.source == source }) { return i }
            breakdowns.append((title, source, [:]))
            return breakdowns.count - 1
        }

        mutating func milestone(_ title: String) -> Int {
            if let i = milestones.firstIndex(where: { $0.title == title }) { return i }
            milestones.append((title, [], 0))
            return milestones.count - 1
        }

        mutating func duty(_ id: String, _ title: String, _ clause: String) -> Int {
            if let i = dutyIndex[id] { return i }
            duties.append(DutyTally(id: id, title: title, clause: clause))
            dutyIndex[id] = duties.count - 1
            return duties.count - 1
        }
    }

    public init(at: Instant, from: Int? = nil, to: Int? = nil) {
        self.at = at
        self.from = from
        self.to = to
    }

    /// When an incident starts for the report: the policy's `report.start` when answered,
    /// else its opening.
    public static func start(of evaluation: Evaluation, openedAt: Instant) -> (instant: Instant, measured: Bool) {
        if let e = evaluation.policy.report?.start, case .time(let t) = e.expr.evaluate(evaluation.values) { return (t, true) }
        return (openedAt, false)
    }

    /// Whether an incident falls in the period (by the local day of its start).
    public func includes(_ evaluation: Evaluation, openedAt: Instant) -> Bool {
        let day = evaluation.policy.clock.localDay(of: Self.start(of: evaluation, openedAt: openedAt).instant).day
        return (from.map { day >= $0 } ?? true) && (to.map { day <= $0 } ?? true)
    }

    /// Counts one incident, audited at ``at``; returns false (and counts nothing) when it
    /// falls outside the period.
    @discardableResult
    public mutating func add(number: String, school: String?, openedAt: Instant, audit: AuditReport) -> Bool {
        let evaluation = audit.evaluation
        let policy = evaluation.policy
        guard includes(evaluation, openedAt: openedAt) else { return false }
        let (start, measured) = Self.start(of: evaluation, openedAt: openedAt)
        let plan = policy.report
        let nearMiss = plan?.nearMiss.map { $0.expr.evaluate(evaluation.values) == .bool(true) } ?? false
        let isOpen = evaluation.closedAt == nil
        let overdue = evaluation.overdueCount > 0

        incidents += 1
        if nearMiss { nearMisses += 1 }
        if isOpen { open += 1 }
        if isOpen && overdue { openOverdue += 1 }
        verdicts[audit.verdict, default: 0] += 1
        let local = Timestamp.civilFromDays(policy.clock.localDay(of: start).day)
        let year = String(local.year)
        let month = String(repeating: "0", count: max(0, 4 - year.count)) + year + "-" + (local.month < 10 ? "0" : "") + String(local.month)
        months[month, default: (0, 0)].incidents += 1
        if nearMiss { months[month, default: (0, 0)].nearMisses += 1 }
        let schoolName = school ?? "(no school)"
        schools[schoolName, default: SchoolTally()].incidents += 1
        if nearMiss { schools[schoolName]!.nearMisses += 1 }
        if isOpen { schools[schoolName]!.open += 1 }
        if isOpen && overdue { schools[schoolName]!.openOverdue += 1 }
        for f in audit.findings { findings[f.kind, default: 0] += 1 }

        if policies[policy.id] == nil {
            policies[policy.id] = PolicyTally(id: policy.id, title: policy.title)
            policyOrder.append(policy.id)
        }
        var tally = policies[policy.id]!
        policies[policy.id] = nil // keep the tally uniquely referenced while it changes
        tally.incidents += 1
        for b in plan?.breakdowns ?? [] {
            let i = tally.breakdown(b.title, b.expression.source)
            let value = b.expression.expr.evaluate(evaluation.values)
            let label = value == .unknown ? "not answered" : Self.label(value, b.expression.type)
            tally.breakdowns[i].counts[label, default: 0] += 1
        }
        for m in plan?.milestones ?? [] {
            let i = tally.milestone(m.title)
            let reached: Instant?
            switch m.target {
            case .duty(let d): reached = evaluation.duties[d].doneAt
            case .action(let a): reached = evaluation.firstOccurrence[a]
            }
            if measured, let reached { tally.milestones[i].durations.append(reached - start) } else { tally.milestones[i].unmeasured += 1 }
        }
        var missing = Set<Int>()
        var undetermined = Set<Int>()
        for f in audit.findings {
            guard let d = f.duty else { continue }
            if f.kind == .missing { missing.insert(d) }
            if f.kind == .undetermined { undetermined.insert(d) }
        }
        for status in evaluation.duties where status.state != .notApplicable {
            let owed = status.state == .due || status.waitsForPrerequisite || status.clockUnknown
            // Only duties that were owed count: one still waiting for its trigger is not.
            let outcome: WritableKeyPath<DutyTally, Int>?
            if missing.contains(status.duty) { outcome = \.missed }
            else {
                switch status.state {
                case .done: outcome = \.onTime
                case .doneLate: outcome = \.late
                case .overdue: outcome = \.missed
                case .due, .waiting: outcome = owed && evaluation.startsAfter == nil ? \.open : nil
                case .unknown: outcome = undetermined.contains(status.duty) ? \.undetermined : nil
                case .notApplicable: outcome = nil
                }
            }
            guard let outcome else { continue }
            let key = ObjectIdentifier(policy)
            if dutyRows[key] == nil { dutyRows[key] = (policy, Array(repeating: nil, count: policy.duties.count)) }
            let i: Int
            if let row = dutyRows[key]!.rows[status.duty] {
                i = row
            } else {
                let duty = policy.duties[status.duty]
                i = tally.duty(duty.id, duty.title, duty.provenance.citation(in: policy.id))
                dutyRows[key]!.rows[status.duty] = i
            }
            tally.duties[i][keyPath: outcome] += 1
        }
        policies[policy.id] = tally

        if isOpen {
            openList.append(OpenIncident(number: number, school: school, policy: policy, openedAt: openedAt, next: evaluation.nextDeadline,
                                         overdue: evaluation.overdueCount))
        }
        return true
    }

    static func label(_ value: Value, _ type: ValueType) -> String {
        switch (value, type) {
        case (.bool(let b), _): return b ? "yes" : "no"
        case (.option(let i), .option(let d)) where i < d.options.count: return d.options[i].title
        default: return value.display(type)
        }
    }

    /// The `p`th percentile by the nearest-rank method (the smallest value at or below
    /// which at least p% of the values lie); nil for no values.
    public static func percentile(_ p: Int, of sorted: [Int64]) -> Int64? {
        guard !sorted.isEmpty else { return nil }
        let rank = (p * sorted.count + 99) / 100
        return sorted[Swift.max(0, Swift.min(sorted.count, rank) - 1)]
    }
}

// MARK: - The report as tables

/// One table of the report: the same rows become Markdown, HTML, CSV and JSON.
public struct ReportTable: Sendable {
    public enum Cell: Sendable, Equatable {
        case text(String)
        case int(Int)
        /// Milliseconds, shown in words, given to tools in milliseconds.
        case duration(Int64)
        /// An instant, shown in a zone, given to tools in UTC.
        case time(Instant, String)
        case none
    }

    /// The table's key in JSON and its name in CSV.
    public var id: String
    public var title: String
    /// Column keys (JSON, CSV header) and headings.
    public var columns: [(key: String, heading: String)]
    public var rows: [[Cell]]
    /// A sentence said under the heading.
    public var note: String?
    /// A chart drawn from the same rows (SVG), when one helps.
    public var chart: String?
}

extension PeriodicReport {
    /// Every table, in the order the report shows them.
    public func tables() -> [ReportTable] {
        var out: [ReportTable] = []
        let verdictCounts = Verdict.allCases.map { (v: $0, n: verdicts[$0] ?? 0) }.filter { $0.n > 0 }
        out.append(ReportTable(
            id: "summary", title: "Summary",
            columns: [("incidents", "incidents"), ("near_misses", "near misses"), ("open", "open"), ("open_overdue", "open with a duty overdue"),
                      ("closed", "closed")] + verdictCounts.map { ("verdict_" + $0.v.rawValue, "audit: " + $0.v.rawValue.replacingOccurrences(of: "_", with: " ")) },
            rows: [[.int(incidents), .int(nearMisses), .int(open), .int(openOverdue), .int(incidents - open)] + verdictCounts.map { .int($0.n) }]))

        let monthRows = months.keys.sorted().map { m -> [ReportTable.Cell] in [.text(m), .int(months[m]!.incidents), .int(months[m]!.nearMisses)] }
        out.append(ReportTable(
            id: "by_month", title: "Incidents by month",
            columns: [("month", "month"), ("incidents", "incidents"), ("near_misses", "of which near misses")], rows: monthRows,
            note: "Each incident counts in the month it started in its policy's time zone: the policy's report start (such as when it was discovered) where recorded, else when it was opened.",
            chart: monthRows.isEmpty ? nil : ReportCharts.columns(
                title: "Incidents by month", labels: monthRows.map { if case .text(let t) = $0[0] { return t }; return "" },
                series: [("incidents (not near misses)", months.keys.sorted().map { months[$0]!.incidents - months[$0]!.nearMisses }),
                         ("near misses", months.keys.sorted().map { months[$0]!.nearMisses })])))

        let schoolNames = schools.keys.sorted()
        out.append(ReportTable(
            id: "by_school", title: "Incidents by school",
            columns: [("school", "school"), ("incidents", "incidents"), ("near_misses", "near misses"), ("open", "open"),
                      ("open_overdue", "open with a duty overdue")],
            rows: schoolNames.map { s in
                let t = schools[s]!
                return [.text(s), .int(t.incidents), .int(t.nearMisses), .int(t.open), .int(t.openOverdue)]
            },
            chart: schoolNames.count < 2 ? nil : ReportCharts.bars(
                title: "Incidents by school", labels: schoolNames,
                series: [("closed", schoolNames.map { schools[$0]!.incidents - schools[$0]!.open }),
                         ("open", schoolNames.map { schools[$0]!.open - schools[$0]!.openOverdue }),
                         ("open, overdue", schoolNames.map { schools[$0]!.openOverdue })])))

        let tallies = policyOrder.map { policies[$0]! }
        var breakdownRows: [[ReportTable.Cell]] = []
        for t in tallies {
            for b in t.breakdowns {
                for label in b.counts.keys.sorted(by: { (b.counts[$0]!, $1) > (b.counts[$1]!, $0) }) {
                    breakdownRows.append([.text(t.id), .text(b.title), .text(label), .int(b.counts[label]!)])
                }
            }
        }
        out.append(ReportTable(
            id: "by_kind", title: "Incidents by type, category and severity",
            columns: [("policy", "policy"), ("by", "counted by"), ("value", "value"), ("incidents", "incidents")], rows: breakdownRows,
            note: breakdownRows.isEmpty ? "No policy in this report names what its incidents are counted by (`report: by:`)." : nil))

        var milestoneRows: [[ReportTable.Cell]] = []
        for t in tallies {
            for m in t.milestones {
                let sorted = m.durations.sorted()
                milestoneRows.append([.text(t.id), .text(m.title), .int(sorted.count), .int(m.unmeasured),
                                      Self.percentile(50, of: sorted).map { .duration($0) } ?? .none,
                                      Self.percentile(90, of: sorted).map { .duration($0) } ?? .none])
            }
        }
        out.append(ReportTable(
            id: "milestones", title: "Time from the start to each milestone",
            columns: [("policy", "policy"), ("milestone", "milestone"), ("measured", "incidents measured"),
                      ("not_measured", "not reached or no start recorded"), ("median", "median"), ("p90", "90th percentile")],
            rows: milestoneRows,
            note: milestoneRows.isEmpty ? "No policy in this report names milestones (`report: milestones:`)."
                : "Measured from the report start each policy names (such as when the incident was discovered); percentiles by the nearest-rank method."))

        var dutyRows: [[ReportTable.Cell]] = []
        for t in tallies {
            for d in t.duties {
                dutyRows.append([.text(t.id), .text(d.id), .text(d.title), .text(d.clause), .int(d.onTime), .int(d.late), .int(d.missed),
                                 .int(d.open), .int(d.undetermined),
                                 d.settled == 0 ? .none : .text(String(d.onTime * 100 / d.settled) + "%")])
            }
        }
        var dutyTable = ReportTable(
            id: "duties", title: "Each duty: done on time, late, missed or open",
            columns: [("policy", "policy"), ("duty", "duty"), ("title", "title"), ("clause", "clause"), ("on_time", "on time"), ("late", "late"),
                      ("missed", "missed"), ("open", "open"), ("undetermined", "undetermined"), ("on_time_share", "on time, of those settled")],
            rows: dutyRows,
            note: "Counted over the incidents each duty applied to: missed is what the audit finds missing (its deadline passed undone, or the incident closed with it owed); undetermined is a duty whose applicability is unanswered and which would be missed if it applied.")
        dutyTable.chart = tallies.contains { !$0.duties.isEmpty } ? ReportCharts.shares(
            title: "Duties: on time, late, missed, open",
            groups: tallies.filter { !$0.duties.isEmpty }.map { t in
                ("\(t.title) (\(t.id))", t.duties.map { ($0.title, [$0.onTime, $0.late, $0.missed, $0.open + $0.undetermined]) })
            }) : nil
        out.append(dutyTable)

        let openSorted = openList.sorted { a, b in
            switch (a.next?.deadline, b.next?.deadline) {
            case let (x?, y?): return x != y ? x < y : a.number < b.number
            case (_?, nil): return true
            case (nil, _?): return false
            case (nil, nil): return a.number < b.number
            }
        }
        out.append(ReportTable(
            id: "open_incidents", title: "Open incidents, the soonest deadline first",
            columns: [("number", "incident"), ("school", "school"), ("policy", "policy"), ("next_deadline", "next deadline"),
                      ("duty", "duty"), ("roles", "who"), ("clause", "clause"), ("overdue", "duties overdue")],
            rows: openSorted.map { o in
                let p = o.policy
                return [.text(o.number), o.school.map { .text($0) } ?? .none, .text(p.id),
                        o.next.map { .time($0.deadline, p.clock.describe($0.deadline)) } ?? .none,
                        o.next.map { .text(p.duties[$0.duty].id) } ?? .none,
                        o.next.map { .text(p.duties[$0.duty].roles.map { p.roles[$0].id }.joined(separator: ", ")) } ?? .none,
                        o.next.map { .text(p.duties[$0.duty].provenance.citation(in: p.id)) } ?? .none,
                        .int(o.overdue)]
            }))

        let kinds = Finding.Kind.allCases.filter { (findings[$0] ?? 0) > 0 }
        out.append(ReportTable(
            id: "findings", title: "Audit findings by kind",
            columns: [("kind", "kind"), ("findings", "findings")],
            rows: kinds.map { [.text($0.rawValue), .int(findings[$0]!)] },
            note: kinds.isEmpty ? "The audit found nothing in these incidents." : nil,
            chart: kinds.count < 2 ? nil : ReportCharts.bars(title: "Audit findings by kind", labels: kinds.map { $0.rawValue.replacingOccurrences(of: "_", with: " ") },
                                                              series: [("findings", kinds.map { findings[$0]! })])))
        return out
    }
}
