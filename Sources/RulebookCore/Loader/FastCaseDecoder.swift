/// Reads the common shape of a one-line JSON case straight from its bytes, for batches
/// of millions: `{"incident": "...", "policy": "...", "facts": {fact: value, ...}}`.
///
/// It accepts only what it can read exactly as ``CaseLoader`` would and gives up (nil)
/// on anything else: events, escapes in strings, numbers that are not plain integers,
/// unknown keys, facts or options, values of the wrong type or out of range, repeated
/// keys, malformed JSON. The caller then reads the line with ``JSONReader`` and
/// ``CaseLoader``, which report the problem with its position. So the fast path never
/// decides what is an error, and the tests check that both paths agree on every case
/// the fast one accepts.
public struct FastCaseDecoder: Sendable {
    private struct FactEntry: Sendable {
        var id: [UInt8]
        var slot: Int
        var type: ValueType
        var minimum: Int?
        var maximum: Int?
        /// Option ids, for enumerations and sets.
        var options: [[UInt8]]
    }

    /// What an action's event may carry.
    private struct ActionEntry: Sendable {
        var id: [UInt8]
        var reasonRequired: Bool
        /// For actions that record a decision: the decided value's type and options.
        var decision: FactEntry?
        var asserts: Value?
    }

    private let facts: [FactEntry]
    private let actions: [ActionEntry]
    private let roles: [[UInt8]]
    private let policyID: String
    /// The policy, for its consistency rules (nil when it has none).
    private let policy: Policy?
    /// Whether every rule reads facts only (no derived value, no action).
    private let factOnlyRules: Bool

    /// A case's facts as expression inputs: the last assignment of a slot wins.
    private struct Assignments: EvaluationInputs {
        let list: [FactAssignment]
        func value(at slot: Int) -> Value { list.last { $0.slot == slot }?.value ?? .unknown }
        func hasOccurred(_ action: Int) -> Bool { false }
    }

    public init(policy: Policy) {
        policyID = policy.id
        self.policy = policy.constraints.isEmpty ? nil : policy
        factOnlyRules = policy.constraints.allSatisfy { c in
            c.rule.slots.allSatisfy { $0 < policy.facts.count } && c.rule.expr.actions.isEmpty
        }
        func optionIDs(_ type: ValueType) -> [[UInt8]] {
            switch type {
            case .option(let d), .options(let d): return d.options.map { Array($0.id.utf8) }
            default: return []
            }
        }
        actions = policy.actions.map { action in
            let decision = action.decision.map { d in
                FactEntry(id: [], slot: d.slot, type: policy.slotType(d.slot), minimum: nil, maximum: nil,
                          options: optionIDs(policy.slotType(d.slot)))
            }
            return ActionEntry(id: Array(action.id.utf8), reasonRequired: action.reasonRequired, decision: decision,
                               asserts: action.decision?.asserts)
        }
        roles = policy.roles.map { Array($0.id.utf8) }
        facts = policy.facts.enumerated().map { slot, fact in
            var options: [[UInt8]] = []
            switch fact.type {
            case .option(let d), .options(let d): options = d.options.map { Array($0.id.utf8) }
            default: break
            }
            return FactEntry(id: Array(fact.id.utf8), slot: slot, type: fact.type, minimum: fact.minimum,
                             maximum: fact.maximum, options: options)
        }
    }

    /// The case on `line`, or nil when it is not in the shape read here.
    public func decode(_ line: UnsafeBufferPointer<UInt8>) -> CaseFile? {
        var p = Cursor(bytes: line)
        var file = CaseFile()
        var seen = (policy: false, incident: false, facts: false)
        guard p.consume(UInt8(ascii: "{")) else { return nil }
        if !p.consume(UInt8(ascii: "}")) {
            repeat {
                guard let key = p.string() else { return nil }
                guard p.consume(UInt8(ascii: ":")) else { return nil }
                if p.equals(key, "facts") {
                    guard !seen.facts, let assignments = readFacts(&p) else { return nil }
                    seen.facts = true
                    file.facts = assignments
                } else if p.equals(key, "incident") {
                    guard !seen.incident, let value = p.string(), let text = p.text(value) else { return nil }
                    seen.incident = true
                    file.incident = text
                } else if p.equals(key, "policy") {
                    guard !seen.policy, let value = p.string(), let text = p.text(value) else { return nil }
                    seen.policy = true
                    file.policyID = text
                } else {
                    // `events` and anything unknown: the full reader decides.
                    return nil
                }
            } while p.consume(UInt8(ascii: ","))
            guard p.consume(UInt8(ascii: "}")) else { return nil }
        }
        guard p.atEnd else { return nil }
        // Consistency rules are the full reader's to report, where they break. Rules over
        // facts alone are read straight from the assignments (a case here has no events).
        if let policy {
            if factOnlyRules {
                let inputs = Assignments(list: file.facts)
                for c in policy.constraints where c.rule.expr.evaluate(inputs) == .bool(false) { return nil }
            } else if !CaseLoader.inconsistencies(file, policy: policy).isEmpty {
                return nil
            }
        }
        return file
    }

    /// One trail record (a line of a JSON Lines trail, or a register's stored event), or
    /// nil when it is not in the plain shape: the full reader then reads and judges it.
    public func decodeEvent(_ line: UnsafeBufferPointer<UInt8>) -> Event? {
        var p = Cursor(bytes: line)
        guard p.consume(UInt8(ascii: "{")) else { return nil }
        var at: Instant?
        var action: Int?
        var role: Int?
        var actor: String?
        var facts: [FactAssignment]?
        var reason: String?
        var note: String?
        var value: Range<Int>?
        var valueStart = 0
        if !p.consume(UInt8(ascii: "}")) {
            repeat {
                guard let key = p.string(), p.consume(UInt8(ascii: ":")) else { return nil }
                if p.equals(key, "at") {
                    guard at == nil, let range = p.string(), let t = Timestamp.parse(utf8: p.slice(range)) else { return nil }
                    at = t
                } else if p.equals(key, "action") {
                    guard action == nil, let range = p.string(), let i = actions.firstIndex(where: { p.equals(range, $0.id) }) else { return nil }
                    action = i
                } else if p.equals(key, "by") {
                    guard role == nil, let range = p.string(), let i = roles.firstIndex(where: { p.equals(range, $0) }) else { return nil }
                    role = i
                } else if p.equals(key, "actor") {
                    guard actor == nil, let range = p.string(), let text = p.text(range) else { return nil }
                    actor = text
                } else if p.equals(key, "reason") {
                    guard reason == nil, let range = p.string(), let text = p.text(range) else { return nil }
                    reason = text
                } else if p.equals(key, "note") {
                    guard note == nil, let range = p.string(), let text = p.text(range) else { return nil }
                    note = text
                } else if p.equals(key, "facts") {
                    guard facts == nil, let read = readFacts(&p) else { return nil }
                    facts = read
                } else if p.equals(key, "value") {
                    // Read once the action is known: skip it for now.
                    guard value == nil else { return nil }
                    p.skipSpace()
                    valueStart = p.i
                    guard p.skipValue() else { return nil }
                    value = valueStart..<p.i
                } else {
                    return nil
                }
            } while p.consume(UInt8(ascii: ","))
            guard p.consume(UInt8(ascii: "}")) else { return nil }
        }
        guard p.atEnd, let at, let action, let role else { return nil }
        let entry = actions[action]
        var decision: Value?
        if let decides = entry.decision {
            if let value {
                var v = Cursor(bytes: UnsafeBufferPointer(rebasing: line[value]))
                guard let read = readValue(&v, decides), read != .unknown, v.atEnd else { return nil }
                decision = read
            } else {
                guard let asserts = entry.asserts else { return nil }
                decision = asserts
            }
        } else if value != nil {
            return nil
        }
        if entry.reasonRequired, reason?.trimmingWhitespace.isEmpty ?? true { return nil }
        return Event(at: at, action: action, role: role, actor: actor, facts: facts ?? [], reason: reason, decision: decision,
                     note: note)
    }

    private func readFacts(_ p: inout Cursor) -> [FactAssignment]? {
        guard p.consume(UInt8(ascii: "{")) else { return nil }
        var out: [FactAssignment] = []
        if p.consume(UInt8(ascii: "}")) { return out }
        out.reserveCapacity(facts.count)
        var seen: UInt64 = 0
        var seenMore: Set<Int> = []
        repeat {
            guard let key = p.string(), p.consume(UInt8(ascii: ":")) else { return nil }
            guard let entry = facts.first(where: { p.equals(key, $0.id) }) else { return nil }
            // A repeated fact is an error the full reader reports.
            if entry.slot < 64 {
                guard seen & (1 << UInt64(entry.slot)) == 0 else { return nil }
                seen |= 1 << UInt64(entry.slot)
            } else {
                guard seenMore.insert(entry.slot).inserted else { return nil }
            }
            guard let value = readValue(&p, entry) else { return nil }
            out.append(FactAssignment(slot: entry.slot, value: value))
        } while p.consume(UInt8(ascii: ","))
        guard p.consume(UInt8(ascii: "}")) else { return nil }
        return out
    }

    private func readValue(_ p: inout Cursor, _ entry: FactEntry) -> Value? {
        if p.literal("null") { return .unknown }
        switch entry.type {
        case .bool:
            if p.literal("true") { return .bool(true) }
            if p.literal("false") { return .bool(false) }
            return nil
        case .int:
            guard let n = p.integer() else { return nil }
            if let minimum = entry.minimum, n < minimum { return nil }
            if let maximum = entry.maximum, n > maximum { return nil }
            return .int(n)
        case .text:
            guard let range = p.string(), let text = p.text(range) else { return nil }
            return .text(text)
        case .datetime:
            guard let range = p.string(), let t = Timestamp.parse(utf8: p.slice(range)) else { return nil }
            return .time(t)
        case .duration:
            // No fact is a duration; decline and let the node decoder say so.
            return nil
        case .option:
            guard let range = p.string(), let i = entry.options.firstIndex(where: { p.equals(range, $0) }) else { return nil }
            return .option(i)
        case .options:
            guard p.consume(UInt8(ascii: "[")) else { return nil }
            var mask: UInt64 = 0
            if p.consume(UInt8(ascii: "]")) { return .options(0) }
            repeat {
                guard let range = p.string(), let i = entry.options.firstIndex(where: { p.equals(range, $0) }) else { return nil }
                mask |= 1 << UInt64(i)
            } while p.consume(UInt8(ascii: ","))
            guard p.consume(UInt8(ascii: "]")) else { return nil }
            return .options(mask)
        }
    }
}

/// A position in a line of JSON, skipping whitespace before each token.
private struct Cursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Steps over one JSON value of the plain kinds read here (strings without escapes,
    /// integers, literals, arrays of those); false for anything else.
    mutating func skipValue() -> Bool {
        skipSpace()
        guard i < bytes.count else { return false }
        switch bytes[i] {
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "["):
            i += 1
            if consume(UInt8(ascii: "]")) { return true }
            repeat { guard skipValue() else { return false } } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "]"))
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return integer() != nil
        }
    }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0D || bytes[i] == 0x0A { i += 1 }
    }

    var atEnd: Bool {
        mutating get {
            skipSpace()
            return i == bytes.count
        }
    }

    /// Consumes `byte` when it comes next.
    mutating func consume(_ byte: UInt8) -> Bool {
        skipSpace()
        guard i < bytes.count, bytes[i] == byte else { return false }
        i += 1
        return true
    }

    /// Consumes `word` (`true`, `null`) when it comes next as a whole token.
    mutating func literal(_ word: StaticString) -> Bool {
        skipSpace()
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { return false }
        let w = word.utf8Start
        for k in 0..<n where bytes[i + k] != w[k] { return false }
        if i + n < bytes.count, Self.isWordByte(bytes[i + n]) { return false }
        i += n
        return true
    }

    /// A string without escapes or control characters: the range of its content.
    mutating func string() -> Range<Int>? {
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
        let start = i + 1
        var j = start
        while j < bytes.count {
            let b = bytes[j]
            if b == UInt8(ascii: "\"") {
                i = j + 1
                return start..<j
            }
            if b == UInt8(ascii: "\\") || b < 0x20 { return nil }
            j += 1
        }
        return nil
    }

    /// A plain JSON integer (`0`, `-12`, `292`) that fits an Int; nil for fractions,
    /// exponents, leading zeros or overflow.
    mutating func integer() -> Int? {
        skipSpace()
        var j = i
        let negative = j < bytes.count && bytes[j] == UInt8(ascii: "-")
        if negative { j += 1 }
        let start = j
        var value = 0
        while j < bytes.count, bytes[j] >= 48, bytes[j] <= 57 {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (plus, o2) = times.addingReportingOverflow(Int(bytes[j] - 48))
            guard !o1, !o2 else { return nil }
            value = plus
            j += 1
        }
        guard j > start, !(j - start > 1 && bytes[start] == 48) else { return nil }
        if j < bytes.count, bytes[j] == UInt8(ascii: ".") || bytes[j] == UInt8(ascii: "e") || bytes[j] == UInt8(ascii: "E") {
            return nil
        }
        i = j
        return negative ? -value : value
    }

    func slice(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: bytes[range]) }

    func equals(_ range: Range<Int>, _ word: StaticString) -> Bool {
        guard range.count == word.utf8CodeUnitCount else { return false }
        let w = word.utf8Start
        for k in 0..<range.count where bytes[range.lowerBound + k] != w[k] { return false }
        return true
    }

    func equals(_ range: Range<Int>, _ word: [UInt8]) -> Bool {
        guard range.count == word.count else { return false }
        for k in 0..<range.count where bytes[range.lowerBound + k] != word[k] { return false }
        return true
    }

    /// The string's text when it is valid UTF-8.
    func text(_ range: Range<Int>) -> String? {
        String(validating: slice(range), as: UTF8.self)
    }

    private static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == UInt8(ascii: "_")
    }
}
