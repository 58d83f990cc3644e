/// What changed in meaning between two versions of a policy (`rulebook diff`): entries
/// added, removed or changed, and for a changed one each part that changed — a deadline,
/// a role, a condition, a band, a weight, an assumption — with the clause it cites.
/// Wording (titles, questions, quoted text) and layout (key order, flow or block style,
/// comments, spacing inside expressions) are not meaning and are not reported.
public struct PolicyChange: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case added, removed, changed
    }

    public var kind: Kind
    /// The section's noun: `duty`, `value`, `fact`, `role`, `action`, `term`,
    /// `prohibition`, `constraint`, `report` (what the periodic report counts), or `policy`
    /// for the policy as a whole.
    public var section: String
    public var id: String
    /// For a changed entry, `part: old → new`, one per part that changed.
    public var details: [String]
    /// The clause the entry cites (the new version's, or the old one's when removed).
    public var clause: String
}

public enum PolicyDiff {
    /// The changes from `old` to `new`, section by section in the policy's order.
    public static func compare(_ old: Policy, _ new: Policy) -> [PolicyChange] {
        var changes: [PolicyChange] = []
        let a = entries(old), b = entries(new)
        for section in ["policy", "role", "term", "fact", "value", "action", "duty", "prohibition", "constraint", "report", "reminders", "draft"] {
            let before = a.filter { $0.section == section }, after = b.filter { $0.section == section }
            let oldIDs = Dictionary(before.map { ($0.id, $0) }, uniquingKeysWith: { x, _ in x })
            let newIDs = Set(after.map(\.id))
            for entry in after {
                guard let previous = oldIDs[entry.id] else {
                    changes.append(PolicyChange(kind: .added, section: section, id: entry.id, details: [], clause: entry.clause))
                    continue
                }
                var details: [String] = []
                let keys = previous.parts.map(\.0) + entry.parts.map(\.0).filter { k in !previous.parts.contains { $0.0 == k } }
                for key in keys {
                    let x = previous.parts.first { $0.0 == key }?.1 ?? "none"
                    let y = entry.parts.first { $0.0 == key }?.1 ?? "none"
                    if x != y { details.append("\(key): \(x) → \(y)") }
                }
                if !details.isEmpty {
                    changes.append(PolicyChange(kind: .changed, section: section, id: entry.id, details: details, clause: entry.clause))
                }
            }
            for entry in before where !newIDs.contains(entry.id) {
                changes.append(PolicyChange(kind: .removed, section: section, id: entry.id, details: [], clause: entry.clause))
            }
        }
        return changes
    }

    /// One entry's meaning, as ordered (part, text) pairs.
    private struct Entry {
        var section: String
        var id: String
        var clause: String
        var parts: [(String, String)]
    }

    private static func entries(_ p: Policy) -> [Entry] {
        var out: [Entry] = []
        func cite(_ provenance: Provenance?) -> String { provenance?.citation(in: p.id) ?? "" }
        func provenanceParts(_ provenance: Provenance?) -> [(String, String)] {
            guard let provenance else { return [] }
            var parts = [("source", cite(provenance))]
            if let assumption = provenance.assumption { parts.append(("assumption", "\"\(assumption)\"")) }
            return parts
        }
        func roles(_ list: [Int]) -> String { list.isEmpty ? "none" : list.map { p.roles[$0].id }.sorted().joined(separator: ", ") }
        func actions(_ list: [Int]) -> String { list.isEmpty ? "none" : list.map { p.actions[$0].id }.sorted().joined(separator: ", ") }
        func expression(_ e: CompiledExpression?) -> String {
            guard let e else { return "always" }
            return (try? ExpressionParser.parse(e.source).canonical).map { "`\($0)`" } ?? "`\(e.source)`"
        }
        func clock(_ c: Clock) -> String {
            switch c {
            case .fact(let s): return "fact \(p.facts[s].id)"
            case .action(let a): return "action \(p.actions[a].id)"
            case .duty(let d): return "duty \(p.duties[d].id)"
            case .earliest(let list): return "earliest of (" + list.map(clock).joined(separator: ", ") + ")"
            case .latest(let list): return "latest of (" + list.map(clock).joined(separator: ", ") + ")"
            }
        }
        func type(_ t: ValueType) -> String {
            switch t {
            case .option(let d): return "enum [" + d.ids.joined(separator: ", ") + "]"
            case .options(let d): return "set [" + d.ids.joined(separator: ", ") + "]"
            default: return t.keyword
            }
        }
        out.append(Entry(section: "policy", id: p.id, clause: "", parts: [
            ("time zone", p.clock.identifier), ("calendar", p.clock.calendar?.id ?? "none"),
            ("extends", p.lineage.dropFirst().map(\.id).joined(separator: ", ").nonEmpty ?? "nothing"),
        ]))
        for r in p.roles {
            let standIns = r.standIns.map { s -> String in
                let when = r.standInConditions.first { $0.role == s }.map { " when " + expression($0.condition) } ?? ""
                return p.roles[s].id + when
            }.sorted()
            out.append(Entry(section: "role", id: r.id, clause: cite(r.provenance), parts: [
                ("holder", r.holder ?? "none"), ("contact", r.contact ?? "none"), ("stand-ins", standIns.joined(separator: ", ").nonEmpty ?? "none"),
                ("includes", roles(r.includes)),
            ] + provenanceParts(r.provenance)))
        }
        for t in p.terms {
            out.append(Entry(section: "term", id: t.id, clause: cite(t.provenance), parts: [("meaning", t.rule.description)] + provenanceParts(t.provenance)))
        }
        for f in p.facts {
            var parts = [("type", type(f.type))]
            if case .options(let d) = f.type, d.isWeighted {
                for o in d.options { parts.append(("weight of \(o.id)", o.weight.map { $0 > 0 ? "+\($0)" : "\($0)" } ?? "none")) }
                for o in d.options { parts += provenanceParts(o.provenance).map { ("\($0.0) of \(o.id)", $0.1) } }
            }
            parts += [("min", f.minimum.map(String.init) ?? "none"), ("max", f.maximum.map(String.init) ?? "none"),
                      ("set by", f.setBy.map(roles) ?? "anyone"), ("anonymises the reporter", f.anonymisesReporter ? "yes" : "no")]
            out.append(Entry(section: "fact", id: f.id, clause: cite(f.provenance), parts: parts + provenanceParts(f.provenance)))
        }
        for v in p.values {
            var parts: [(String, String)] = []
            switch v.rule {
            case .expression(let e): parts.append(("rule", expression(e)))
            case .table(let input, let bands):
                parts.append(("table over", p.slotID(input)))
                for band in bands {
                    parts.append(("band \(band.rangeDescription)", band.value.display(v.type)))
                    parts += provenanceParts(band.provenance).map { ("\($0.0) of band \(band.rangeDescription)", $0.1) }
                }
            case .cases(let cases):
                for (i, c) in cases.enumerated() {
                    parts.append(("case \(i + 1)", (c.condition.map { "when " + expression($0) } ?? "otherwise") + " → " + c.value.display(v.type)))
                    parts += provenanceParts(c.provenance).map { ("\($0.0) of case \(i + 1)", $0.1) }
                }
            case .grid(let grid):
                parts.append(("grid", "\(p.slotID(grid.rows.input)) × \(p.slotID(grid.columns.input))"))
                func band(_ axis: DerivedValue.Grid.Axis, _ b: DerivedValue.Grid.AxisBand) -> String {
                    var domain: EnumDomain?
                    if case .option(let d) = p.slotType(axis.input) { domain = d }
                    return DerivedValue.Grid.describe(b, domain: domain)
                }
                for (r, rowBand) in grid.rows.bands.enumerated() {
                    for (c, columnBand) in grid.columns.bands.enumerated() {
                        parts.append(("cell \(band(grid.rows, rowBand)) × \(band(grid.columns, columnBand))",
                                      grid.cells[r * grid.columns.bands.count + c].display(v.type)))
                    }
                }
            }
            out.append(Entry(section: "value", id: v.id, clause: cite(v.provenance), parts: parts + provenanceParts(v.provenance)))
        }
        for a in p.actions {
            let permitted: String = a.roles.map(roles) ?? "any"
            let establishes: String = a.establishes.map { p.facts[$0].id }.joined(separator: ", ").nonEmpty ?? "nothing"
            var parts: [(String, String)] = [("roles", permitted)]
            parts.append(("reason", a.reasonRequired ? "required" : "not required"))
            parts.append(("closes the incident", a.closes ? "yes" : "no"))
            parts.append(("establishes", establishes))
            if let d = a.decision {
                parts.append(("decides", p.slotID(d.slot) + (d.asserts.map { " = " + $0.display(p.slotType(d.slot)) } ?? "")))
            }
            out.append(Entry(section: "action", id: a.id, clause: cite(a.provenance), parts: parts + provenanceParts(a.provenance)))
        }
        for d in p.duties {
            let after: String = d.prerequisites.map { p.duties[$0].id }.sorted().joined(separator: ", ").nonEmpty ?? "nothing"
            var parts: [(String, String)] = [("role", roles(d.roles)), ("action", actions(d.actions)), ("when", expression(d.condition))]
            parts.append(("from", d.clock.map(clock) ?? "none"))
            parts.append(("deadline", d.deadline?.description ?? "none"))
            parts.append(("target", d.target?.description ?? "none"))
            parts.append(("not before", d.notBefore.map { "\($0)" } ?? "none"))
            parts.append(("after", after))
            parts.append(("reasons when late", d.reasonWhenLate ? "required" : "not required"))
            if let t = d.term { parts.append(("term", p.terms[t].id)) }
            out.append(Entry(section: "duty", id: d.id, clause: cite(d.provenance), parts: parts + provenanceParts(d.provenance)))
        }
        for x in p.prohibitions {
            out.append(Entry(section: "prohibition", id: x.id, clause: cite(x.provenance),
                             parts: [("roles", roles(x.roles)), ("actions", actions(x.actions))] + provenanceParts(x.provenance)))
        }
        for c in p.constraints {
            out.append(Entry(section: "constraint", id: c.id, clause: cite(c.provenance),
                             parts: [("rule", expression(c.rule))] + provenanceParts(c.provenance)))
        }
        if let r = p.report {
            let milestones = r.milestones.map { m -> String in
                switch m.target {
                case .duty(let d): return "duty " + p.duties[d].id
                case .action(let a): return "action " + p.actions[a].id
                }
            }
            out.append(Entry(section: "report", id: "report", clause: cite(r.provenance), parts: [
                ("start", r.start.map { expression($0) } ?? "the incident's opening"),
                ("near miss", r.nearMiss.map { expression($0) } ?? "none"),
                ("by", r.breakdowns.map { expression($0.expression) }.joined(separator: ", ").nonEmpty ?? "none"),
                ("milestones", milestones.joined(separator: ", ").nonEmpty ?? "none"),
            ] + provenanceParts(r.provenance)))
        }
        if let r = p.reminders {
            func list(_ points: [Int64]) -> String {
                points.isEmpty ? "none" : points.map { ISODuration(hours: Int($0 / 3_600_000), minutes: Int($0 / 60_000 % 60), seconds: Int($0 / 1000 % 60)).iso }.joined(separator: ", ")
            }
            var parts: [(String, String)] = [("before", list(r.before))]
            for d in r.duties.keys.sorted(by: { p.duties[$0].id < p.duties[$1].id }) { parts.append(("before " + p.duties[d].id, list(r.duties[d]!))) }
            out.append(Entry(section: "reminders", id: "reminders", clause: cite(r.provenance), parts: parts + provenanceParts(r.provenance)))
        }
        for d in p.drafts {
            var parts: [(String, String)] = [("title", d.title), ("to", d.to ?? "none"), ("template", d.template)]
            for f in d.fields {
                let from: String
                switch f.source {
                case .value(let e): from = "value " + expression(e)
                case .contact(let r): from = "contact " + p.roles[r].id
                case .notes(let list): from = "notes " + list.map { p.actions[$0].id }.joined(separator: ", ")
                case .actor(let a): from = "actor " + p.actions[a].id
                }
                parts.append(("field " + f.id, from + (f.required ? "" : " (optional)") + "; asks: " + f.question))
            }
            out.append(Entry(section: "draft", id: d.id, clause: cite(d.provenance), parts: parts + provenanceParts(d.provenance)))
        }
        return out
    }
}

extension PolicyChange {
    /// `changed duty notify_ico (§7.1)` and its details, indented: for people.
    public static func text(_ changes: [PolicyChange], old: String, new: String) -> String {
        guard !changes.isEmpty else { return "No change in meaning between \(old) and \(new).\n" }
        var out = "\(changes.count) change\(changes.count == 1 ? "" : "s") in meaning from \(old) to \(new):\n"
        for c in changes {
            out += "\(c.kind.rawValue) \(c.section) \(c.id)" + (c.clause.isEmpty ? "" : " (\(c.clause))") + "\n"
            for d in c.details { out += "    \(d)\n" }
        }
        return out
    }

    /// A Markdown list, to paste into a review.
    public static func markdown(_ changes: [PolicyChange], old: String, new: String) -> String {
        guard !changes.isEmpty else { return "No change in meaning between `\(old)` and `\(new)`.\n" }
        var out = "### Changes in meaning from `\(old)` to `\(new)`\n\n"
        for c in changes {
            out += "- **\(c.kind.rawValue)** \(c.section) `\(c.id)`" + (c.clause.isEmpty ? "" : " *(\(c.clause))*") + "\n"
            for d in c.details { out += "  - \(d.replacingOccurrences(of: "|", with: "\\|"))\n" }
        }
        return out
    }

    /// `{"old": ..., "new": ..., "changes": [{kind, section, id, clause, details}]}`.
    public static func json(_ changes: [PolicyChange], old: String, new: String) -> String {
        var w = JSONWriter(pretty: true)
        w.object { w in
            w.field("old", string: old)
            w.field("new", string: new)
            w.field("changed", bool: !changes.isEmpty)
            w.field("changes") { w in
                w.array { w in
                    for c in changes {
                        w.object { w in
                            w.field("kind", string: c.kind.rawValue)
                            w.field("section", string: c.section)
                            w.field("id", string: c.id)
                            w.field("clause", string: c.clause)
                            w.field("details") { $0.array(strings: c.details) }
                        }
                    }
                }
            }
        }
        return w.text
    }
}

extension String {
    /// Nil for the empty string.
    var nonEmpty: String? { isEmpty ? nil : self }
}
