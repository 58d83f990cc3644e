/// The facts and derived values of one incident at one moment, held in slots (fact `i`
/// in slot `i`, value `j` in slot `facts + j`), plus which actions have occurred.
public struct SlotValues: EvaluationInputs, Sendable {
    /// Facts then values.
    public var slots: [Value]
    /// Whether each action appears in the trail up to the evaluation time.
    public var occurred: [Bool]

    /// All facts unknown, no action occurred.
    public init(policy: Policy) {
        slots = Array(repeating: .unknown, count: policy.slotCount)
        occurred = Array(repeating: false, count: policy.actions.count)
    }

    @inline(__always)
    public func value(at slot: Int) -> Value { slots[slot] }

    @inline(__always)
    public func hasOccurred(_ action: Int) -> Bool { occurred[action] }
}

extension Policy {
    /// Derives every value from the fact slots, in dependency order.
    public func deriveValues(_ state: inout SlotValues) {
        program.derive(&state)
    }

    /// One value from the slots it depends on (which must already be filled), by walking
    /// its rule: the reference ``Program`` is checked against.
    public func derive(_ value: DerivedValue, _ state: SlotValues) -> Value {
        switch value.rule {
        case .expression(let e):
            return e.expr.evaluate(state)
        case .table(let input, let bands):
            guard case .int(let n) = state.slots[input] else { return .unknown }
            for band in bands where band.contains(n) { return band.value }
            return .unknown
        case .cases(let cases):
            for c in cases {
                guard let condition = c.condition else { return c.value }
                switch condition.expr.evaluate(state) {
                case .bool(true): return c.value
                case .bool(false): continue
                default: return .unknown
                }
            }
            return .unknown
        case .grid(let grid):
            return grid.lookup(state.slots[grid.rows.input], state.slots[grid.columns.input])
        }
    }

    /// Which case of a first-match value was chosen (nil when none, or undecided).
    public func chosenCase(_ value: DerivedValue, _ state: SlotValues) -> Int? {
        guard case .cases(let cases) = value.rule else { return nil }
        for (i, c) in cases.enumerated() {
            guard let condition = c.condition else { return i }
            switch condition.expr.evaluate(state) {
            case .bool(true): return i
            case .bool(false): continue
            default: return nil
            }
        }
        return nil
    }

    /// The facts whose being unknown keeps `slot` unknown (through the values it depends
    /// on), in the order found.
    public func undecidedFacts(of slot: Int, _ state: SlotValues, into out: inout [Int]) {
        if slot < facts.count {
            if !state.slots[slot].isKnown, !out.contains(slot) { out.append(slot) }
            return
        }
        guard !state.slots[slot].isKnown else { return }
        if let probe = probe(atSlot: slot) {
            // `done`/`late`/`deadline`: what decides whether the duty applies and when its
            // clock starts; `time_of` waits on the trail alone.
            guard probe.kind.asksDuty, duties.indices.contains(probe.target) else { return }
            let duty = duties[probe.target]
            let expand: (Int, inout [Int]) -> Void = { s, list in self.undecidedFacts(of: s, state, into: &list) }
            duty.condition?.expr.undecidedInputs(state, into: &out, expand: expand)
            for part in duty.clock?.parts ?? [] {
                if case .fact(let s) = part, !state.slots[s].isKnown, !out.contains(s) { out.append(s) }
            }
            return
        }
        let value = values[slot - facts.count]
        let expand: (Int, inout [Int]) -> Void = { s, list in self.undecidedFacts(of: s, state, into: &list) }
        switch value.rule {
        case .expression(let e):
            e.expr.undecidedInputs(state, into: &out, expand: expand)
        case .table(let input, _):
            undecidedFacts(of: input, state, into: &out)
        case .grid(let grid):
            undecidedFacts(of: grid.rows.input, state, into: &out)
            undecidedFacts(of: grid.columns.input, state, into: &out)
        case .cases(let cases):
            for c in cases {
                guard let condition = c.condition else { break }
                let v = condition.expr.evaluate(state)
                if case .bool(false) = v { continue }
                // The first undecided case blocks the choice: its inputs decide it.
                condition.expr.undecidedInputs(state, into: &out, expand: expand)
                break
            }
        }
    }
}
