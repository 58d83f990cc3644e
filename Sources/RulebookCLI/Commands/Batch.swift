import Dispatch
import Foundation
import RulebookCore
import RulebookDiagnostics
import RulebookYAML

/// `rulebook assess POLICY --batch FILE`: streams JSON Lines of cases through a
/// ``BatchAssessor`` and JSON Lines of results to standard output, in input order.
///
/// The input is read in blocks of whole lines; each block is split between the cores and
/// its halves assessed at once, then written in order. Memory stays at a few blocks
/// whatever the input's size.
enum BatchRunner {
    /// Bytes read at a time (a block grows to hold one longer line).
    static let blockSize = 4 << 20
    /// The longest line accepted: a case file's size limit.
    static let maxLine = ReaderLimits().maxBytes
    /// Problems shown on standard error; the rest are counted (every one is in the output).
    static let problemsShown = 10

    /// `policies` holds one compilation of the policy per worker thread: sharing one would
    /// have every thread bump the same reference counts, and the cache line bouncing
    /// between cores costs more than the work.
    /// How many threads to assess on: the cores, up to 8.
    static var workers: Int { max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8)) }

    static func run(policies: [Policy], path: String, at: Instant, explain: Bool) throws {
        let fd: Int32 = path == "-" ? STDIN_FILENO : open(path, O_RDONLY)
        guard fd >= 0 else { throw Trouble("cannot read '\(path)': \(String(cString: strerror(errno)))") }
        defer { if fd != STDIN_FILENO { close(fd) } }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { throw Trouble("cannot read '\(path)': it is a folder") }

        let name = path == "-" ? "standard input" : path
        let assessors = policies.map { BatchAssessor(policy: $0, at: at, explain: explain, file: name) }
        let progress = Progress(enabled: Terminal.standardError.isTerminal)
        var buffer = [UInt8](repeating: 0, count: blockSize)
        var filled = 0
        var line = 1
        var problems = 0
        var ended = false
        while !ended {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Trouble("cannot read '\(path)': \(String(cString: strerror(errno)))")
            }
            filled += n
            ended = n == 0
            // Whole lines only; at the end, whatever is left is the last line.
            var cut = filled
            if !ended {
                guard let newline = buffer[0..<filled].lastIndex(of: 0x0A) else {
                    guard buffer.count <= maxLine else {
                        throw Trouble("line \(line) of '\(name)' is longer than \(maxLine >> 20) MiB", hint: "each line holds one case")
                    }
                    buffer += [UInt8](repeating: 0, count: buffer.count)
                    continue
                }
                cut = newline + 1
            }
            let result = buffer.withUnsafeBufferPointer { assess(UnsafeBufferPointer(rebasing: $0[0..<cut]), firstLine: line, assessors) }
            for chunk in result.outputs { try writeAll(chunk) }
            for problem in result.problems {
                problems += 1
                if problems <= problemsShown { report(problem) }
            }
            line += result.lines
            // Keep the partial line for the next read.
            buffer.withUnsafeMutableBufferPointer { b in
                let rest = filled - cut
                if rest > 0 { b.baseAddress!.update(from: b.baseAddress! + cut, count: rest) }
            }
            filled -= cut
            progress.update(line - 1, "lines assessed")
        }
        progress.finish()
        if problems > 0 {
            throw Trouble(
                "\(problems) line\(problems == 1 ? "" : "s") of '\(name)' could not be assessed"
                    + (problems > problemsShown ? " (the first \(problemsShown) are shown above)" : ""),
                hint: "each has an error line in the output, with its line number; the other lines were assessed")
        }
    }

    /// Assesses a block of whole lines: split at a line boundary between the cores.
    private static func assess(_ block: UnsafeBufferPointer<UInt8>, firstLine: Int, _ assessors: [BatchAssessor])
        -> (outputs: [[UInt8]], problems: [BatchProblem], lines: Int)
    {
        let lines = block.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } + (block.last == 0x0A || block.isEmpty ? 0 : 1)
        let parts = block.count >= 256 << 10 ? assessors.count : 1
        // Cut points: after a newline near each share of the bytes.
        var bounds = [0]
        for k in 1..<parts {
            var cut = block.count * k / parts
            while cut < block.count, block[cut - 1] != 0x0A { cut += 1 }
            if cut > bounds.last! { bounds.append(cut) }
        }
        if bounds.last! < block.count { bounds.append(block.count) }
        let slices = max(bounds.count - 1, 0)
        var firstLines = [firstLine]
        for k in 0..<max(slices - 1, 0) {
            firstLines.append(firstLines[k] + block[bounds[k]..<bounds[k + 1]].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) })
        }
        let results = Results(count: slices)
        let shared = SharedBytes(buffer: block)
        let cuts = bounds
        let starts = firstLines
        DispatchQueue.concurrentPerform(iterations: slices) { k in
            var writer = JSONWriter(pretty: false)
            let found = assessors[k].run(UnsafeBufferPointer(rebasing: shared.buffer[cuts[k]..<cuts[k + 1]]), firstLine: starts[k], into: &writer)
            results.set(k, output: writer.bytes, problems: found)
        }
        return (results.outputs, results.problems, lines)
    }

    /// The block, read by every thread and written by none while they run.
    private struct SharedBytes: @unchecked Sendable {
        let buffer: UnsafeBufferPointer<UInt8>
    }

    /// Each slice's output and problems, filled in by the threads.
    private final class Results: @unchecked Sendable {
        private var slots: [(output: [UInt8], problems: [BatchProblem])]
        private let lock = NSLock()

        init(count: Int) { slots = Array(repeating: ([], []), count: count) }

        func set(_ k: Int, output: [UInt8], problems: [BatchProblem]) {
            lock.lock()
            slots[k] = (output, problems)
            lock.unlock()
        }

        var outputs: [[UInt8]] { slots.map(\.output) }
        var problems: [BatchProblem] { slots.flatMap(\.problems) }
    }

    private static func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Trouble("cannot write the results: \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
    }

    private static func report(_ problem: BatchProblem) {
        if let first = problem.diagnostics.first {
            let place = first.span.map { "\($0.file):\($0.start.line):\($0.start.column): " } ?? ""
            Terminal.standardError.write("\(place)error: \(first.message)\(first.hint.map { " (\($0))" } ?? "")\n")
        } else {
            Terminal.standardError.write("error: \(problem.message)\n")
        }
    }

}

