/// A policy's procedure as a diagram (`rulebook graph`, and the flowchart in `show`):
/// one lane per role holding its duties, each with its deadline; arrows from what must
/// come first (`after`) and from what a duty's clock counts from (a fact, an action, or
/// another duty), labelled with the condition under which the duty applies; what a
/// role must not do marked in its lane. Mermaid for Markdown viewers, DOT for Graphviz.
public struct PolicyGraph {
    public let policy: Policy

    public init(policy: Policy) { self.policy = policy }

    /// A node's label: the duty's title, then its deadline.
    private func label(_ duty: Duty) -> [String] {
        var lines = [duty.title]
        if duty.roles.count > 1 {
            lines.append("(" + duty.roles.map { policy.roles[$0].title }.joined(separator: " or ") + ")")
        }
        if let deadline = duty.deadline {
            lines.append(duty.term.map { "\(policy.terms[$0].title): \(deadline.description)" } ?? deadline.description)
        }
        if let earliest = duty.notBefore { lines.append("not before \(earliest)") }
        return lines
    }

    /// A clock's simple starts that are facts or actions (a duty start is an arrow from
    /// that duty).
    private func starts(_ clock: Clock?) -> [(id: String, text: String)] {
        (clock?.parts ?? []).compactMap { part in
            switch part {
            case .fact(let s): return ("fact_" + policy.facts[s].id, policy.facts[s].title)
            case .action(let a): return ("action_" + policy.actions[a].id, policy.actions[a].title)
            case .duty, .earliest, .latest: return nil
            }
        }
    }

    /// Edges as (from, to, label, kind): `after` (a prerequisite), `clock` (what it counts
    /// from), `when` (the condition, on a duty with no other arrow in).
    private func edges() -> [(from: String, to: String, label: String?, clock: Bool)] {
        var out: [(String, String, String?, Bool)] = []
        for duty in policy.duties {
            let node = "duty_" + duty.id
            let when = duty.condition.map { "when " + $0.source }
            var labelled = false
            func take() -> String? {
                defer { labelled = true }
                return labelled ? nil : when
            }
            for part in duty.clock?.parts ?? [] {
                switch part {
                case .fact(let s): out.append(("fact_" + policy.facts[s].id, node, take(), true))
                case .action(let a): out.append(("action_" + policy.actions[a].id, node, take(), true))
                case .duty(let d): out.append(("duty_" + policy.duties[d].id, node, take(), true))
                default: break
                }
            }
            for p in duty.prerequisites where !(duty.clock?.parts.contains(.duty(p)) ?? false) {
                out.append(("duty_" + policy.duties[p].id, node, take(), false))
            }
            if !labelled, let when {
                // A condition with no arrow in: from the start of the incident.
                out.append(("start", node, when, false))
            }
        }
        return out
    }

    private var usesStart: Bool { edges().contains { $0.from == "start" } }

    /// The lanes: each role with its duties and prohibitions, in the policy's order; roles
    /// with neither are left out.
    private func lanes() -> [(role: Role, duties: [Duty], prohibitions: [Prohibition])] {
        policy.roles.indices.compactMap { r in
            let duties = policy.duties.filter { $0.roles.first == r }
            let prohibitions = policy.prohibitions.filter { $0.roles.first == r }
            return duties.isEmpty && prohibitions.isEmpty ? nil : (policy.roles[r], duties, prohibitions)
        }
    }

    // MARK: Mermaid

    /// A Mermaid flowchart (```mermaid blocks render on GitHub and most Markdown viewers).
    public func mermaid() -> String {
        func text(_ s: String) -> String {
            var out = ""
            for ch in s {
                switch ch {
                case "\"": out += "#quot;"
                case "<": out += "#lt;"
                case ">": out += "#gt;"
                case "\n": out += " "
                default: out.append(ch)
                }
            }
            return out
        }
        var out = "flowchart LR\n"
        if usesStart { out += "  start([incident])\n" }
        var seen = Set<String>()
        for duty in policy.duties {
            for start in starts(duty.clock) where seen.insert(start.id).inserted {
                out += "  \(start.id)([\"\(text(start.text))\"])\n"
            }
        }
        for lane in lanes() {
            out += "  subgraph role_\(lane.role.id)[\"\(text(lane.role.title))\"]\n"
            for duty in lane.duties {
                out += "    duty_\(duty.id)[\"" + label(duty).map(text).joined(separator: "<br/>") + "\"]\n"
            }
            for p in lane.prohibitions {
                let actions = p.actions.map { policy.actions[$0].title }.joined(separator: " or ")
                out += "    prohibition_\(p.id){{\"must not: \(text(actions))\"}}\n"
            }
            out += "  end\n"
        }
        for edge in edges() {
            let arrow = edge.clock ? "-.->" : "-->"
            out += "  \(edge.from) \(arrow)" + (edge.label.map { "|\"\(text($0))\"|" } ?? "") + " \(edge.to)\n"
        }
        if !policy.prohibitions.isEmpty {
            out += "  classDef prohibited stroke-dasharray: 5 5,stroke-width:2px\n"
            out += "  class " + policy.prohibitions.map { "prohibition_\($0.id)" }.joined(separator: ",") + " prohibited\n"
        }
        return out
    }

    // MARK: DOT

    /// A Graphviz digraph (`dot -Tsvg`): one cluster per role.
    public func dot() -> String {
        func quote(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: " ") + "\""
        }
        var out = "digraph \(quote(policy.id)) {\n"
        out += "  label=\(quote(policy.title)); labelloc=t; rankdir=LR; compound=true; newrank=true; nodesep=0.25; ranksep=0.5;\n"
        out += "  node [shape=box, style=\"rounded\", fontname=\"Helvetica\", fontsize=10];\n"
        out += "  edge [fontname=\"Helvetica\", fontsize=9];\n"
        if usesStart { out += "  start [shape=oval, label=\"incident\"];\n" }
        var seen = Set<String>()
        for duty in policy.duties {
            for start in starts(duty.clock) where seen.insert(start.id).inserted {
                out += "  \(start.id) [shape=oval, label=\(quote(start.text))];\n"
            }
        }
        for lane in lanes() {
            out += "  subgraph \(quote("cluster_" + lane.role.id)) {\n"
            out += "    label=\(quote(lane.role.title)); style=\"rounded\";\n"
            for duty in lane.duties {
                // Lines joined by DOT's own line break, `\n` inside the quoted label.
                let lines = label(duty).map { String(quote($0).dropFirst().dropLast()) }
                out += "    duty_\(duty.id) [label=\"" + lines.joined(separator: "\\n") + "\"];\n"
            }
            for p in lane.prohibitions {
                let actions = p.actions.map { policy.actions[$0].title }.joined(separator: " or ")
                out += "    prohibition_\(p.id) [shape=octagon, style=\"dashed,bold\", label=\(quote("must not: " + actions))];\n"
            }
            out += "  }\n"
        }
        for edge in edges() {
            var attributes: [String] = []
            if edge.clock { attributes.append("style=dashed") }
            if let label = edge.label { attributes.append("label=\(quote(label))") }
            out += "  \(edge.from) -> \(edge.to)" + (attributes.isEmpty ? "" : " [" + attributes.joined(separator: ", ") + "]") + ";\n"
        }
        return out + "}\n"
    }
}
