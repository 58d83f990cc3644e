import RulebookDiagnostics
import RulebookYAML

/// A case of a batch that could not be assessed: its line and why.
public struct BatchProblem: Sendable {
    /// The line in the input (1-based).
    public var line: Int
    public var message: String
    /// What the case reader found, positioned in the input file.
    public var diagnostics: [Diagnostic]
}

/// `rulebook assess POLICY --batch`: many cases, one per line of JSON, each assessed and
/// written as one line of JSON, in input order:
///
///     {"line": 1, "incident": "INC-7", "values": {"a_value": 3, ...}, "questions": ["a_fact", ...]}
///
/// `questions` lists the unanswered facts most decisive first (as `assess` ranks them);
/// with `explain`, each line also carries the explanation `assess` gives. A line that is
/// not a readable case for the policy becomes `{"line": N, "error": ..., "diagnostics": [...]}`
/// and the rest go on.
///
/// Pure: it reads bytes and appends bytes. One assessor may run on several threads, each
/// with its own slice of lines and its own writer.
public struct BatchAssessor: Sendable {
    public let policy: Policy
    public let at: Instant
    public let explain: Bool
    /// The input's name, for positions in diagnostics.
    public let file: String
    private let engine: Engine
    private let fast: FastCaseDecoder
    private let layout: LineLayout

    public init(policy: Policy, at: Instant, explain: Bool = false, file: String) {
        self.policy = policy
        self.at = at
        self.explain = explain
        self.file = file
        engine = Engine(policy: policy)
        fast = FastCaseDecoder(policy: policy)
        layout = LineLayout(policy: policy)
    }

    /// Assesses each non-blank line of `bytes`, whose first line is line `firstLine` of
    /// the input, appending one output line per case to `out`. Returns the problems.
    public func run(_ bytes: UnsafeBufferPointer<UInt8>, firstLine: Int, into out: inout JSONWriter) -> [BatchProblem] {
        var problems: [BatchProblem] = []
        var line = firstLine
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            let text = UnsafeBufferPointer(rebasing: bytes[start..<end])
            if text.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                if let problem = assess(text, line: line, into: &out) { problems.append(problem) }
            }
            line += 1
            start = end + 1
        }
        return problems
    }

    /// One case: assessed and written, or its problem written and returned.
    private func assess(_ text: UnsafeBufferPointer<UInt8>, line: Int, into w: inout JSONWriter) -> BatchProblem? {
        var file = fast.decode(text)
        if file == nil {
            let read = JSONReader.read(bytes: text, file: self.file, firstLine: line)
            var diagnostics = read.diagnostics
            if let root = read.root {
                let (loaded, more) = CaseLoader.load(root, policy: policy)
                diagnostics += more
                file = loaded
            }
            guard let file else {
                return fail(line, "line \(line) is not a readable case for policy '\(policy.id)'",
                            diagnostics.filter { $0.severity == .error }, into: &w)
            }
            return write(file, line: line, into: &w)
        }
        return write(file!, line: line, into: &w)
    }

    private func write(_ file: CaseFile, line: Int, into w: inout JSONWriter) -> BatchProblem? {
        if let named = file.policyID, named != policy.id {
            return fail(line, "line \(line) names policy '\(named)', but the batch is assessed under '\(policy.id)'", [], into: &w)
        }
        let evaluation = engine.evaluate(file, at: at)
        layout.write(line: line, incident: file.incident, evaluation: evaluation, into: &w)
        if explain {
            // Reopen the object for the explanation: drop its closing brace.
            w.dropLast()
            w.appendRaw(LineLayout.explanationKey)
            let reports = EngineReports(evaluation: evaluation, file: file)
            var inner = JSONWriter(pretty: false)
            reports.writeExplanation(&inner)
            inner.bytes.withUnsafeBufferPointer { w.appendRaw($0) }
            w.appendRaw(LineLayout.closeBrace)
        }
        w.lineBreak()
        return nil
    }

    private func fail(_ line: Int, _ message: String, _ diagnostics: [Diagnostic], into w: inout JSONWriter) -> BatchProblem {
        w.object { w in
            w.field("line", int: line)
            w.field("error", string: message)
            w.field("diagnostics") { w in w.array { w in for d in diagnostics { w.diagnostic(d) } } }
        }
        w.lineBreak()
        return BatchProblem(line: line, message: message, diagnostics: diagnostics)
    }
}

/// A result line laid out from fragments encoded once per policy, so writing a line
/// copies bytes and formats numbers, and touches no string of the policy.
struct LineLayout: Sendable {
    /// `"<value id>":` for each value, in order, concatenated; `valueKeys[j]` is its range.
    private let keyBytes: [UInt8]
    private let valueKeys: [Range<Int>]
    /// Each fact id as a JSON string, concatenated; `factIDs[slot]` is its range.
    private let factBytes: [UInt8]
    private let factIDs: [Range<Int>]
    /// Each option id as a JSON string, for values that are options or sets of options:
    /// `optionIDs[j]` is the list of ranges into `optionBytes` (empty for other types).
    private let optionBytes: [UInt8]
    private let optionIDs: [[Range<Int>]]
    private let base: Int
    private let clock: ZoneClock

    static var explanationKey: UnsafeBufferPointer<UInt8> { bytes(",\"explanation\":") }
    static var closeBrace: UnsafeBufferPointer<UInt8> { bytes("}") }
    private static var lineKey: UnsafeBufferPointer<UInt8> { bytes("{\"line\":") }
    private static var incidentKey: UnsafeBufferPointer<UInt8> { bytes(",\"incident\":") }
    private static var valuesKey: UnsafeBufferPointer<UInt8> { bytes(",\"values\":{") }
    private static var questionsKey: UnsafeBufferPointer<UInt8> { bytes("},\"questions\":[") }
    private static var end: UnsafeBufferPointer<UInt8> { bytes("]}") }
    private static var null: UnsafeBufferPointer<UInt8> { bytes("null") }
    private static var trueBytes: UnsafeBufferPointer<UInt8> { bytes("true") }
    private static var falseBytes: UnsafeBufferPointer<UInt8> { bytes("false") }
    private static var comma: UnsafeBufferPointer<UInt8> { bytes(",") }
    private static var open: UnsafeBufferPointer<UInt8> { bytes("[") }
    private static var close: UnsafeBufferPointer<UInt8> { bytes("]") }

    /// A fragment in the program's constant data (no allocation, nothing to retain).
    private static func bytes(_ text: StaticString) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }

    init(policy: Policy) {
        func encoded(_ texts: [String], prefix: String = "", suffix: String = "") -> ([UInt8], [Range<Int>]) {
            var out: [UInt8] = []
            var ranges: [Range<Int>] = []
            for text in texts {
                var w = JSONWriter(pretty: false)
                w.string(text)
                let start = out.count
                out += Array(prefix.utf8) + w.bytes + Array(suffix.utf8)
                ranges.append(start..<out.count)
            }
            return (out, ranges)
        }
        let ids = policy.values.map(\.id)
        var keys = encoded(ids, suffix: ":")
        // Every key but the first is preceded by a comma.
        var withCommas: [UInt8] = []
        var keyRanges: [Range<Int>] = []
        for (j, range) in keys.1.enumerated() {
            let start = withCommas.count
            if j > 0 { withCommas.append(UInt8(ascii: ",")) }
            withCommas += keys.0[range]
            keyRanges.append(start..<withCommas.count)
        }
        keys = (withCommas, keyRanges)
        (keyBytes, valueKeys) = keys
        (factBytes, factIDs) = encoded(policy.facts.map(\.id))
        var options: [UInt8] = []
        var optionRanges: [[Range<Int>]] = []
        for value in policy.values {
            switch value.type {
            case .option(let d), .options(let d):
                let (bytes, ranges) = encoded(d.options.map(\.id))
                optionRanges.append(ranges.map { ($0.lowerBound + options.count)..<($0.upperBound + options.count) })
                options += bytes
            default:
                optionRanges.append([])
            }
        }
        optionBytes = options
        optionIDs = optionRanges
        base = policy.facts.count
        clock = policy.clock
    }

    /// `{"line":N,"incident":...,"values":{...},"questions":[...]}` (no newline).
    func write(line: Int, incident: String?, evaluation: Evaluation, into w: inout JSONWriter) {
        w.appendRaw(Self.lineKey)
        w.appendRawInt(line)
        w.appendRaw(Self.incidentKey)
        if let incident { w.appendRawString(incident) } else { w.appendRaw(Self.null) }
        w.appendRaw(Self.valuesKey)
        keyBytes.withUnsafeBufferPointer { keys in
            optionBytes.withUnsafeBufferPointer { options in
                evaluation.values.slots.withUnsafeBufferPointer { slots in
                    for j in valueKeys.indices {
                        w.appendRaw(UnsafeBufferPointer(rebasing: keys[valueKeys[j]]))
                        switch slots[base + j] {
                        case .unknown: w.appendRaw(Self.null)
                        case .bool(let b): w.appendRaw(b ? Self.trueBytes : Self.falseBytes)
                        case .int(let n): w.appendRawInt(n)
                        case .option(let i):
                            let ids = optionIDs[j]
                            if i < ids.count { w.appendRaw(UnsafeBufferPointer(rebasing: options[ids[i]])) } else { w.appendRaw(Self.null) }
                        case .options(let mask):
                            let ids = optionIDs[j]
                            w.appendRaw(Self.open)
                            var first = true
                            for i in ids.indices where mask & (1 << UInt64(i)) != 0 {
                                if !first { w.appendRaw(Self.comma) }
                                first = false
                                w.appendRaw(UnsafeBufferPointer(rebasing: options[ids[i]]))
                            }
                            w.appendRaw(Self.close)
                        case .time(let t): w.appendRawString(clock.format(t))
                        case .text(let text): w.appendRawString(text)
                        }
                    }
                }
            }
        }
        w.appendRaw(Self.questionsKey)
        factBytes.withUnsafeBufferPointer { facts in
            for (k, fact) in evaluation.questionFacts.enumerated() {
                if k > 0 { w.appendRaw(Self.comma) }
                w.appendRaw(UnsafeBufferPointer(rebasing: facts[factIDs[fact]]))
            }
        }
        w.appendRaw(Self.end)
    }
}
