import Foundation
import Mustache
import RulebookDiagnostics
import RulebookYAML

extension PolicyCompiler {
    /// `drafts: {id: {title, to, fields: {id: {value|contact|notes|actor, question, required}}, template}}`.
    /// A policy inherits its base's drafts by id; one with the same id replaces it.
    func compileDrafts() -> [DraftTemplate] {
        var byID: [String: DraftTemplate] = [:]
        var order: [String] = []
        for origin in chain.reversed() {
            guard let node = origin.root["drafts"] else { continue }
            for pair in decoder.entries(node, "the drafts") {
                guard let draft = compileDraft(pair, origin: origin) else { continue }
                if byID[draft.id] == nil { order.append(draft.id) }
                byID[draft.id] = draft
            }
        }
        return order.compactMap { byID[$0] }
    }

    private func compileDraft(_ pair: Node.Pair, origin: ParsedPolicyFile) -> DraftTemplate? {
        let id = pair.name
        let what = "draft '\(id)'"
        guard Self.isEntryID(id) else {
            decoder.error("'\(id)' is not a valid draft id", at: pair.key.span, code: "bad-id",
                          hint: "lowercase letters, digits and _, starting with a letter")
            return nil
        }
        guard let object = decoder.object(pair.value, what, allowed: ["title", "to", "fields", "template"] + Self.provenanceKeys,
                                          required: ["title", "fields", "template"]) else { return nil }
        let provenance = provenance(object, origin: origin, required: true, at: pair.key)
        let title = object.nonEmptyText("title")
        let to = object.text("to")
        var fields: [DraftTemplate.Field] = []
        if let node = object["fields"] {
            for entry in decoder.entries(node, "the fields of \(what)") {
                if let field = compileDraftField(entry, of: id, origin: origin) { fields.append(field) }
            }
        }
        guard let templateNode = object["template"], let template = object.nonEmptyText("template") else { return nil }
        checkTemplate(template, node: templateNode, fields: fields, draft: id)
        guard let title, let provenance else { return nil }
        return DraftTemplate(id: id, title: title, to: to, fields: fields, template: template, provenance: provenance, span: pair.key.span)
    }

    private func compileDraftField(_ entry: Node.Pair, of draft: String, origin: ParsedPolicyFile) -> DraftTemplate.Field? {
        let what = "field '\(entry.name)' of draft '\(draft)'"
        guard Self.isEntryID(entry.name) else {
            decoder.error("'\(entry.name)' is not a valid field id", at: entry.key.span, code: "bad-id",
                          hint: "lowercase letters, digits and _, starting with a letter")
            return nil
        }
        if DraftTemplate.builtInNames.contains(entry.name) {
            decoder.error("'\(entry.name)' is a name every template already has", at: entry.key.span, code: "conflict",
                          hint: "the built-in names are \(DraftTemplate.builtInNames.joined(separator: ", ")); choose another id")
            return nil
        }
        let sources = ["value", "contact", "notes", "actor"]
        guard let object = decoder.object(entry.value, what, allowed: sources + ["title", "question", "required"] + Self.provenanceKeys)
        else { return nil }
        let given = sources.filter { object.has($0) }
        guard given.count == 1 else {
            decoder.error(given.isEmpty ? "\(what) needs one of 'value', 'contact', 'notes' or 'actor'"
                            : "\(what) has \(given.joined(separator: " and ")); give only one",
                          at: entry.key.span, code: given.isEmpty ? "missing-key" : "conflict",
                          hint: "value: an expression; contact: a role; notes: actions whose notes it lists; actor: an action")
            return nil
        }
        let required = object.bool("required") ?? true
        var title = object.text("title")
        var question = object.text("question")
        let source: DraftTemplate.Field.Source
        switch given[0] {
        case "value":
            guard let node = object["value"], let compiled = expression(node, origin: origin, expecting: nil, what: what) else { return nil }
            let name = String(compiled.source.trimmingWhitespace)
            if let fact = factIndex[name] {
                title = title ?? facts[fact].title
                question = question ?? facts[fact].question
            } else if let value = values.first(where: { $0.id == name }) {
                title = title ?? value.title
            }
            source = .value(compiled)
        case "contact":
            guard let node = object["contact"], let id = object.text("contact"), let r = role(id, node) else { return nil }
            title = title ?? "How to reach the \(roles[r].title)"
            question = question ?? "How can the \(roles[r].title) be reached? (role '\(id)' has no contact: in the policy)"
            source = .contact(role: r)
        case "notes":
            guard let ids = object.ids("notes") else { return nil }
            let list = ids.compactMap { action($0.0, $0.1) }
            guard list.count == ids.count, !list.isEmpty else { return nil }
            title = title ?? list.map { actions[$0].title }.joined(separator: "; ")
            question = question ?? "What was done (\(list.map { actions[$0].title }.joined(separator: "; ")))? Record it as a note."
            source = .notes(actions: list)
        default:
            guard let node = object["actor"], let id = object.text("actor"), let a = action(id, node) else { return nil }
            title = title ?? "Who: \(actions[a].title)"
            question = question ?? "Who took the action '\(actions[a].title)'?"
            source = .actor(action: a)
        }
        guard let question else {
            decoder.error("\(what) needs a 'question': what to ask when it cannot be filled", at: entry.key.span, code: "missing-key",
                          hint: "a field whose value is one fact takes that fact's question")
            return nil
        }
        return DraftTemplate.Field(id: entry.name, title: title ?? entry.name, question: question, required: required, source: source,
                                   provenance: provenance(object, origin: origin, required: false), span: entry.key.span)
    }

    /// The template parses as Mustache and names only its fields and the built-in names.
    private func checkTemplate(_ template: String, node: Node, fields: [DraftTemplate.Field], draft: String) {
        do {
            _ = try MustacheTemplate(string: template)
        } catch let error as MustacheTemplate.ParserError {
            decoder.error("the template of draft '\(draft)' is not valid Mustache at line \(error.context.lineNumber), column \(error.context.columnNumber) of the template: \(Self.describe(error.error))",
                          at: node.span, code: "template")
            return
        } catch {
            decoder.error("the template of draft '\(draft)' is not valid Mustache: \(error)", at: node.span, code: "template")
            return
        }
        let known = Set(fields.map(\.id) + DraftTemplate.builtInNames)
        for tag in DraftTags.scan(template) {
            switch tag.kind {
            case .partial, .delimiters:
                decoder.error("the template of draft '\(draft)' uses '{{\(tag.raw)}}' (line \(tag.line)): drafts take no partials or delimiter changes",
                              at: node.span, code: "template")
            case .name(let name):
                let head = String(name.split(separator: ".", maxSplits: 1).first ?? "")
                if name != "." && !known.contains(head) {
                    decoder.error("the template of draft '\(draft)' names '\(name)' (line \(tag.line)), which is not one of its fields",
                                  at: node.span, code: "unknown-reference",
                                  hint: Suggestions.didYouMean(head, among: Array(known)) ?? "declare it under fields:")
                }
            case .other: break
            }
        }
    }

    /// The Mustache parser's error in words.
    static func describe(_ error: Error) -> String {
        switch error {
        case MustacheTemplate.Error.expectedSectionEnd: return "a section ({{#name}} or {{^name}}) is never closed with {{/name}}"
        case MustacheTemplate.Error.sectionCloseNameIncorrect: return "a section is closed with a name other than the one it opened with"
        case MustacheTemplate.Error.unfinishedName: return "a tag is not finished with }}"
        default: return "\(error)"
        }
    }

    static func isEntryID(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return id.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}

/// The tags of a Mustache template, for checking what it names (the parser keeps them to itself).
enum DraftTags {
    enum Kind: Equatable {
        case name(String)
        case partial
        case delimiters
        case other
    }

    struct Tag {
        var kind: Kind
        var raw: String
        var line: Int
    }

    static func scan(_ template: String) -> [Tag] {
        var out: [Tag] = []
        var rest = Substring(template)
        var line = 1
        while let open = rest.range(of: "{{") {
            line += rest[..<open.lowerBound].count(where: { $0 == "\n" })
            let triple = rest[open.upperBound...].hasPrefix("{")
            let closer = triple ? "}}}" : "}}"
            let bodyStart = triple ? rest.index(after: open.upperBound) : open.upperBound
            guard let close = rest[bodyStart...].range(of: closer) else { break }
            let raw = String(rest[bodyStart..<close.lowerBound])
            let body = raw.trimmingWhitespace
            var kind: Kind = .other
            if let sigil = body.first {
                switch sigil {
                case "!", "%": kind = .other
                case ">", "<", "$": kind = .partial
                case "=": kind = .delimiters
                case "#", "^", "/", "&":
                    kind = .name(String(String(body.dropFirst()).trimmingWhitespace))
                default: kind = .name(String(body))
                }
            }
            if case .name(let n) = kind, n.isEmpty { kind = .other }
            out.append(Tag(kind: kind, raw: raw, line: line))
            line += rest[open.lowerBound..<close.upperBound].count(where: { $0 == "\n" })
            rest = rest[close.upperBound...]
        }
        return out
    }
}
