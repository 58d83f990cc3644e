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
    }

    func compileValues() {
        let entries = sections[.values, default: []].filter { !poisoned.contains($0.id) }
        // First pass: each value's shape and the names it depends on.
        var shapes: [String: (Entry, Object, ValueShape)] = [:]
        var dependencies: [String: [(String, SourceSpan)]] = [:]
        let ids = Set(entries.map(\.id))
        for entry in entries {
            guard let object = object(entry, .values, allowed: ["title", "expr", "table", "cases"]) else {
                poisoned.insert(entry.id)
                continue
            }
            let given = ["expr", "table", "cases"].filter { object.has($0) }
            guard given.count == 1 else {
                decoder.error(
                    given.isEmpty ? "value '\(entry.id)' needs one of 'expr', 'table' or 'cases'"
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
            case .expression: partsCite = false
            }
            // Without its own citation, a value cites its first case or band.
            var firstPart: Node?
            switch shape {
            case .cases(let list): firstPart = list.first
            case .table(let table): firstPart = table["bands"]?.sequence?.first
            case .expression: firstPart = nil
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
