import RulebookDiagnostics
import RulebookYAML

/// A policy file's text and the name to report it by. The core never reads files: the
/// caller hands it their contents.
public struct PolicySource: Sendable {
    /// The file name as the user knows it (used in every diagnostic).
    public var file: String
    /// The file's bytes (UTF-8).
    public var bytes: [UInt8]

    /// Creates a source from bytes.
    public init(file: String, bytes: [UInt8]) {
        self.file = file
        self.bytes = bytes
    }

    /// Creates a source from text.
    public init(file: String, text: String) {
        self.init(file: file, bytes: Array(text.utf8))
    }
}

/// One parsed policy file.
struct ParsedPolicyFile {
    let file: String
    let text: String
    let root: Node
    let id: String
    let idNode: Node
}

/// The policies available to a run, by id: what `extends` resolves against.
///
/// Files are parsed once when added; a file that does not parse, or has no usable `id`,
/// is kept out and its problems are returned to the caller.
public final class PolicyLibrary: @unchecked Sendable {
    private(set) var files: [String: ParsedPolicyFile] = [:]
    private var order: [String] = []
    /// Problems found while adding files (YAML errors, missing ids, duplicate ids).
    public private(set) var diagnostics: [Diagnostic] = []
    /// The reader limits for policy files.
    public let limits: ReaderLimits

    /// Creates an empty library.
    public init(limits: ReaderLimits = ReaderLimits()) {
        self.limits = limits
    }

    /// Parses `source` and adds it under its `id`. Returns the id, or nil when the file
    /// could not be added (its problems are in ``diagnostics``).
    @discardableResult
    public func add(_ source: PolicySource) -> String? {
        let result = YAMLReader.read(bytes: source.bytes, file: source.file, limits: limits)
        diagnostics += result.diagnostics
        guard let root = result.root else { return nil }
        guard let idNode = root["id"] else {
            diagnostics.append(.error(
                "a policy needs 'id'", at: root.mapping?.first?.key.span ?? root.span, code: "missing-key",
                hint: "add `id: <name>` at the top level; the name is how commands refer to the policy"))
            return nil
        }
        guard let id = idNode.scalar?.text, Self.isPolicyID(id) else {
            diagnostics.append(.error(
                "policy id must be lowercase letters, digits, '-' and '_', starting with a letter; found \(idNode.kindDescription)",
                at: idNode.span, code: "bad-id"))
            return nil
        }
        if let existing = files[id] {
            diagnostics.append(.error(
                "two policy files have the id '\(id)'", at: idNode.span, code: "duplicate-id",
                notes: [Diagnostic.Note("'\(id)' is also the id of this file", at: existing.idNode.span)]))
            return nil
        }
        files[id] = ParsedPolicyFile(
            file: source.file, text: String(decoding: source.bytes, as: UTF8.self), root: root, id: id, idNode: idNode)
        order.append(id)
        return id
    }

    /// The working-day calendars added, by id.
    public private(set) var calendars: [String: WorkingCalendar] = [:]

    /// Parses a calendar file (`calendars/<id>.yaml`) and adds it. Returns its id, or nil
    /// when it could not be added (its problems are in ``diagnostics``).
    @discardableResult
    public func addCalendar(_ source: PolicySource) -> String? {
        let result = YAMLReader.read(bytes: source.bytes, file: source.file, limits: limits)
        diagnostics += result.diagnostics
        guard let root = result.root else { return nil }
        let decoder = NodeDecoder()
        let calendar = WorkingCalendar.read(root, file: source.file, decoder: decoder)
        diagnostics += decoder.bag.finished(file: source.file)
        guard let calendar else { return nil }
        if calendars[calendar.id] != nil {
            diagnostics.append(.error("two calendar files have the id '\(calendar.id)'", at: root["calendar"]?.span, code: "duplicate-id"))
            return nil
        }
        calendars[calendar.id] = calendar
        return calendar.id
    }

    /// The calendar ids the policies' files name (`calendar:`), for a caller that reads
    /// calendar files on demand.
    public var calendarNames: [String] {
        var names: [String] = []
        for id in order { if let name = files[id]?.root["calendar"]?.scalar?.text, !names.contains(name) { names.append(name) } }
        return names
    }

    /// The ids of the policies added, in the order added.
    public var ids: [String] { order }

    /// The file a policy id was read from.
    public func file(of id: String) -> String? { files[id]?.file }

    /// The id of the policy `id` extends, if any.
    public func extends(of id: String) -> String? {
        files[id]?.root["extends"]?.scalar?.text
    }

    /// The id of the policy read from `file`, if it was added.
    public func id(ofFile file: String) -> String? { order.first { files[$0]?.file == file } }

    static func isPolicyID(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
    }

    /// The chain of files from `id` through its `extends`, nearest first. A cycle or a
    /// missing base is reported and cuts the chain.
    func lineage(of id: String, decoder: NodeDecoder) -> [ParsedPolicyFile] {
        guard let start = files[id] else { return [] }
        var chain = [start]
        var seen: Set<String> = [id]
        var current = start
        while let extendsNode = current.root["extends"] {
            guard let base = extendsNode.scalar?.text, extendsNode.scalar?.value != .null else {
                decoder.error("'extends' must be a policy id; found \(extendsNode.kindDescription)", at: extendsNode.span,
                              code: "wrong-type")
                break
            }
            if seen.contains(base) {
                let cycle = chain.map(\.id) + [base]
                decoder.error(
                    "policies extend each other in a cycle: \(cycle.joined(separator: " -> "))", at: extendsNode.span,
                    code: "cycle",
                    notes: chain.dropFirst().compactMap { file in
                        file.root["extends"].map { Diagnostic.Note("'\(file.id)' extends '\($0.scalar?.text ?? "")' here", at: $0.span) }
                    })
                break
            }
            guard let next = files[base] else {
                decoder.error(
                    "'\(current.id)' extends '\(base)', but no policy has that id", at: extendsNode.span,
                    code: "unknown-reference",
                    hint: Suggestions.didYouMean(base, among: order)
                        ?? "the base policy must be in the same run (the policies folder)")
                break
            }
            seen.insert(base)
            chain.append(next)
            current = next
        }
        return chain
    }
}
