/// A type-checked, compiled expression: names resolved to slots, option names to
/// indices, literal lists to masks. Evaluation walks it without parsing or looking up
/// strings.
public indirect enum Expr: Sendable {
    case constant(Value)
    /// A fact or derived value, by slot.
    case slot(Int)
    case not(Expr)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case equal(Expr, Expr)
    case notEqual(Expr, Expr)
    case less(Expr, Expr)
    case lessOrEqual(Expr, Expr)
    case add(Expr, Expr)
    case subtract(Expr, Expr)
    case negate(Expr)
    /// An option (or integer, or text) is one of a constant list.
    case oneOf(Expr, [Value])
    /// A set holds the option with this index.
    case hasOption(Expr, Int)
    /// A set holds the option computed by the second expression.
    case hasOptionOf(Expr, Expr)
    /// A set holds at least one of the options in the mask.
    case hasAny(Expr, UInt64)
    /// A set holds every option in the mask.
    case hasAll(Expr, UInt64)
    /// The sum of the chosen options' weights.
    case sum(Expr, [Int])
    /// How many options are chosen.
    case count(Expr)
    /// Whether a fact or value is known (never unknown itself).
    case known(Expr)
    /// Whether an action appears in the trail (never unknown).
    case occurred(Int)
    /// `min(a, b)`, with the ranges the two arguments can take: a known argument at or
    /// below every value the other can take decides the result alone.
    case minimum(Expr, Expr, IntRange, IntRange)
    /// `max(a, b)`, likewise with the arguments' ranges.
    case maximum(Expr, Expr, IntRange, IntRange)
    case multiply(Expr, Expr)
    /// Integer division, rounding towards zero; unknown when dividing by zero.
    case divide(Expr, Expr)
    /// The remainder of `divide`, with the dividend's sign; unknown for a zero divisor.
    case remainder(Expr, Expr)
    /// A datetime moved by a duration in the policy's time zone.
    case shift(Expr, TimeShift)
    /// The time from the second datetime to the first: a duration in milliseconds.
    case elapsed(Expr, Expr)

    /// The slots this expression reads, in order, without repeats.
    public var slots: [Int] {
        var out: [Int] = []
        visit { if case .slot(let s) = $0, !out.contains(s) { out.append(s) } }
        return out
    }

    /// The actions this expression asks `occurred(...)` about.
    public var actions: [Int] {
        var out: [Int] = []
        visit { if case .occurred(let a) = $0, !out.contains(a) { out.append(a) } }
        return out
    }

    /// Calls `body` on this node and every node below it.
    public func visit(_ body: (Expr) -> Void) {
        body(self)
        switch self {
        case .constant, .slot, .occurred: break
        case .not(let a), .negate(let a), .oneOf(let a, _), .hasOption(let a, _), .hasAny(let a, _),
             .hasAll(let a, _), .sum(let a, _), .count(let a), .known(let a), .shift(let a, _):
            a.visit(body)
        case .and(let a, let b), .or(let a, let b), .equal(let a, let b), .notEqual(let a, let b),
             .less(let a, let b), .lessOrEqual(let a, let b), .add(let a, let b), .subtract(let a, let b),
             .hasOptionOf(let a, let b), .minimum(let a, let b, _, _), .maximum(let a, let b, _, _),
             .multiply(let a, let b), .divide(let a, let b), .remainder(let a, let b), .elapsed(let a, let b):
            a.visit(body)
            b.visit(body)
        }
    }
}

/// What an expression reads while it is evaluated: slot values and which actions have
/// occurred. Implemented by the engine's evaluation state.
public protocol EvaluationInputs {
    /// The value in slot `slot`.
    func value(at slot: Int) -> Value
    /// Whether action `action` appears in the trail up to the evaluation time.
    func hasOccurred(_ action: Int) -> Bool
}

extension Expr {
    /// Evaluates with Kleene three-valued logic: `unknown` propagates, except that
    /// `false && x` is false and `true || x` is true whatever `x` is.
    public func evaluate<Inputs: EvaluationInputs>(_ inputs: Inputs) -> Value {
        switch self {
        case .constant(let v):
            return v
        case .slot(let s):
            return inputs.value(at: s)
        case .not(let a):
            if case .bool(let b) = a.evaluate(inputs) { return .bool(!b) }
            return .unknown
        case .and(let a, let b):
            let left = a.evaluate(inputs)
            if case .bool(false) = left { return .bool(false) }
            let right = b.evaluate(inputs)
            if case .bool(false) = right { return .bool(false) }
            if case .bool(true) = left, case .bool(true) = right { return .bool(true) }
            return .unknown
        case .or(let a, let b):
            let left = a.evaluate(inputs)
            if case .bool(true) = left { return .bool(true) }
            let right = b.evaluate(inputs)
            if case .bool(true) = right { return .bool(true) }
            if case .bool(false) = left, case .bool(false) = right { return .bool(false) }
            return .unknown
        case .equal(let a, let b):
            let left = a.evaluate(inputs)
            guard left.isKnown else { return .unknown }
            let right = b.evaluate(inputs)
            guard right.isKnown else { return .unknown }
            return .bool(left == right)
        case .notEqual(let a, let b):
            let left = a.evaluate(inputs)
            guard left.isKnown else { return .unknown }
            let right = b.evaluate(inputs)
            guard right.isKnown else { return .unknown }
            return .bool(left != right)
        case .less(let a, let b):
            return Self.compare(a.evaluate(inputs), b.evaluate(inputs)) { $0 < $1 }
        case .lessOrEqual(let a, let b):
            return Self.compare(a.evaluate(inputs), b.evaluate(inputs)) { $0 <= $1 }
        case .add(let a, let b):
            guard case .int(let x) = a.evaluate(inputs), case .int(let y) = b.evaluate(inputs) else { return .unknown }
            let (r, overflow) = x.addingReportingOverflow(y)
            return overflow ? .unknown : .int(r)
        case .subtract(let a, let b):
            guard case .int(let x) = a.evaluate(inputs), case .int(let y) = b.evaluate(inputs) else { return .unknown }
            let (r, overflow) = x.subtractingReportingOverflow(y)
            return overflow ? .unknown : .int(r)
        case .negate(let a):
            guard case .int(let x) = a.evaluate(inputs), x != .min else { return .unknown }
            return .int(-x)
        case .oneOf(let a, let list):
            let v = a.evaluate(inputs)
            guard v.isKnown else { return .unknown }
            return .bool(list.contains(v))
        case .hasOption(let a, let index):
            guard case .options(let mask) = a.evaluate(inputs) else { return .unknown }
            return .bool(mask & (1 << UInt64(index)) != 0)
        case .hasOptionOf(let a, let b):
            guard case .options(let mask) = a.evaluate(inputs), case .option(let index) = b.evaluate(inputs) else {
                return .unknown
            }
            return .bool(mask & (1 << UInt64(index)) != 0)
        case .hasAny(let a, let wanted):
            guard case .options(let mask) = a.evaluate(inputs) else { return .unknown }
            return .bool(mask & wanted != 0)
        case .hasAll(let a, let wanted):
            guard case .options(let mask) = a.evaluate(inputs) else { return .unknown }
            return .bool(mask & wanted == wanted)
        case .sum(let a, let weights):
            guard case .options(var mask) = a.evaluate(inputs) else { return .unknown }
            var total = 0
            while mask != 0 {
                let bit = mask.trailingZeroBitCount
                if bit < weights.count { total &+= weights[bit] }
                mask &= mask - 1
            }
            return .int(total)
        case .count(let a):
            guard case .options(let mask) = a.evaluate(inputs) else { return .unknown }
            return .int(mask.nonzeroBitCount)
        case .known(let a):
            return .bool(a.evaluate(inputs).isKnown)
        case .occurred(let action):
            return .bool(inputs.hasOccurred(action))
        case .minimum(let a, let b, let ra, let rb):
            return Arithmetic.minimum(a.evaluate(inputs), b.evaluate(inputs), ra, rb)
        case .maximum(let a, let b, let ra, let rb):
            return Arithmetic.maximum(a.evaluate(inputs), b.evaluate(inputs), ra, rb)
        case .multiply(let a, let b):
            guard case .int(let x) = a.evaluate(inputs), case .int(let y) = b.evaluate(inputs) else { return .unknown }
            return Arithmetic.multiply(x, y)
        case .divide(let a, let b):
            guard case .int(let x) = a.evaluate(inputs), case .int(let y) = b.evaluate(inputs) else { return .unknown }
            return Arithmetic.divide(x, y)
        case .remainder(let a, let b):
            guard case .int(let x) = a.evaluate(inputs), case .int(let y) = b.evaluate(inputs) else { return .unknown }
            return Arithmetic.remainder(x, y)
        case .shift(let a, let shift):
            guard case .time(let t) = a.evaluate(inputs) else { return .unknown }
            return shift.apply(t)
        case .elapsed(let a, let b):
            guard case .time(let x) = a.evaluate(inputs), case .time(let y) = b.evaluate(inputs) else { return .unknown }
            return Arithmetic.elapsed(x, y)
        }
    }

    @inline(__always)
    private static func compare(_ a: Value, _ b: Value, _ op: (Int64, Int64) -> Bool) -> Value {
        switch (a, b) {
        case (.int(let x), .int(let y)): return .bool(op(Int64(x), Int64(y)))
        case (.time(let x), .time(let y)): return .bool(op(x, y))
        default: return .unknown
        }
    }

    /// The slots whose being unknown keeps this expression unknown: answering any of them
    /// could decide it. Empty when the expression is known. `expand` is called for a
    /// derived value's slot to look through it to the facts it depends on.
    public func undecidedInputs<Inputs: EvaluationInputs>(
        _ inputs: Inputs, into out: inout [Int], expand: (Int, inout [Int]) -> Void
    ) {
        guard !evaluate(inputs).isKnown else { return }
        switch self {
        case .constant, .occurred, .known:
            return
        case .slot(let s):
            if !out.contains(s) { expand(s, &out) }
        case .not(let a), .negate(let a), .oneOf(let a, _), .hasOption(let a, _), .hasAny(let a, _),
             .hasAll(let a, _), .sum(let a, _), .count(let a), .shift(let a, _):
            a.undecidedInputs(inputs, into: &out, expand: expand)
        case .and(let a, let b), .or(let a, let b), .equal(let a, let b), .notEqual(let a, let b),
             .less(let a, let b), .lessOrEqual(let a, let b), .add(let a, let b), .subtract(let a, let b),
             .hasOptionOf(let a, let b), .minimum(let a, let b, _, _), .maximum(let a, let b, _, _),
             .multiply(let a, let b), .divide(let a, let b), .remainder(let a, let b), .elapsed(let a, let b):
            a.undecidedInputs(inputs, into: &out, expand: expand)
            b.undecidedInputs(inputs, into: &out, expand: expand)
        }
    }
}
