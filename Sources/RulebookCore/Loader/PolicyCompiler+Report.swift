import RulebookDiagnostics
import RulebookYAML

extension PolicyCompiler {
    /// `report:`: what the periodic report counts. The nearest policy of the lineage that
    /// says it wins whole (a school's report replaces its base's; it is not merged).
    func compileReport() -> ReportPlan? {
        guard let origin = chain.first(where: { $0.root["report"] != nil }), let node = origin.root["report"] else { return nil }
        guard let object = decoder.object(node, "the report", allowed: ["start", "near_miss", "by", "milestones"] + Self.provenanceKeys)
        else { return nil }
        let provenance = provenance(object, origin: origin, required: true, at: node)
        var start: CompiledExpression?
        if let n = object["start"] {
            start = expression(n, origin: origin, expecting: .datetime, what: "the report's 'start'")
        }
        var nearMiss: CompiledExpression?
        if let n = object["near_miss"] {
            nearMiss = expression(n, origin: origin, expecting: .bool, what: "the report's 'near_miss'")
        }
        var breakdowns: [ReportPlan.Breakdown] = []
        if let n = object["by"] {
            if let items = n.sequence {
                for item in items {
                    guard let compiled = expression(item, origin: origin, expecting: nil, what: "an entry of the report's 'by'") else { continue }
                    switch compiled.type {
                    case .bool, .int, .option:
                        let name = compiled.source.trimmingWhitespace
                        let title = factIndex[String(name)].map { facts[$0].title }
                            ?? values.first(where: { $0.id == name })?.title ?? String(name)
                        breakdowns.append(ReportPlan.Breakdown(title: title, expression: compiled, span: item.span))
                    default:
                        decoder.error("the report counts incidents by an enum, a yes/no or an integer; '\(compiled.source)' is \(compiled.type.phrase)",
                                      at: item.span, code: "wrong-type")
                    }
                }
            } else {
                decoder.error("the report's 'by' must be a list of facts or values; found \(n.kindDescription)", at: n.span, code: "wrong-type")
            }
        }
        var milestones: [ReportPlan.Milestone] = []
        if let n = object["milestones"] {
            if let items = n.sequence {
                for item in items {
                    guard let m = decoder.object(item, "a milestone of the report", allowed: ["title", "duty", "action"], required: ["title"])
                    else { continue }
                    guard let title = m.nonEmptyText("title") else { continue }
                    switch (m["duty"], m["action"]) {
                    case (let d?, nil):
                        guard let id = m.text("duty") else { continue }
                        guard let index = duties.firstIndex(where: { $0.id == id }) else {
                            if !poisoned.contains(id) {
                                decoder.error("unknown duty '\(id)'", at: d.span, code: "unknown-reference",
                                              hint: Suggestions.didYouMean(id, among: duties.map(\.id)))
                            }
                            continue
                        }
                        milestones.append(ReportPlan.Milestone(title: title, target: .duty(index), span: item.span))
                    case (nil, let a?):
                        guard let id = m.text("action"), let index = action(id, a) else { continue }
                        milestones.append(ReportPlan.Milestone(title: title, target: .action(index), span: item.span))
                    default:
                        decoder.error("a milestone names one duty (when it was done) or one action (when it was first taken)",
                                      at: item.span, code: "missing-key", hint: "write `duty: <id>` or `action: <id>`")
                    }
                }
            } else {
                decoder.error("the report's 'milestones' must be a list; found \(n.kindDescription)", at: n.span, code: "wrong-type")
            }
        }
        guard let provenance else { return nil }
        return ReportPlan(start: start, nearMiss: nearMiss, breakdowns: breakdowns, milestones: milestones,
                          provenance: provenance, span: node.span)
    }
}
