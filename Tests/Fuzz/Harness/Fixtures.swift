import Foundation
import RulebookCore
import RulebookYAML

/// What the targets work with: the shipped policies, compiled once, and where they are.
final class Fixtures: @unchecked Sendable {
    /// The repository: $RULEBOOK_ROOT, else found from this file's path.
    static let root: String = {
        if let root = ProcessInfo.processInfo.environment["RULEBOOK_ROOT"] { return root }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    nonisolated(unsafe) static let shared = Fixtures()
    /// The file being replayed, for failure messages.
    nonisolated(unsafe) static var current = "(fuzzer input)"

    let policies: [Policy]
    let sources: [PolicySource]
    let calendars: [PolicySource]

    private init() {
        let folder = Fixtures.root + "/Policies"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
        sources = names.compactMap { name in
            FileManager.default.contents(atPath: folder + "/" + name).map { PolicySource(file: folder + "/" + name, bytes: Array($0)) }
        }
        let calendarFolder = folder + "/calendars"
        calendars = ((try? FileManager.default.contentsOfDirectory(atPath: calendarFolder)) ?? []).sorted().compactMap { name in
            FileManager.default.contents(atPath: calendarFolder + "/" + name).map { PolicySource(file: calendarFolder + "/" + name, bytes: Array($0)) }
        }
        let library = PolicyLibrary()
        for calendar in calendars { library.addCalendar(calendar) }
        for source in sources { library.add(source) }
        var compiled: [Policy] = []
        for id in library.ids {
            if let policy = PolicyCompiler.compile(id: id, library: library, options: CompileOptions(reviewChecks: false)).policy {
                compiled.append(policy)
            }
        }
        // The language fixture: grids, probes, working days.
        let language = Fixtures.root + "/Tests/Fixtures/policies/language/language.yaml"
        if let data = FileManager.default.contents(atPath: language) {
            library.add(PolicySource(file: language, bytes: Array(data)))
            if let policy = PolicyCompiler.compile(id: "language", library: library, options: CompileOptions(reviewChecks: false)).policy {
                compiled.append(policy)
            }
        }
        precondition(compiled.count >= 5, "rulebook-fuzz: the shipped policies did not compile from \(folder)")
        policies = compiled
    }
}

/// Reads values out of the fuzzer's bytes, deterministically: the same input always
/// makes the same cases, states and times.
struct ByteSource {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var isEmpty: Bool { position >= bytes.count }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(UInt16(byte()) << 8 | UInt16(byte())) % n }

    mutating func int64() -> Int64 {
        var v: UInt64 = 0
        for _ in 0..<8 { v = v << 8 | UInt64(byte()) }
        return Int64(bitPattern: v)
    }

    /// An instant within a few years of 2026, at any minute.
    mutating func instant() -> Instant { 1_735_689_600_000 + Int64(below(6 * 365 * 24 * 60)) * 60_000 }

    /// A value of `type`, unknown a quarter of the time, edge numbers often.
    mutating func value(_ type: ValueType, minimum: Int? = nil, maximum: Int? = nil) -> Value {
        if byte() % 4 == 0 { return .unknown }
        switch type {
        case .bool: return .bool(byte() % 2 == 0)
        case .int:
            let edges = [0, 1, -1, 2, 5, 9, 10, 11, 25, 100, 101, 1000, Int.max, Int.min, Int.max / 2 + 1]
            if byte() % 3 == 0 { return .int(edges[below(edges.count)]) }
            let low = minimum ?? -1000, high = maximum ?? 100_000
            return .int(low + below(max(1, min(high, low + 200_000) - low + 1)))
        case .text: return .text(["", "a", "note"][below(3)])
        case .datetime: return .time(instant())
        case .duration: return .int(Int(int64() % 1_000_000_000_000))
        case .option(let d): return .option(below(d.options.count))
        case .options(let d): return .options(UInt64(bitPattern: int64()) & (d.options.count >= 64 ? ~0 : (1 << UInt64(d.options.count)) - 1))
        }
    }
}

/// Stops the process with what disagreed: libFuzzer keeps the input as a crash.
func disagree(_ target: String, _ what: String) -> Never {
    FileHandle.standardError.write("rulebook-fuzz \(target): DISAGREEMENT on \(Fixtures.current): \(what)\n".data(using: .utf8)!)
    abort()
}
