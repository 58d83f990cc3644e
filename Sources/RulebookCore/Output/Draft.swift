import Foundation
import Mustache

/// A notification drafted from one of the policy's templates (``DraftTemplate``) and an
/// incident: each field filled from the facts, the values and the trail, or left as the
/// question to answer; the text in Markdown and in plain text. A draft is never sent: a
/// person reads, completes and sends it.
public struct Draft: Sendable {
    /// One field, filled or not.
    public struct FieldResult: Sendable {
        public var id: String
        public var title: String
        /// The field's text; nil when it could not be filled.
        public var value: String?
        public var required: Bool
        /// What to ask when it is not filled.
        public var question: String
        /// The unanswered facts the field waits for (their ids).
        public var waitsFor: [String]
    }

    public let template: DraftTemplate
    public let incident: String
    public let fields: [FieldResult]
    public let markdown: String
    public let text: String

    /// The fields that could not be filled: required ones first.
    public var questions: [FieldResult] {
        fields.filter { $0.value == nil && $0.required } + fields.filter { $0.value == nil && !$0.required }
    }

    /// Every required field is filled.
    public var isComplete: Bool { !fields.contains { $0.required && $0.value == nil } }

    /// Drafts `template` for the incident `evaluation` was made of (`file`), at the evaluation's time.
    public init(template: DraftTemplate, evaluation: Evaluation, file: CaseFile) {
        let policy = evaluation.policy
        self.template = template
        let number = file.incident ?? "incident"
        self.incident = number
        var results: [FieldResult] = []
        for field in template.fields {
            var value: String?
            var waits: [String] = []
            switch field.source {
            case .value(let compiled):
                let v = compiled.expr.evaluate(evaluation.values)
                value = Self.text(v, compiled.type, policy: policy)
                if value == nil {
                    waits = compiled.slots.filter { $0 < policy.facts.count && !evaluation.values.value(at: $0).isKnown }
                        .map { policy.facts[$0].id }
                }
            case .contact(let r):
                let role = policy.roles[r]
                if let contact = role.contact?.trimmingWhitespace, !contact.isEmpty {
                    value = [role.holder, String(contact)].compactMap { $0 }.joined(separator: ", ")
                }
            case .notes(let actions):
                let lines = file.events.filter { actions.contains($0.action) }.compactMap { e -> String? in
                    let said = [e.note, e.reason].compactMap { $0?.trimmingWhitespace }.filter { !$0.isEmpty }.map(String.init)
                    guard !said.isEmpty else { return nil }
                    return "- \(policy.clock.describe(e.at)): \(said.joined(separator: "; "))"
                }
                value = lines.isEmpty ? nil : lines.joined(separator: "\n")
            case .actor(let a):
                value = file.events.first { $0.action == a && $0.actor?.trimmingWhitespace.isEmpty == false }?.actor
            }
            results.append(FieldResult(id: field.id, title: field.title, value: value, required: field.required,
                                       question: field.question, waitsFor: waits))
        }
        self.fields = results
        let at = policy.clock.describe(evaluation.at)
        func context(_ fill: (FieldResult) -> String) -> [String: Any] {
            var c: [String: Any] = [
                "incident": number, "policy": ["id": policy.id, "title": policy.title], "organisation": policy.organisation,
                "title": template.title, "to": template.to ?? "", "now": at, "zone": policy.clock.identifier,
            ]
            for r in results { c[r.id] = fill(r) }
            return c
        }
        let md = context { r in r.value.map(Self.escapeMarkdown) ?? "_[not known: \(Self.escapeMarkdown(r.question))]_" }
        let plain = context { r in r.value ?? "[not known: \(r.question)]" }
        markdown = Self.render(template.template, md)
        text = Self.render(Self.plainTemplate(template.template), plain)
    }

    /// A value as a person reads it: titles of options, times in the policy's zone.
    static func text(_ value: Value, _ type: ValueType, policy: Policy) -> String? {
        switch (value, type) {
        case (.unknown, _): return nil
        case (.bool(let b), _): return b ? "yes" : "no"
        case (.int(let ms), .duration): return Value.describeDuration(ms)
        case (.int(let i), _): return String(i)
        case (.option(let i), .option(let d)) where i < d.options.count: return d.options[i].title
        case (.options(let mask), .options(let d)):
            let chosen = d.options.indices.filter { mask & (1 << UInt64($0)) != 0 }.map { d.options[$0].title }
            return chosen.isEmpty ? "none" : chosen.joined(separator: "; ")
        case (.time(let t), _): return policy.clock.describe(t)
        case (.text(let s), _): return s.trimmingWhitespace.isEmpty ? nil : s
        default: return value.display(type)
        }
    }

    /// Renders with nothing escaped: values are escaped (or not) before they go in.
    static func render(_ template: String, _ context: [String: Any]) -> String {
        // The policy's template parsed when the policy loaded; a failure here cannot
        // happen for a policy that compiled, and leaves the template as written.
        guard let parsed = try? MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + template) else { return template }
        return parsed.render(context)
    }

    /// Markdown's own characters in a value, escaped so a value reads as written.
    static func escapeMarkdown(_ s: String) -> String {
        var out = ""
        for c in s {
            if "\\`*_[]<>#|".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// The Markdown template as plain text: headings without their marks, no emphasis,
    /// links as "text (address)", escapes undone. Tags are left alone.
    static func plainTemplate(_ markdown: String) -> String {
        var lines: [String] = []
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            var l = String(line)
            if let hashes = l.firstIndex(where: { $0 != "#" }), l.first == "#", l.distance(from: l.startIndex, to: hashes) <= 6,
               l[hashes] == " " {
                l = String(l[hashes...].dropFirst())
            }
            l = l.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "__", with: "")
            l = Self.unlink(l)
            var unescaped = ""
            var escaping = false
            for c in l {
                if escaping { unescaped.append(c); escaping = false } else if c == "\\" { escaping = true } else { unescaped.append(c) }
            }
            lines.append(unescaped)
        }
        return lines.joined(separator: "\n")
    }

    private static func unlink(_ line: String) -> String {
        var out = ""
        var rest = Substring(line)
        while let open = rest.firstIndex(of: "["), let close = rest[open...].firstIndex(of: "]"),
              rest.index(after: close) < rest.endIndex, rest[rest.index(after: close)] == "(",
              let end = rest[close...].firstIndex(of: ")") {
            out += rest[..<open]
            out += rest[rest.index(after: open)..<close] + " (" + rest[rest.index(close, offsetBy: 2)..<end] + ")"
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }

    /// The draft as JSON: the fields, the questions, and both texts.
    public func json() -> String {
        var w = JSONWriter(pretty: true)
        w.object { w in
            w.field("incident", string: incident)
            w.field("policy", string: template.provenance.policy)
            w.field("template", string: template.id)
            w.field("title", string: template.title)
            w.field("to", string: template.to)
            w.field("complete", bool: isComplete)
            w.field("fields") { w in
                w.array { w in
                    for f in fields {
                        w.object { w in
                            w.field("id", string: f.id)
                            w.field("title", string: f.title)
                            w.field("value", string: f.value)
                            w.field("required", bool: f.required)
                        }
                    }
                }
            }
            w.field("questions") { w in
                w.array { w in
                    for f in questions {
                        w.object { w in
                            w.field("field", string: f.id)
                            w.field("question", string: f.question)
                            w.field("required", bool: f.required)
                            w.field("waits_for") { $0.array(strings: f.waitsFor) }
                        }
                    }
                }
            }
            w.field("markdown", string: markdown)
            w.field("text", string: text)
        }
        return w.text + "\n"
    }
}

