import CLibCrypto
import Foundation
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

    /// ``event(_:policy:)``'s text, written directly (keys in canonical order, facts by
    /// id): what is stored and hashed for every appended event.
    static func eventText(_ event: Event, policy: Policy) -> String {
        var w = JSONWriter(pretty: false)
        w.object { w in
            w.field("action", string: policy.actions[event.action].id)
            if let actor = event.actor { w.field("actor", string: actor) }
            w.field("at", string: Timestamp.format(event.at))
            w.field("by", string: policy.roles[event.role].id)
            if !event.facts.isEmpty {
                // One entry per fact, the last assignment winning, as in an object.
                var latest: [Int: FactAssignment] = [:]
                for a in event.facts { latest[a.slot] = a }
                let sorted = latest.values.sorted { policy.facts[$0.slot].id < policy.facts[$1.slot].id }
                w.field("facts") { w in
                    w.object { w in for a in sorted { w.field(policy.facts[a.slot].id) { $0.value(a.value, policy.facts[a.slot].type) } } }
                }
            }
            if let note = event.note { w.field("note", string: note) }
            if let reason = event.reason { w.field("reason", string: reason) }
            if let decision = event.decision, let decides = policy.actions[event.action].decision, decides.asserts == nil {
                w.field("value") { $0.value(decision, policy.slotType(decides.slot)) }
            }
        }
        return w.text
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

/// SHA-256 (OpenSSL's libcrypto), as lowercase hex.
enum Hashing {
    /// The hash every chain starts from.
    static let genesis = String(repeating: "0", count: 64)

    static func sha256(_ text: String) -> String {
        var text = text
        return text.withUTF8 { digest($0).string }
    }

    /// `sha256(previous + "\n" + content)`: one link of a chain.
    static func link(_ previous: String, _ content: String) -> String {
        var previous = previous
        var content = content
        return previous.withUTF8 { p in content.withUTF8 { c in link(p, c).string } }
    }

    /// ``link(_:_:)`` on bytes, without building the joined text.
    static func link(_ previous: UnsafeBufferPointer<UInt8>, _ content: UnsafeBufferPointer<UInt8>) -> Hex64 {
        digest(previous, UnsafeBufferPointer(start: newline.utf8Start, count: 1), content)
    }

    private static let newline: StaticString = "\n"

    /// SHA-256 of the parts, one after another, in a context on the stack.
    private static func digest(_ parts: UnsafeBufferPointer<UInt8>...) -> Hex64 {
        var context = SHA256_CTX()
        SHA256_Init(&context)
        for part in parts where part.count > 0 { SHA256_Update(&context, part.baseAddress, part.count) }
        var out: Hex64.Raw = (0, 0, 0, 0)
        _ = withUnsafeMutableBytes(of: &out) { SHA256_Final($0.baseAddress!.assumingMemoryBound(to: UInt8.self), &context) }
        return Hex64(raw: out)
    }
}

/// A SHA-256 digest as 64 lowercase hex digits, held inline (no allocation), for
/// comparing with stored hashes byte for byte.
struct Hex64: Equatable, Sendable {
    /// The 32 bytes of a digest.
    typealias Raw = (UInt64, UInt64, UInt64, UInt64)

    private var digits: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)

    init(raw: Raw) {
        let hex: StaticString = "0123456789abcdef"
        var raw = raw
        withUnsafeMutableBytes(of: &digits) { out in
            withUnsafeBytes(of: &raw) { bytes in
                for i in 0..<32 {
                    out[2 * i] = hex.utf8Start[Int(bytes[i] >> 4)]
                    out[2 * i + 1] = hex.utf8Start[Int(bytes[i] & 0xF)]
                }
            }
        }
    }

    /// Hex text read back (nil unless exactly 64 bytes).
    init?(_ text: UnsafeBufferPointer<UInt8>) {
        guard text.count == 64 else { return nil }
        withUnsafeMutableBytes(of: &digits) { out in
            for i in 0..<64 { out[i] = text[i] }
        }
    }

    init?(_ text: String) {
        var text = text
        guard let value = text.withUTF8({ Hex64($0) }) else { return nil }
        self = value
    }

    /// True when `text` is this hash's hex.
    func matches(_ text: UnsafeBufferPointer<UInt8>?) -> Bool {
        guard let text, text.count == 64 else { return false }
        return withUnsafeBytes(of: digits) { mine in memcmp(mine.baseAddress!, text.baseAddress!, 64) == 0 }
    }

    var string: String { withUnsafeBytes(of: digits) { String(decoding: $0, as: UTF8.self) } }

    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        withUnsafeBytes(of: digits) { body($0.bindMemory(to: UInt8.self)) }
    }

    static func == (a: Hex64, b: Hex64) -> Bool {
        withUnsafeBytes(of: a.digits) { x in withUnsafeBytes(of: b.digits) { y in memcmp(x.baseAddress!, y.baseAddress!, 64) == 0 } }
    }
}

/// The canonical texts the hashes cover, written byte by byte (the same text
/// ``Canonical`` writes for these records, faster: verifying a register recomputes one
/// per event).
enum Envelope {
    /// `{"at":"…","event":BODY,"incident":NUMBER,"position":N,"recorded_at":"…"}`, keys in
    /// canonical (sorted) order; `number` already written as a JSON string.
    static func event(number: UnsafeBufferPointer<UInt8>, position: Int, at: Instant, recordedAt: Instant,
                      body: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        append(#"{"at":""#, to: &out)
        Timestamp.append(at, to: &out)
        append(#"","event":"#, to: &out)
        out.append(contentsOf: body)
        append(#","incident":"#, to: &out)
        out.append(contentsOf: number)
        append(#","position":"#, to: &out)
        var w = JSONWriter(pretty: false)
        w.appendRawInt(position)
        out.append(contentsOf: w.bytes)
        append(#","recorded_at":""#, to: &out)
        Timestamp.append(recordedAt, to: &out)
        append(#""}"#, to: &out)
    }

    /// A string as JSON (quoted, escaped).
    static func jsonString(_ text: String) -> [UInt8] {
        var w = JSONWriter(pretty: false)
        w.appendRawString(text)
        return w.bytes
    }

    private static func append(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
