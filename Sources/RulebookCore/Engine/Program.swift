/// A policy's derivations and duty conditions compiled once more, into flat arrays of
/// plain instructions, so that evaluating them takes no reference counting and copies
/// no rule: the hot path of every `assess`, `next`, batch and audit.
///
/// It computes exactly what ``Expr/evaluate(_:)`` and ``Policy/derive(_:_:)`` compute
/// (the tests check the two agree on every shipped policy); those remain the reference,
/// and are what explanations walk.
public final class Program: Sendable {
    /// One expression node. Children are indices into `ops`.
    struct Op: Sendable {
        var code: Code
        /// First child, slot, action or constant index.
        var a: Int32 = 0
        /// Second child, or the start of a list (constants, weights).
        var b: Int32 = 0
        /// A list's length.
        var n: Int32 = 0
        /// Option masks.
        var bits: UInt64 = 0
    }

    enum Code: UInt8, Sendable {
        case constant, slot, not, and, or, equal, notEqual, less, lessOrEqual, add, subtract, negate
        case oneOf, hasAny, hasAll, hasOptionOf, sum, count, known, occurred, minimum, maximum
        case multiply, divide, remainder, shift, elapsed
    }

    /// How one derived value is computed.
    enum Derivation: Sendable {
        case expression(root: Int32)
        /// Bands `start..<start+count` of `bands`, read with the integer in `input`.
        case table(input: Int32, start: Int32, count: Int32)
        /// Cases `start..<start+count` of `cases`.
        case cases(start: Int32, count: Int32)
        /// Grid `index` of `grids`.
        case grid(Int32)
    }

    /// A decision grid as plain values: its inputs, its bands in `gridBands` (rows then
    /// columns) and its cells in `gridCells`, row-major.
    struct GridPlan: Sendable {
        var rowInput: Int32
        var columnInput: Int32
        var rowStart: Int32
        var rows: Int32
        var columnStart: Int32
        var columns: Int32
        var cellStart: Int32
    }

    /// One band of a grid: integers `from...to`, or (when `options` is not 0) options.
    struct GridBand: Sendable {
        var from: Int
        var to: Int
        var options: UInt64

        @inline(__always)
        func contains(_ value: Value) -> Bool {
            switch value {
            case .int(let n): return options == 0 && from <= n && n <= to
            case .option(let i): return i < 64 && options & (1 << UInt64(i)) != 0
            default: return false
            }
        }
    }

    struct Band: Sendable {
        var from: Int
        var to: Int
        var value: Value
    }

    struct Case: Sendable {
        /// The condition's root op, or -1 for "otherwise".
        var condition: Int32
        var value: Value
    }

    // Immutable after init (a class of `let`s: one reference to retain, no exclusivity
    // checks, nothing copied when the engine takes it).
    let ops: [Op]
    let constants: [Value]
    let weights: [Int]
    let derivations: [Derivation]
    let bands: [Band]
    let cases: [Case]
    let grids: [GridPlan]
    let gridBands: [GridBand]
    let gridCells: [Value]
    /// Each duty's condition root, or -1 when it always applies.
    let dutyConditions: [Int32]
    /// Each duty as the engine reads it.
    let plans: [DutyPlan]
    /// The actions of every duty, in duty order (`DutyPlan.actions` ranges into it).
    let dutyActions: [Int]
    /// The prerequisites of every duty, in duty order.
    let dutyPrerequisites: [Int]
    /// The clocks that count from several moments (`PlanClock.compound`).
    let compoundClocks: [Clock]
    /// The argument ranges of `min` and `max` (`Op.n` indexes the first of a pair).
    let ranges: [IntRange]
    /// The durations added to datetimes (`Op.b` indexes them).
    let shifts: [TimeShift]
    /// What expressions ask about actions and duties; probe `k` is slot `probeBase + k`.
    let probes: [Probe]
    let probeBase: Int
    /// For each action, the `time_of` slots that read it (most policies: none).
    let timeOfSlots: [(slot: Int, action: Int)]
    /// For each duty, the probe slots that read it.
    let dutyProbeSlots: [[(slot: Int, kind: ProbeKind)]]
    /// The order in which duties and the values that ask about duties are evaluated,
    /// when some value or condition asks about a duty (`done`, `late`, `deadline`); nil
    /// when duties can simply follow every value in the policy's order.
    let schedule: [Step]?
    /// A cycle among values and duties that ask about each other (the compiler reports
    /// it); nil when there is none.
    let scheduleCycle: [Step]?

    /// One step of ``schedule``.
    public enum Step: Sendable, Hashable {
        /// Derive value `j` (again, now that the duties it asks about are evaluated).
        case value(Int32)
        /// Evaluate duty `d`, then fill its probe slots.
        case duty(Int32)
    }

    /// A duty's clock start as plain values: a compound one (`earliest_of`) is an index
    /// into `compoundClocks`, so a plan stays a plain value that copies without retains.
    enum PlanClock: Sendable {
        case fact(Int)
        case action(Int)
        case duty(Int)
        case compound(Int)
    }

    /// A duty reduced to plain values: what the engine needs, nothing to retain.
    struct DutyPlan: Sendable {
        var clock: PlanClock?
        /// Whether the clock counts (in part) from a fact, or from an action or duty.
        var clockReadsFact: Bool
        var clockReadsEvent: Bool
        var deadline: DeadlineRule?
        var actions: Range<Int>
        /// Bit `a` set when action `a` discharges the duty (exact when `smallActions`).
        var actionMask: UInt64
        var smallActions: Bool
        var dischargers: UInt64
        var prerequisites: Range<Int>
        var condition: Int32
        /// Whether it has an earliest time or a target (read from the duty then).
        var hasTiming: Bool
    }
    /// The first value slot.
    let base: Int

    init(facts: Int, values: [DerivedValue], duties: [Duty], probes: [Probe] = [], standIns: [[StandInCondition]] = []) {
        let built = Builder(facts: facts, values: values, duties: duties)
        base = facts
        ranges = built.ranges
        shifts = built.shifts
        self.probes = probes
        probeBase = facts + values.count
        var timeOf: [(Int, Int)] = []
        var dutyProbes = [[(slot: Int, kind: ProbeKind)]](repeating: [], count: duties.count)
        for (k, probe) in probes.enumerated() where probe.target >= 0 {
            if probe.kind.asksDuty {
                if probe.target < duties.count { dutyProbes[probe.target].append((facts + values.count + k, probe.kind)) }
            } else {
                timeOf.append((facts + values.count + k, probe.target))
            }
        }
        timeOfSlots = timeOf
        dutyProbeSlots = dutyProbes
        (schedule, scheduleCycle) = Self.schedule(facts: facts, values: values, duties: duties, probes: probes, standIns: standIns)
        ops = built.ops
        constants = built.constants
        weights = built.weights
        derivations = built.derivations
        bands = built.bands
        cases = built.cases
        grids = built.grids
        gridBands = built.gridBands
        gridCells = built.gridCells
        dutyConditions = built.dutyConditions
        plans = built.plans
        dutyActions = built.dutyActions
        dutyPrerequisites = built.dutyPrerequisites
        compoundClocks = built.compoundClocks
    }

    /// Lays the program out.
    private struct Builder {
        var ops: [Op] = []
        var constants: [Value] = []
        var weights: [Int] = []
        var derivations: [Derivation] = []
        var bands: [Band] = []
        var cases: [Case] = []
        var dutyConditions: [Int32] = []
        var plans: [DutyPlan] = []
        var dutyActions: [Int] = []
        var dutyPrerequisites: [Int] = []
        var compoundClocks: [Clock] = []
        var ranges: [IntRange] = []
        var shifts: [TimeShift] = []
        var grids: [GridPlan] = []
        var gridBands: [GridBand] = []
        var gridCells: [Value] = []

        init(facts: Int, values: [DerivedValue], duties: [Duty]) {
            for value in values {
                switch value.rule {
                case .expression(let e):
                    derivations.append(.expression(root: emit(e.expr)))
                case .table(let input, let list):
                    let start = Int32(bands.count)
                    for band in list { bands.append(Band(from: band.from ?? .min, to: band.to ?? .max, value: band.value)) }
                    derivations.append(.table(input: Int32(input), start: start, count: Int32(list.count)))
                case .cases(let list):
                    // Conditions first (emitting appends ops, not cases), then the rows.
                    let rows = list.map { Case(condition: $0.condition.map { emit($0.expr) } ?? -1, value: $0.value) }
                    let start = Int32(cases.count)
                    cases += rows
                    derivations.append(.cases(start: start, count: Int32(rows.count)))
                case .grid(let grid):
                    let rowStart = Int32(gridBands.count)
                    for band in grid.rows.bands + grid.columns.bands {
                        gridBands.append(GridBand(from: band.from ?? .min, to: band.to ?? .max, options: band.options))
                    }
                    derivations.append(.grid(Int32(grids.count)))
                    grids.append(GridPlan(
                        rowInput: Int32(grid.rows.input), columnInput: Int32(grid.columns.input), rowStart: rowStart,
                        rows: Int32(grid.rows.bands.count), columnStart: rowStart + Int32(grid.rows.bands.count),
                        columns: Int32(grid.columns.bands.count), cellStart: Int32(gridCells.count)))
                    gridCells += grid.cells
                }
            }
            dutyConditions = duties.map { $0.condition.map { emit($0.expr) } ?? -1 }
            for (i, duty) in duties.enumerated() {
                let actionsStart = dutyActions.count
                dutyActions += duty.actions
                let prerequisitesStart = dutyPrerequisites.count
                dutyPrerequisites += duty.prerequisites
                var mask: UInt64 = 0
                for a in duty.actions where a < 64 { mask |= 1 << UInt64(a) }
                var clock: PlanClock?
                switch duty.clock {
                case .fact(let s)?: clock = .fact(s)
                case .action(let a)?: clock = .action(a)
                case .duty(let d)?: clock = .duty(d)
                case let compound?:
                    clock = .compound(compoundClocks.count)
                    compoundClocks.append(compound)
                case nil: clock = nil
                }
                plans.append(DutyPlan(
                    clock: clock, clockReadsFact: duty.clock?.readsFact ?? false, clockReadsEvent: duty.clock?.readsEvent ?? false,
                    deadline: duty.deadline, actions: actionsStart..<dutyActions.count, actionMask: mask,
                    smallActions: duty.actions.allSatisfy { $0 < 64 }, dischargers: duty.dischargers,
                    prerequisites: prerequisitesStart..<dutyPrerequisites.count, condition: dutyConditions[i],
                    hasTiming: duty.notBefore != nil || duty.target != nil))
            }
        }

        /// Appends `expr`'s nodes (children first) and returns its root's index.
        private mutating func emit(_ expr: Expr) -> Int32 {
            var op: Op
            switch expr {
            case .constant(let v):
                op = Op(code: .constant, a: Int32(constants.count))
                constants.append(v)
            case .slot(let s): op = Op(code: .slot, a: Int32(s))
            case .occurred(let a): op = Op(code: .occurred, a: Int32(a))
            case .not(let x): op = Op(code: .not, a: emit(x))
            case .negate(let x): op = Op(code: .negate, a: emit(x))
            case .count(let x): op = Op(code: .count, a: emit(x))
            case .known(let x): op = Op(code: .known, a: emit(x))
            case .and(let x, let y): op = Op(code: .and, a: emit(x), b: emit(y))
            case .or(let x, let y): op = Op(code: .or, a: emit(x), b: emit(y))
            case .equal(let x, let y): op = Op(code: .equal, a: emit(x), b: emit(y))
            case .notEqual(let x, let y): op = Op(code: .notEqual, a: emit(x), b: emit(y))
            case .less(let x, let y): op = Op(code: .less, a: emit(x), b: emit(y))
            case .lessOrEqual(let x, let y): op = Op(code: .lessOrEqual, a: emit(x), b: emit(y))
            case .add(let x, let y): op = Op(code: .add, a: emit(x), b: emit(y))
            case .subtract(let x, let y): op = Op(code: .subtract, a: emit(x), b: emit(y))
            case .minimum(let x, let y, let rx, let ry):
                op = Op(code: .minimum, a: emit(x), b: emit(y), n: Int32(ranges.count))
                ranges += [rx, ry]
            case .maximum(let x, let y, let rx, let ry):
                op = Op(code: .maximum, a: emit(x), b: emit(y), n: Int32(ranges.count))
                ranges += [rx, ry]
            case .multiply(let x, let y): op = Op(code: .multiply, a: emit(x), b: emit(y))
            case .divide(let x, let y): op = Op(code: .divide, a: emit(x), b: emit(y))
            case .remainder(let x, let y): op = Op(code: .remainder, a: emit(x), b: emit(y))
            case .elapsed(let x, let y): op = Op(code: .elapsed, a: emit(x), b: emit(y))
            case .shift(let x, let shift):
                op = Op(code: .shift, a: emit(x), b: Int32(shifts.count))
                shifts.append(shift)
            case .hasOptionOf(let x, let y): op = Op(code: .hasOptionOf, a: emit(x), b: emit(y))
            case .oneOf(let x, let list):
                let child = emit(x)
                op = Op(code: .oneOf, a: child, b: Int32(constants.count), n: Int32(list.count))
                constants += list
            case .hasOption(let x, let index): op = Op(code: .hasAny, a: emit(x), bits: 1 << UInt64(index))
            case .hasAny(let x, let mask): op = Op(code: .hasAny, a: emit(x), bits: mask)
            case .hasAll(let x, let mask): op = Op(code: .hasAll, a: emit(x), bits: mask)
            case .sum(let x, let list):
                let child = emit(x)
                op = Op(code: .sum, a: child, b: Int32(weights.count), n: Int32(list.count))
                weights += list
            }
            ops.append(op)
            return Int32(ops.count - 1)
        }
    }

    /// The order of evaluation when some value or duty condition asks about a duty:
    /// every duty, and the values that ask (directly or through other values), each after
    /// what it reads. Returns (nil, nil) when nothing asks about a duty, and the first
    /// cycle found, if any.
    static func schedule(facts: Int, values: [DerivedValue], duties: [Duty], probes: [Probe], standIns: [[StandInCondition]])
        -> ([Step]?, [Step]?)
    {
        guard probes.contains(where: { $0.kind.asksDuty && $0.target >= 0 }) else { return (nil, nil) }
        let probeBase = facts + values.count
        func slots(of rule: DerivedValue.Rule) -> [Int] {
            switch rule {
            case .expression(let e): return e.slots
            case .table(let input, _): return [input]
            case .cases(let cases): return cases.flatMap { $0.condition?.slots ?? [] }
            case .grid(let grid): return [grid.rows.input, grid.columns.input]
            }
        }
        // The values that ask about a duty, directly or through another value (values come
        // in dependency order, so one pass finds them all).
        var late = [Bool](repeating: false, count: values.count)
        for (j, value) in values.enumerated() {
            late[j] = slots(of: value.rule).contains { slot in
                if slot >= probeBase { return probes[slot - probeBase].kind.asksDuty }
                return slot >= facts && late[slot - facts]
            }
        }
        // What a slot read makes a step wait for.
        func dependency(_ slot: Int) -> Step? {
            if slot >= probeBase {
                let probe = probes[slot - probeBase]
                return probe.kind.asksDuty && probe.target >= 0 && probe.target < duties.count ? .duty(Int32(probe.target)) : nil
            }
            return slot >= facts && late[slot - facts] ? .value(Int32(slot - facts)) : nil
        }
        func dependencies(_ step: Step) -> [Step] {
            switch step {
            case .value(let j):
                return slots(of: values[Int(j)].rule).compactMap(dependency)
            case .duty(let d):
                let duty = duties[Int(d)]
                var out = (duty.condition?.slots ?? []).compactMap(dependency)
                if Int(d) < standIns.count { out += standIns[Int(d)].flatMap(\.condition.slots).compactMap(dependency) }
                for part in duty.clock?.parts ?? [] { if case .duty(let other) = part { out.append(.duty(Int32(other))) } }
                out += duty.prerequisites.map { .duty(Int32($0)) }
                return out
            }
        }
        var order: [Step] = []
        var state: [Step: Int] = [:]   // 1 visiting, 2 done
        var stack: [Step] = []
        var cycle: [Step]?
        func visit(_ step: Step) {
            if state[step] == 2 { return }
            if state[step] == 1 {
                if cycle == nil { cycle = Array(stack[stack.firstIndex(of: step)!...]) + [step] }
                return
            }
            state[step] = 1
            stack.append(step)
            for next in dependencies(step) { visit(next) }
            stack.removeLast()
            state[step] = 2
            order.append(step)
        }
        for d in duties.indices { visit(.duty(Int32(d))) }
        for j in values.indices where late[j] { visit(.value(Int32(j))) }
        return (order, cycle)
    }

    /// Grid `index`'s cell for the inputs in `slots`. Kept out of line: the derivation
    /// loop every policy runs stays as small as it was before grids.
    @inline(never)
    func lookup(grid index: Int, _ slots: UnsafeBufferPointer<Value>) -> Value {
        let grid = grids[index]
        let rowValue = slots[Int(grid.rowInput)], columnValue = slots[Int(grid.columnInput)]
        guard rowValue.isKnown, columnValue.isKnown else { return .unknown }
        var row = -1, column = -1
        for r in 0..<Int(grid.rows) where gridBands[Int(grid.rowStart) + r].contains(rowValue) {
            row = r
            break
        }
        for c in 0..<Int(grid.columns) where gridBands[Int(grid.columnStart) + c].contains(columnValue) {
            column = c
            break
        }
        guard row >= 0, column >= 0 else { return .unknown }
        return gridCells[Int(grid.cellStart) + row * Int(grid.columns) + column]
    }

    /// Derives value `j` alone, from the slots as they are.
    func derive(valueAt j: Int, _ state: inout SlotValues) {
        let value = withMachine(state) { $0.derive(derivations[j], bands: bands, cases: cases) }
        state.slots[base + j] = value
    }

    // MARK: Evaluation

    /// Derives every value from the fact slots, in dependency order.
    public func derive(_ state: inout SlotValues) {
        let base = self.base
        ops.withUnsafeBufferPointer { ops in
            constants.withUnsafeBufferPointer { constants in
                weights.withUnsafeBufferPointer { weights in
                    state.occurred.withUnsafeBufferPointer { occurred in
                        state.slots.withUnsafeMutableBufferPointer { slots in
                            let machine = Machine(ops: ops, constants: constants, weights: weights, slots: UnsafeBufferPointer(slots),
                                                  occurred: occurred, dutyConditions: UnsafeBufferPointer(start: nil, count: 0),
                                                  program: Unmanaged.passUnretained(self))
                            for (j, derivation) in derivations.enumerated() {
                                slots[base + j] = machine.derive(derivation, bands: bands, cases: cases)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Duty `index`'s applicability: true when it has no condition.
    public func dutyCondition(_ index: Int, _ state: SlotValues) -> Value {
        withMachine(state) { $0.dutyCondition(index) }
    }

    // MARK: Open questions

    /// The facts whose being unknown keeps `slot` unknown, through the values it depends
    /// on, in the order found (as ``Policy/undecidedFacts(of:_:into:)`` finds them).
    public func undecidedFacts(ofSlot slot: Int, _ state: SlotValues, into out: inout [Int]) {
        withUndecided(state) { undecided, list in
            for fact in out { list.append(fact) }
            undecided.facts(ofSlot: slot, into: &list)
            out = list.elements
        }
    }

    /// The facts whose being unknown keeps duty `index`'s condition unknown.
    public func undecidedFacts(ofDuty index: Int, _ state: SlotValues, into out: inout [Int]) {
        withUndecided(state) { undecided, list in
            for fact in out { list.append(fact) }
            undecided.facts(ofDuty: index, into: &list)
            out = list.elements
        }
    }

    /// Runs `body` with the undecided-facts analysis of `state` and an empty list to
    /// collect into (both valid only inside `body`), for callers that ask about many
    /// values and duties of one state. Its memory is temporary: nothing is allocated on
    /// the heap for small policies.
    func withUndecided<R>(_ state: SlotValues, _ body: (Undecided, inout SlotList) -> R) -> R {
        let facts = base
        let values = derivations.count
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(1, (values + 2) * facts)) { memory in
            withUnsafeTemporaryAllocation(of: Range<Int32>.self, capacity: max(1, values)) { ranges in
                withMachine(state) { machine in
                    let scratch = UnsafeMutableBufferPointer(rebasing: memory[0..<facts])
                    var list = SlotList(UnsafeMutableBufferPointer(rebasing: memory[facts..<(2 * facts)]))
                    let found = UnsafeMutableBufferPointer(rebasing: memory[(2 * facts)...])
                    let undecided = Undecided(machine: machine, program: self, found: found, ranges: ranges, scratch: scratch)
                    return body(undecided, &list)
                }
            }
        }
    }

    /// Runs `body` with an evaluator over `state` (valid only inside `body`), for callers
    /// that evaluate many conditions of one state.
    func withMachine<R>(_ state: SlotValues, _ body: (Machine) -> R) -> R {
        ops.withUnsafeBufferPointer { ops in
            constants.withUnsafeBufferPointer { constants in
                weights.withUnsafeBufferPointer { weights in
                    state.occurred.withUnsafeBufferPointer { occurred in
                        state.slots.withUnsafeBufferPointer { slots in
                            dutyConditions.withUnsafeBufferPointer { conditions in
                                body(Machine(ops: ops, constants: constants, weights: weights, slots: slots, occurred: occurred,
                                             dutyConditions: conditions, program: Unmanaged.passUnretained(self)))
                            }
                        }
                    }
                }
            }
        }
    }

    /// The evaluator over borrowed buffers.
    struct Machine {
        let ops: UnsafeBufferPointer<Op>
        let constants: UnsafeBufferPointer<Value>
        let weights: UnsafeBufferPointer<Int>
        let slots: UnsafeBufferPointer<Value>
        let occurred: UnsafeBufferPointer<Bool>
        let dutyConditions: UnsafeBufferPointer<Int32>
        /// The program, for what few expressions read (grids, `min`/`max` ranges,
        /// durations): held unretained, so making a machine costs no reference counting.
        let program: Unmanaged<Program>

        /// The root op of duty `index`'s condition, or -1.
        @inline(__always)
        func dutyConditionRoot(_ index: Int) -> Int32 { dutyConditions[index] }

        /// Duty `index`'s applicability: true when it has no condition.
        @inline(__always)
        func dutyCondition(_ index: Int) -> Value {
            let root = dutyConditions[index]
            return root >= 0 ? evaluate(root) : .bool(true)
        }

        @inline(__always)
        func derive(_ derivation: Derivation, bands: [Band], cases: [Case]) -> Value {
            switch derivation {
            case .expression(let root):
                return evaluate(root)
            case .table(let input, let start, let count):
                guard case .int(let n) = slots[Int(input)] else { return .unknown }
                for i in Int(start)..<Int(start + count) where bands[i].from <= n && n <= bands[i].to {
                    return bands[i].value
                }
                return .unknown
            case .cases(let start, let count):
                for i in Int(start)..<Int(start + count) {
                    let condition = cases[i].condition
                    guard condition >= 0 else { return cases[i].value }
                    switch evaluate(condition) {
                    case .bool(true): return cases[i].value
                    case .bool(false): continue
                    default: return .unknown
                    }
                }
                return .unknown
            case .grid(let index):
                return program._withUnsafeGuaranteedRef { $0.lookup(grid: Int(index), slots) }
            }
        }

        func evaluate(_ index: Int32) -> Value {
            let op = ops[Int(index)]
            switch op.code {
            case .constant:
                return constants[Int(op.a)]
            case .slot:
                return slots[Int(op.a)]
            case .occurred:
                return .bool(occurred[Int(op.a)])
            case .known:
                return .bool(evaluate(op.a).isKnown)
            case .and:
                let left = evaluate(op.a)
                if case .bool(false) = left { return .bool(false) }
                let right = evaluate(op.b)
                if case .bool(false) = right { return .bool(false) }
                if case .bool(true) = left, case .bool(true) = right { return .bool(true) }
                return .unknown
            case .or:
                let left = evaluate(op.a)
                if case .bool(true) = left { return .bool(true) }
                let right = evaluate(op.b)
                if case .bool(true) = right { return .bool(true) }
                if case .bool(false) = left, case .bool(false) = right { return .bool(false) }
                return .unknown
            case .not, .negate, .oneOf, .hasAny, .hasAll, .sum, .count, .shift:
                return apply(op, evaluate(op.a), .unknown)
            case .equal, .notEqual, .less, .lessOrEqual, .add, .subtract, .hasOptionOf, .multiply, .divide, .remainder, .elapsed:
                let left = evaluate(op.a)
                guard left.isKnown else { return .unknown }
                return apply(op, left, evaluate(op.b))
            case .minimum, .maximum:
                // A known argument can decide while the other is unknown.
                return apply(op, evaluate(op.a), evaluate(op.b))
            }
        }

        /// An operator that is not short-circuiting, applied to its operands' values
        /// (`y` is unused by unary operators). Unknown in, unknown out.
        @inline(__always)
        func apply(_ op: Op, _ x: Value, _ y: Value) -> Value {
            switch op.code {
            case .not:
                if case .bool(let b) = x { return .bool(!b) }
                return .unknown
            case .negate:
                guard case .int(let n) = x, n != .min else { return .unknown }
                return .int(-n)
            case .oneOf:
                guard x.isKnown else { return .unknown }
                for i in Int(op.b)..<Int(op.b + op.n) where constants[i] == x { return .bool(true) }
                return .bool(false)
            case .hasAny:
                guard case .options(let mask) = x else { return .unknown }
                return .bool(mask & op.bits != 0)
            case .hasAll:
                guard case .options(let mask) = x else { return .unknown }
                return .bool(mask & op.bits == op.bits)
            case .sum:
                guard case .options(var mask) = x else { return .unknown }
                var total = 0
                while mask != 0 {
                    let bit = mask.trailingZeroBitCount
                    if bit < Int(op.n) { total &+= weights[Int(op.b) + bit] }
                    mask &= mask - 1
                }
                return .int(total)
            case .count:
                guard case .options(let mask) = x else { return .unknown }
                return .int(mask.nonzeroBitCount)
            case .equal, .notEqual:
                guard x.isKnown, y.isKnown else { return .unknown }
                return .bool((x == y) == (op.code == .equal))
            case .less, .lessOrEqual:
                let strict = op.code == .less
                switch (x, y) {
                case (.int(let a), .int(let b)): return .bool(strict ? a < b : a <= b)
                case (.time(let a), .time(let b)): return .bool(strict ? a < b : a <= b)
                default: return .unknown
                }
            case .minimum:
                return program._withUnsafeGuaranteedRef { Arithmetic.minimum(x, y, $0.ranges[Int(op.n)], $0.ranges[Int(op.n) + 1]) }
            case .maximum:
                return program._withUnsafeGuaranteedRef { Arithmetic.maximum(x, y, $0.ranges[Int(op.n)], $0.ranges[Int(op.n) + 1]) }
            case .add, .subtract, .multiply, .divide, .remainder:
                guard case .int(let a) = x, case .int(let b) = y else { return .unknown }
                switch op.code {
                case .add:
                    let (r, overflow) = a.addingReportingOverflow(b)
                    return overflow ? .unknown : .int(r)
                case .subtract:
                    let (r, overflow) = a.subtractingReportingOverflow(b)
                    return overflow ? .unknown : .int(r)
                case .multiply: return Arithmetic.multiply(a, b)
                case .divide: return Arithmetic.divide(a, b)
                default: return Arithmetic.remainder(a, b)
                }
            case .elapsed:
                guard case .time(let a) = x, case .time(let b) = y else { return .unknown }
                return Arithmetic.elapsed(a, b)
            case .shift:
                guard case .time(let t) = x else { return .unknown }
                return program._withUnsafeGuaranteedRef { $0.shifts[Int(op.b)].apply(t) }
            case .hasOptionOf:
                guard case .options(let mask) = x, case .option(let i) = y else { return .unknown }
                return .bool(mask & (1 << UInt64(i)) != 0)
            case .constant, .slot, .occurred, .known, .and, .or:
                return .unknown
            }
        }
    }

    /// Which unanswered facts keep values and duty conditions undecided, in one state.
    /// Each value's facts are worked out once, in dependency order, and reused wherever
    /// the value is read: what `questions` asks for every value and duty.
    struct Undecided {
        let machine: Machine
        let derivations: [Derivation]
        let cases: [Case]
        let base: Int
        let plans: [DutyPlan]
        let dutyProbes: [Probe]
        let probeBase: Int
        let compoundClocks: [Clock]
        /// Each undecided value's facts, in the order found: `found[ranges[j]]`.
        private let found: UnsafeMutableBufferPointer<Int32>
        private let ranges: UnsafeMutableBufferPointer<Range<Int32>>

        /// `found` holds at least values × facts entries, `ranges` one per value and
        /// `scratch` one per fact.
        init(machine: Machine, program: Program, found: UnsafeMutableBufferPointer<Int32>,
             ranges: UnsafeMutableBufferPointer<Range<Int32>>, scratch: UnsafeMutableBufferPointer<Int32>) {
            self.machine = machine
            derivations = program.derivations
            cases = program.cases
            base = program.base
            self.found = found
            self.ranges = ranges
            plans = program.plans
            dutyProbes = program.probes
            probeBase = program.probeBase
            compoundClocks = program.compoundClocks
            // Not worked out yet: a value read (through a duty it asks about) before its
            // turn is walked where it is read.
            for j in derivations.indices { ranges[j] = -1 ..< -1 }
            var end: Int32 = 0
            var list = SlotList(scratch)
            for j in derivations.indices {
                ranges[j] = end..<end
                guard !machine.slots[base + j].isKnown else { continue }
                list.removeAll()
                walk(value: j, into: &list)
                for i in 0..<list.count { found[Int(end) + i] = Int32(list[i]) }
                ranges[j] = end..<(end + Int32(list.count))
                end += Int32(list.count)
            }
        }

        /// Appends the facts that keep `slot` unknown (none when it is known), skipping
        /// those already in `out`.
        func facts(ofSlot slot: Int, into out: inout SlotList) {
            guard !machine.slots[slot].isKnown else { return }
            if slot < base {
                if !out.contains(slot) { out.append(slot) }
                return
            }
            if slot >= probeBase {
                // `done`/`late`/`deadline` wait on what decides whether the duty applies and
                // when its clock starts; `time_of` on the trail alone.
                let probe = dutyProbes[slot - probeBase]
                guard probe.kind.asksDuty, probe.target >= 0, probe.target < plans.count else { return }
                facts(ofDuty: probe.target, into: &out)
                let clock: Clock?
                switch plans[probe.target].clock {
                case .fact(let s)?: clock = .fact(s)
                case .compound(let c)?: clock = compoundClocks[c]
                default: clock = nil
                }
                for part in clock?.parts ?? [] {
                    if case .fact(let s) = part, !machine.slots[s].isKnown, !out.contains(s) { out.append(s) }
                }
                return
            }
            let range = ranges[slot - base]
            if range.lowerBound < 0 {
                walk(value: slot - base, into: &out)
                return
            }
            for i in range where !out.contains(Int(found[Int(i)])) { out.append(Int(found[Int(i)])) }
        }

        /// Appends the facts that keep duty `index`'s condition unknown.
        func facts(ofDuty index: Int, into out: inout SlotList) {
            let root = machine.dutyConditionRoot(index)
            if root >= 0 { _ = collect(root, into: &out) }
        }

        /// Value `j`'s facts, from its rule (earlier values' facts already known).
        private func walk(value j: Int, into out: inout SlotList) {
            switch derivations[j] {
            case .expression(let root):
                _ = collect(root, into: &out)
            case .table(let input, _, _):
                facts(ofSlot: Int(input), into: &out)
            case .grid(let index):
                let grid = machine.program._withUnsafeGuaranteedRef { $0.grids[Int(index)] }
                facts(ofSlot: Int(grid.rowInput), into: &out)
                facts(ofSlot: Int(grid.columnInput), into: &out)
            case .cases(let start, let count):
                for i in Int(start)..<Int(start + count) {
                    let condition = cases[i].condition
                    guard condition >= 0 else { break }
                    // The first case not known to be false blocks the choice: its inputs
                    // decide it.
                    let mark = out.count
                    if case .bool(false) = collect(condition, into: &out) {
                        out.truncate(to: mark)
                        continue
                    }
                    break
                }
            }
        }

        /// Evaluates op `index` and, when its value is unknown, appends the facts that
        /// keep it so (as ``Expr/undecidedInputs(_:into:expand:)`` finds them); when it
        /// is known, appends nothing. Each node is evaluated once, its children's
        /// findings kept only if it turns out unknown.
        private func collect(_ index: Int32, into out: inout SlotList) -> Value {
            let op = machine.ops[Int(index)]
            let mark = out.count
            let value: Value
            switch op.code {
            case .constant, .occurred, .known:
                return machine.evaluate(index)
            case .slot:
                let slot = Int(op.a)
                facts(ofSlot: slot, into: &out)
                return machine.slots[slot]
            case .and, .or:
                // Short-circuit exactly as evaluation does: a deciding left side decides
                // the node, and a known node reports nothing.
                let decider = op.code == .or
                let left = collect(op.a, into: &out)
                if case .bool(let b) = left, b == decider { value = left; break }
                let right = collect(op.b, into: &out)
                if case .bool(let b) = right, b == decider { value = right; break }
                if case .bool = left, case .bool = right { value = left; break }
                value = .unknown
            case .not, .negate, .oneOf, .hasAny, .hasAll, .sum, .count, .shift:
                value = machine.apply(op, collect(op.a, into: &out), .unknown)
            case .equal, .notEqual, .less, .lessOrEqual, .add, .subtract, .hasOptionOf, .minimum, .maximum, .multiply, .divide,
                 .remainder, .elapsed:
                // Both sides are visited even when evaluation would stop at the first.
                let left = collect(op.a, into: &out)
                value = machine.apply(op, left, collect(op.b, into: &out))
            }
            if value.isKnown { out.truncate(to: mark) }
            return value
        }
    }
}

/// A list of distinct fact slots in borrowed memory, so collecting them allocates
/// nothing. It never holds more than one entry per fact, which bounds its capacity.
struct SlotList {
    private let storage: UnsafeMutableBufferPointer<Int32>
    private(set) var count = 0

    init(_ storage: UnsafeMutableBufferPointer<Int32>) { self.storage = storage }

    subscript(i: Int) -> Int { Int(storage[i]) }

    func contains(_ slot: Int) -> Bool {
        let s = Int32(slot)
        for i in 0..<count where storage[i] == s { return true }
        return false
    }

    mutating func append(_ slot: Int) {
        storage[count] = Int32(slot)
        count += 1
    }

    mutating func truncate(to n: Int) { count = min(count, n) }

    mutating func removeAll() { count = 0 }

    var elements: [Int] { (0..<count).map { Int(storage[$0]) } }

}
