/// A moment in time: milliseconds since 1970-01-01T00:00:00Z. Time zones apply only
/// when a deadline is computed or a time is shown.
public typealias Instant = Int64

/// A runtime value of a fact or a derived value. `unknown` is the third truth value: a
/// fact nobody has answered, or anything computed from one.
///
/// Enumerations are held as the index of their option, and sets of options as a bit
/// mask, so evaluation never compares or hashes strings.
public enum Value: Hashable, Sendable {
    case unknown
    case bool(Bool)
    case int(Int)
    /// The index of an option in its ``EnumDomain``.
    case option(Int)
    /// A set of options of one ``EnumDomain``: bit `i` set means option `i` is chosen.
    case options(UInt64)
    case time(Instant)
    case text(String)

    /// True unless the value is `unknown`.
    @inline(__always)
    public var isKnown: Bool {
        if case .unknown = self { return false }
        return true
    }
}

/// An enumeration's options (a fact's `options`, or the outputs of a derived value that
/// yields names), in declaration order. Option `i` is `Value.option(i)`.
public final class EnumDomain: Hashable, Sendable, CustomStringConvertible {
    /// One option, with its weight where the policy gives one (weighted factors).
    public struct Option: Sendable, Hashable {
        /// The option's id, as written in case files and expressions.
        public var id: String
        /// Human title, or the id.
        public var title: String
        /// The option's weight for `sum(...)`; nil when the policy gives none.
        public var weight: Int?
        /// Where the option's weight or meaning comes from.
        public var provenance: Provenance?
    }

    /// Whose options these are: the fact or value id.
    public let owner: String
    /// The options, in declaration order.
    public let options: [Option]
    private let index: [String: Int]

    /// Creates a domain. At most 64 options (sets are bit masks); the loader checks.
    public init(owner: String, options: [Option]) {
        self.owner = owner
        self.options = options
        var index: [String: Int] = [:]
        for (i, option) in options.enumerated() where index[option.id] == nil { index[option.id] = i }
        self.index = index
    }

    /// The index of option `id`, or nil.
    public func position(of id: String) -> Int? { index[id] }

    /// True when every option has a weight (so `sum` is defined).
    public var isWeighted: Bool { !options.isEmpty && options.allSatisfy { $0.weight != nil } }

    /// The options' ids.
    public var ids: [String] { options.map(\.id) }

    public var description: String { owner }

    public static func == (lhs: EnumDomain, rhs: EnumDomain) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// The static type of a fact, a derived value or an expression.
public enum ValueType: Hashable, Sendable, CustomStringConvertible {
    case bool
    case int
    case text
    case datetime
    /// Elapsed time (`time_of(notify) - discovered_at`), held as milliseconds in an
    /// integer value.
    case duration
    /// One option of a domain.
    case option(EnumDomain)
    /// Any subset of a domain's options.
    case options(EnumDomain)

    public var description: String {
        switch self {
        case .bool: return "bool"
        case .int: return "integer"
        case .text: return "text"
        case .datetime: return "datetime"
        case .duration: return "duration"
        case .option(let d): return "option of \(d.owner)"
        case .options(let d): return "set of \(d.owner) options"
        }
    }

    /// The type with its article, for messages: `a bool`, `an integer`, `an option of severity`.
    public var phrase: String {
        switch self {
        case .int, .option: return "an \(description)"
        default: return "a \(description)"
        }
    }

    /// The type's name as written in a policy's `type:` key.
    public var keyword: String {
        switch self {
        case .bool: return "bool"
        case .int: return "integer"
        case .text: return "text"
        case .datetime: return "datetime"
        case .duration: return "duration"
        case .option: return "enum"
        case .options: return "set"
        }
    }
}

extension Value {
    /// The value as a person reads it, given its type: `true`, `292`, `option_a`,
    /// `[option_a, option_b]`, `2026-11-02T09:14:00Z`, `unknown`.
    public func display(_ type: ValueType) -> String {
        switch (self, type) {
        case (.unknown, _): return "unknown"
        case (.bool(let b), _): return b ? "true" : "false"
        case (.int(let ms), .duration): return Value.describeDuration(ms)
        case (.int(let i), _): return String(i)
        case (.option(let i), .option(let d)):
            return i < d.options.count ? d.options[i].id : "#\(i)"
        case (.options(let mask), .options(let d)):
            return "[" + d.options.indices.filter { mask & (1 << UInt64($0)) != 0 }.map { d.options[$0].id }
                .joined(separator: ", ") + "]"
        case (.time(let t), _): return Timestamp.format(t)
        case (.text(let s), _): return "\"\(s)\""
        case (.option(let i), _): return "#\(i)"
        case (.options(let m), _): return "mask \(m)"
        }
    }
}

extension Value {
    /// `3 days`, `1 day 4 hours 10 minutes`, `-2 hours`: an elapsed time in words.
    public static func describeDuration(_ milliseconds: Int) -> String {
        if milliseconds < 0 { return "-" + describeDuration(milliseconds == .min ? .max : -milliseconds) }
        var rest = milliseconds / 1000
        var parts: [String] = []
        for (size, unit) in [(86_400, "day"), (3600, "hour"), (60, "minute"), (1, "second")] where rest >= size {
            let n = rest / size
            rest %= size
            parts.append("\(n) \(unit)\(n == 1 ? "" : "s")")
        }
        return parts.isEmpty ? "0 seconds" : parts.joined(separator: " ")
    }
}
