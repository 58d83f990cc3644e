import RulebookDiagnostics
import RulebookYAML

extension PolicyCompiler {
    /// `reminders: {before: [PT24H, PT4H, PT0S], duties: {id: [...]}}`: the nearest policy of
    /// the lineage that says it wins whole.
    func compileReminders() -> ReminderPlan? {
        guard let origin = chain.first(where: { $0.root["reminders"] != nil }), let node = origin.root["reminders"] else { return nil }
        guard let object = decoder.object(node, "the reminders", allowed: ["before", "duties"] + Self.provenanceKeys) else { return nil }
        let provenance = provenance(object, origin: origin, required: true, at: node)
        func points(_ node: Node, what: String) -> [Int64]? {
            guard let items = node.sequence, !items.isEmpty else {
                decoder.error("\(what) must be a list of durations before the deadline, e.g. [PT24H, PT4H, PT0S]", at: node.span, code: "wrong-type")
                return nil
            }
            var out: [Int64] = []
            for item in items {
                guard let text = item.scalar?.text, let duration = ISODuration(text) else {
                    decoder.error("'\(item.scalar?.text ?? item.kindDescription)' in \(what) is not an ISO 8601 duration", at: item.span,
                                  code: "wrong-value", hint: "e.g. PT24H, PT30M, PT0S (at the deadline)")
                    return nil
                }
                guard !duration.hasCalendarPart else {
                    decoder.error("a reminder is an exact time before the deadline; '\(text)' has days, weeks, months or years", at: item.span,
                                  code: "wrong-value", hint: "write hours: P1D is PT24H here")
                    return nil
                }
                out.append(duration.exactMilliseconds)
            }
            if Set(out).count != out.count {
                decoder.warning("\(what) names the same reminder twice", at: node.span, code: "duplicate")
            }
            return Array(Set(out)).sorted(by: >)
        }
        let before = object["before"].flatMap { points($0, what: "'before' of the reminders") } ?? []
        var duties: [Int: [Int64]] = [:]
        if let map = object["duties"] {
            for pair in decoder.entries(map, "the duties of the reminders") {
                guard let index = self.duties.firstIndex(where: { $0.id == pair.name }) else {
                    decoder.error("unknown duty '\(pair.name)'", at: pair.key.span, code: "unknown-reference",
                                  hint: Suggestions.didYouMean(pair.name, among: self.duties.map(\.id)))
                    continue
                }
                if self.duties[index].deadline == nil {
                    decoder.warning("duty '\(pair.name)' has no deadline: there is nothing to remind of", at: pair.key.span, code: "no-deadline")
                }
                if let list = points(pair.value, what: "the reminders of duty '\(pair.name)'") { duties[index] = list }
            }
        }
        guard let provenance else { return nil }
        return ReminderPlan(before: before, duties: duties, provenance: provenance, span: node.span)
    }
}
