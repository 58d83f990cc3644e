import Foundation
import HTTPTypes
import RulebookCore
import RulebookDiagnostics
import RulebookYAML

/// A submitted HTML form (`application/x-www-form-urlencoded`): each name with its
/// values in order (a set of check boxes sends one name many times).
struct FormData: Sendable {
    private(set) var fields: [String: [String]] = [:]

    init(_ body: String) {
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0]), value = parts.count > 1 ? Self.decode(parts[1]) : ""
            fields[name, default: []].append(value)
        }
    }

    init(fields: [String: [String]]) { self.fields = fields }

    /// `+` is a space, then percent escapes; a malformed escape is kept as written.
    static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// The first value, trimmed; nil when absent or empty.
    subscript(_ name: String) -> String? {
        guard let value = fields[name]?.first?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    func all(_ name: String) -> [String] { fields[name] ?? [] }
}

/// Turns form fields into the nodes a case file would hold, each tagged with where it
/// came from, so that the loader's diagnostics can be shown beside the field they are
/// about. The node's span is `form:LINE:1`, one line per field.
struct FormNodes {
    static let file = "form"
    private(set) var fieldOfLine: [Int: String] = [:]
    private var nextLine = 2

    /// A span for `field` (line 1 is the whole form).
    mutating func span(_ field: String) -> SourceSpan {
        let line = nextLine
        nextLine += 1
        fieldOfLine[line] = field
        return SourceSpan(file: Self.file, at: SourcePosition(line: line, column: 1))
    }

    static let whole = SourceSpan(file: file, at: SourcePosition(line: 1, column: 1))

    static func string(_ text: String, _ span: SourceSpan) -> Node {
        Node(.scalar(Scalar(text: text, style: .doubleQuoted, value: .string(text))), span: span)
    }

    static func plain(_ text: String, _ span: SourceSpan) -> Node {
        Node(.scalar(Scalar(text: text, style: .plain, value: ScalarValue.resolvePlain(text))), span: span)
    }

    static func pair(_ key: String, _ value: Node) -> Node.Pair {
        Node.Pair(key: string(key, value.span), value: value)
    }

    /// The field a diagnostic is about, when it is about one.
    func field(of diagnostic: Diagnostic) -> String? {
        guard let span = diagnostic.span, span.file == Self.file else { return nil }
        return fieldOfLine[span.start.line]
    }

    /// A fact's answer as the fact's type asks, or nil when the field was left empty (not
    /// known). A time is read as a wall-clock time in the policy's zone.
    mutating func fact(_ slot: Int, of policy: Policy, from form: FormData, name: String) throws(FieldError) -> Node? {
        let fact = policy.facts[slot]
        let span = span(name)
        switch fact.type {
        case .bool:
            switch form[name] {
            case nil: return nil
            case "yes": return Self.plain("true", span)
            case "no": return Self.plain("false", span)
            case let other?: throw FieldError(field: name, message: "'\(other)' is not yes or no")
            }
        case .option:
            guard let id = form[name] else { return nil }
            return Self.string(id, span)
        case .options:
            let ids = form.all(name).filter { !$0.isEmpty }
            guard !ids.isEmpty else { return nil }
            return Node(.sequence(ids.map { Self.string($0, span) }), span: span)
        case .int:
            guard let text = form[name] else { return nil }
            guard Int(text) != nil else { throw FieldError(field: name, message: "'\(text)' is not a whole number") }
            return Self.plain(text, span)
        case .datetime:
            guard let text = form[name] else { return nil }
            guard let at = Self.localTime(text, clock: policy.clock) else {
                throw FieldError(field: name, message: "'\(text)' is not a date and time (YYYY-MM-DD HH:MM)")
            }
            return Self.string(policy.clock.format(at), span)
        case .text, .duration:
            guard let text = form[name] else { return nil }
            return Self.string(text, span)
        }
    }

    /// `2026-11-02T09:14` (a browser's datetime-local, seconds optional) in the zone.
    static func localTime(_ text: String, clock: ZoneClock) -> Instant? {
        let parts = text.replacingOccurrences(of: " ", with: "T").split(separator: "T")
        guard parts.count == 2, let day = Timestamp.parseDate(String(parts[0])) else { return nil }
        let clockParts = parts[1].split(separator: ":").map { Int($0) }
        guard (2...3).contains(clockParts.count), clockParts.allSatisfy({ $0 != nil }) else { return nil }
        let h = clockParts[0]!, m = clockParts[1]!, s = clockParts.count == 3 ? clockParts[2]! : 0
        guard (0..<24).contains(h), (0..<60).contains(m), (0..<60).contains(s) else { return nil }
        return clock.instant(day: day, millisecond: Int64((h * 3600 + m * 60 + s) * 1000))
    }

    /// A time as a browser's datetime-local field shows it, in the zone.
    static func localField(_ at: Instant, clock: ZoneClock) -> String {
        String(clock.format(at).prefix(16))
    }
}

/// A form field whose value cannot be read.
struct FieldError: Error {
    var field: String
    var message: String
}

/// What a refused form showed: the values given and, by field, why.
struct FormState {
    var key: String
    var form: FormData
    var errors: [String: [String]] = [:]
    var general: [String] = []
    /// The answer's status: 422 when the policy or the form refuses it.
    var status: HTTPResponse.Status = .unprocessableContent

    mutating func add(_ message: String, field: String?) {
        if let field { errors[field, default: []].append(message) } else { general.append(message) }
    }
}

/// The model of one fact's input, as the `fact` template draws it.
enum FactField {
    /// `prefix` keeps ids unique on a page with many forms; `state` refills a refused form.
    static func model(_ slot: Int, policy: Policy, prefix: String, state: FormState?, explain extra: [String] = []) -> [String: Any] {
        let fact = policy.facts[slot]
        let name = "fact." + fact.id
        let id = prefix + "-" + fact.id
        var explain = extra
        if fact.anonymisesReporter {
            explain.append("""
                Answer yes to stay anonymous: your name is then never stored with anything recorded in the reporting role, \
                and it is withheld from every page, export and report. The people handling the incident still see what was reported.
                """)
        }
        var model: [String: Any] = [
            "name": name, "id": id, "question": fact.question.isEmpty ? fact.title : fact.question,
            "clause": opt(fact.provenance.citation(in: policy.id)), "explain": explain,
            "errors": state?.errors[name] ?? [], "has_errors": !(state?.errors[name] ?? []).isEmpty,
            "is_choice": false, "is_text": false, "step": [String](), "min": [String](), "max": [String](), "value": "",
            "choices": [[String: Any]](),
        ]
        let given = state?.form.all(name) ?? []
        func choice(_ value: String, _ label: String, input: String) -> [String: Any] {
            ["id": id + "-" + (value.isEmpty ? "unknown" : value), "name": name, "value": value, "label": label, "input": input,
             "checked": given.contains(value) || (state == nil || given.isEmpty) && value.isEmpty && input == "radio"]
        }
        switch fact.type {
        case .bool:
            model["is_choice"] = true
            model["choices"] = [choice("yes", "Yes", input: "radio"), choice("no", "No", input: "radio"), choice("", "Not known yet", input: "radio")]
        case .option(let domain):
            model["is_choice"] = true
            model["choices"] = domain.options.map { choice($0.id, $0.title, input: "radio") } + [choice("", "Not known yet", input: "radio")]
        case .options(let domain):
            model["is_choice"] = true
            model["choices"] = domain.options.map { choice($0.id, $0.title, input: "checkbox") }
            explain.append("Tick every one that applies.")
            model["explain"] = explain
        case .int:
            model["input"] = "number"
            model["step"] = ["1"]
            model["min"] = opt(fact.minimum.map(String.init))
            model["max"] = opt(fact.maximum.map(String.init))
            model["value"] = given.first ?? ""
        case .datetime:
            model["input"] = "datetime-local"
            model["value"] = given.first ?? ""
            explain.append("In \(policy.clock.identifier) time.")
            model["explain"] = explain
        case .text, .duration:
            model["is_text"] = true
            model["value"] = given.first ?? ""
        }
        return model
    }
}

/// An optional text as a Mustache section takes it: none, or one.
func opt(_ text: String?) -> [String] {
    guard let text, !text.isEmpty else { return [] }
    return [text]
}
