import RulebookDiagnostics
import RulebookYAML

/// Reads typed values out of YAML nodes, reporting every mismatch at its position and
/// carrying on, so one run lists every problem in a file.
final class NodeDecoder {
    /// Everything reported so far.
    var bag: DiagnosticBag

    init(errorLimit: Int = 200) {
        bag = DiagnosticBag(errorLimit: errorLimit)
    }

    func error(_ message: String, at span: SourceSpan?, code: String, hint: String? = nil, notes: [Diagnostic.Note] = []) {
        bag.error(message, at: span, code: code, hint: hint, notes: notes)
    }

    func warning(_ message: String, at span: SourceSpan?, code: String, hint: String? = nil) {
        bag.warning(message, at: span, code: code, hint: hint)
    }

    func note(_ message: String, at span: SourceSpan?, code: String, hint: String? = nil) {
        bag.note(message, at: span, code: code, hint: hint)
    }

    /// A mapping's fields, checked against the keys `what` may have. Unknown keys are
    /// errors with a "did you mean" hint; missing required keys are errors at the mapping.
    func object(_ node: Node, _ what: String, allowed: [String], required: [String] = []) -> Object? {
        guard let pairs = node.mapping else {
            error("\(what) must be a mapping of `key: value` lines; found \(node.kindDescription)", at: node.span,
                  code: "wrong-type")
            return nil
        }
        var fields: [String: Node.Pair] = [:]
        for pair in pairs {
            let name = pair.name
            guard allowed.contains(name) else {
                // `{label: 1,000 people}`: the comma ends the value and "000 people"
                // becomes a key with no value.
                let looksLikeSplitText = pair.value.scalar?.value == .null && pair.key.scalar?.style == .plain
                    && (name.contains(" ") || name.first?.isNumber == true)
                error("unknown key '\(name)' in \(what)", at: pair.key.span, code: "unknown-key",
                      hint: looksLikeSplitText
                          ? "inside { }, a comma ends a value: put quotes around text that holds a comma"
                          : Suggestions.didYouMean(name, among: allowed)
                              ?? "the keys of \(what) are: \(allowed.joined(separator: ", "))")
                continue
            }
            fields[name] = pair
        }
        for key in required where fields[key] == nil {
            error("\(what) needs '\(key)'", at: keySpan(node), code: "missing-key")
        }
        return Object(node: node, what: what, fields: fields, decoder: self)
    }

    /// The span of a mapping's first key, or the node: where "missing key" points.
    private func keySpan(_ node: Node) -> SourceSpan {
        node.mapping?.first?.key.span ?? node.span
    }

    /// The entries of a section mapping (`duties:`), as id, key node and value node.
    func entries(_ node: Node, _ what: String) -> [Node.Pair] {
        guard let pairs = node.mapping else {
            if case .scalar(let s) = node.content, s.value == .null { return [] }
            error("'\(what)' must be a mapping from ids to entries; found \(node.kindDescription)", at: node.span,
                  code: "wrong-type",
                  hint: node.sequence != nil ? "write each entry as `id:` followed by its fields, not as a list item" : nil)
            return []
        }
        return pairs
    }

    /// Checks an entry id: lowercase letters, digits and `_`, starting with a letter.
    func checkID(_ key: Node, _ what: String) -> Bool {
        let id = key.scalar?.text ?? ""
        guard Self.isIdentifier(id) else {
            error("\(what) id '\(id)' must be lowercase letters, digits and _, starting with a letter",
                  at: key.span, code: "bad-id",
                  hint: "e.g. '\(Self.suggestIdentifier(id))'")
            return false
        }
        if ["true", "false", "in", "and", "or", "not", "null"].contains(id) {
            error("'\(id)' is a reserved word and cannot be an id", at: key.span, code: "bad-id")
            return false
        }
        return true
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func suggestIdentifier(_ s: String) -> String {
        var out = ""
        for c in s.lowercased().unicodeScalars {
            if ("a"..."z").contains(c) || ("0"..."9").contains(c) { out.unicodeScalars.append(c) } else if !out.hasSuffix("_") {
                out += "_"
            }
        }
        while out.hasSuffix("_") { out.removeLast() }
        if out.isEmpty || !("a"..."z").contains(out.unicodeScalars.first!) { out = "x_" + out }
        return out
    }
}

/// The checked fields of one mapping, with typed accessors that report mismatches.
struct Object {
    let node: Node
    let what: String
    let fields: [String: Node.Pair]
    let decoder: NodeDecoder

    /// The raw value node of `key`.
    subscript(key: String) -> Node? { fields[key]?.value }

    /// The key node of `key` (for "defined here" notes).
    func keyNode(_ key: String) -> Node? { fields[key]?.key }

    func has(_ key: String) -> Bool { fields[key] != nil }

    /// Text of a scalar (numbers keep their text as written: `4.10`).
    func text(_ key: String) -> String? {
        guard let value = self[key] else { return nil }
        guard let scalar = value.scalar, scalar.value != .null else {
            decoder.error("'\(key)' in \(what) must be text; found \(value.kindDescription)", at: value.span,
                          code: "wrong-type")
            return nil
        }
        return scalar.text
    }

    /// A string that must be non-empty.
    func nonEmptyText(_ key: String) -> String? {
        guard let t = text(key) else { return nil }
        if t.trimmingWhitespace.isEmpty {
            decoder.error("'\(key)' in \(what) is empty", at: self[key]?.span, code: "empty")
            return nil
        }
        return t
    }

    /// An integer.
    func int(_ key: String) -> Int? {
        guard let value = self[key] else { return nil }
        guard case .int(let n)? = value.scalar?.value else {
            decoder.error("'\(key)' in \(what) must be an integer; found \(value.kindDescription)", at: value.span,
                          code: "wrong-type")
            return nil
        }
        return n
    }

    /// A boolean: only `true`/`false`. An unquoted yes/no/on/off gets a specific hint.
    func bool(_ key: String) -> Bool? {
        guard let value = self[key] else { return nil }
        return Object.bool(value, key: key, what: what, decoder: decoder)
    }

    static func bool(_ value: Node, key: String, what: String, decoder: NodeDecoder) -> Bool? {
        if case .bool(let b)? = value.scalar?.value { return b }
        let hint = value.scalar?.isYAML11Boolean == true
            ? "YAML 1.2 reads '\(value.scalar!.text)' as text, not a boolean: write true or false" : "write true or false"
        decoder.error("'\(key)' in \(what) must be true or false; found \(value.kindDescription)", at: value.span,
                      code: "wrong-type", hint: hint)
        return nil
    }

    /// A list of ids (a single id is accepted as a list of one).
    func ids(_ key: String) -> [(String, Node)]? {
        guard let value = self[key] else { return nil }
        if let scalar = value.scalar, scalar.value != .null, case .string = scalar.value {
            return [(scalar.text, value)]
        }
        guard let items = value.sequence else {
            decoder.error("'\(key)' in \(what) must be an id or a list of ids; found \(value.kindDescription)",
                          at: value.span, code: "wrong-type")
            return nil
        }
        var out: [(String, Node)] = []
        for item in items {
            guard let s = item.scalar, case .string = s.value else {
                decoder.error("'\(key)' in \(what) must list ids; found \(item.kindDescription)", at: item.span,
                              code: "wrong-type")
                continue
            }
            out.append((s.text, item))
        }
        return out
    }

    /// A list of text items.
    func textList(_ key: String) -> [String]? {
        guard let value = self[key] else { return nil }
        guard let items = value.sequence else {
            decoder.error("'\(key)' in \(what) must be a list; found \(value.kindDescription)", at: value.span,
                          code: "wrong-type")
            return nil
        }
        return items.compactMap { item in
            guard let s = item.scalar, s.value != .null else {
                decoder.error("'\(key)' in \(what) must list text; found \(item.kindDescription)", at: item.span,
                              code: "wrong-type")
                return nil
            }
            return s.text
        }
    }

    /// One of a fixed set of words.
    func choice(_ key: String, _ options: [String]) -> String? {
        guard let value = self[key] else { return nil }
        guard let s = value.scalar, case .string(let word) = s.value, options.contains(word) else {
            decoder.error("'\(key)' in \(what) must be one of: \(options.joined(separator: ", ")); found \(value.kindDescription)",
                          at: value.span, code: "wrong-value",
                          hint: value.scalar.flatMap { Suggestions.didYouMean($0.text, among: options) })
            return nil
        }
        return word
    }
}

extension String {
    var trimmingWhitespace: Substring {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return s
    }
}
