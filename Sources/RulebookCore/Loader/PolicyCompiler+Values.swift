import RulebookDiagnostics
import RulebookYAML

/// The names expressions see while a policy compiles.
struct PolicyScope: ExpressionScope {
    let facts: [String: (Int, ValueType)]
    let valueSlots: [String: Int]
    let valueTypes: [String: ValueType]
    let actions: [String: Int]
    let slotRanges: [Int: IntRange]
    let probes: ProbeRegistry
    let clock: ZoneClock?

    func binding(of name: String) -> NameBinding? {
        if let (slot, type) = facts[name] { return .slot(slot, type) }
        if let slot = valueSlots[name], let type = valueTypes[name] { return .slot(slot, type) }
        return nil
    }

    func action(named name: String) -> Int? { actions[name] }
    var allNames: [String] { Array(facts.keys) + Array(valueSlots.keys) }
    var allActions: [String] { Array(actions.keys) }
    func range(ofSlot slot: Int) -> IntRange { slotRanges[slot] ?? .unbounded }
    var allDuties: [String] { probes.duties.sorted() }

    func probe(_ kind: ProbeKind, _ name: String) -> Int? {
        guard kind.asksDuty ? probes.duties.contains(name) : actions[name] != nil else { return nil }
        return probes.slot(kind, name)
    }
}

/// The `time_of`, `done`, `late` and `deadline` questions a policy's expressions ask,
/// each given a slot after the facts and values when first asked. Duties are named by id
/// until they compile (their order is settled only then).
final class ProbeRegistry {
    /// The duty ids the policy declares.
    var duties: Set<String> = []
    /// The first probe slot: after every fact and value.
    var base = 0
    private(set) var requests: [(kind: ProbeKind, name: String)] = []

    func slot(_ kind: ProbeKind, _ name: String) -> Int {
        if let i = requests.firstIndex(where: { $0.kind == kind && $0.name == name }) { return base + i }
        requests.append((kind, name))
        return base + requests.count - 1
    }
}

extension PolicyCompiler {
    var scope: PolicyScope {
        var ranges: [Int: IntRange] = [:]
        for (i, fact) in facts.enumerated() where fact.type == .int { ranges[i] = IntRange(fact.minimum, fact.maximum) }
        for (id, range) in valueRanges { if let slot = valueSlots[id] { ranges[slot] = range } }
        return PolicyScope(
            facts: Dictionary(uniqueKeysWithValues: facts.enumerated().map { ($1.id, ($0, $1.type)) }),
            valueSlots: valueSlots, valueTypes: valueTypes, actions: actionIndex, slotRanges: ranges, probes: probes,
            clock: clock)
    }

    /// Compiles the expression held in `node` (a scalar), reporting errors at the exact
    /// column in the file. Returns nil after an error, or silently when it names
    /// something whose own definition failed.
    func expression(_ node: Node, origin: ParsedPolicyFile, expecting type: ValueType?, what: String) -> CompiledExpression? {
        guard let scalar = node.scalar, scalar.value != .null else {
            decoder.error("\(what) must be an expression (text); found \(node.kindDescription)", at: node.span,
                          code: "wrong-type")
            return nil
        }
        if case .bool(let b) = scalar.value, type == .bool {
            return CompiledExpression(expr: .constant(.bool(b)), type: .bool, source: scalar.text, slots: [])
        }
        let text = scalar.text
        if let syntax = try? ExpressionParser.parse(text), syntax.names.contains(where: { poisoned.contains($0.0) }) {
            return nil
        }
        do {
            return try ExpressionCompiler(scope: scope).compile(text, expecting: type)
        } catch {
            let span = locators[origin.file, default: ExpressionLocator(text: nil)].span(of: error.range, in: node, expression: text)
            decoder.error("\(error.message) (in \(what))", at: span, code: "expression", hint: error.hint)
            return nil
        }
    }

    // MARK: Values

    private enum ValueShape {
        case expression(Node)
        case table(Object)
        case cases([Node])
        case grid(Object)
    }

    func compileValues() {
        let entries = sections[.values, default: []].filter { !poisoned.contains($0.id) }
        // First pass: each value's shape and the names it depends on.
        var shapes: [String: (Entry, Object, ValueShape)] = [:]
        var dependencies: [String: [(String, SourceSpan)]] = [:]
        let ids = Set(entries.map(\.id))
        for entry in entries {
            guard let object = object(entry, .values, allowed: ["title", "expr", "table", "cases", "grid"]) else {
                poisoned.insert(entry.id)
                continue
            }
            let given = ["expr", "table", "cases", "grid"].filter { object.has($0) }
            guard given.count == 1 else {
                decoder.error(
                    given.isEmpty ? "value '\(entry.id)' needs one of 'expr', 'table', 'cases' or 'grid'"
                        : "value '\(entry.id)' has \(given.joined(separator: " and ")); give only one",
                    at: entry.key.span, code: given.isEmpty ? "missing-key" : "conflict")
                poisoned.insert(entry.id)
                continue
            }
            var names: [(String, Node)] = []
            let shape: ValueShape
            switch given[0] {
            case "expr":
                let node = object["expr"]!
                shape = .expression(node)
                if let text = node.scalar?.text, let syntax = try? ExpressionParser.parse(text) {
                    names += syntax.names.map { ($0.0, node) }
                }
            case "table":
                guard let table = decoder.object(object["table"]!, "the table of value '\(entry.id)'",
                                                 allowed: ["input", "bands"], required: ["input", "bands"])
                else {
                    poisoned.insert(entry.id)
                    continue
                }
                shape = .table(table)
                if let input = table.text("input"), let node = table["input"] { names.append((input, node)) }
            case "grid":
                guard let grid = decoder.object(object["grid"]!, "the grid of value '\(entry.id)'",
                                                allowed: ["rows", "columns", "cells"], required: ["rows", "columns", "cells"])
                else {
                    poisoned.insert(entry.id)
                    continue
                }
                shape = .grid(grid)
                for key in ["rows", "columns"] {
                    if let input = grid[key]?["input"], let name = input.scalar?.text { names.append((name, input)) }
                }
            default:
                guard let list = object["cases"]!.sequence, !list.isEmpty else {
                    decoder.error("'cases' of value '\(entry.id)' must be a non-empty list", at: object["cases"]!.span,
                                  code: "wrong-type")
                    poisoned.insert(entry.id)
                    continue
                }
                shape = .cases(list)
                for item in list {
                    if let when = item["when"], let text = when.scalar?.text, let syntax = try? ExpressionParser.parse(text) {
                        names += syntax.names.map { ($0.0, when) }
                    }
                }
            }
            shapes[entry.id] = (entry, object, shape)
            dependencies[entry.id] = names.filter { ids.contains($0.0) }.map { ($0.0, $0.1.span) }
        }
        // Order by dependency (depth-first), reporting cycles once.
        var order: [String] = []
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var stack: [String] = []
        func visit(_ id: String) {
            if state[id] == 2 { return }
            if state[id] == 1 {
                let cycle = Array(stack[stack.firstIndex(of: id)!...]) + [id]
                let (entry, _, _) = shapes[id]!
                decoder.error(
                    "values depend on each other in a cycle: \(cycle.joined(separator: " -> "))", at: entry.key.span,
                    code: "cycle",
                    notes: cycle.dropFirst().dropLast().compactMap { member in
                        shapes[member].map { Diagnostic.Note("'\(member)' is defined here", at: $0.0.key.span) }
                    })
                for member in cycle { poisoned.insert(member) }
                return
            }
            guard shapes[id] != nil else { return }
            state[id] = 1
            stack.append(id)
            for (dependency, _) in dependencies[id] ?? [] { visit(dependency) }
            stack.removeLast()
            state[id] = 2
            order.append(id)
        }
        for entry in entries where shapes[entry.id] != nil { visit(entry.id) }
        order.removeAll { poisoned.contains($0) }
        for (offset, id) in order.enumerated() { valueSlots[id] = facts.count + offset }
        probes.base = facts.count + order.count
        probes.duties = Set(sections[.duties, default: []].map(\.id))

        // Second pass: compile in dependency order; a value that fails is poisoned.
        var compiled: [String: DerivedValue] = [:]
        for id in order {
            let (entry, object, shape) = shapes[id]!
            // A value cites a clause, unless each of its cases or bands cites its own.
            func cites(_ item: Node) -> Bool { Self.provenanceKeys.contains { item[$0] != nil } }
            let partsCite: Bool
            switch shape {
            case .cases(let items): partsCite = items.allSatisfy(cites)
            case .table(let table): partsCite = !(table["bands"]?.sequence ?? []).isEmpty && (table["bands"]?.sequence ?? []).allSatisfy(cites)
            case .expression, .grid: partsCite = false
            }
            // Without its own citation, a value cites its first case or band.
            var firstPart: Node?
            switch shape {
            case .cases(let list): firstPart = list.first
            case .table(let table): firstPart = table["bands"]?.sequence?.first
            case .expression, .grid: firstPart = nil
            }
            let provenance = provenance(object, of: entry, required: !partsCite)
                ?? firstPart.flatMap { citation(of: $0, origin: entry.origin) }
                ?? Provenance(policy: entry.origin.id, span: entry.key.span)
            let title = object.text("title") ?? id.replacingUnderscores
            var result: (ValueType, DerivedValue.Rule)?
            switch shape {
            case .expression(let node):
                if let e = expression(node, origin: entry.origin, expecting: nil, what: "value '\(id)'") {
                    result = (e.type, .expression(e))
                }
            case .table(let table):
                result = compileTable(table, id: id, entry: entry)
            case .cases(let items):
                result = compileCases(items, id: id, entry: entry)
            case .grid(let grid):
                result = compileGrid(grid, id: id)
            }
            guard let (type, rule) = result else {
                poisoned.insert(id)
                continue
            }
            valueTypes[id] = type
            valueRanges[id] = DerivedValue.range(of: rule, type: type, slotRange: scope.range(ofSlot:))
            compiled[id] = DerivedValue(id: id, title: title, type: type, rule: rule, provenance: provenance, span: entry.key.span)
        }
        // Slots were fixed before compiling, and compiled expressions refer to them, so a
        // value that failed keeps its slot with an inert placeholder. A failure always
        // comes with an error, so such a policy is never applied.
        values = order.map { id in
            compiled[id] ?? DerivedValue(
                id: id, title: id, type: .int, rule: .expression(CompiledExpression(expr: .constant(.unknown), type: .int, source: "", slots: [])),
                provenance: Provenance(policy: chain[0].id), span: shapes[id]!.0.key.span)
        }
    }

    /// A literal result of a table band or a case: integer, boolean or option name.
    private func literal(_ node: Node, what: String) -> (ScalarValue, SourceSpan)? {
        guard let scalar = node.scalar else {
            decoder.error("\(what) must be a number, true/false or a name; found \(node.kindDescription)", at: node.span,
                          code: "wrong-type")
            return nil
        }
        switch scalar.value {
        case .int, .bool: return (scalar.value, node.span)
        case .string(let s) where NodeDecoder.isIdentifier(s): return (scalar.value, node.span)
        default:
            decoder.error("\(what) must be a number, true/false or a lowercase name; found \(node.kindDescription)",
                          at: node.span, code: "wrong-type")
            return nil
        }
    }

    /// Gives results a common type: all integers, all booleans, or all names (which form
    /// the value's own enumeration, in order of first appearance).
    private func type(of results: [(ScalarValue, SourceSpan)], id: String) -> (ValueType, [Value])? {
        guard let first = results.first else { return nil }
        for (value, span) in results.dropFirst() {
            switch (first.0, value) {
            case (.int, .int), (.bool, .bool), (.string, .string): continue
            default:
                decoder.error("results of value '\(id)' mix kinds: \(first.0) and \(value)", at: span, code: "wrong-type",
                              hint: "every result is an integer, or every one true/false, or every one a name")
                return nil
            }
        }
        switch first.0 {
        case .int: return (.int, results.map { if case .int(let n) = $0.0 { return .int(n) } else { return .unknown } })
        case .bool: return (.bool, results.map { if case .bool(let b) = $0.0 { return .bool(b) } else { return .unknown } })
        default:
            var names: [String] = []
            for (value, _) in results { if case .string(let s) = value, !names.contains(s) { names.append(s) } }
            let domain = EnumDomain(owner: id, options: names.map { EnumDomain.Option(id: $0, title: $0) })
            return (.option(domain), results.map { if case .string(let s) = $0.0 { return .option(domain.position(of: s)!) } else { return .unknown } })
        }
    }

    private func compileTable(_ table: Object, id: String, entry: Entry) -> (ValueType, DerivedValue.Rule)? {
        guard let inputName = table.text("input"), let inputNode = table["input"] else { return nil }
        var inputSlot: Int?
        if let fact = factIndex[inputName] {
            if facts[fact].type == .int { inputSlot = fact } else {
                decoder.error("the table's input must be an integer; '\(inputName)' is \(facts[fact].type.phrase)",
                              at: inputNode.span, code: "wrong-type")
            }
        } else if let slot = valueSlots[inputName], let type = valueTypes[inputName] {
            if type == .int { inputSlot = slot } else {
                decoder.error("the table's input must be an integer; '\(inputName)' is \(type.phrase)", at: inputNode.span,
                              code: "wrong-type")
            }
        } else if !poisoned.contains(inputName) {
            decoder.error("unknown fact or value '\(inputName)'", at: inputNode.span, code: "unknown-reference",
                          hint: Suggestions.didYouMean(inputName, among: scope.allNames))
        }
        guard let bandsNode = table["bands"], let items = bandsNode.sequence, !items.isEmpty else {
            decoder.error("'bands' must be a non-empty list", at: table["bands"]?.span, code: "wrong-type")
            return nil
        }
        var raw: [(from: Int?, to: Int?, result: (ScalarValue, SourceSpan), label: String?, provenance: Provenance?, span: SourceSpan)] = []
        for item in items {
            guard let band = decoder.object(item, "a band of value '\(id)'",
                                            allowed: ["from", "to", "value", "label"] + Self.provenanceKeys,
                                            required: ["value"]),
                  let valueNode = band["value"], let result = literal(valueNode, what: "a band's value")
            else { continue }
            let from = band.int("from")
            let to = band.int("to")
            if from == nil && to == nil {
                decoder.error("a band needs 'from', 'to' or both", at: item.span.startOnly, code: "missing-key")
                continue
            }
            if let from, let to, from > to {
                decoder.error("band from \(from) to \(to) is empty: 'from' is greater than 'to'", at: band["from"]?.span,
                              code: "bad-range")
                continue
            }
            raw.append((from, to, result, band.text("label"), provenance(band, origin: entry.origin, required: false), item.span))
        }
        guard let input = inputSlot, raw.count == items.count,
              let (type, results) = type(of: raw.map(\.result), id: id)
        else { return nil }
        let bands = zip(raw, results).map { r, value in
            DerivedValue.Band(from: r.from, to: r.to, value: value, label: r.label, provenance: r.provenance, span: r.span)
        }
        return (type, .table(input: input, bands: bands))
    }

    /// The slot of an integer or option input named at `node`, reporting what is wrong.
    private func gridInput(_ node: Node?, axis: String, id: String) -> (Int, ValueType)? {
        guard let node, let name = node.scalar?.text else {
            decoder.error("the \(axis) of grid '\(id)' need an 'input': an integer or enum fact or value", at: node?.span,
                          code: "missing-key")
            return nil
        }
        let found: (Int, ValueType)?
        if let fact = factIndex[name] { found = (fact, facts[fact].type) }
        else if let slot = valueSlots[name], let type = valueTypes[name] { found = (slot, type) }
        else {
            if !poisoned.contains(name) {
                decoder.error("unknown fact or value '\(name)'", at: node.span, code: "unknown-reference",
                              hint: Suggestions.didYouMean(name, among: scope.allNames))
            }
            return nil
        }
        switch found!.1 {
        case .int, .option: return found
        default:
            decoder.error("a grid's input must be an integer or an enum; '\(name)' is \(found!.1.phrase)", at: node.span, code: "wrong-type")
            return nil
        }
    }

    /// One axis: integer bands (`from`/`to`), or option groups (`options: [a, b]` or
    /// `option: a`); an enum input without `bands` has one band per option, in order.
    private func gridAxis(_ node: Node, axis: String, id: String) -> DerivedValue.Grid.Axis? {
        guard let object = decoder.object(node, "the \(axis) of grid '\(id)'", allowed: ["input", "bands"], required: ["input"]),
              let (slot, type) = gridInput(object["input"], axis: axis, id: id)
        else { return nil }
        var bands: [DerivedValue.Grid.AxisBand] = []
        guard let items = object["bands"]?.sequence else {
            if case .option(let domain) = type, object["bands"] == nil {
                for (i, option) in domain.options.enumerated() {
                    bands.append(.init(from: nil, to: nil, options: 1 << UInt64(i), label: option.id, span: node.span))
                }
                return .init(input: slot, bands: bands, span: node.span)
            }
            decoder.error("'bands' of the \(axis) of grid '\(id)' must be a list", at: object["bands"]?.span ?? node.span,
                          code: object["bands"] == nil ? "missing-key" : "wrong-type",
                          hint: "e.g. - {from: 1, to: 2, label: unlikely}; an enum input may leave 'bands' out (one per option)")
            return nil
        }
        var failed = false
        for item in items {
            switch type {
            case .int:
                guard let band = decoder.object(item, "a band of grid '\(id)'", allowed: ["from", "to", "label"]) else { failed = true; continue }
                let from = band.int("from"), to = band.int("to")
                if from == nil && to == nil {
                    decoder.error("a band needs 'from', 'to' or both", at: item.span.startOnly, code: "missing-key")
                    failed = true
                } else if let from, let to, from > to {
                    decoder.error("band from \(from) to \(to) is empty: 'from' is greater than 'to'", at: band["from"]?.span, code: "bad-range")
                    failed = true
                }
                bands.append(.init(from: from, to: to, options: 0, label: band.text("label"), span: item.span))
            case .option(let domain):
                guard let band = decoder.object(item, "a band of grid '\(id)'", allowed: ["option", "options", "label"]) else { failed = true; continue }
                var names: [(String, Node)] = []
                if let one = band["option"], let name = one.scalar?.text { names.append((name, one)) }
                if let many = band["options"]?.sequence {
                    names += many.compactMap { n -> (String, Node)? in n.scalar.map { ($0.text, n) } }
                }
                if names.isEmpty {
                    decoder.error("a band of an enum input needs 'option' or 'options'", at: item.span.startOnly, code: "missing-key")
                    failed = true
                }
                var mask: UInt64 = 0
                for (name, n) in names {
                    guard let i = domain.position(of: name) else {
                        decoder.error("'\(name)' is not an option of \(domain.owner)", at: n.span, code: "unknown-reference",
                                      hint: Suggestions.didYouMean(name, among: domain.ids) ?? "its options are: \(domain.ids.joined(separator: ", "))")
                        failed = true
                        continue
                    }
                    mask |= 1 << UInt64(i)
                }
                bands.append(.init(from: nil, to: nil, options: mask, label: band.text("label") ?? names.map(\.0).joined(separator: ", "),
                                   span: item.span))
            default:
                failed = true
            }
        }
        guard !failed, !bands.isEmpty else {
            if bands.isEmpty && !failed { decoder.error("'bands' must not be empty", at: object["bands"]?.span, code: "empty") }
            return nil
        }
        return .init(input: slot, bands: bands, span: node.span)
    }

    private func compileGrid(_ grid: Object, id: String) -> (ValueType, DerivedValue.Rule)? {
        let rows = grid["rows"].flatMap { gridAxis($0, axis: "rows", id: id) }
        let columns = grid["columns"].flatMap { gridAxis($0, axis: "columns", id: id) }
        guard let cellsNode = grid["cells"], let cellRows = cellsNode.sequence, !cellRows.isEmpty else {
            decoder.error("'cells' of grid '\(id)' must be a list of rows, each a list of cells", at: grid["cells"]?.span, code: "wrong-type")
            return nil
        }
        guard let rows, let columns else { return nil }
        var failed = false
        if cellRows.count != rows.bands.count {
            decoder.error(
                "grid '\(id)' has \(cellRows.count) row\(cellRows.count == 1 ? "" : "s") of cells, but \(rows.bands.count) row band\(rows.bands.count == 1 ? "" : "s"): "
                    + "every combination needs exactly one cell",
                at: cellRows.count < rows.bands.count ? cellsNode.span : cellRows[rows.bands.count].span, code: "grid-shape",
                hint: "write one list of \(columns.bands.count) cells per row band, in the rows' order")
            failed = true
        }
        var results: [(ScalarValue, SourceSpan)] = []
        for (r, row) in cellRows.enumerated() {
            guard let items = row.sequence else {
                decoder.error("row \(r + 1) of grid '\(id)' must be a list of cells; found \(row.kindDescription)", at: row.span, code: "wrong-type")
                failed = true
                continue
            }
            if items.count != columns.bands.count {
                let label = r < rows.bands.count ? " (\(rows.bands[r].label ?? DerivedValue.Grid.describe(rows.bands[r])))" : ""
                decoder.error(
                    "row \(r + 1)\(label) of grid '\(id)' has \(items.count) cell\(items.count == 1 ? "" : "s"), but there are \(columns.bands.count) column bands: "
                        + (items.count < columns.bands.count ? "a cell is missing" : "there are cells too many"),
                    at: items.count > columns.bands.count ? items[columns.bands.count].span : row.span, code: "grid-shape",
                    hint: "one cell per column band, in the columns' order")
                failed = true
            }
            for item in items {
                guard let result = literal(item, what: "a cell of grid '\(id)'") else { failed = true; continue }
                results.append(result)
            }
        }
        guard !failed, let (type, values) = type(of: results, id: id) else { return nil }
        return (type, .grid(DerivedValue.Grid(rows: rows, columns: columns, cells: values, rowSpans: cellRows.map(\.span))))
    }

    private func compileCases(_ items: [Node], id: String, entry: Entry) -> (ValueType, DerivedValue.Rule)? {
        var raw: [(CompiledExpression?, (ScalarValue, SourceSpan), String?, Provenance?, SourceSpan)] = []
        var failed = false
        for item in items {
            guard let object = decoder.object(item, "a case of value '\(id)'",
                                              allowed: ["when", "value", "label"] + Self.provenanceKeys,
                                              required: ["value"]),
                  let valueNode = object["value"], let result = literal(valueNode, what: "a case's value")
            else {
                failed = true
                continue
            }
            var condition: CompiledExpression?
            if let when = object["when"] {
                condition = expression(when, origin: entry.origin, expecting: .bool, what: "a case of '\(id)'")
                if condition == nil { failed = true }
            }
            raw.append((condition, result, object.text("label"), provenance(object, of: entry, required: false), item.span))
        }
        guard !failed, let (type, results) = type(of: raw.map(\.1), id: id) else { return nil }
        let cases = zip(raw, results).map { r, value in
            DerivedValue.Case(condition: r.0, value: value, label: r.2, provenance: r.3, span: r.4)
        }
        return (type, .cases(cases))
    }
}
