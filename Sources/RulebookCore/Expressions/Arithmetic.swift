/// The integers an expression can take, as far as the policy says: each bound is nil
/// where nothing limits it. The validator reads ranges to check tables and grids over
/// derived values and to warn where arithmetic can overflow; `min` and `max` read them
/// to give a known answer while one argument is still unknown.
public struct IntRange: Hashable, Sendable, CustomStringConvertible {
    public var lower: Int?
    public var upper: Int?

    public init(_ lower: Int?, _ upper: Int?) {
        self.lower = lower
        self.upper = upper
    }

    /// Nothing known.
    public static let unbounded = IntRange(nil, nil)

    /// One number.
    public static func exactly(_ n: Int) -> IntRange { IntRange(n, n) }

    /// Both bounds known.
    public var isBounded: Bool { lower != nil && upper != nil }

    /// Whether `n` may be in the range.
    public func contains(_ n: Int) -> Bool { (lower.map { $0 <= n } ?? true) && (upper.map { n <= $0 } ?? true) }

    /// The smallest range holding both.
    public func union(_ other: IntRange) -> IntRange {
        IntRange(lower.flatMap { a in other.lower.map { Swift.min(a, $0) } }, upper.flatMap { a in other.upper.map { Swift.max(a, $0) } })
    }

    /// `1–25`, `0 or more`, `any integer`.
    public var description: String {
        switch (lower, upper) {
        case (let l?, let u?): return l == u ? "\(l)" : "\(l)–\(u)"
        case (let l?, nil): return "\(l) or more"
        case (nil, let u?): return "up to \(u)"
        case (nil, nil): return "any integer"
        }
    }

    // MARK: Interval arithmetic (nil where a bound is missing or overflows)

    static func + (a: IntRange, b: IntRange) -> IntRange {
        IntRange(checked(a.lower, b.lower) { $0.addingReportingOverflow($1) },
                 checked(a.upper, b.upper) { $0.addingReportingOverflow($1) })
    }

    static func - (a: IntRange, b: IntRange) -> IntRange {
        IntRange(checked(a.lower, b.upper) { $0.subtractingReportingOverflow($1) },
                 checked(a.upper, b.lower) { $0.subtractingReportingOverflow($1) })
    }

    static prefix func - (a: IntRange) -> IntRange {
        IntRange(a.upper.flatMap { $0 == .min ? nil : -$0 }, a.lower.flatMap { $0 == .min ? nil : -$0 })
    }

    static func * (a: IntRange, b: IntRange) -> IntRange {
        guard let al = a.lower, let au = a.upper, let bl = b.lower, let bu = b.upper else { return .unbounded }
        var products: [Int] = []
        for x in [al, au] {
            for y in [bl, bu] {
                let (p, overflow) = x.multipliedReportingOverflow(by: y)
                if overflow { return .unbounded }
                products.append(p)
            }
        }
        return IntRange(products.min(), products.max())
    }

    /// Truncating division over every divisor but zero.
    static func / (a: IntRange, b: IntRange) -> IntRange {
        guard let al = a.lower, let au = a.upper, let bl = b.lower, let bu = b.upper else { return .unbounded }
        var divisors = [bl, bu].filter { $0 != 0 }
        if bl <= -1 && -1 <= bu { divisors.append(-1) }
        if bl <= 1 && 1 <= bu { divisors.append(1) }
        guard !divisors.isEmpty else { return .unbounded }
        var quotients: [Int] = []
        for x in [al, au] {
            for y in divisors {
                let (q, overflow) = x.dividedReportingOverflow(by: y)
                if overflow { return .unbounded }
                quotients.append(q)
            }
        }
        return IntRange(quotients.min(), quotients.max())
    }

    /// A remainder keeps the dividend's sign and is smaller than the divisor's size.
    static func % (a: IntRange, b: IntRange) -> IntRange {
        var size: Int?
        if let bl = b.lower, let bu = b.upper, bl != .min, bu != .min { size = Swift.max(abs(bl), abs(bu)) - 1 }
        let lower: Int? = (a.lower ?? -1) >= 0 ? 0 : size.map { s in a.lower.map { Swift.max($0, -s) } ?? -s }
        let upper: Int? = (a.upper ?? 1) <= 0 ? 0 : size.map { s in a.upper.map { Swift.min($0, s) } ?? s }
        return IntRange(lower, upper)
    }

    static func minimum(_ a: IntRange, _ b: IntRange) -> IntRange {
        IntRange(a.lower.flatMap { x in b.lower.map { Swift.min(x, $0) } },
                 a.upper.map { x in b.upper.map { Swift.min(x, $0) } ?? x } ?? b.upper)
    }

    static func maximum(_ a: IntRange, _ b: IntRange) -> IntRange {
        IntRange(a.lower.map { x in b.lower.map { Swift.max(x, $0) } ?? x } ?? b.lower,
                 a.upper.flatMap { x in b.upper.map { Swift.max(x, $0) } })
    }

    private static func checked(_ x: Int?, _ y: Int?, _ op: (Int, Int) -> (partialValue: Int, overflow: Bool)) -> Int? {
        guard let x, let y else { return nil }
        let (r, overflow) = op(x, y)
        return overflow ? nil : r
    }
}

/// The integer operators' results: unknown, never a trap, for an overflow or a zero
/// divisor. Shared by the expression tree and the flat programs, so the two cannot
/// disagree.
enum Arithmetic {
    @inline(__always)
    static func multiply(_ x: Int, _ y: Int) -> Value {
        let (r, overflow) = x.multipliedReportingOverflow(by: y)
        return overflow ? .unknown : .int(r)
    }

    @inline(__always)
    static func divide(_ x: Int, _ y: Int) -> Value {
        guard y != 0 else { return .unknown }
        let (r, overflow) = x.dividedReportingOverflow(by: y)
        return overflow ? .unknown : .int(r)
    }

    @inline(__always)
    static func remainder(_ x: Int, _ y: Int) -> Value {
        guard y != 0 else { return .unknown }
        let (r, overflow) = x.remainderReportingOverflow(dividingBy: y)
        return overflow ? .unknown : .int(r)
    }

    /// `x - y` between two instants, in milliseconds.
    @inline(__always)
    static func elapsed(_ x: Instant, _ y: Instant) -> Value {
        let (r, overflow) = x.subtractingReportingOverflow(y)
        return overflow ? .unknown : .int(Int(r))
    }

    /// `min(a, b)`: known when both are, or when the known one is at or below every
    /// value the other can take.
    @inline(__always)
    static func minimum(_ a: Value, _ b: Value, _ ra: IntRange, _ rb: IntRange) -> Value {
        switch (a, b) {
        case (.int(let x), .int(let y)): return .int(Swift.min(x, y))
        case (.int(let x), _): if let low = rb.lower, x <= low { return a }
        case (_, .int(let y)): if let low = ra.lower, y <= low { return b }
        default: break
        }
        return .unknown
    }

    /// `max(a, b)`: known when both are, or when the known one is at or above every
    /// value the other can take.
    @inline(__always)
    static func maximum(_ a: Value, _ b: Value, _ ra: IntRange, _ rb: IntRange) -> Value {
        switch (a, b) {
        case (.int(let x), .int(let y)): return .int(Swift.max(x, y))
        case (.int(let x), _): if let high = rb.upper, x >= high { return a }
        case (_, .int(let y)): if let high = ra.upper, y >= high { return b }
        default: break
        }
        return .unknown
    }
}

/// A datetime moved by a duration (`discovered_at + "PT48H"`): calendar parts on the
/// local date in the policy's time zone, exact parts in real time.
public final class TimeShift: Sendable {
    /// The duration, negated for `-`.
    public let duration: ISODuration
    /// The policy's clock.
    public let clock: ZoneClock

    public init(duration: ISODuration, clock: ZoneClock) {
        self.duration = duration
        self.clock = clock
    }

    /// `t` moved.
    @inline(__always)
    func apply(_ t: Instant) -> Value {
        guard duration.hasCalendarPart else {
            let (r, overflow) = t.addingReportingOverflow(duration.exactMilliseconds)
            return overflow || r <= -253_402_300_800_000 || r >= 253_402_300_800_000 ? .unknown : .time(r)
        }
        // Far outside any incident's lifetime (beyond the year 9999) the calendar
        // arithmetic is not meaningful.
        let limit: Int64 = 253_402_300_800_000
        guard t > -limit && t < limit else { return .unknown }
        let moved = clock.add(duration, to: t)
        return moved > -limit && moved < limit ? .time(moved) : .unknown
    }
}

extension ISODuration {
    /// The same duration backwards.
    public var negated: ISODuration {
        ISODuration(years: -years, months: -months, weeks: -weeks, days: -days, hours: -hours, minutes: -minutes, seconds: -seconds)
    }
}

extension Expr {
    /// The integers this expression can take, given the range of each slot it reads.
    public func range(_ slotRange: (Int) -> IntRange) -> IntRange {
        switch self {
        case .constant(.int(let n)): return .exactly(n)
        case .slot(let s): return slotRange(s)
        case .add(let a, let b): return a.range(slotRange) + b.range(slotRange)
        case .subtract(let a, let b): return a.range(slotRange) - b.range(slotRange)
        case .negate(let a): return -a.range(slotRange)
        case .multiply(let a, let b): return a.range(slotRange) * b.range(slotRange)
        case .divide(let a, let b): return a.range(slotRange) / b.range(slotRange)
        case .remainder(let a, let b): return a.range(slotRange) % b.range(slotRange)
        case .minimum(let a, let b, _, _): return IntRange.minimum(a.range(slotRange), b.range(slotRange))
        case .maximum(let a, let b, _, _): return IntRange.maximum(a.range(slotRange), b.range(slotRange))
        case .count: return IntRange(0, 64)
        case .sum(_, let weights):
            var low = 0, high = 0
            for w in weights {
                if w < 0 { (low, _) = low.addingReportingOverflow(w) } else { (high, _) = high.addingReportingOverflow(w) }
            }
            return IntRange(low, high)
        default: return .unbounded
        }
    }
}
