/// Renders a policy back as its document's procedure, in Markdown (`rulebook show`).
///
/// The layout follows the document: numbered MUST points with "Why" and "How"
/// (`points`), numbered sections with the rules and scoring tables that belong to each
/// (`sections`), or responsibilities grouped by role (`roles`). Every layout ends with
/// the deadlines, the roles, the prohibitions and the assumptions the policy makes.
public struct PolicyMarkdown: Sendable {
    public let policy: Policy

    public init(policy: Policy) {
        self.policy = policy
    }

    /// The whole document.
    public func render() -> String {
        var out = header()
        let own = policy.outline.filter { $0.policy == policy.id }
        switch policy.layout {
        case .points: out += points(own)
        case .sections: out += sections(own)
        case .roles: out += roles(own)
        }
        out += definitions()
        if policy.layout != .sections { out += scoring(policy.values.filter { _ in true }) }
        out += deadlines()
        out += diagram()
        out += terms()
        out += rolesTable()
        out += prohibitionsList()
        out += periodicReport()
        out += reminders()
        out += drafts()
        out += inherited()
        out += lineageChanges()
        out += traceability()
        out += assumptions()
        while out.hasSuffix("\n\n") { out.removeLast() }
        return out
    }

    // MARK: Header

    private func header() -> String {
        var out = "# \(policy.title)\n\n"
        var facts = ["**\(policy.organisation)**", "policy `\(policy.id)`"]
        let c = policy.control
        if let v = c.version { facts.append("version \(v)") }
        if let a = c.approved { facts.append("approved \(a)" + (c.approvedBy.map { " by \($0)" } ?? "")) } else if let by = c.approvedBy {
            facts.append("approved by \(by)")
        }
        if let r = c.nextReview { facts.append("next review \(r)") }
        facts.append("time zone \(policy.clock.identifier)")
        out += facts.joined(separator: " · ") + "\n\n"
        if let source = policy.source { out += "Source document: \(source)\n\n" }
        if policy.lineage.count > 1 {
            let bases = policy.lineage.dropFirst().map { "*\($0.title)* (`\($0.id)`)" }
            out += "This policy extends " + bases.joined(separator: ", which extends ") + ": its rules apply too, "
                + "except where this policy replaces or removes them.\n\n"
        }
        if let notes = c.notes { out += "> \(notes)\n\n" }
        if !c.references.isEmpty { out += "References: " + c.references.joined(separator: "; ") + "\n\n" }
        return out
    }

    // MARK: Layouts

    private func points(_ items: [OutlineItem]) -> String {
        var out = ""
        let musts = items.filter { $0.must != nil }
        if let intro = items.first(where: { $0.clause == "0" || $0.clause.lowercased() == "intro" })?.text {
            out += intro + "\n\n"
        }
        if !musts.isEmpty {
            out += "## What must I do?\n\n"
            for item in musts { out += "\(item.clause). **MUST:** \(item.must!)\n" }
            out += "\n## Why must I do it?\n\n"
            for item in items where item.why != nil { out += "\(item.clause). \(item.why!)\n" }
            out += "\n## How must I do it?\n\n"
            for item in items where item.how != nil { out += "\(item.clause). " + indented(item.how!) + "\n" }
            out += "\n"
        }
        for item in items where item.must == nil && (item.text != nil || item.summary != nil) && item.clause != "0" {
            out += "## \(item.title ?? item.clause)\n\n"
            if let text = item.text { out += "\(text)\n\n" }
            if let summary = item.summary { out += "*In summary (the policy's words, not the document's):* \(summary)\n\n" }
        }
        out += "## Duties by point\n\n"
        for item in musts {
            let duties = policy.duties.filter { $0.provenance.policy == policy.id && section(of: $0.provenance) == item.clause }
            guard !duties.isEmpty else { continue }
            out += "**Point \(item.clause)**\n\n"
            for duty in duties { out += "- " + dutyLine(duty) + "\n" }
            out += "\n"
        }
        let placed = Set(musts.map(\.clause))
        let others = policy.duties.filter { $0.provenance.policy == policy.id && !placed.contains(section(of: $0.provenance)) }
        if !others.isEmpty {
            out += "**Other duties**\n\n"
            for duty in others { out += "- " + dutyLine(duty) + "\n" }
            out += "\n"
        }
        return out
    }

    private func sections(_ items: [OutlineItem]) -> String {
        var out = ""
        var placed: Set<String> = []
        for item in items {
            placed.insert(item.clause)
            let title = item.title.map { item.clause.first?.isNumber == true ? "\(item.clause). \($0)" : $0 } ?? item.clause
            out += "## \(title)\n\n"
            if let text = item.text { out += paragraphs(text) }
            if let summary = item.summary { out += "*In summary (the policy's words, not the document's):* \(summary)\n\n" }
            out += rules(in: item.clause)
        }
        let unplaced = policy.duties.filter { $0.provenance.policy == policy.id && !placed.contains(section(of: $0.provenance)) }
        if !unplaced.isEmpty {
            out += "## Other duties\n\n"
            for duty in unplaced { out += "- " + dutyLine(duty) + "\n" }
            out += "\n"
        }
        let unplacedValues = policy.values.filter { $0.provenance.policy == policy.id && !placed.contains(section(of: $0)) }
        out += scoring(unplacedValues)
        return out
    }

    /// The duties, values and prohibitions a section holds.
    private func rules(in clause: String) -> String {
        var out = ""
        let duties = policy.duties.filter { $0.provenance.policy == policy.id && section(of: $0.provenance) == clause }
        if !duties.isEmpty {
            for duty in duties { out += "- " + dutyLine(duty) + "\n" }
            out += "\n"
        }
        for prohibition in policy.prohibitions where prohibition.provenance.policy == policy.id && section(of: prohibition.provenance) == clause {
            out += "- " + prohibitionLine(prohibition) + "\n\n"
        }
        for value in policy.values where value.provenance.policy == policy.id && section(of: value) == clause {
            out += valueBlock(value)
        }
        for fact in policy.facts where fact.provenance.policy == policy.id && section(of: fact.provenance) == clause {
            if case .options(let d) = fact.type, d.isWeighted { out += weightsTable(fact, d) }
        }
        return out
    }

    private func roles(_ items: [OutlineItem]) -> String {
        var out = ""
        for item in items {
            let title = item.title.map { item.clause.first?.isNumber == true ? "\(item.clause). \($0)" : $0 } ?? item.clause
            out += "## \(title)\n\n"
            if let text = item.text { out += paragraphs(text) }
            if let summary = item.summary { out += "*In summary (the policy's words, not the document's):* \(summary)\n\n" }
            for value in policy.values where section(of: value) == item.clause { out += valueBlock(value) }
            for fact in policy.facts where section(of: fact.provenance) == item.clause {
                if case .option(let d) = fact.type { out += optionsList(fact, d) }
            }
        }
        out += "## Responsibilities by role\n\n"
        for (index, role) in policy.roles.enumerated() {
            let duties = policy.duties.filter { $0.roles.contains(index) }
            let prohibitions = policy.prohibitions.filter { $0.roles.contains(index) }
            guard !duties.isEmpty || !prohibitions.isEmpty else { continue }
            out += "### \(role.title)" + (role.holder.map { " (\($0))" } ?? "") + "\n\n"
            if !role.standIns.isEmpty {
                out += "In their absence: " + role.standIns.map { policy.roles[$0].title }.joined(separator: ", ") + ".\n\n"
            }
            for duty in duties { out += "- " + dutyLine(duty, showRole: false) + "\n" }
            for prohibition in prohibitions { out += "- " + prohibitionLine(prohibition, showRole: false) + "\n" }
            out += "\n"
        }
        return out
    }

    // MARK: Common parts

    private func definitions() -> String {
        guard !policy.definitions.isEmpty else { return "" }
        var out = "## Definitions\n\n"
        for d in policy.definitions { out += "- **\(d.term)**: \(d.text) *(\(cite(d.provenance)))*\n" }
        return out + "\n"
    }

    private func scoring(_ values: [DerivedValue]) -> String {
        guard !values.isEmpty else { return "" }
        var out = "## Derived values\n\n"
        for value in values { out += valueBlock(value) }
        for fact in policy.facts {
            if case .options(let d) = fact.type, d.isWeighted, !values.isEmpty { out += weightsTable(fact, d) }
        }
        return out
    }

    private func valueBlock(_ value: DerivedValue) -> String {
        var out = "**\(value.title.capitalisedFirst)** (`\(value.id)`) *(\(cite(value.provenance)))*"
        switch value.rule {
        case .expression(let e):
            out += " = `\(e.source)`\n\n"
        case .table(let input, let bands):
            out += ", by \(policy.slotID(input)):\n\n| \(policy.slotID(input)) | \(value.id) | source |\n|---|---|---|\n"
            for band in bands {
                out += "| \(band.rangeDescription) | \(band.value.display(value.type))\(band.label.map { " — \($0)" } ?? "") | \(band.provenance.map(cite) ?? cite(value.provenance)) |\n"
            }
            out += "\n"
        case .grid(let grid):
            let rowID = policy.slotID(grid.rows.input), columnID = policy.slotID(grid.columns.input)
            func heading(_ axis: DerivedValue.Grid.Axis, _ band: DerivedValue.Grid.AxisBand) -> String {
                var domain: EnumDomain?
                if case .option(let d) = policy.slotType(axis.input) { domain = d }
                let range = DerivedValue.Grid.describe(band, domain: domain)
                guard let label = band.label, label != range else { return cell(range) }
                return cell("\(label) (\(range))")
            }
            out += ", by \(rowID) (rows) and \(columnID) (columns):\n\n"
            out += "| \(rowID) \\ \(columnID) | " + grid.columns.bands.map { heading(grid.columns, $0) }.joined(separator: " | ") + " |\n"
            out += "|---|" + String(repeating: "---|", count: grid.columns.bands.count) + "\n"
            for (r, band) in grid.rows.bands.enumerated() {
                let cells = (0..<grid.columns.bands.count).map { grid.cells[r * grid.columns.bands.count + $0].display(value.type) }
                out += "| \(heading(grid.rows, band)) | " + cells.joined(separator: " | ") + " |\n"
            }
            out += "\n"
        case .cases(let cases):
            out += ", the first case that applies:\n\n| when | \(value.id) | source |\n|---|---|---|\n"
            for c in cases {
                let when = c.condition.map { "`\(cell($0.source))`" } ?? "otherwise"
                out += "| \(when) | \(c.value.display(value.type))\(c.label.map { " — \(cell($0))" } ?? "") | \(c.provenance.map(cite) ?? cite(value.provenance)) |\n"
            }
            out += "\n"
        }
        return out
    }

    private func weightsTable(_ fact: Fact, _ domain: EnumDomain) -> String {
        var out = "**\(fact.title.capitalisedFirst)** (`\(fact.id)`): each chosen factor adds its weight *(\(cite(fact.provenance)))*\n\n"
        out += "| factor | weight | source |\n|---|---|---|\n"
        for option in domain.options {
            let w = option.weight ?? 0
            out += "| \(cell(option.title)) | \(w > 0 ? "+" : "")\(w) | \(option.provenance.map(cite) ?? "") |\n"
        }
        return out + "\n"
    }

    private func optionsList(_ fact: Fact, _ domain: EnumDomain) -> String {
        "**\(fact.title.capitalisedFirst)** (`\(fact.id)`): " + domain.options.map { "\($0.title) (`\($0.id)`)" }.joined(separator: ", ")
            + " *(\(cite(fact.provenance)))*\n\n"
    }

    private func deadlines() -> String {
        let timed = policy.duties.filter { $0.deadline != nil }
        guard !timed.isEmpty else { return "" }
        var out = "## Deadlines\n\n| duty | who | applies when | clock starts | deadline | source |\n|---|---|---|---|---|---|\n"
        for duty in timed {
            out += "| \(cell(duty.title)) | \(duty.roles.map { cell(policy.roles[$0].title) }.joined(separator: " or ")) | "
                + "\(duty.condition.map { "`\(cell($0.source))`" } ?? "always") | \(clockText(duty)) | \(deadlineText(duty)) | \(cite(duty.provenance)) |\n"
        }
        return out + "\n"
    }

    /// The procedure as a Mermaid flowchart (GitHub and most Markdown viewers draw it).
    private func diagram() -> String {
        guard !policy.duties.isEmpty else { return "" }
        return "## The procedure as a diagram\n\nEach role's duties in its lane with their deadlines; solid arrows: what comes first; "
            + "dashed arrows: what a duty's clock counts from; labels: when a duty applies (`rulebook graph --format dot` for Graphviz).\n\n"
            + "```mermaid\n" + PolicyGraph(policy: policy).mermaid() + "```\n\n"
    }

    private func terms() -> String {
        guard !policy.terms.isEmpty else { return "" }
        var out = "## What the document's time words mean\n\n| term | meaning | source |\n|---|---|---|\n"
        for term in policy.terms {
            out += "| \(term.title) | \(term.rule.description) | \(cite(term.provenance)) |\n"
        }
        return out + "\n"
    }

    private func rolesTable() -> String {
        let contacts = policy.roles.contains { $0.contact != nil }
        var out = contacts ? "## Roles\n\n| role | title | named holder | contact | includes | may stand in |\n|---|---|---|---|---|---|\n"
            : "## Roles\n\n| role | title | named holder | includes | may stand in |\n|---|---|---|---|---|\n"
        for role in policy.roles {
            let standIns = role.standIns.map { s -> String in
                let title = cell(policy.roles[s].title)
                guard let condition = role.standInConditions.first(where: { $0.role == s }) else { return title }
                return title + " (when `\(cell(condition.condition.source))`)"
            }
            out += "| `\(role.id)` | \(cell(role.title)) | \(role.holder.map(cell) ?? "") | " + (contacts ? "\(role.contact.map(cell) ?? "") | " : "")
                + role.includes.map { cell(policy.roles[$0].title) }.joined(separator: ", ") + " | "
                + standIns.joined(separator: ", ") + " |\n"
        }
        return out + "\n"
    }

    private func prohibitionsList() -> String {
        guard !policy.prohibitions.isEmpty, policy.layout == .points else { return "" }
        var out = "## Prohibitions\n\n"
        for p in policy.prohibitions { out += "- " + prohibitionLine(p) + "\n" }
        return out + "\n"
    }

    /// What `rulebook report` counts for this policy, when it says (`report:`).
    private func periodicReport() -> String {
        guard let r = policy.report else { return "" }
        var out = "## The periodic report\n\n`rulebook report` counts this policy's incidents (\(r.provenance.citation(in: policy.id))):\n\n"
        out += "- **from**: " + (r.start.map { "`\($0.source)`, or the incident's opening while that is unanswered" } ?? "the incident's opening") + "\n"
        if let n = r.nearMiss { out += "- **near miss when**: `\(n.source)`\n" }
        if !r.breakdowns.isEmpty { out += "- **by**: " + r.breakdowns.map { "\($0.title) (`\($0.expression.source)`)" }.joined(separator: ", ") + "\n" }
        for m in r.milestones {
            switch m.target {
            case .duty(let d): out += "- **time to \(m.title)**: when '\(policy.duties[d].title)' was done\n"
            case .action(let a): out += "- **time to \(m.title)**: when '\(policy.actions[a].title)' was first recorded\n"
            }
        }
        return out + "\n"
    }

    /// When `rulebook remind` and the calendar feed remind people of their duties.
    private func reminders() -> String {
        guard let r = policy.reminders else { return "" }
        func words(_ points: [Int64]) -> String {
            points.map { $0 == 0 ? "at the deadline" : Durations.describe($0) + " before" }.joined(separator: ", ")
        }
        var out = "## Reminders\n\n"
        if !r.before.isEmpty { out += "Whoever owes a duty with a deadline is reminded \(words(r.before)) (\(r.provenance.citation(in: policy.id))).\n" }
        for d in r.duties.keys.sorted() { out += "- **\(policy.duties[d].title)**: \(words(r.duties[d]!))\n" }
        return out + "\n"
    }

    /// The notifications `rulebook draft` drafts, with what each must contain.
    private func drafts() -> String {
        guard !policy.drafts.isEmpty else { return "" }
        var out = "## Notifications\n\n`rulebook draft CASE ID` drafts each from an incident and asks for what it cannot fill.\n\n"
        for d in policy.drafts {
            out += "### \(d.title) (`\(d.id)`)\n\n"
            if let to = d.to { out += "To \(to) (\(d.provenance.citation(in: policy.id))). It contains:\n\n" } else { out += "\(d.provenance.citation(in: policy.id)). It contains:\n\n" }
            for f in d.fields {
                let from: String
                switch f.source {
                case .value(let e): from = "`\(e.source)`"
                case .contact(let r): from = "the contact of the \(policy.roles[r].title)"
                case .notes(let list): from = "the notes recorded with " + list.map { "'\(policy.actions[$0].title)'" }.joined(separator: ", ")
                case .actor(let a): from = "who took '\(policy.actions[a].title)'"
                }
                out += "- **\(f.title)**\(f.required ? "" : " (optional)"): from \(from)" + (f.provenance.map { " (\($0.citation(in: policy.id)))" } ?? "") + "\n"
            }
            out += "\n"
        }
        return out
    }

    /// For a policy that extends another: the base's duties that still apply.
    private func inherited() -> String {
        let bases = policy.lineage.dropFirst()
        guard !bases.isEmpty else { return "" }
        var out = ""
        for base in bases {
            let duties = policy.duties.filter { $0.provenance.policy == base.id }
            guard !duties.isEmpty else { continue }
            out += "## From \(base.title) (`\(base.id)`)\n\n"
            for duty in duties { out += "- " + dutyLine(duty) + "\n" }
            out += "\n"
        }
        return out
    }

    /// What this policy replaced or removed of the policies it extends.
    private func lineageChanges() -> String {
        guard !policy.lineageChanges.isEmpty else { return "" }
        var out = "## Changed from the policies it extends\n\n"
        for c in policy.lineageChanges {
            out += "- \(c.kind == .removed ? "Removed" : "Replaced") \(c.section) `\(c.id)` of `\(c.base)`"
            out += c.by == policy.id ? "\n" : " (by `\(c.by)`)\n"
        }
        return out + "\n"
    }

    /// Each clause of the document that states an obligation, and what accounts for it:
    /// the rules that enforce it, or why the policy does not encode it.
    private func traceability() -> String {
        let report = CoverageReport(policy: policy)
        let entries = report.entries.filter { $0.status != .text }
        guard !entries.isEmpty else { return "" }
        var out = "## Clause by clause\n\n\(report.summary).\n\n"
        for entry in entries {
            out += "- **\(report.label(entry.unit))** — "
            switch entry.status {
            case .encoded: out += "enforced by " + entry.rules.map { "\($0.kind) `\($0.id)`" }.joined(separator: ", ")
            case .explained: out += "explained, not encoded: \(entry.explanation!.reason)"
            case .uncovered: out += "**not accounted for**"
            case .text: break
            }
            out += "\n"
        }
        return out + "\n"
    }

    private func assumptions() -> String {
        var list: [(String, Provenance)] = []
        func add(_ what: String, _ p: Provenance?) { if let p, p.assumption != nil { list.append((what, p)) } }
        for t in policy.terms { add("\"\(t.title)\" means \(t.rule.description)", t.provenance) }
        for r in policy.roles { add("role \(r.title)", r.provenance) }
        for f in policy.facts {
            add("fact `\(f.id)`", f.provenance)
            switch f.type {
            case .option(let d), .options(let d): for o in d.options { add("option `\(o.id)` of `\(f.id)`", o.provenance) }
            default: break
            }
        }
        for v in policy.values {
            add("value `\(v.id)`", v.provenance)
            switch v.rule {
            case .table(_, let bands): for b in bands { add("band \(b.rangeDescription) of `\(v.id)`", b.provenance) }
            case .cases(let cases): for c in cases { add("a case of `\(v.id)`", c.provenance) }
            case .grid: break
            case .expression: break
            }
        }
        for a in policy.actions { add("action \(a.title)", a.provenance) }
        for d in policy.duties { add("duty: \(d.title)", d.provenance) }
        for p in policy.prohibitions { add("prohibition: \(p.title)", p.provenance) }
        if let r = policy.report { add("the periodic report", r.provenance) }
        if let r = policy.reminders { add("when duties are reminded of", r.provenance) }
        for d in policy.drafts {
            add("notification: \(d.title)", d.provenance)
            for f in d.fields { if let p = f.provenance { add("field \(f.title) of \(d.title)", p) } }
        }
        guard !list.isEmpty else { return "## Assumptions\n\nNone: every rule is stated by the document or the law.\n" }
        var out = "## Assumptions\n\nWhere the document is silent the policy had to choose; confirm each of these:\n\n"
        for (what, p) in list {
            let origin = p.policy == policy.id ? "" : " (from `\(p.policy)`)"
            out += "- **\(what)**\(origin): \(p.assumption!)\n"
        }
        return out + "\n"
    }

    // MARK: Lines

    private func dutyLine(_ duty: Duty, showRole: Bool = true) -> String {
        var text = showRole ? "**\(duty.roles.map { policy.roles[$0].title }.joined(separator: "** or **"))** must " : "must "
        text += lowercasedFirst(duty.title)
        if duty.actions.count > 1 {
            text += " (any of: " + duty.actions.map { policy.actions[$0].title }.joined(separator: "; ") + ")"
        }
        if let condition = duty.condition { text += ", when `\(condition.source)`" }
        if let target = duty.target { text += ", aiming for \(target.description)" }
        if duty.deadline != nil { text += ", " + deadlinePhrase(duty) }
        if let earliest = duty.notBefore { text += ", not before \(earliest) after \(clockText(duty))" }
        if duty.reasonWhenLate { text += ", with the reasons if later" }
        if !duty.prerequisites.isEmpty {
            text += ", after: " + duty.prerequisites.map { lowercasedFirst(policy.duties[$0].title) }.joined(separator: "; ")
        }
        text += " *(\(cite(duty.provenance)))*"
        if let must = duty.must { text += "\n  > \(must)" }
        return text
    }

    private func prohibitionLine(_ p: Prohibition, showRole: Bool = true) -> String {
        let who = showRole ? "**" + p.roles.map { policy.roles[$0].title }.joined(separator: "**, **") + "** must not " : "must not "
        return who + p.actions.map { lowercasedFirst(policy.actions[$0].title) }.joined(separator: " or ")
            + " *(\(cite(p.provenance)))*" + (p.text.map { "\n  > \($0)" } ?? "")
    }

    private func deadlineText(_ duty: Duty) -> String {
        guard let rule = duty.deadline else { return "" }
        if let t = duty.term {
            let term = policy.terms[t]
            return "\(term.title) (\(rule.description)\(term.provenance.assumption != nil ? ", an assumption" : ""))"
        }
        return rule.description
    }

    /// `within 48 hours of discovery`, `within 1 hour of discovery — "immediately", assumed`,
    /// `by the end of the day of discovery`.
    private func deadlinePhrase(_ duty: Duty) -> String {
        guard let rule = duty.deadline else { return "" }
        let clock = clockText(duty)
        let core: String
        switch rule {
        case .after(let d): core = "within \(d) of \(clock)"
        case .endOfDay: core = "by the end of the day of \(clock)"
        case .workingDays(let n): core = "within \(n) working day\(n == 1 ? "" : "s") of \(clock)"
        case .endOfNextWorkingDay: core = "by the end of the next working day after \(clock)"
        }
        guard let t = duty.term else { return core }
        let term = policy.terms[t]
        return "\(core) — \"\(term.title)\"\(term.provenance.assumption != nil ? ", assumed" : "")"
    }

    private func clockText(_ duty: Duty) -> String {
        duty.clock.map(clockText) ?? ""
    }

    private func clockText(_ clock: Clock) -> String {
        switch clock {
        case .fact(let slot): return policy.facts[slot].title.lowercasedFirstWord
        case .action(let a): return "'\(policy.actions[a].title)'"
        case .duty(let d): return "'\(policy.duties[d].title)' being done"
        case .earliest(let list): return "the earliest of " + list.map(clockText).joined(separator: ", ")
        case .latest(let list): return "the latest of " + list.map(clockText).joined(separator: ", ")
        }
    }

    private func cite(_ p: Provenance) -> String {
        var text = p.citation(in: policy.id)
        if p.assumption != nil, p.clause != nil || p.law != nil { text += ", assumption" }
        return text
    }

    /// A value's section: its own clause's, or else its first case's or band's.
    private func section(of value: DerivedValue) -> String {
        if value.provenance.clause != nil { return section(of: value.provenance) }
        switch value.rule {
        case .cases(let cases): return cases.compactMap(\.provenance).first.map { section(of: $0) } ?? ""
        case .table(_, let bands): return bands.compactMap(\.provenance).first.map { section(of: $0) } ?? ""
        case .grid: return ""
        case .expression: return ""
        }
    }

    private func section(of p: Provenance) -> String {
        guard let clause = p.clause else { return "" }
        return policy.outlineSection(for: clause)
    }

    /// Each line of a clause text as its own paragraph (Markdown joins adjacent lines).
    private func paragraphs(_ text: String) -> String {
        text.split(separator: "\n").map { String($0).trimmingWhitespace }.filter { !$0.isEmpty }.map { $0 + "\n\n" }.joined()
    }

    private func indented(_ text: String) -> String {
        text.trimmingTrailingNewlines.split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated().map { $0.offset == 0 ? String($0.element) : "   " + $0.element }.joined(separator: "\n")
    }

    private func cell(_ text: String) -> String {
        String(text.map { $0 == "\n" ? " " : $0 }).replacingOccurrences(of: "|", with: "\\|")
    }

    private func lowercasedFirst(_ s: String) -> String {
        guard let first = s.first else { return s }
        // Keep acronyms and names (ICT, GDPR) as written.
        let second = s.dropFirst().first
        if second?.isUppercase == true || first == "I" && (second == " " || second == "'") { return s }
        return first.lowercased() + s.dropFirst()
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }

    var capitalisedFirst: String {
        guard let first else { return self }
        return first.uppercased() + dropFirst()
    }

    /// "When was it discovered?" stays; a title like "Discovered at" becomes "discovered at".
    var lowercasedFirstWord: String {
        guard let first, !(dropFirst().first?.isUppercase ?? false) else { return self }
        return first.lowercased() + dropFirst()
    }
}
