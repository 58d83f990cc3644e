#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A finished child process: how long it ran (spawn to exit, wall clock), how it ended,
/// and its peak resident memory.
struct ProcessRun: Sendable {
    var seconds: Double
    var status: Int32
    var peakRSSKiB: Int
}

struct SpawnError: Error, CustomStringConvertible {
    var description: String
}

/// The launcher every child is started through (Benchmarks/Launch), next to this
/// executable: started directly, a child would inherit this process's memory high-water
/// mark (Linux carries it across vfork and exec), and its peak RSS would be ours.
let launcher = directory(of: currentExecutable()) + "/bench-launch"

/// Runs `argv` (argv[0] is a path) with stdin from `input` (or /dev/null) and stdout
/// to `output` (or /dev/null), stderr to `errors` (or inherited), and waits for it. Its
/// time and peak memory are measured by the launcher, around the child alone.
func spawn(_ argv: [String], input: String? = nil, output: String? = nil, errors: String? = nil) throws -> ProcessRun {
    guard access(launcher, X_OK) == 0 else {
        throw SpawnError(description: "\(launcher) is missing: build the bench-launch product with rulebook-bench")
    }
    let result = "/tmp/rulebook-bench-\(getpid()).launch"
    defer { unlink(result) }
    let outer = try spawnDirect([launcher, result] + argv, input: input, output: output, errors: errors)
    guard outer.status == 0 else { throw SpawnError(description: "bench-launch failed running \(argv[0]) (exit status \(outer.status))") }
    let fields = try readText(result).split(whereSeparator: { $0 == " " || $0 == "\n" }).map { Int(String($0)) }
    guard fields.count == 3, let status = fields[0], let nanoseconds = fields[1], let rss = fields[2] else {
        throw SpawnError(description: "bench-launch wrote an unreadable result for \(argv[0])")
    }
    return ProcessRun(seconds: Double(nanoseconds) / 1e9, status: Int32(status), peakRSSKiB: rss)
}

/// Runs `argv` directly (see `spawn`).
private func spawnDirect(_ argv: [String], input: String?, output: String?, errors: String?) throws -> ProcessRun {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, input ?? "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if let errors {
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    }
    var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
    cArgs.append(nil)
    defer { for p in cArgs { free(p) } }
    var pid: pid_t = 0
    let start = monotonicNanoseconds()
    let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
    guard rc == 0 else { throw SpawnError(description: "cannot run \(argv[0]): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 {
        guard errno == EINTR else { throw SpawnError(description: "waiting for \(argv[0]) failed: \(String(cString: strerror(errno)))") }
    }
    let seconds = Double(monotonicNanoseconds() - start) / 1e9
    // WIFEXITED/WEXITSTATUS are macros; decode the status word by hand.
    let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return ProcessRun(seconds: seconds, status: exitStatus, peakRSSKiB: usage.ru_maxrss)
}

/// The absolute path of this executable.
func currentExecutable() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
}

/// The folder part of a path.
func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return String(path[..<slash])
}

/// Reads a whole file as text.
func readText(_ path: String) throws -> String {
    guard let file = fopen(path, "rb") else { throw SpawnError(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Writes text to a file, replacing it.
func writeText(_ text: String, to path: String) throws {
    guard let file = fopen(path, "wb") else { throw SpawnError(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
    defer { fclose(file) }
    var text = text
    text.withUTF8 { buffer in _ = fwrite(buffer.baseAddress, 1, buffer.count, file) }
}

/// Appends lines to a file as they are produced (JSON Lines inputs can be large).
final class LineWriter {
    private let file: UnsafeMutablePointer<FILE>

    init(_ path: String) throws {
        guard let file = fopen(path, "wb") else { throw SpawnError(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
        self.file = file
    }

    func write(_ line: String) {
        var line = line
        line.withUTF8 { buffer in _ = fwrite(buffer.baseAddress, 1, buffer.count, file) }
        fputc(10, file)
    }

    deinit { fclose(file) }
}

/// Makes a folder (and its parents) if missing.
func makeDirectory(_ path: String) {
    var current = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
        current += "/" + part
        mkdir(current, 0o755)
    }
}

/// Removes a file if present.
func removeFile(_ path: String) {
    unlink(path)
}
