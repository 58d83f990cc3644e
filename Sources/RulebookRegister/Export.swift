import RulebookCore
import RulebookYAML

/// The forms an incident can be exported in.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// A case file in YAML.
    case yaml
    /// A case file in JSON.
    case json
    /// The trail as JSON Lines, one event per line.
    case jsonl
}

extension Register {
    /// The incident as a case file or trail, exactly as recorded, except that a reporter
    /// who asked to stay anonymous is never named.
    public func export(_ number: String, as format: ExportFormat) throws -> String {
        let (stored, policy) = try incident(number)
        let anonymity = ReporterAnonymity(policy: policy, file: stored.file)
        let events: [Canonical] = zip(stored.bodies, stored.file.events).map { body, parsed in
            guard var event = JSONReader.read(body, file: number).root.map(Canonical.init(node:)),
                  case .object(var members) = event
            else { return .raw(body) }
            if anonymity.withholds(parsed) {
                members["actor"] = nil
            }
            // When it was recorded, where that was not when it happened: nothing is lost.
            if let recorded = parsed.recordedAt { members["recorded_at"] = .string(Timestamp.format(recorded)) }
            event = .object(members)
            return event
        }
        let facts = JSONReader.read(stored.factsJSON, file: number).root.map(Canonical.init(node:)) ?? .object([:])
        switch format {
        case .jsonl:
            return events.map { $0.text + "\n" }.joined()
        case .json:
            return Canonical.object([
                "policy": .string(stored.policyID), "incident": .string(number), "facts": facts, "events": .array(events),
            ]).text + "\n"
        case .yaml:
            var out = "# Exported from \(name): incident \(number), under policy '\(stored.policyID)' pinned \(stored.policySHA256.prefix(12))\n"
            out += "policy: \(stored.policyID)\nincident: \(number)\n"
            out += "facts: \(Self.flow(facts))\n"
            out += events.isEmpty ? "events: []\n" : "events:\n" + events.map { "  - \(Self.flow($0))\n" }.joined()
            return out
        }
    }

    /// A flow mapping for YAML with plain keys in reading order and JSON-quoted values
    /// (JSON strings are valid YAML).
    static func flow(_ value: Canonical) -> String {
        guard case .object(let members) = value else { return value.text }
        let order = ["at", "action", "by", "actor", "facts", "value", "reason", "note", "recorded_at"]
        let keys = order.filter { members[$0] != nil } + members.keys.filter { !order.contains($0) }.sorted()
        return "{" + keys.map { "\($0): \(flow(members[$0]!))" }.joined(separator: ", ") + "}"
    }
}

extension Canonical {
    /// A JSON node as a canonical value.
    init(node: Node) {
        switch node.content {
        case .mapping(let pairs):
            var members: [String: Canonical] = [:]
            for pair in pairs { members[pair.name] = Canonical(node: pair.value) }
            self = .object(members)
        case .sequence(let items):
            self = .array(items.map(Canonical.init(node:)))
        case .scalar(let s):
            switch s.value {
            case .null: self = .null
            case .bool(let b): self = .bool(b)
            case .int(let n): self = .int(n)
            case .float: self = .raw(s.text)
            case .string(let text): self = .string(text)
            }
        }
    }
}
