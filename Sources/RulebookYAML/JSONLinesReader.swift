import RulebookDiagnostics

/// Reads JSON Lines: one JSON object per line, blank lines ignored. Each line is read on
/// its own, so one bad line is reported with its line number and the rest still read.
public enum JSONLinesReader {
    /// One object per non-blank line, in order, plus every problem found.
    public struct Result: Sendable {
        /// The objects read, in file order (bad lines are left out).
        public var records: [Node]
        /// Problems, each at its line.
        public var diagnostics: [Diagnostic]
    }

    /// Reads every line of `bytes`. `limits.maxBytes` applies to each line, and the whole
    /// input is bounded by `maxTotalBytes`.
    public static func read(
        bytes: UnsafeBufferPointer<UInt8>, file: String, limits: ReaderLimits = ReaderLimits(),
        maxTotalBytes: Int = 2 * 1024 * 1024 * 1024
    ) -> Result {
        if let problem = ReaderLimits(maxBytes: maxTotalBytes).sizeProblem(bytes.count, file: file) {
            return Result(records: [], diagnostics: [problem])
        }
        var records: [Node] = []
        var bag = DiagnosticBag(errorLimit: 100)
        var line = 1
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            let slice = UnsafeBufferPointer(rebasing: bytes[start..<end])
            if slice.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                let result = JSONReader.read(bytes: slice, file: file, limits: limits, firstLine: line)
                bag.report(contentsOf: result.diagnostics)
                if let root = result.root { records.append(root) }
                if bag.isSaturated { break }
            }
            line += 1
            start = end + 1
        }
        return Result(records: records, diagnostics: bag.finished(file: file))
    }
}
