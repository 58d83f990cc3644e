import Crypto
import RulebookCore

/// A JSON value with a canonical text: object keys sorted, no spaces, integers only.
/// What is hashed is this text, so the same record always hashes the same.
enum Canonical: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([Canonical])
    case object([String: Canonical])
    /// Already-canonical JSON text (a stored body), embedded as is.
    case raw(String)

    /// The canonical JSON text.
    var text: String {
        var w = JSONWriter(pretty: false)
        write(&w)
        return w.text
    }

    func write(_ w: inout JSONWriter) {
        switch self {
        case .null: w.null()
        case .bool(let b): w.bool(b)
        case .int(let n): w.int(n)
        case .string(let s): w.string(s)
        case .array(let items): w.array { w in for item in items { item.write(&w) } }
        case .object(let members):
            w.object { w in
                for key in members.keys.sorted() { w.field(key) { members[key]!.write(&$0) } }
            }
        case .raw(let text): w.raw(Array(text.utf8))
        }
    }

    /// A typed value as canonical JSON: options by id, sets as lists of ids in the
    /// policy's order, times as RFC 3339 in UTC.
    static func value(_ value: Value, _ type: ValueType) -> Canonical {
        switch (value, type) {
        case (.unknown, _): return .null
        case (.bool(let b), _): return .bool(b)
        case (.int(let n), _): return .int(n)
        case (.option(let i), .option(let d)): return .string(d.options[i].id)
        case (.options(let mask), .options(let d)):
            return .array(d.options.indices.filter { mask & (1 << UInt64($0)) != 0 }.map { .string(d.options[$0].id) })
        case (.time(let t), _): return .string(Timestamp.format(t))
        case (.text(let s), _): return .string(s)
        default: return .null
        }
    }

    /// Facts as a canonical object.
    static func facts(_ assignments: [FactAssignment], policy: Policy) -> Canonical {
        var members: [String: Canonical] = [:]
        for a in assignments { members[policy.facts[a.slot].id] = value(a.value, policy.facts[a.slot].type) }
        return .object(members)
    }

    /// An event in the shape of a JSON Lines trail record.
    static func event(_ event: Event, policy: Policy) -> Canonical {
        var members: [String: Canonical] = [
            "at": .string(Timestamp.format(event.at)),
            "action": .string(policy.actions[event.action].id),
            "by": .string(policy.roles[event.role].id),
        ]
        if let actor = event.actor { members["actor"] = .string(actor) }
        if !event.facts.isEmpty { members["facts"] = facts(event.facts, policy: policy) }
        if let reason = event.reason { members["reason"] = .string(reason) }
        if let note = event.note { members["note"] = .string(note) }
        if let decision = event.decision, let slot = policy.actions[event.action].decision?.slot,
           policy.actions[event.action].decision?.asserts == nil
        {
            members["value"] = value(decision, policy.slotType(slot))
        }
        return .object(members)
    }
}

/// SHA-256 (swift-crypto), as lowercase hex.
enum Hashing {
    /// The hash every chain starts from.
    static let genesis = String(repeating: "0", count: 64)

    static func sha256(_ text: String) -> String {
        let digest = SHA256.hash(data: Array(text.utf8))
        var out = ""
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        }
        return out
    }

    /// `sha256(previous + "\n" + content)`: one link of a chain.
    static func link(_ previous: String, _ content: String) -> String {
        sha256(previous + "\n" + content)
    }

    private static let hex: [Character] = Array("0123456789abcdef")
}
