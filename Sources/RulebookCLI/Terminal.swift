import Foundation
import RulebookDiagnostics

/// Trouble that stops a command: unreadable input, an unknown policy. Printed as
/// `rulebook: error: ...` and exit status 2.
struct Trouble: Error {
    var message: String
    var hint: String?
    /// The reasons behind the trouble, one line each, printed after the message.
    var details: [String] = []

    init(_ message: String, hint: String? = nil, details: [String] = []) {
        self.message = message
        self.hint = hint
        self.details = details
    }
}

/// Standard streams and terminal facts the commands need.
enum Terminal {
    /// A stream that writes text unbuffered to a file descriptor.
    struct Stream: Sendable {
        let descriptor: Int32

        func write(_ text: String) {
            var text = text
            text.withUTF8 { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if n <= 0 { return }
                    offset += n
                }
            }
        }

        /// True when the stream is a terminal (colour is used only then).
        var isTerminal: Bool { isatty(descriptor) == 1 }
    }

    static let standardOutput = Stream(descriptor: STDOUT_FILENO)
    static let standardError = Stream(descriptor: STDERR_FILENO)
    static let standardInput = Stream(descriptor: STDIN_FILENO)


    /// Set once at start-up, before anything runs: failures are reported as one JSON
    /// object on standard output (`--format json`), with the diagnostics held for it.
    nonisolated(unsafe) static var errorsAsJSON = false
    nonisolated(unsafe) static var heldDiagnostics: [Diagnostic] = []
}

/// Reads files for the commands, turning every failure into a ``Trouble`` that names the
/// file and the reason.
enum FileReader {
    /// Reads `path` ("-" is standard input), refusing files larger than `limit` bytes
    /// before reading them.
    static func bytes(at path: String, limit: Int) throws -> [UInt8] {
        if path == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            return [UInt8](data)
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Trouble("cannot read '\(path)': \(String(cString: strerror(errno)))")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw Trouble("cannot read '\(path)': it is a folder")
        }
        // Reading a little past the limit lets the reader give its own size message.
        let size = Int(info.st_size)
        if size > limit {
            throw Trouble(
                "'\(path)' is \(describe(bytes: size)); the limit is \(describe(bytes: limit))",
                hint: "policy and case files are small; check that this is the file you meant")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw Trouble("cannot read '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        do {
            let data = try handle.readToEnd() ?? Data()
            return [UInt8](data)
        } catch {
            throw Trouble("cannot read '\(path)': \(error.localizedDescription)")
        }
    }

    /// Largest file read again to show a diagnostic's source line.
    static let excerptLimit = 8 * 1024 * 1024

    /// Reads `path` as text for display (diagnostic excerpts); nil when unreadable or too
    /// large to be worth reading again.
    static func text(at path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, Int(info.st_size) <= excerptLimit,
              let data = FileManager.default.contents(atPath: path)
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The file's size in bytes, or nil when it cannot be examined.
    static func size(at path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_size)
    }

    static func describe(bytes n: Int) -> String {
        if n >= 1024 * 1024 { return String(format: "%.1f MiB", Double(n) / 1_048_576) }
        if n >= 1024 { return "\(n / 1024) KiB" }
        return "\(n) bytes"
    }
}

/// Today's date for checks such as "the review date has passed".
enum Today {
    /// Days since 1970-01-01 (UTC).
    static var days: Int { Int((Date().timeIntervalSince1970 / 86_400).rounded(.down)) }
}

/// "rulebook: 40000 incidents read" on standard error, at most once a second, while long
/// work runs on a terminal; nothing when standard error is not one.
final class Progress {
    let enabled: Bool
    private var last = Date()
    private var shown = false

    init(enabled: Bool = Terminal.standardError.isTerminal) { self.enabled = enabled }

    func update(_ count: Int, _ what: String) {
        guard enabled, Date().timeIntervalSince(last) >= 1 else { return }
        last = Date()
        shown = true
        Terminal.standardError.write("\rrulebook: \(count) \(what)")
    }

    func finish() {
        if shown { Terminal.standardError.write("\n") }
    }
}
