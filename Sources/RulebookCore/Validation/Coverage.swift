import RulebookDiagnostics

/// One numbered part of the document as the policy's outline quotes it: a point, a
/// section's clause (`4.6`, `9.3.2.1`) or a lettered item (`3.h`).
public struct ClauseUnit: Sendable {
    /// The policy whose outline holds it.
    public var policy: String
    /// Its number as the document gives it (a second `5.1` is `5.1 (second)`).
    public var id: String
    /// Its words.
    public var text: String
    /// Whether it states an obligation or a rule (must, shall, will, should, is
    /// responsible, is required, needs to, may only; or a MUST point).
    public var obligation: Bool
    /// Where it is in the policy file (its line, where the outline quotes it in a block).
    public var span: SourceSpan
}

/// Splits an outline's quoted text into its numbered clauses. Generic: it knows numbering
/// schemes (`4.6`, `9.3.2.1`, `a.`), never a document.
public enum ClauseSplitter {
    /// The words that make a clause an obligation or a rule.
    static let obligationWords = [
        "must", "shall", "will", "should", "is responsible", "are responsible", "is required", "are required",
        "need to", "needs to", "may only", "must not",
    ]

    /// Whether `text` states an obligation or a rule.
    public static func statesObligation(_ text: String) -> Bool {
        let words = " " + normalised(text) + " "
        return obligationWords.contains { words.contains(" " + $0 + " ") }
    }

    /// Lower case, letters and digits only, single spaces: how quotations and keywords are
    /// compared (case, punctuation, line breaks and emphasis do not matter).
    public static func normalised(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var space = true
        for ch in text.lowercased() {
            if ch.isLetter || ch.isNumber {
                out.append(ch)
                space = false
            } else if ch == "’" || ch == "'" {
                continue   // "asset's" and "assets" read alike
            } else if !space {
                out.append(" ")
                space = true
            }
        }
        if out.hasSuffix(" ") { out.removeLast() }
        return out
    }

    /// The units of every outline item, in order; repeated numbers get `(second)`, ...
    public static func units(of outline: [OutlineItem]) -> [ClauseUnit] {
        var out: [ClauseUnit] = []
        var seen: [String: Int] = [:]
        for item in outline {
            for var unit in units(of: item) {
                let key = unit.policy + "\u{0}" + unit.id
                let n = seen[key, default: 0]
                seen[key] = n + 1
                if n > 0 { unit.id += " (" + ordinal(n + 1) + ")" }
                out.append(unit)
            }
        }
        return out
    }

    private static func ordinal(_ n: Int) -> String {
        ["", "first", "second", "third", "fourth", "fifth"].indices.contains(n) ? ["", "first", "second", "third", "fourth", "fifth"][n] : "\(n)th"
    }

    /// One item's units: the item itself (its MUST, or the text before its first numbered
    /// part) and each numbered or lettered part.
    static func units(of item: OutlineItem) -> [ClauseUnit] {
        var out: [ClauseUnit] = []
        let fieldSpan = { (field: String) in item.spans[field] ?? item.span }
        var own = ""
        var ownObligation = false
        if let must = item.must {
            own = must
            ownObligation = true
        }
        for field in ["how", "text"] {
            guard let text = field == "how" ? item.how : item.text else { continue }
            let parts = split(text, clause: item.clause)
            for part in parts {
                if part.id == nil {
                    own += (own.isEmpty ? "" : " ") + part.text
                } else {
                    out.append(ClauseUnit(policy: item.policy, id: part.id!, text: part.text,
                                          obligation: statesObligation(part.text),
                                          span: located(fieldSpan(field), item: item.span, text: text, line: part.line)))
                }
            }
        }
        if let summary = item.summary, own.isEmpty { own = summary }
        let span = item.must != nil ? fieldSpan("must") : (item.text != nil ? fieldSpan("text") : item.span)
        let head = ClauseUnit(policy: item.policy, id: item.clause, text: own,
                              obligation: ownObligation || (item.summary == nil && statesObligation(own)), span: span)
        return [head] + out
    }

    /// Where the `line`-th line of `text` is, quoted at `field` in the outline item at
    /// `item`: a block scalar (`|`) starts on the line after its indicator, indented
    /// under the item's keys.
    private static func located(_ field: SourceSpan, item: SourceSpan, text: String, line: Int) -> SourceSpan {
        guard line > 0 else { return field.startOnly }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count - (text.hasSuffix("\n") ? 1 : 0)
        let block = field.end.line - field.start.line >= lines ? 1 : 0
        let position = SourcePosition(line: field.start.line + block + line, column: item.start.column + 2)
        return SourceSpan(file: field.file, start: position, end: position)
    }

    /// The parts of `text`: runs before the first number (id nil), then one per number
    /// that belongs to `clause` (`4.6` under `4`) or letter at a line's start (`a.`).
    static func split(_ text: String, clause: String) -> [(id: String?, text: String, line: Int)] {
        let numeric = clause.first?.isNumber == true && clause.allSatisfy { $0.isNumber || $0 == "." }
        var parts: [(id: String?, text: String, line: Int)] = [(nil, "", 0)]
        var line = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            defer { line += 1 }
            let trimmed = rawLine.drop { $0 == " " }
            // `a. ...` / `a) ...` at a line's start: a lettered item of this clause.
            if let letter = trimmed.first, letter.isLetter, letter.isLowercase, trimmed.count > 2,
               [".", ")"].contains(trimmed[trimmed.index(after: trimmed.startIndex)]),
               trimmed[trimmed.index(trimmed.startIndex, offsetBy: 2)] == " " {
                parts.append((clause + "." + String(letter), String(trimmed.dropFirst(3)), line))
                continue
            }
            guard numeric else {
                parts[parts.count - 1].text += (parts[parts.count - 1].text.isEmpty ? "" : " ") + trimmed
                continue
            }
            // Numbers such as 4.6 or 9.3.2.1, at the start or after a space, that belong
            // to this clause, each start a part.
            var current = ""
            var words = trimmed.split(separator: " ", omittingEmptySubsequences: true).map(String.init)[...]
            while let word = words.popFirst() {
                if isNumber(word, under: clause) {
                    if !current.isEmpty { parts[parts.count - 1].text += (parts[parts.count - 1].text.isEmpty ? "" : " ") + current }
                    current = ""
                    parts.append((word, "", line))
                } else {
                    current += (current.isEmpty ? "" : " ") + word
                }
            }
            if !current.isEmpty { parts[parts.count - 1].text += (parts[parts.count - 1].text.isEmpty ? "" : " ") + current }
        }
        return parts.filter { $0.id != nil || !$0.text.isEmpty }
    }

    /// `4.6` under `4`, `9.3.2.1` under `9`: dotted numbers starting with the clause's.
    private static func isNumber(_ word: String, under clause: String) -> Bool {
        guard word.hasPrefix(clause + "."), word.count > clause.count + 1 else { return false }
        let parts = word.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count >= 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}

/// What encodes each clause of a policy's document, what the policy explains instead, and
/// what nothing accounts for: `rulebook coverage`, and `validate`'s checks.
public struct CoverageReport: Sendable {
    /// A rule of the policy that cites clauses.
    public struct Rule: Sendable, Hashable {
        /// duty, prohibition, fact, value, term, role, action, constraint, definition.
        public var kind: String
        public var id: String
    }

    /// How one clause is accounted for.
    public enum Status: String, Sendable {
        case encoded, explained, uncovered
        /// States no obligation: nothing needs to account for it.
        case text
    }

    public struct Entry: Sendable {
        public var unit: ClauseUnit
        public var status: Status
        public var rules: [Rule]
        /// The `not_encoded` entry that explains it (its own, or its parent's).
        public var explanation: NotEncoded?
    }

    /// A citation that names no clause of the outline.
    public struct StrayCitation: Sendable {
        public var rule: Rule
        public var policy: String
        public var citation: String
        public var span: SourceSpan?
    }

    public let policy: Policy
    public var entries: [Entry] = []
    public var strayCitations: [StrayCitation] = []
    /// `not_encoded` entries that name no clause of the outline.
    public var strayExplanations: [NotEncoded] = []

    public var obligations: Int { entries.count { $0.status != .text } }
    public func count(_ status: Status) -> Int { entries.count { $0.status == status } }

    public init(policy: Policy) {
        self.policy = policy
        let units = ClauseSplitter.units(of: policy.outline)
        let outlined = Set(policy.outline.map(\.policy))
        var ids: [String: Set<String>] = [:]
        for unit in units { ids[unit.policy, default: []].insert(unit.id) }
        // Which units each rule cites.
        var citing: [String: [Rule]] = [:]
        func key(_ policy: String, _ id: String) -> String { policy + "\u{0}" + id }
        for (rule, provenance) in Self.rules(of: policy) {
            guard let clause = provenance.clause, outlined.contains(provenance.policy) else { continue }
            let known = ids[provenance.policy] ?? []
            for token in Self.tokens(clause) {
                guard let unit = Self.unit(for: token, among: known) else {
                    strayCitations.append(StrayCitation(rule: rule, policy: provenance.policy, citation: token, span: provenance.span))
                    continue
                }
                // A cited clause accounts for the clauses it belongs to as well.
                for id in Self.selfAndAncestors(unit) where known.contains(id) {
                    if !(citing[key(provenance.policy, id)]?.contains(rule) ?? false) { citing[key(provenance.policy, id), default: []].append(rule) }
                }
            }
        }
        var explanations: [String: NotEncoded] = [:]
        for entry in policy.notEncoded {
            if ids[entry.policy]?.contains(entry.clause) == true {
                explanations[key(entry.policy, entry.clause)] = entry
            } else {
                strayExplanations.append(entry)
            }
        }
        entries = units.map { unit in
            let rules = citing[key(unit.policy, unit.id)] ?? []
            // Its own explanation, or one of a clause it belongs to.
            let explanation = Self.selfAndAncestors(unit.id).lazy.compactMap { explanations[key(unit.policy, $0)] }.first
            let status: Status = !unit.obligation ? .text : !rules.isEmpty ? .encoded : explanation != nil ? .explained : .uncovered
            return Entry(unit: unit, status: status, rules: rules, explanation: explanation)
        }
    }

    /// `4.6; 6.1` and `5, 6`: the clauses one citation names.
    static func tokens(_ clause: String) -> [String] {
        clause.split(whereSeparator: { $0 == ";" || $0 == "," }).map { String(String($0).trimmingWhitespace) }.filter { !$0.isEmpty }
    }

    /// The unit a citation names: the same id, or an id it starts with followed by a space
    /// (`Appendix B example 1` names `Appendix B`).
    static func unit(for token: String, among ids: Set<String>) -> String? {
        if ids.contains(token) { return token }
        var best: String?
        for id in ids where token.hasPrefix(id + " ") && (best.map { id.count > $0.count } ?? true) { best = id }
        return best
    }

    /// `9.3.2.1`, `9.3.2`, `9.3`, `9`; `3.h`, `3`; a plain id alone.
    static func selfAndAncestors(_ id: String) -> [String] {
        guard id.first?.isNumber == true, !id.contains(" ") else { return [id] }
        var out = [id]
        var current = Substring(id)
        while let dot = current.lastIndex(of: ".") {
            current = current[..<dot]
            out.append(String(current))
        }
        return out
    }

    /// Every rule of the policy with a provenance.
    static func rules(of policy: Policy) -> [(Rule, Provenance)] {
        var out: [(Rule, Provenance)] = []
        for r in policy.roles { if let p = r.provenance { out.append((Rule(kind: "role", id: r.id), p)) } }
        for f in policy.facts {
            out.append((Rule(kind: "fact", id: f.id), f.provenance))
            switch f.type {
            case .option(let d), .options(let d):
                for o in d.options { if let p = o.provenance { out.append((Rule(kind: "fact", id: f.id + "." + o.id), p)) } }
            default: break
            }
        }
        for v in policy.values {
            out.append((Rule(kind: "value", id: v.id), v.provenance))
            switch v.rule {
            case .cases(let cases): for c in cases { if let p = c.provenance { out.append((Rule(kind: "value", id: v.id), p)) } }
            case .table(_, let bands): for b in bands { if let p = b.provenance { out.append((Rule(kind: "value", id: v.id), p)) } }
            case .grid: break
            case .expression: break
            }
        }
        for t in policy.terms { out.append((Rule(kind: "term", id: t.id), t.provenance)) }
        for a in policy.actions { if let p = a.provenance { out.append((Rule(kind: "action", id: a.id), p)) } }
        for d in policy.duties { out.append((Rule(kind: "duty", id: d.id), d.provenance)) }
        for p in policy.prohibitions { out.append((Rule(kind: "prohibition", id: p.id), p.provenance)) }
        for c in policy.constraints { out.append((Rule(kind: "constraint", id: c.id), c.provenance)) }
        for d in policy.definitions { out.append((Rule(kind: "definition", id: d.id), d.provenance)) }
        if let r = policy.report { out.append((Rule(kind: "periodic", id: "report"), r.provenance)) }
        if let r = policy.reminders { out.append((Rule(kind: "reminders", id: "reminders"), r.provenance)) }
        for d in policy.drafts { out.append((Rule(kind: "draft", id: d.id), d.provenance)) }
        return out
    }

    /// The unit's clause as shown: `4.6`, or `school-procedure 5.1` for a base's.
    public func label(_ unit: ClauseUnit) -> String {
        unit.policy == policy.id ? unit.id : unit.policy + " " + unit.id
    }

    // MARK: Output

    /// `rulebook coverage` for people: each obligation clause and what accounts for it.
    public func text(all: Bool = false) -> String {
        var out = "\(policy.organisation) — \(policy.title) (\(policy.id))\n\n"
        for entry in entries where all || entry.status != .text {
            let status = entry.status.rawValue.uppercased().padding(toLength: 10)
            out += "  \(status) \(label(entry.unit).padding(toLength: 12))"
            switch entry.status {
            case .encoded: out += entry.rules.map { "\($0.kind) \($0.id)" }.joined(by: ", ")
            case .explained:
                let own = entry.explanation!.clause == entry.unit.id ? "" : " (under \(entry.explanation!.clause))"
                out += "not encoded\(own): \(entry.explanation!.reason)"
            case .uncovered: out += "nothing encodes or explains: \"\(Self.excerpt(entry.unit.text))\""
            case .text: out += Self.excerpt(entry.unit.text)
            }
            out += "\n"
        }
        for stray in strayCitations {
            out += "  ERROR      \(stray.rule.kind) \(stray.rule.id) cites '\(stray.citation)', which is not a clause of \(stray.policy)'s outline\n"
        }
        for stray in strayExplanations {
            out += "  ERROR      not_encoded names '\(stray.clause)', which is not a clause of \(stray.policy)'s outline\n"
        }
        out += "\n\(summary)\n"
        return out
    }

    /// `N obligation clauses: E encoded, X explained, U uncovered`.
    public var summary: String {
        "\(obligations) obligation clause\(obligations == 1 ? "" : "s"): \(count(.encoded)) encoded, \(count(.explained)) explained, \(count(.uncovered)) uncovered"
    }

    static func excerpt(_ text: String) -> String {
        let flat = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return flat.count > 90 ? String(flat.prefix(87)) + "..." : flat
    }

    /// `rulebook coverage --format json` (Schemas/coverage.schema.json).
    public func json(pretty: Bool = true) -> String {
        var w = JSONWriter(pretty: pretty)
        writeJSON(&w)
        return w.text
    }

    public func writeJSON(_ w: inout JSONWriter) {
        w.object { w in
            w.field("policy", string: policy.id)
            w.field("obligations", int: obligations)
            w.field("encoded", int: count(.encoded))
            w.field("explained", int: count(.explained))
            w.field("uncovered", int: count(.uncovered))
            w.field("clauses") { w in
                w.array { w in
                    for entry in entries {
                        w.object { w in
                            w.field("clause", string: label(entry.unit))
                            w.field("policy", string: entry.unit.policy)
                            w.field("status", string: entry.status.rawValue)
                            w.field("obligation", bool: entry.unit.obligation)
                            w.field("text", string: entry.unit.text)
                            w.field("encoded_by") { w in
                                w.array { w in
                                    for r in entry.rules {
                                        w.object { w in
                                            w.field("kind", string: r.kind)
                                            w.field("id", string: r.id)
                                        }
                                    }
                                }
                            }
                            w.field("not_encoded", string: entry.explanation?.reason)
                            w.field("location") { $0.span(entry.unit.span) }
                        }
                    }
                }
            }
            w.field("stray_citations") { w in
                w.array { w in
                    for s in strayCitations {
                        w.object { w in
                            w.field("kind", string: s.rule.kind)
                            w.field("id", string: s.rule.id)
                            w.field("citation", string: s.citation)
                            w.field("location") { $0.span(s.span) }
                        }
                    }
                }
            }
            w.field("stray_explanations") { $0.array(strings: strayExplanations.map { $0.policy + " " + $0.clause }) }
        }
    }
}
