/// One step of an explanation: how a value was derived, and where the rule comes from.
public struct ExplanationStep: Sendable {
    /// The value's slot.
    public var slot: Int
    /// The value's id.
    public var value: String
    /// The result (`unknown` when undecided).
    public var result: Value
    /// The result as a person reads it (with its label, where the rule gives one).
    public var display: String
    /// The rule's provenance: the chosen case's or band's when it has its own, else the value's.
    public var provenance: Provenance
    /// Why: the rule applied to the inputs, in words.
    public var because: String
}

extension Evaluation {
    /// Every derived value with the reason for its result, in dependency order.
    public var explanation: [ExplanationStep] {
        policy.values.indices.map { explain(valueAt: $0) }
    }

    /// The explanation of value `j`.
    public func explain(valueAt j: Int) -> ExplanationStep {
        let value = policy.values[j]
        let slot = policy.facts.count + j
        let result = values.slots[slot]
        var provenance = value.provenance
        var because: String
        var label: String?
        switch value.rule {
        case .expression(let e):
            because = "`\(e.source)`" + bindings(e.slots)
            if result.isKnown {
                because += " gives \(result.display(value.type))"
            } else if e.slots.allSatisfy({ values.slots[$0].isKnown }) {
                because += " has no result: an integer overflowed or a number was divided by zero"
            } else {
                because += " is undecided"
            }
        case .table(let input, let bands):
            let inputID = policy.slotID(input)
            switch values.slots[input] {
            case .int(let n):
                if let band = bands.first(where: { $0.contains(n) }) {
                    because = "\(inputID) = \(n) falls in the band \(band.rangeDescription), which gives \(band.value.display(value.type))"
                    label = band.label
                    if band.provenance != nil { provenance = band.provenance! }
                } else {
                    because = "\(inputID) = \(n) falls in no band"
                }
            default:
                because = "\(inputID) is not known yet"
            }
        case .grid(let grid):
            let rowID = policy.slotID(grid.rows.input), columnID = policy.slotID(grid.columns.input)
            let rowValue = values.slots[grid.rows.input], columnValue = values.slots[grid.columns.input]
            func band(_ axis: DerivedValue.Grid.Axis, _ index: Int) -> String {
                let b = axis.bands[index]
                var domain: EnumDomain?
                if case .option(let d) = policy.slotType(axis.input) { domain = d }
                let range = DerivedValue.Grid.describe(b, domain: domain)
                return b.label.map { $0 == range ? "'\($0)'" : "'\($0)' (\(range))" } ?? range
            }
            let unknown = [(rowID, rowValue), (columnID, columnValue)].filter { !$0.1.isKnown }.map(\.0)
            if !unknown.isEmpty {
                because = "\(unknown.joined(by: " and ")) \(unknown.count == 1 ? "is" : "are") not known yet"
            } else if let (r, c) = grid.position(rowValue, columnValue) {
                because = "\(rowID) = \(rowValue.display(policy.slotType(grid.rows.input))) is in row \(band(grid.rows, r)) and "
                    + "\(columnID) = \(columnValue.display(policy.slotType(grid.columns.input))) in column \(band(grid.columns, c)): "
                    + "the cell gives \(result.display(value.type))"
            } else {
                because = "\(rowID) = \(rowValue.display(policy.slotType(grid.rows.input))), \(columnID) = "
                    + "\(columnValue.display(policy.slotType(grid.columns.input))) fall in no cell"
            }
        case .cases(let cases):
            let chosen = policy.chosenCase(value, values)
            var failed: [String] = []
            var parts: [String] = []
            for (i, c) in cases.enumerated() {
                guard let condition = c.condition else {
                    if i == chosen {
                        parts.append(failed.isEmpty ? "it applies otherwise" : "none of the cases before it holds (\(failed.joined(by: "; ")))")
                    }
                    break
                }
                let v = condition.expr.evaluate(values)
                if i == chosen {
                    parts.append("`\(condition.source)` holds" + bindings(condition.slots))
                    if !failed.isEmpty { parts.append("after \(failed.joined(by: "; "))") }
                    break
                }
                if case .bool(false) = v {
                    failed.append("`\(condition.source)` is false" + bindings(condition.slots))
                    continue
                }
                parts.append("`\(condition.source)` is undecided" + bindings(condition.slots))
                break
            }
            if let chosen {
                label = cases[chosen].label
                if let p = cases[chosen].provenance { provenance = p }
            }
            because = parts.joined(by: ", ")
        }
        var display = result.display(value.type)
        if let label { display += " (\(label))" }
        return ExplanationStep(slot: slot, value: value.id, result: result, display: display, provenance: provenance,
                               because: because)
    }

    /// ` with a = 1, b = [x (+1), y (-1)]` for the slots an expression reads.
    private func bindings(_ slots: [Int]) -> String {
        guard !slots.isEmpty else { return "" }
        let parts = slots.map { slot -> String in
            let id = policy.slotID(slot)
            let type = policy.slotType(slot)
            let v = values.slots[slot]
            if case .options(let mask) = v, case .options(let domain) = type, domain.isWeighted {
                let chosen = domain.options.indices.filter { mask & (1 << UInt64($0)) != 0 }.map { i -> String in
                    let w = domain.options[i].weight ?? 0
                    return "\(domain.options[i].id) (\(w > 0 ? "+" : "")\(w))"
                }
                return "\(id) = [\(chosen.joined(by: ", "))]"
            }
            return "\(id) = \(v.display(type))"
        }
        return " with " + parts.joined(by: ", ")
    }

}
