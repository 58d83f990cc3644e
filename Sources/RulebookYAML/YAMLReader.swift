import CYAML
import RulebookDiagnostics

/// What reading a file produced: the root node (nil when the file could not be read as
/// one document) and every problem found.
public struct ReadResult: Sendable {
    /// The document's root, or nil after a fatal problem (syntax, limits, empty file).
    public var root: Node?
    /// Problems found, in file order where possible.
    public var diagnostics: [Diagnostic]

    /// True when any diagnostic is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Reads one YAML document over libyaml's event API into a ``Node`` tree.
///
/// What it guarantees, beyond libyaml:
/// - YAML 1.2 core-schema scalars (only `true`/`false` are booleans);
/// - duplicate keys (compared by their text) are an error on the second, with a note at
///   the first;
/// - aliases are shared, never copied, and their expansion is budgeted;
/// - nesting depth, node count and file size are capped;
/// - exactly one document; an empty file, a non-mapping root, invalid UTF-8 and syntax
///   errors get a positioned message (with a hint for tabs and unclosed quotes).
public enum YAMLReader {
    /// Reads `text`, naming it `file` in every span.
    public static func read(
        _ text: String, file: String, limits: ReaderLimits = ReaderLimits(), requireMapping: Bool = true
    ) -> ReadResult {
        read(bytes: Array(text.utf8), file: file, limits: limits, requireMapping: requireMapping)
    }

    /// Reads raw bytes, which must be UTF-8.
    public static func read(
        bytes: [UInt8], file: String, limits: ReaderLimits = ReaderLimits(), requireMapping: Bool = true
    ) -> ReadResult {
        if let problem = limits.sizeProblem(bytes.count, file: file) {
            return ReadResult(root: nil, diagnostics: [problem])
        }
        return bytes.withUnsafeBufferPointer { buffer in
            if let problem = encodingProblem(buffer, file: file) {
                return ReadResult(root: nil, diagnostics: [problem])
            }
            var builder = TreeBuilder(file: file, limits: limits, source: buffer)
            builder.run()
            return builder.finish(requireMapping: requireMapping)
        }
    }

    private static func encodingProblem(_ buffer: UnsafeBufferPointer<UInt8>, file: String) -> Diagnostic? {
        if buffer.count >= 2, (buffer[0] == 0xFE && buffer[1] == 0xFF) || (buffer[0] == 0xFF && buffer[1] == 0xFE) {
            return .error(
                "file is UTF-16; Rulebook reads UTF-8 only",
                at: SourceSpan(file: file, at: SourcePosition(line: 1, column: 1)), code: "encoding",
                hint: "save the file as UTF-8")
        }
        if let bad = TextPositions.firstInvalidUTF8(buffer) {
            let position = TextPositions.position(ofByte: bad, in: buffer)
            let byte = String(buffer[bad], radix: 16, uppercase: true)
            return .error(
                "invalid UTF-8: byte 0x\(byte.count == 1 ? "0" + byte : byte) at offset \(bad) is not valid text",
                at: SourceSpan(file: file, at: position), code: "encoding",
                hint: "the file may be binary or in another encoding; save it as UTF-8")
        }
        return nil
    }
}

/// The event loop's state: a stack of open collections, the anchors seen so far and
/// the budgets. A struct with an explicit stack, so depth never turns into recursion.
private struct TreeBuilder {
    private struct Frame {
        enum Kind { case sequence, mapping }
        var kind: Kind
        var start: SourcePosition
        var anchor: String?
        var items: [Node] = []
        var pairs: [Node.Pair] = []
        var pendingKey: Node?
        var expectingKey = true
        var skipValue = false
        var keys: [String: SourceSpan] = [:]
        /// Nodes in this subtree, counting aliases at their expanded size.
        var weight = 1
    }

    let file: String
    let limits: ReaderLimits
    let source: UnsafeBufferPointer<UInt8>
    private var stack: [Frame] = []
    private var anchors: [String: (node: Node, weight: Int)] = [:]
    private var root: Node?
    private var documents = 0
    private var nodeCount = 0
    private var aliasExpansion = 0
    private var diagnostics = DiagnosticBag(errorLimit: 100)
    private var fatal = false

    init(file: String, limits: ReaderLimits, source: UnsafeBufferPointer<UInt8>) {
        self.file = file
        self.limits = limits
        self.source = source
    }

    mutating func run() {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            fail("could not start the YAML parser (out of memory)", at: SourcePosition(line: 1, column: 1), code: "yaml")
            return
        }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, source.baseAddress, source.count)

        var event = yaml_event_t()
        while !fatal {
            guard yaml_parser_parse(&parser, &event) == 1 else {
                reportParserError(parser)
                return
            }
            let done = event.type == YAML_STREAM_END_EVENT
            handle(event)
            yaml_event_delete(&event)
            if done { return }
        }
    }

    func finish(requireMapping: Bool) -> ReadResult {
        var bag = diagnostics
        var result = root
        if fatal {
            result = nil
        } else if documents == 0 || root == nil {
            bag.error(
                "file is empty: it holds no YAML document", at: span(SourcePosition(line: 1, column: 1)),
                code: "empty", hint: requireMapping ? "a policy or case file is a mapping of `key: value` lines" : nil)
            result = nil
        } else if let node = root, requireMapping, node.mapping == nil {
            if case .scalar(let s) = node.content, s.value == .null {
                bag.error(
                    "file has no content: the document is empty", at: node.span, code: "empty",
                    hint: "a policy or case file is a mapping of `key: value` lines")
            } else {
                bag.error(
                    "the top level must be a mapping of `key: value` lines; found \(node.kindDescription)",
                    at: node.span, code: "root-not-mapping")
            }
            result = nil
        }
        return ReadResult(root: result, diagnostics: bag.finished(file: file))
    }

    // MARK: Events

    private mutating func handle(_ event: yaml_event_t) {
        let start = position(event.start_mark)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                fail(
                    "more than one YAML document in this file; a file holds exactly one", at: start,
                    code: "multiple-documents",
                    hint: "remove the `---` line that starts the second document, or split the file")
            }
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            var text = string(data.value, length: data.length)
            let style = Self.style(data.style)
            let value = resolve(text, style: style, tag: cString(data.tag), at: start)
            // A mistaken local tag (`!flag`) keeps its text, so it is reported once.
            if case .string(let intended) = value, intended != text, cString(data.tag)?.hasPrefix("!") == true { text = intended }
            let node = Node(.scalar(Scalar(text: text, style: style, value: value)),
                            span: SourceSpan(file: file, start: start, end: position(event.end_mark)))
            guard count() else { return }
            complete(node, weight: 1, anchor: cString(data.anchor))
        case YAML_ALIAS_EVENT:
            let name = cString(event.data.alias.anchor) ?? ""
            guard let target = anchors[name] else {
                fail(
                    "alias '*\(name)' refers to no anchor defined before it", at: start, code: "alias",
                    hint: "define `&\(name)` earlier in the file; an alias cannot refer to an enclosing node")
                return
            }
            aliasExpansion += target.weight
            if aliasExpansion > limits.maxAliasExpansion {
                fail(
                    "aliases expand to more than \(limits.maxAliasExpansion) nodes; refusing to expand further",
                    at: start, code: "alias-bomb",
                    hint: "this looks like an alias bomb; policy files rarely need aliases at all")
                return
            }
            let node = Node(target.node.content, span: SourceSpan(file: file, start: start, end: position(event.end_mark)))
            complete(node, weight: target.weight, anchor: nil)
        case YAML_SEQUENCE_START_EVENT:
            let data = event.data.sequence_start
            checkCollectionTag(cString(data.tag), expected: "seq", at: start)
            open(.sequence, at: start, anchor: cString(data.anchor))
        case YAML_MAPPING_START_EVENT:
            let data = event.data.mapping_start
            checkCollectionTag(cString(data.tag), expected: "map", at: start)
            open(.mapping, at: start, anchor: cString(data.anchor))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { return }
            let span = SourceSpan(file: file, start: frame.start, end: position(event.end_mark))
            let content: Node.Content = frame.kind == .sequence ? .sequence(frame.items) : .mapping(frame.pairs)
            complete(Node(content, span: span), weight: frame.weight, anchor: frame.anchor)
        default:
            break
        }
    }

    private mutating func open(_ kind: Frame.Kind, at start: SourcePosition, anchor: String?) {
        guard stack.count < limits.maxDepth else {
            fail(
                "nesting is deeper than \(limits.maxDepth) levels", at: start, code: "too-deep",
                hint: "policy and case files need only a few levels of nesting")
            return
        }
        guard count() else { return }
        stack.append(Frame(kind: kind, start: start, anchor: anchor))
    }

    /// Counts one more node against the cap; false (and fatal) past it.
    private mutating func count() -> Bool {
        nodeCount += 1
        if nodeCount > limits.maxNodes {
            fail("file holds more than \(limits.maxNodes) YAML nodes", at: SourcePosition(line: 1, column: 1),
                 code: "too-many-nodes")
            return false
        }
        return true
    }

    /// Attaches a finished node to the collection that holds it (or makes it the root).
    private mutating func complete(_ node: Node, weight: Int, anchor: String?) {
        if let anchor { anchors[anchor] = (node, weight) }
        guard !stack.isEmpty else {
            root = node
            return
        }
        let top = stack.count - 1
        stack[top].weight += weight
        switch stack[top].kind {
        case .sequence:
            stack[top].items.append(node)
        case .mapping:
            if stack[top].expectingKey {
                stack[top].expectingKey = false
                guard let key = node.scalar else {
                    diagnostics.error(
                        "a mapping key must be a plain name, not \(node.kindDescription)", at: node.span,
                        code: "complex-key")
                    stack[top].skipValue = true
                    return
                }
                if let first = stack[top].keys[key.text] {
                    diagnostics.error(
                        "duplicate key '\(key.text)'", at: node.span, code: "duplicate-key",
                        hint: "each key may appear once in a mapping; merge the two entries",
                        notes: [Diagnostic.Note("'\(key.text)' is first defined here", at: first)])
                    stack[top].skipValue = true
                    return
                }
                stack[top].keys[key.text] = node.span
                stack[top].pendingKey = node
            } else {
                stack[top].expectingKey = true
                if stack[top].skipValue {
                    stack[top].skipValue = false
                } else if let key = stack[top].pendingKey {
                    stack[top].pairs.append(Node.Pair(key: key, value: node))
                }
                stack[top].pendingKey = nil
            }
        }
    }

    // MARK: Scalars and tags

    private static func style(_ style: yaml_scalar_style_t) -> Scalar.Style {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: return .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: return .literal
        case YAML_FOLDED_SCALAR_STYLE: return .folded
        default: return .plain
        }
    }

    private static let corePrefix = "tag:yaml.org,2002:"

    /// Core-schema resolution, honouring the explicit core tags `!!str`, `!!int`,
    /// `!!bool`, `!!null`, `!!float`; any other tag is reported and read as a string.
    private mutating func resolve(_ text: String, style: Scalar.Style, tag: String?, at start: SourcePosition) -> ScalarValue {
        guard let tag else {
            return style == .plain ? ScalarValue.resolvePlain(text) : .string(text)
        }
        if tag == "!" { return .string(text) }
        guard tag.hasPrefix(Self.corePrefix) else {
            if tag.hasPrefix("!"), style == .plain {
                // `when: !flag` reads as the tag `!flag` on an empty value: most likely an
                // expression that starts with "not". Keep the text so nothing else reports
                // it again, and say how to write it.
                let intended = text.isEmpty ? tag : tag + " " + text
                diagnostics.error("YAML reads '\(intended)' as a tag, not as text", at: span(start), code: "tag",
                                  hint: "quote a value that starts with '!': \"\(intended)\"")
                return .string(intended)
            }
            diagnostics.error("unsupported tag '\(tag)'", at: span(start), code: "tag",
                              hint: "only the core tags !!str, !!int, !!float, !!bool and !!null are understood")
            return .string(text)
        }
        let name = tag.dropFirst(Self.corePrefix.count)
        let resolved = ScalarValue.resolvePlain(text)
        switch (name, resolved) {
        case ("str", _): return .string(text)
        case ("int", .int), ("bool", .bool), ("null", .null), ("float", .float): return resolved
        case ("float", .int(let i)): return .float(Double(i))
        case ("int", _), ("bool", _), ("null", _), ("float", _):
            diagnostics.error("'\(text)' is not a valid !!\(name)", at: span(start), code: "tag")
            return .string(text)
        default:
            diagnostics.error("unsupported tag '!!\(name)' on a scalar", at: span(start), code: "tag",
                              hint: "only !!str, !!int, !!float, !!bool and !!null are understood")
            return .string(text)
        }
    }

    private mutating func checkCollectionTag(_ tag: String?, expected: String, at start: SourcePosition) {
        guard let tag, tag != "!", tag != Self.corePrefix + expected else { return }
        diagnostics.error("unsupported tag '\(tag)'", at: span(start), code: "tag",
                          hint: "collections take no tags in policy and case files")
    }

    // MARK: Errors

    private mutating func fail(_ message: String, at position: SourcePosition, code: String, hint: String? = nil) {
        diagnostics.error(message, at: span(position), code: code, hint: hint)
        fatal = true
    }

    private mutating func reportParserError(_ parser: yaml_parser_t) {
        let problem = cString(parser.problem) ?? "unknown problem"
        if parser.error == YAML_MEMORY_ERROR {
            fail("out of memory while reading YAML", at: SourcePosition(line: 1, column: 1), code: "yaml")
            return
        }
        if parser.error == YAML_READER_ERROR {
            let position = TextPositions.position(ofByte: Int(parser.problem_offset), in: source)
            let what = parser.problem_value >= 0
                ? "\(problem) (#\(String(parser.problem_value, radix: 16, uppercase: true)))" : problem
            fail("unreadable YAML: \(what)", at: position, code: "yaml",
                 hint: "YAML text may not contain control characters other than tab and line breaks")
            return
        }
        let position = self.position(parser.problem_mark)
        let context = cString(parser.context)
        var message = "invalid YAML: " + (context.map { "\($0), " } ?? "") + problem
        var hint: String?
        var notes: [Diagnostic.Note] = []
        if let context, parser.context_mark.line != parser.problem_mark.line
            || parser.context_mark.column != parser.problem_mark.column
        {
            notes.append(Diagnostic.Note("\(context.hasPrefix("while ") ? String(context.dropFirst(6)) : context) started here",
                                         at: span(self.position(parser.context_mark))))
        }
        var location = position
        if context?.contains("quoted scalar") == true, problem.contains("end of stream") {
            // Point at the opening quote: that is where the fix goes.
            message = "invalid YAML: a quoted string is never closed"
            hint = "add the closing quote"
            location = self.position(parser.context_mark)
            notes = [Diagnostic.Note("the file ends here, still inside the string", at: span(position))]
        } else if lineHasTab(before: parser.problem_mark) {
            hint = "YAML does not allow tabs for indentation; indent with spaces"
            message = "invalid YAML: a tab is used for indentation"
        }
        diagnostics.error(message, at: span(location), code: "yaml", hint: hint, notes: notes)
        fatal = true
    }

    /// True when the problem's line starts with whitespace that holds a tab, or the
    /// character at the problem is a tab.
    private func lineHasTab(before mark: yaml_mark_t) -> Bool {
        var i = min(Int(mark.index), source.count)
        if i < source.count, source[i] == 0x09 { return true }
        // Walk back to the start of the line and check its leading whitespace.
        while i > 0, source[i - 1] != 0x0A { i -= 1 }
        while i < source.count, source[i] == 0x20 || source[i] == 0x09 {
            if source[i] == 0x09 { return true }
            i += 1
        }
        return false
    }

    // MARK: Conversions

    private func position(_ mark: yaml_mark_t) -> SourcePosition {
        SourcePosition(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    private func span(_ position: SourcePosition) -> SourceSpan {
        SourceSpan(file: file, at: position)
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int) -> String {
        guard let pointer else { return "" }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    private func cString(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private func cString(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}
