import RulebookDiagnostics

/// Checks that need the whole compiled policy: lookup tables with gaps or overlaps,
/// unreachable cases, duties that can never apply, roles that may not take their own
/// duty's actions, prohibitions that contradict duties, a past review date, and the list
/// of assumptions an admin must confirm.
struct PolicyChecks {
    let policy: Policy
    let compiler: PolicyCompiler

    private var decoder: NodeDecoder { compiler.decoder }

    func run() {
        checkReviewDate()
        checkProbes()
        checkSections()
        checkTables()
        checkGrids()
        checkArithmetic()
        checkCalendar()
        checkCases()
        checkDutyPermissions()
        checkProhibitions()
        // Deciding satisfiability evaluates the policy: only sound once it compiled cleanly.
        if compiler.options.reviewChecks && !decoder.bag.hasErrors {
            checkSatisfiable()
        }
        if compiler.options.reviewChecks {
            checkCoverage()
            checkQuotations()
        }
        if compiler.options.listAssumptions { listAssumptions() }
    }

    /// Every citation names a clause of the outline, every `not_encoded` entry too, and
    /// every clause that states an obligation is encoded or explained.
    private func checkCoverage() {
        let report = CoverageReport(policy: policy)
        for stray in report.strayCitations {
            decoder.error(
                "\(stray.rule.kind) '\(stray.rule.id)' cites clause '\(stray.citation)', which is not in \(stray.policy)'s outline",
                at: stray.span, code: "unknown-clause",
                hint: "cite a clause the outline quotes (rulebook coverage \(policy.id) --all lists them), or add it to the outline")
        }
        for stray in report.strayExplanations {
            decoder.error("'not_encoded' names clause '\(stray.clause)', which is not in \(stray.policy)'s outline", at: stray.span,
                          code: "unknown-clause")
        }
        for entry in report.entries where entry.status == .uncovered {
            let under = entry.unit.policy == policy.id ? "" : " (under '\(policy.id)')"
            decoder.warning(
                "clause \(report.label(entry.unit)) states an obligation that no rule encodes\(under): \"\(CoverageReport.excerpt(entry.unit.text))\"",
                at: entry.unit.span, code: "uncovered-clause",
                hint: "encode it and cite it, or say why not under not_encoded: {\"\(report.label(entry.unit))\": reason}")
        }
    }

    /// Every sentence a quoted field gives as the document's (an outline item's `must`,
    /// `why`, `how` and `text`, a duty's `must`, `why` and `how`) is in the document,
    /// word for word once case, punctuation, line breaks and list markers are set aside.
    private func checkQuotations() {
        var documents: [String: String] = [:]   // policy id -> normalised document
        for header in policy.lineage {
            guard let name = header.source else { continue }
            if let text = compiler.options.sources[name] {
                documents[header.id] = " " + ClauseSplitter.normalised(text) + " "
            }
        }
        guard !documents.isEmpty else { return }
        func check(_ quoted: String?, field: String, of what: String, policy id: String, at span: SourceSpan?) {
            guard let quoted, let document = documents[id] else { return }
            for sentence in Self.sentences(quoted) where !document.contains(" " + sentence + " ") {
                decoder.error(
                    "the \(field) of \(what) quotes words the document does not have: \"\(CoverageReport.excerpt(sentence))\"",
                    at: span, code: "misquoted",
                    hint: "quote the document word for word; an editorial remark belongs in a note or an assumption, "
                        + "and a summary under `summary:`")
            }
        }
        for item in policy.outline where item.policy == policy.id || documents[item.policy] != nil {
            for field in ["must", "why", "how", "text"] {
                let value = field == "must" ? item.must : field == "why" ? item.why : field == "how" ? item.how : item.text
                check(value, field: field, of: "outline clause \(item.clause)", policy: item.policy, at: item.spans[field] ?? item.span)
            }
        }
        for duty in policy.duties {
            check(duty.must, field: "must", of: "duty '\(duty.id)'", policy: duty.provenance.policy, at: duty.span)
            check(duty.why, field: "why", of: "duty '\(duty.id)'", policy: duty.provenance.policy, at: duty.span)
            check(duty.how, field: "how", of: "duty '\(duty.id)'", policy: duty.provenance.policy, at: duty.span)
        }
    }

    /// A quotation's sentences, normalised; a leading or trailing "..." marks a part.
    static func sentences(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        let characters = Array(text)
        for (i, ch) in characters.enumerated() {
            current.append(ch)
            let next = i + 1 < characters.count ? characters[i + 1] : " "
            let ends = (ch == "." || ch == "?" || ch == "!" || ch == ";" || ch == ":") && (next == " " || next == "\n")
            if ends || ch == "\n" {
                out.append(current)
                current = ""
            }
        }
        out.append(current)
        return out.map(ClauseSplitter.normalised).filter { $0.split(separator: " ").count >= 2 }
    }

    /// `deadline(x)` of a duty with no deadline is always unknown, and `late(x)` always
    /// false: almost certainly not what the policy means.
    private func checkProbes() {
        for probe in policy.probes where probe.kind == .deadline || probe.kind == .late {
            guard policy.duties.indices.contains(probe.target) else { continue }
            let duty = policy.duties[probe.target]
            guard duty.deadline == nil else { continue }
            let message = "\(probe.kind.rawValue)(\(duty.id)) asks about a duty with no deadline ('within'): "
                + (probe.kind == .deadline ? "it is always unknown" : "it is always false")
            if probe.kind == .deadline {
                decoder.error(message, at: duty.span, code: "no-deadline", hint: "give duty '\(duty.id)' a `within:`, or ask about another duty")
            } else {
                decoder.warning(message, at: duty.span, code: "no-deadline", hint: "give duty '\(duty.id)' a `within:`")
            }
        }
    }

    /// With `layout: sections`, `show` puts each duty under the section its clause falls
    /// in: one whose clause falls in none is listed under "Other duties", away from its text.
    private func checkSections() {
        guard policy.layout == .sections else { return }
        let clauses = Set(policy.outline.filter { $0.policy == policy.id }.map(\.clause))
        guard !clauses.isEmpty else { return }
        for duty in policy.duties where duty.provenance.policy == policy.id {
            guard let clause = duty.provenance.clause, !clauses.contains(policy.outlineSection(for: clause)) else { continue }
            decoder.warning(
                "duty '\(duty.id)' cites clause \(clause), which falls under no section of the outline: `show` lists it under \"Other duties\"",
                at: duty.provenance.span ?? duty.span, code: "no-section",
                hint: "cite the clause as the outline numbers it, or add its section to the outline")
        }
    }

    /// A working-day calendar that ends within a year (or has ended) will soon leave
    /// deadlines it cannot compute.
    private func checkCalendar() {
        guard let calendar = policy.clock.calendar, let today = compiler.options.today, today + 366 > calendar.lastDay else { return }
        let node = compiler.chain.lazy.compactMap { $0.root["calendar"] }.first
        decoder.warning(
            "the working-day calendar '\(calendar.id)' ends on \(Timestamp.formatDate(calendar.lastDay)); a deadline counted past it cannot be computed",
            at: node?.span, code: "calendar-ending", hint: "add the next years' holidays to \(calendar.file)")
    }

    private func checkReviewDate() {
        guard let today = compiler.options.today, let review = policy.control.nextReviewDay, review < today else { return }
        decoder.warning(
            "the next review date (\(policy.control.nextReview ?? "")) has passed; the policy may be out of date",
            at: policy.control.nextReviewSpan, code: "review-overdue",
            hint: "review the policy against its document and update document_control")
    }

    // MARK: Tables and cases

    private func checkTables() {
        for value in policy.values {
            guard case .table(let input, let bands) = value.rule else { continue }
            let sorted = bands.sorted { ($0.from ?? .min) < ($1.from ?? .min) }
            let possible = possibleValues(of: input)
            for (a, b) in zip(sorted, sorted.dropFirst()) {
                let aTo = a.to ?? .max
                let bFrom = b.from ?? .min
                if aTo < .max, bFrom > aTo + 1, let possible, !possible.contains(where: { $0 > aTo && $0 < bFrom }) {
                    continue  // a gap the input can never fall in (7 is no product of two 1–5 numbers)
                }
                if bFrom <= aTo {
                    decoder.error(
                        "bands of '\(value.id)' overlap: \(a.rangeDescription) and \(b.rangeDescription)", at: b.span,
                        code: "table-overlap", notes: [Diagnostic.Note("the other band", at: a.span)])
                } else if aTo < .max, bFrom > aTo + 1 {
                    decoder.error(
                        "bands of '\(value.id)' leave a gap: nothing covers \(aTo + 1)\(bFrom - 1 > aTo + 1 ? "–\(bFrom - 1)" : "")",
                        at: b.span, code: "table-gap", hint: "start this band at \(aTo + 1), or add a band for the gap")
                }
            }
            checkCoverage(of: sorted.map { (from: $0.from, to: $0.to, span: $0.span) }, input: input, what: "'\(value.id)'")
        }
    }

    /// Every integer a derived value can take, found by trying every answer to the facts
    /// behind it, when they are few (bounded integers, options, booleans); nil otherwise.
    private func possibleValues(of slot: Int) -> [Int]? {
        guard slot >= policy.facts.count, slot < policy.facts.count + policy.values.count else { return nil }
        var inputs: [Int] = []
        var seen: Set<Int> = []
        func walk(_ s: Int) -> Bool {
            guard seen.insert(s).inserted else { return true }
            if s < policy.facts.count {
                inputs.append(s)
                return true
            }
            guard s < policy.facts.count + policy.values.count else { return false }
            switch policy.values[s - policy.facts.count].rule {
            case .expression(let e): return e.expr.actions.isEmpty && e.slots.allSatisfy(walk)
            case .table(let input, _): return walk(input)
            case .cases(let cases):
                return cases.allSatisfy { $0.condition.map { $0.expr.actions.isEmpty && $0.slots.allSatisfy(walk) } ?? true }
            case .grid(let grid): return walk(grid.rows.input) && walk(grid.columns.input)
            }
        }
        guard walk(slot) else { return nil }
        var candidates: [[Value]] = []
        var product = 1
        for s in inputs {
            let fact = policy.facts[s]
            var list: [Value]
            switch fact.type {
            case .bool: list = [.bool(false), .bool(true)]
            case .option(let d): list = d.options.indices.map { .option($0) }
            case .options(let d):
                guard d.options.count <= 8 else { return nil }
                list = (0..<(1 << d.options.count)).map { .options(UInt64($0)) }
            case .int:
                guard let low = fact.minimum, let high = fact.maximum else { return nil }
                let (span, overflow) = high.subtractingReportingOverflow(low)
                guard !overflow, span <= 1000 else { return nil }
                list = (low...high).map { .int($0) }
            case .text, .datetime, .duration: return nil
            }
            product *= list.count
            guard product <= 50_000 else { return nil }
            candidates.append(list)
        }
        var state = SlotValues(policy: policy)
        var found: Set<Int> = []
        func assign(_ i: Int) {
            if i == inputs.count {
                policy.deriveValues(&state)
                if case .int(let n) = state.slots[slot] { found.insert(n) }
                return
            }
            for candidate in candidates[i] {
                state.slots[inputs[i]] = candidate
                assign(i + 1)
            }
        }
        assign(0)
        return found.sorted()
    }

    /// The integers an input can take: a fact's `min` (or 0) to `max`; a derived value's
    /// from its rule (a product of two 1–5 inputs is 1–25).
    private func domain(of input: Int) -> (range: IntRange, derived: Bool) {
        if input < policy.facts.count {
            return (IntRange(policy.facts[input].minimum ?? 0, policy.facts[input].maximum), false)
        }
        let range = policy.range(ofSlot: input)
        return (IntRange(range.lower ?? 0, range.upper), true)
    }

    /// Bands (sorted by `from`) must cover every number the input can take.
    private func checkCoverage(of sorted: [(from: Int?, to: Int?, span: SourceSpan)], input: Int, what: String) {
        var (domain, derived) = self.domain(of: input)
        let inputID = policy.slotID(input)
        let possible = possibleValues(of: input)
        if let possible {
            if let low = possible.first, let high = possible.last { domain = IntRange(low, high) }
            // A band no value falls in can never be chosen.
            for band in sorted where !possible.contains(where: { n in (band.from.map { n >= $0 } ?? true) && (band.to.map { n <= $0 } ?? true) }) {
                decoder.warning(
                    "a band of \(what) (\(DerivedValue.Band(from: band.from, to: band.to, value: .unknown, span: band.span).rangeDescription)) can never be chosen: "
                        + "'\(inputID)' can only be \(Self.describe(possible))",
                    at: band.span, code: "unreachable")
            }
        } else if !derived, let low = domain.lower {
            for band in sorted where (band.to.map { $0 < low } ?? false) || (band.from.map { f in domain.upper.map { f > $0 } ?? false } ?? false) {
                decoder.warning(
                    "a band of \(what) (\(DerivedValue.Band(from: band.from, to: band.to, value: .unknown, span: band.span).rangeDescription)) can never be chosen: "
                        + "'\(inputID)' is \(domain)",
                    at: band.span, code: "unreachable")
            }
        }
        if let first = sorted.first, let from = first.from, let low = domain.lower, from > low {
            let hint: String? = derived
                ? "'\(inputID)' can be \(domain) (from its definition): start the first band at \(low)"
                : (policy.facts[input].minimum == nil ? "start the first band at 0, or give the input fact a `min:`" : nil)
            decoder.error(
                "no band of \(what) covers \(low == from - 1 ? "\(low)" : "\(low)–\(from - 1)")", at: first.span,
                code: "table-gap", hint: hint)
        }
        if let last = sorted.last, let to = last.to, to < (domain.upper ?? .max) {
            decoder.error(
                "no band of \(what) covers numbers above \(to)", at: last.span, code: "table-gap",
                hint: derived && domain.upper != nil
                    ? "'\(inputID)' can be \(domain) (from its definition): end the last band at \(domain.upper!), or leave out its 'to'"
                    : "leave out 'to' on the last band to cover everything above it, or give the input a `max:`")
        }
    }

    /// `1–6, 8–10, 12, 15, 16, 18, 20, 24, 25`: a set of integers, with runs joined.
    static func describe(_ numbers: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < numbers.count {
            var j = i
            while j + 1 < numbers.count, numbers[j + 1] == numbers[j] + 1 { j += 1 }
            parts.append(j > i + 1 ? "\(numbers[i])–\(numbers[j])" : j == i + 1 ? "\(numbers[i]), \(numbers[j])" : "\(numbers[i])")
            i = j + 1
        }
        return parts.joined(separator: ", ")
    }

    /// Every combination of a grid has exactly one cell: its bands neither overlap nor
    /// leave gaps over what each input can take, and an enum input's options each fall in
    /// exactly one band.
    private func checkGrids() {
        for value in policy.values {
            guard case .grid(let grid) = value.rule else { continue }
            for (name, axis) in [("row", grid.rows), ("column", grid.columns)] {
                let what = "the \(name)s of grid '\(value.id)'"
                if case .option(let domain) = policy.slotType(axis.input) {
                    var seen: UInt64 = 0
                    for band in axis.bands {
                        let repeated = seen & band.options
                        if repeated != 0 {
                            let names = domain.options.indices.filter { repeated & (1 << UInt64($0)) != 0 }.map { domain.options[$0].id }
                            decoder.error("\(name)s of grid '\(value.id)' overlap: \(names.joined(separator: ", ")) fall\(names.count == 1 ? "s" : "") in two \(name)s",
                                          at: band.span, code: "table-overlap")
                        }
                        seen |= band.options
                    }
                    let missing = domain.options.indices.filter { seen & (1 << UInt64($0)) == 0 }.map { domain.options[$0].id }
                    if !missing.isEmpty {
                        decoder.error("no \(name) of grid '\(value.id)' holds \(missing.joined(separator: ", ")) (an option of \(domain.owner))",
                                      at: axis.span, code: "table-gap", hint: "add it to a band, or give it a \(name) of its own")
                    }
                    continue
                }
                let sorted = axis.bands.sorted { ($0.from ?? .min) < ($1.from ?? .min) }
                let possible = possibleValues(of: axis.input)
                for (a, b) in zip(sorted, sorted.dropFirst()) {
                    let aTo = a.to ?? .max
                    let bFrom = b.from ?? .min
                    if aTo < .max, bFrom > aTo + 1, let possible, !possible.contains(where: { $0 > aTo && $0 < bFrom }) { continue }
                    let aText = DerivedValue.Grid.describe(a), bText = DerivedValue.Grid.describe(b)
                    if bFrom <= aTo {
                        decoder.error("\(name)s of grid '\(value.id)' overlap: \(aText) and \(bText)", at: b.span, code: "table-overlap",
                                      notes: [Diagnostic.Note("the other band", at: a.span)])
                    } else if aTo < .max, bFrom > aTo + 1 {
                        decoder.error(
                            "\(name)s of grid '\(value.id)' leave a gap: nothing covers \(aTo + 1)\(bFrom - 1 > aTo + 1 ? "–\(bFrom - 1)" : "")",
                            at: b.span, code: "table-gap", hint: "start this band at \(aTo + 1), or add a band for the gap")
                    }
                }
                checkCoverage(of: sorted.map { (from: $0.from, to: $0.to, span: $0.span) }, input: axis.input, what: what)
            }
        }
    }

    /// Arithmetic that may overflow or divide by zero gives unknown: say where, so the
    /// admin can bound the inputs.
    private func checkArithmetic() {
        func review(_ compiled: CompiledExpression?, what: String, at span: SourceSpan) {
            guard let compiled else { return }
            compiled.expr.visit { node in
                switch node {
                case .multiply(let a, let b):
                    let range = a.range(policy.range(ofSlot:)) * b.range(policy.range(ofSlot:))
                    if !range.isBounded {
                        decoder.warning(
                            "`\(compiled.source)` in \(what) multiplies numbers with no bound: a product too large for the engine is unknown",
                            at: span, code: "may-overflow", hint: "give the integer facts it reads a `min:` and a `max:`")
                    }
                case .divide(_, let b), .remainder(_, let b):
                    if b.range(policy.range(ofSlot:)).contains(0) {
                        decoder.warning(
                            "`\(compiled.source)` in \(what) may divide by zero: the result is then unknown", at: span, code: "divide-by-zero",
                            hint: "give the divisor a `min: 1`, or guard it: `known(x) && x > 0`")
                    }
                default: break
                }
            }
        }
        for value in policy.values {
            switch value.rule {
            case .expression(let e): review(e, what: "value '\(value.id)'", at: value.span)
            case .cases(let cases): for c in cases { review(c.condition, what: "a case of '\(value.id)'", at: c.span) }
            case .table, .grid: break
            }
        }
        for duty in policy.duties { review(duty.condition, what: "duty '\(duty.id)'", at: duty.span) }
        for constraint in policy.constraints { review(constraint.rule, what: "constraint '\(constraint.id)'", at: constraint.span) }
    }

    private func checkCases() {
        for value in policy.values {
            guard case .cases(let cases) = value.rule else { continue }
            if let otherwise = cases.firstIndex(where: { $0.condition == nil }), otherwise < cases.count - 1 {
                decoder.error(
                    "cases of '\(value.id)' after the one without 'when' can never be chosen", at: cases[otherwise + 1].span,
                    code: "unreachable", notes: [Diagnostic.Note("this case has no 'when', so it always applies", at: cases[otherwise].span)])
            }
            if cases.last?.condition != nil {
                decoder.warning(
                    "no case of '\(value.id)' applies when every 'when' is false; the value is then unknown",
                    at: value.span, code: "no-otherwise", hint: "end the cases with one that has no 'when'")
            }
        }
    }

    // MARK: Roles and prohibitions

    private func checkDutyPermissions() {
        for duty in policy.duties {
            for role in duty.roles {
                let allowed = duty.actions.contains { action in
                    guard let permitted = policy.actions[action].roles else { return true }
                    return permitted.contains(role) || policy.roles[role].standIns.contains { permitted.contains($0) }
                        || permitted.contains { policy.roles[$0].standIns.contains(role) }
                }
                if !allowed {
                    decoder.error(
                        "duty '\(duty.id)' falls to \(policy.roles[role].id), but none of its actions "
                            + "(\(duty.actions.map { policy.actions[$0].id }.joined(separator: ", "))) permits that role",
                        at: duty.span, code: "role-not-permitted",
                        hint: "add '\(policy.roles[role].id)' to the action's roles")
                }
            }
        }
    }

    private func checkProhibitions() {
        for prohibition in policy.prohibitions {
            for duty in policy.duties {
                let roles = Set(duty.roles).intersection(prohibition.roles)
                let actions = Set(duty.actions).intersection(prohibition.actions)
                // A duty whose every alternative is forbidden to its role cannot be met.
                if !roles.isEmpty, Set(duty.actions).isSubset(of: prohibition.actions), !actions.isEmpty {
                    decoder.error(
                        "duty '\(duty.id)' requires what prohibition '\(prohibition.id)' forbids",
                        at: duty.span, code: "contradiction",
                        notes: [Diagnostic.Note("the prohibition", at: prohibition.span)])
                }
            }
        }
    }

    // MARK: Satisfiability

    /// Decides, where the inputs have finite domains, whether each duty's condition can
    /// ever hold and whether each case can ever be chosen, by trying every combination of
    /// the facts it depends on (up to a bound). Integer facts that only feed lookup tables
    /// are tried at one point per band, which is exact.
    private func checkSatisfiable() {
        for duty in policy.duties {
            guard let condition = duty.condition, let domains = domains(for: condition.slots) else { continue }
            if !canBeTrue(condition, domains: domains) {
                decoder.error(
                    "duty '\(duty.id)' can never apply: its condition `\(condition.source)` is false for every answer to "
                        + domains.map { policy.slotID($0.slot) }.joined(separator: ", "),
                    at: duty.span, code: "never-applies")
            }
        }
        for value in policy.values {
            guard case .cases(let cases) = value.rule else { continue }
            for (i, c) in cases.enumerated() {
                // First match: a case is chosen only when every earlier case fails.
                guard let condition = c.condition else { continue }
                let earlier = cases[..<i].compactMap(\.condition)
                let slots = Array(Set(condition.slots + earlier.flatMap(\.slots))).sorted()
                guard let domains = domains(for: slots), !earlier.contains(where: { !$0.expr.actions.isEmpty }) else { continue }
                let chosen = canBeTrue(condition, domains: domains) { state in
                    earlier.allSatisfy { if case .bool(false) = $0.expr.evaluate(state) { return true } else { return false } }
                }
                if !chosen {
                    decoder.warning(
                        "this case of '\(value.id)' can never be chosen: `\(condition.source)` never holds when the cases before it fail",
                        at: c.span, code: "unreachable")
                }
            }
        }
    }

    private struct Domain {
        var slot: Int
        var candidates: [Value]
    }

    /// The fact domains behind `slots` (through values), or nil when some input is not
    /// finite (text, datetime, an integer used in arithmetic) or the product is too big.
    private func domains(for slots: [Int]) -> [Domain]? {
        var factSlots: [Int] = []
        var tableOnlyIntegers: [Int: [Int]] = [:]  // fact slot -> band representatives
        var arithmeticIntegers: Set<Int> = []
        var visited: Set<Int> = []
        var probeSlots: [Int] = []
        func points(_ bands: [(from: Int?, to: Int?)]) -> [Int] {
            bands.map { $0.from ?? ($0.to ?? 0) } + bands.compactMap { $0.to.flatMap { $0 == .max ? nil : $0 + 1 } }
        }
        func walk(_ slot: Int, viaTable bands: [(from: Int?, to: Int?)]?) {
            if policy.probe(atSlot: slot) != nil {
                // done()/late() are free inputs here, tried both ways; a datetime is not finite.
                if !probeSlots.contains(slot) { probeSlots.append(slot) }
                return
            }
            if slot < policy.facts.count {
                if !factSlots.contains(slot) { factSlots.append(slot) }
                if policy.facts[slot].type == .int {
                    if let bands {
                        tableOnlyIntegers[slot, default: []] += points(bands) + [policy.facts[slot].minimum ?? 0]
                    } else {
                        arithmeticIntegers.insert(slot)
                    }
                }
                return
            }
            guard visited.insert(slot).inserted else { return }
            let value = policy.values[slot - policy.facts.count]
            switch value.rule {
            case .expression(let e): e.slots.forEach { walk($0, viaTable: nil) }
            case .table(let input, let bands): walk(input, viaTable: bands.map { ($0.from, $0.to) })
            case .cases(let cases): cases.compactMap(\.condition).flatMap(\.slots).forEach { walk($0, viaTable: nil) }
            case .grid(let grid):
                for axis in [grid.rows, grid.columns] { walk(axis.input, viaTable: axis.bands.map { ($0.from, $0.to) }) }
            }
        }
        slots.forEach { walk($0, viaTable: nil) }
        var result: [Domain] = []
        var product = 1
        for slot in factSlots {
            let candidates: [Value]
            switch policy.facts[slot].type {
            case .bool: candidates = [.bool(false), .bool(true)]
            case .option(let d): candidates = d.options.indices.map { .option($0) }
            case .options(let d):
                guard d.options.count <= 8 else { return nil }
                candidates = (0..<(1 << d.options.count)).map { .options(UInt64($0)) }
            case .int:
                guard !arithmeticIntegers.contains(slot), let points = tableOnlyIntegers[slot] else { return nil }
                candidates = Array(Set(points)).sorted().map { .int($0) }
            case .text, .datetime, .duration:
                return nil
            }
            product *= candidates.count
            if product > 20_000 { return nil }
            result.append(Domain(slot: slot, candidates: candidates))
        }
        for slot in probeSlots {
            guard policy.slotType(slot) == .bool else { return nil }
            product *= 2
            if product > 20_000 { return nil }
            result.append(Domain(slot: slot, candidates: [.bool(false), .bool(true)]))
        }
        return result
    }

    private func canBeTrue(
        _ condition: CompiledExpression, domains: [Domain], also: (SlotValues) -> Bool = { _ in true }
    ) -> Bool {
        var state = SlotValues(policy: policy)
        // occurred(...) is an input too: try it both ways.
        let actions = condition.expr.actions
        func assign(_ i: Int) -> Bool {
            if i == domains.count { return tryActions(0) }
            for candidate in domains[i].candidates {
                state.slots[domains[i].slot] = candidate
                if assign(i + 1) { return true }
            }
            return false
        }
        func tryActions(_ i: Int) -> Bool {
            if i == actions.count {
                policy.deriveValues(&state)
                if case .bool(true) = condition.expr.evaluate(state), also(state) { return true }
                return false
            }
            for flag in [false, true] {
                state.occurred[actions[i]] = flag
                if tryActions(i + 1) { return true }
            }
            return false
        }
        return assign(0)
    }

    // MARK: Assumptions

    /// One note per assumption, so an admin sees everything the document did not state.
    private func listAssumptions() {
        func note(_ what: String, _ provenance: Provenance?, _ span: SourceSpan) {
            guard let provenance, let text = provenance.assumption else { return }
            decoder.note("assumption in \(what): \(text)", at: provenance.span ?? span, code: "assumption")
        }
        for term in policy.terms { note("term '\(term.id)'", term.provenance, term.span) }
        for role in policy.roles { note("role '\(role.id)'", role.provenance, role.span) }
        for fact in policy.facts {
            note("fact '\(fact.id)'", fact.provenance, fact.span)
            switch fact.type {
            case .option(let d), .options(let d):
                for option in d.options { note("option '\(option.id)' of '\(fact.id)'", option.provenance, fact.span) }
            default: break
            }
        }
        for value in policy.values {
            note("value '\(value.id)'", value.provenance, value.span)
            switch value.rule {
            case .table(_, let bands): for band in bands { note("a band of '\(value.id)'", band.provenance, band.span) }
            case .cases(let cases): for c in cases { note("a case of '\(value.id)'", c.provenance, c.span) }
            case .expression, .grid: break
            }
        }
        for action in policy.actions { note("action '\(action.id)'", action.provenance, action.span) }
        for duty in policy.duties { note("duty '\(duty.id)'", duty.provenance, duty.span) }
        for prohibition in policy.prohibitions { note("prohibition '\(prohibition.id)'", prohibition.provenance, prohibition.span) }
        for constraint in policy.constraints { note("constraint '\(constraint.id)'", constraint.provenance, constraint.span) }
    }
}
