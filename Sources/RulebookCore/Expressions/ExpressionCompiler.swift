/// What a name in an expression can refer to.
public enum NameBinding: Sendable {
    /// A fact or derived value in slot `slot`, of type `type`.
    case slot(Int, ValueType)
}

/// What `time_of`, `done`, `late` and `deadline` ask about an action or a duty. The
/// engine answers each in a slot of its own, after the facts and values, so expressions
/// read them like any other input.
public enum ProbeKind: String, Sendable, CaseIterable {
    /// `time_of(action)`: when the action first happened (datetime).
    case timeOf = "time_of"
    /// `done(duty)`: whether the duty has been done (bool).
    case done
    /// `late(duty)`: whether it was done after its deadline, or is overdue (bool).
    case late
    /// `deadline(duty)`: its deadline (datetime).
    case deadline

    /// The type of the answer.
    public var type: ValueType {
        switch self {
        case .timeOf, .deadline: return .datetime
        case .done, .late: return .bool
        }
    }

    /// Whether it asks about a duty (else an action).
    public var asksDuty: Bool { self != .timeOf }
}

/// The names an expression may use: facts and values (by slot), actions (for
/// `occurred`), duties (for `done`, `late`, `deadline`). The policy compiler provides one.
public protocol ExpressionScope {
    /// The binding of a fact or value name.
    func binding(of name: String) -> NameBinding?
    /// The index of an action.
    func action(named name: String) -> Int?
    /// Every fact and value name, for "did you mean" hints.
    var allNames: [String] { get }
    /// Every action id, for hints.
    var allActions: [String] { get }
    /// The integers a slot can hold (its `min`/`max`, or what its rule can give).
    func range(ofSlot slot: Int) -> IntRange
    /// The slot that answers `kind` about the action or duty `name`; nil when there is
    /// no such action or duty.
    func probe(_ kind: ProbeKind, _ name: String) -> Int?
    /// Every duty id, for hints.
    var allDuties: [String] { get }
    /// The policy's clock, for durations added to datetimes.
    var clock: ZoneClock? { get }
}

/// A compiled expression with its type and its source text, kept for explanations.
public struct CompiledExpression: Sendable {
    /// The compiled tree.
    public let expr: Expr
    /// The type of its result.
    public let type: ValueType
    /// The text as written in the policy.
    public let source: String
    /// Slots it reads.
    public let slots: [Int]
}

/// Type-checks ``Syntax`` against a scope and compiles it to ``Expr``.
public struct ExpressionCompiler<Scope: ExpressionScope> {
    let scope: Scope

    /// Creates a compiler over `scope`.
    public init(scope: Scope) {
        self.scope = scope
    }

    /// The functions the language offers, with their signatures for messages.
    public static var functions: [String: String] {
        [
            "sum": "sum(set) -> integer: the total weight of the chosen options",
            "count": "count(set) -> integer: how many options are chosen",
            "known": "known(name) -> bool: whether a fact or value has an answer",
            "occurred": "occurred(action) -> bool: whether the trail holds the action",
            "any": "any(set, [options]) -> bool: whether any listed option is chosen",
            "all": "all(set, [options]) -> bool: whether every listed option is chosen",
            "min": "min(a, b) -> integer",
            "max": "max(a, b) -> integer",
            "time_of": "time_of(action) -> datetime: when the action first happened (unknown until it has)",
            "done": "done(duty) -> bool: whether the duty has been done",
            "late": "late(duty) -> bool: whether the duty was done after its deadline, or is overdue",
            "deadline": "deadline(duty) -> datetime: the duty's deadline (unknown until its clock starts)",
        ]
    }

    /// Parses and compiles `text`, expecting a result of `expected` type when given.
    public func compile(_ text: String, expecting expected: ValueType? = nil) throws(ExpressionError) -> CompiledExpression {
        let syntax = try ExpressionParser.parse(text)
        let (expr, type) = try compile(syntax)
        if let expected, type != expected {
            throw ExpressionError(
                "expected \(expected.phrase) expression, but this is \(type.phrase)", syntax.range,
                hint: expected == .bool ? "a condition must be true or false, e.g. `score >= 3`" : nil)
        }
        return CompiledExpression(expr: expr, type: type, source: text, slots: expr.slots)
    }

    // MARK: Nodes

    private func compile(_ syntax: Syntax) throws(ExpressionError) -> (Expr, ValueType) {
        switch syntax {
        case .bool(let b, _):
            return (.constant(.bool(b)), .bool)
        case .int(let n, _):
            return (.constant(.int(n)), .int)
        case .string(_, let range):
            throw ExpressionError(
                "a quoted name means nothing on its own here", range,
                hint: "compare it with an option fact, e.g. `severity == \"major\"`")
        case .list(_, let range):
            throw ExpressionError("a list can only follow 'in' or be an argument of any() or all()", range)
        case .name(let name, let range):
            return try resolve(name, range)
        case .call(let name, let args, let range):
            return try call(name, args, range)
        case .unary(.not, let a, _):
            let operand = try expect(a, .bool, "'!' needs a condition")
            return (.not(operand), .bool)
        case .unary(.negate, let a, _):
            let operand = try expect(a, .int, "'-' needs an integer")
            return (.negate(operand), .int)
        case .binary(let op, let a, let b, let range):
            return try binary(op, a, b, range)
        }
    }

    private func resolve(_ name: String, _ range: TextRange) throws(ExpressionError) -> (Expr, ValueType) {
        switch scope.binding(of: name) {
        case .slot(let slot, let type)?:
            return (.slot(slot), type)
        case nil:
            if Self.functions[name] != nil {
                throw ExpressionError("'\(name)' is a function", range, hint: "call it: \(Self.functions[name]!)")
            }
            if name.first == "P", ISODuration(name) != nil {
                throw ExpressionError("'\(name)' reads as a name; a duration is quoted", range, hint: "write \"\(name)\"")
            }
            throw ExpressionError(
                "unknown name '\(name)'", range,
                hint: Suggestions.didYouMean(name, among: scope.allNames)
                    ?? "declare it under facts: or values:")
        }
    }

    private func expect(_ syntax: Syntax, _ type: ValueType, _ message: String) throws(ExpressionError) -> Expr {
        let (expr, actual) = try compile(syntax)
        guard actual == type else {
            throw ExpressionError("\(message); this is \(actual.phrase)", syntax.range)
        }
        return expr
    }

    private func binary(_ op: BinaryOperator, _ a: Syntax, _ b: Syntax, _ range: TextRange) throws(ExpressionError)
        -> (Expr, ValueType)
    {
        switch op {
        case .and, .or:
            let left = try expect(a, .bool, "'\(op.rawValue)' joins conditions")
            let right = try expect(b, .bool, "'\(op.rawValue)' joins conditions")
            return (op == .and ? .and(left, right) : .or(left, right), .bool)
        case .add, .subtract:
            return try sum(op, a, b, range)
        case .multiply, .divide, .remainder:
            let left = try expect(a, .int, "'\(op.rawValue)' works on integers")
            let right = try expect(b, .int, "'\(op.rawValue)' works on integers")
            switch op {
            case .multiply: return (.multiply(left, right), .int)
            case .divide: return (.divide(left, right), .int)
            default: return (.remainder(left, right), .int)
            }
        case .equal, .notEqual:
            let (left, right) = try comparable(a, b)
            return (op == .equal ? .equal(left, right) : .notEqual(left, right), .bool)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            // A quoted time on either side is read as a datetime literal.
            let (left, leftType, right, rightType): (Expr, ValueType, Expr, ValueType)
            if case .string(let text, let r) = b {
                (left, leftType) = try compile(a)
                (right, rightType) = (try literal(text, r, as: leftType), leftType)
            } else if case .string(let text, let r) = a {
                (right, rightType) = try compile(b)
                (left, leftType) = (try literal(text, r, as: rightType), rightType)
            } else {
                (left, leftType) = try compile(a)
                (right, rightType) = try compile(b)
            }
            guard leftType == rightType, leftType == .int || leftType == .datetime || leftType == .duration else {
                var hint: String?
                if case .option(let domain) = leftType, leftType == rightType {
                    hint = "options have no order: list the ones meant, e.g. `\(domain.owner) in [\(domain.ids.suffix(2).map { "\"\($0)\"" }.joined(separator: ", "))]`"
                }
                throw ExpressionError(
                    "'\(op.rawValue)' compares two integers, two datetimes or two durations, not \(leftType.phrase) and \(rightType.phrase)",
                    range, hint: hint)
            }
            switch op {
            case .less: return (.less(left, right), .bool)
            case .lessOrEqual: return (.lessOrEqual(left, right), .bool)
            case .greater: return (.less(right, left), .bool)
            default: return (.lessOrEqual(right, left), .bool)
            }
        case .in:
            return try membership(a, b, range)
        }
    }

    /// Both sides of `==`/`!=`: same type, with a quoted name on either side read as an
    /// option of the other side's enumeration.
    private func comparable(_ a: Syntax, _ b: Syntax) throws(ExpressionError) -> (Expr, Expr) {
        if case .string(let s, let r) = a {
            let (right, type) = try compile(b)
            return (try literal(s, r, as: type), right)
        }
        if case .string(let s, let r) = b {
            let (left, type) = try compile(a)
            return (left, try literal(s, r, as: type))
        }
        let (left, leftType) = try compile(a)
        let (right, rightType) = try compile(b)
        guard leftType == rightType else {
            throw ExpressionError("cannot compare \(leftType.phrase) with \(rightType.phrase)", a.range.union(b.range))
        }
        return (left, right)
    }

    /// A quoted literal read as a value of `type`.
    private func literal(_ text: String, _ range: TextRange, as type: ValueType) throws(ExpressionError) -> Expr {
        switch type {
        case .option(let domain):
            return .constant(.option(try option(text, range, in: domain)))
        case .text:
            return .constant(.text(text))
        case .datetime:
            guard let t = Timestamp.parse(text) else {
                throw ExpressionError("'\(text)' is not an RFC 3339 time", range, hint: "e.g. \"2026-11-02T09:14:00Z\"")
            }
            return .constant(.time(t))
        case .duration:
            return .constant(.int(Int(try exactDuration(text, range))))
        default:
            throw ExpressionError("cannot compare \(type.phrase) with the text \"\(text)\"", range)
        }
    }

    private func option(_ text: String, _ range: TextRange, in domain: EnumDomain) throws(ExpressionError) -> Int {
        guard let index = domain.position(of: text) else {
            throw ExpressionError(
                "'\(text)' is not an option of \(domain.owner)", range,
                hint: Suggestions.didYouMean(text, among: domain.ids)
                    ?? "its options are: \(domain.ids.joined(separator: ", "))")
        }
        return index
    }

    /// `+` and `-`: integers; a datetime moved by a quoted duration (`discovered_at +
    /// "PT48H"`); the time between two datetimes (a duration).
    private func sum(_ op: BinaryOperator, _ a: Syntax, _ b: Syntax, _ range: TextRange) throws(ExpressionError)
        -> (Expr, ValueType)
    {
        if case .string(let text, let r) = b {
            let (left, leftType) = try compile(a)
            guard leftType == .datetime else {
                throw ExpressionError(
                    "a quoted duration can only be added to or taken from a datetime; this is \(leftType.phrase)", a.range,
                    hint: "e.g. `discovered_at + \"PT48H\"`")
            }
            guard var duration = ISODuration(text) else {
                throw ExpressionError("'\(text)' is not an ISO 8601 duration", r,
                                      hint: "write e.g. \"PT48H\" (48 hours), \"P1D\" (one calendar day) or \"P1M\"")
            }
            if op == .subtract { duration = duration.negated }
            guard let clock = scope.clock else {
                throw ExpressionError("a duration needs the policy's time zone", r, hint: "give the policy a `time_zone:`")
            }
            return (.shift(left, TimeShift(duration: duration, clock: clock)), .datetime)
        }
        let (left, leftType) = try compile(a)
        let (right, rightType) = try compile(b)
        switch (leftType, rightType) {
        case (.int, .int):
            return (op == .add ? .add(left, right) : .subtract(left, right), .int)
        case (.datetime, .datetime) where op == .subtract:
            return (.elapsed(left, right), .duration)
        case (.datetime, .datetime):
            throw ExpressionError("two datetimes cannot be added", range,
                                  hint: "take one from the other for the time between them: `b - a`")
        case (.datetime, _), (_, .datetime):
            throw ExpressionError(
                "'\(op.rawValue)' moves a datetime by a quoted duration, not by \(leftType == .datetime ? rightType.phrase : leftType.phrase)",
                range, hint: "e.g. `discovered_at + \"PT48H\"`")
        default:
            let culprit = leftType == .int ? b : a
            throw ExpressionError("'\(op.rawValue)' works on integers; this is \(leftType == .int ? rightType.phrase : leftType.phrase)",
                                  culprit.range)
        }
    }

    /// A quoted duration compared with an elapsed time: hours, minutes and seconds only,
    /// since a day's length depends on the date.
    private func exactDuration(_ text: String, _ range: TextRange) throws(ExpressionError) -> Int64 {
        guard let duration = ISODuration(text) else {
            throw ExpressionError("'\(text)' is not an ISO 8601 duration", range, hint: "write e.g. \"PT48H\" (48 hours)")
        }
        guard !duration.hasCalendarPart else {
            throw ExpressionError(
                "'\(text)' has calendar parts, whose length depends on the date; an elapsed time compares with hours, minutes and seconds",
                range, hint: "write \"PT\(duration.days * 24 + duration.weeks * 168)H\", or compare datetimes: `time_of(a) > b + \"\(text)\"`")
        }
        return duration.exactMilliseconds
    }

    private func membership(_ a: Syntax, _ b: Syntax, _ range: TextRange) throws(ExpressionError) -> (Expr, ValueType) {
        // x in [literal, ...]
        if case .list(let items, _) = b {
            let (left, type) = try compile(a)
            var values: [Value] = []
            for item in items {
                switch (item, type) {
                case (.string(let s, let r), _):
                    guard case .constant(let v) = try literal(s, r, as: type) else { continue }
                    values.append(v)
                case (.int(let n, _), .int):
                    values.append(.int(n))
                case (.bool(let v, _), .bool):
                    values.append(.bool(v))
                default:
                    throw ExpressionError("the list after 'in' must hold literals of \(type.phrase)", item.range)
                }
            }
            return (.oneOf(left, values), .bool)
        }
        // "option" in set, or option-valued expression in set
        let (set, setType) = try compile(b)
        guard case .options(let domain) = setType else {
            throw ExpressionError(
                "'in' needs a list literal or a set on its right; this is \(setType.phrase)", b.range,
                hint: "e.g. `severity in [\"major\", \"critical\"]`")
        }
        if case .string(let s, let r) = a {
            return (.hasOption(set, try option(s, r, in: domain)), .bool)
        }
        let (element, elementType) = try compile(a)
        guard elementType == .option(domain) else {
            throw ExpressionError("the left of 'in' must be an option of \(domain.owner); this is \(elementType.phrase)", a.range)
        }
        return (.hasOptionOf(set, element), .bool)
    }

    private func call(_ name: String, _ args: [Syntax], _ range: TextRange) throws(ExpressionError) -> (Expr, ValueType) {
        func arity(_ n: Int) throws(ExpressionError) {
            guard args.count == n else {
                throw ExpressionError("\(name)() takes \(n) argument\(n == 1 ? "" : "s"), not \(args.count)", range,
                                      hint: Self.functions[name])
            }
        }
        func setArgument(_ s: Syntax) throws(ExpressionError) -> (Expr, EnumDomain) {
            let (expr, type) = try compile(s)
            guard case .options(let domain) = type else {
                throw ExpressionError("\(name)() needs a set of options; this is \(type.phrase)", s.range, hint: Self.functions[name])
            }
            return (expr, domain)
        }
        switch name {
        case "sum":
            try arity(1)
            let (set, domain) = try setArgument(args[0])
            guard domain.isWeighted else {
                throw ExpressionError(
                    "sum() needs every option of \(domain.owner) to have a weight", args[0].range,
                    hint: "give each option a `weight:`")
            }
            return (.sum(set, domain.options.map { $0.weight ?? 0 }), .int)
        case "count":
            try arity(1)
            return (.count(try setArgument(args[0]).0), .int)
        case "known":
            try arity(1)
            guard case .name(let n, let r) = args[0] else {
                throw ExpressionError("known() takes the name of a fact or value", args[0].range)
            }
            return (.known(try resolve(n, r).0), .bool)
        case "occurred":
            try arity(1)
            guard case .name(let n, let r) = args[0] else {
                throw ExpressionError("occurred() takes the id of an action", args[0].range)
            }
            guard let action = scope.action(named: n) else {
                throw ExpressionError("unknown action '\(n)'", r,
                                      hint: Suggestions.didYouMean(n, among: scope.allActions) ?? "declare it under actions:")
            }
            return (.occurred(action), .bool)
        case "any", "all":
            try arity(2)
            let (set, domain) = try setArgument(args[0])
            guard case .list(let items, _) = args[1] else {
                throw ExpressionError("\(name)() takes a list of options as its second argument", args[1].range)
            }
            var mask: UInt64 = 0
            for item in items {
                guard case .string(let s, let r) = item else {
                    throw ExpressionError("list the options as quoted names", item.range)
                }
                mask |= 1 << UInt64(try option(s, r, in: domain))
            }
            return (name == "any" ? .hasAny(set, mask) : .hasAll(set, mask), .bool)
        case "min", "max":
            try arity(2)
            let left = try expect(args[0], .int, "\(name)() works on integers")
            let right = try expect(args[1], .int, "\(name)() works on integers")
            let ranges = (left.range(scope.range(ofSlot:)), right.range(scope.range(ofSlot:)))
            return (name == "min" ? .minimum(left, right, ranges.0, ranges.1) : .maximum(left, right, ranges.0, ranges.1), .int)
        case "time_of", "done", "late", "deadline":
            try arity(1)
            let kind = ProbeKind(rawValue: name)!
            let noun = kind.asksDuty ? "duty" : "action"
            guard case .name(let n, let r) = args[0] else {
                throw ExpressionError("\(name)() takes the id of \(kind.asksDuty ? "a duty" : "an action")", args[0].range,
                                      hint: Self.functions[name])
            }
            guard let slot = scope.probe(kind, n) else {
                if kind.asksDuty, scope.action(named: n) != nil {
                    throw ExpressionError("'\(n)' is an action; \(name)() takes a duty", r,
                                          hint: "name the duty the action discharges, or ask occurred(\(n)) / time_of(\(n))")
                }
                if !kind.asksDuty, scope.allDuties.contains(n) {
                    throw ExpressionError("'\(n)' is a duty; time_of() takes an action", r,
                                          hint: "ask done(\(n)), late(\(n)) or deadline(\(n)) about a duty")
                }
                throw ExpressionError("unknown \(noun) '\(n)'", r,
                                      hint: Suggestions.didYouMean(n, among: kind.asksDuty ? scope.allDuties : scope.allActions)
                                          ?? "declare it under \(noun == "duty" ? "duties" : "actions"):")
            }
            return (.slot(slot), kind.type)
        default:
            throw ExpressionError(
                "unknown function '\(name)'", range,
                hint: Suggestions.didYouMean(name, among: Array(Self.functions.keys))
                    ?? "the functions are: \(Self.functions.keys.sorted().joined(separator: ", "))")
        }
    }
}
