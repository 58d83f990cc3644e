import Foundation
import RulebookTestSupport
import Testing

@Suite("Compiled policies cached between runs")
struct CacheCLITests {
    @Test("a cached policy answers as the YAML does; an edit, a damaged entry or 'off' never give a stale answer")
    func cache() throws {
        let work = try RulebookBinary.temporaryFolder()
        let policies = work.appendingPathComponent("policies")
        let cache = work.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
        let original = try Fixtures.text("policies/engine/engine.yaml")
        let policyFile = policies.appendingPathComponent("engine.yaml")
        try original.write(to: policyFile, atomically: true, encoding: .utf8)
        let arguments = ["next", "engine", Fixtures.url("cases/engine-late.yaml").path, "--at", "2026-11-02T12:30:00Z",
                         "--policies", policies.path, "--format", "json"]
        func run(_ env: [String: String] = [:]) throws -> RulebookBinary.Run {
            try RulebookBinary.run(arguments, environment: ["RULEBOOK_CACHE": cache.path].merging(env) { $1 })
        }
        func entries() throws -> [URL] {
            (try? FileManager.default.contentsOfDirectory(at: cache, includingPropertiesForKeys: nil))?
                .filter { $0.pathExtension == "policy" } ?? []
        }

        let first = try run()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try entries().count == 1)
        let second = try run()
        #expect(second.stdout == first.stdout)

        // An edit (a deadline and the version) changes the answer at once.
        try original.replacingOccurrences(of: "within: PT1H", with: "within: PT2H")
            .replacingOccurrences(of: "version: \"3\"", with: "version: \"4\"")
            .write(to: policyFile, atomically: true, encoding: .utf8)
        let edited = try run()
        #expect(edited.status == 0)
        #expect(edited.stdout != first.stdout)
        #expect(edited.stdout == (try RulebookBinary.run(arguments, environment: ["RULEBOOK_CACHE": "off"])).stdout)

        // A damaged entry is ignored (and rewritten).
        try original.write(to: policyFile, atomically: true, encoding: .utf8)
        _ = try run()
        let entry = try #require(try entries().first)
        var bytes = try Data(contentsOf: entry)
        bytes[bytes.count - 20] ^= 0xFF
        try bytes.write(to: entry)
        let damaged = try run()
        #expect(damaged.status == 0)
        #expect(damaged.stdout == first.stdout)
        try Data("RBPC\nnonsense".utf8).write(to: entry)
        #expect(try run().stdout == first.stdout)

        // Off means off.
        let elsewhere = work.appendingPathComponent("unused")
        let off = try RulebookBinary.run(arguments, environment: ["RULEBOOK_CACHE": "off", "HOME": elsewhere.path, "XDG_CACHE_HOME": elsewhere.path])
        #expect(off.stdout == first.stdout)
        #expect(!FileManager.default.fileExists(atPath: elsewhere.path))
    }

    @Test("a settled file is trusted by its metadata, and any write to it, even of the same size, is seen")
    func settled() throws {
        let work = try RulebookBinary.temporaryFolder()
        let policies = work.appendingPathComponent("policies")
        try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
        let original = try Fixtures.text("policies/engine/engine.yaml")
        let policyFile = policies.appendingPathComponent("engine.yaml")
        try original.write(to: policyFile, atomically: false, encoding: .utf8)
        // Metadata is trusted only for files that had not changed for a while.
        Thread.sleep(forTimeInterval: 3.2)
        let arguments = ["next", "engine", Fixtures.url("cases/engine-late.yaml").path, "--at", "2026-11-02T12:30:00Z",
                         "--policies", policies.path, "--format", "json"]
        let environment = ["RULEBOOK_CACHE": work.appendingPathComponent("cache").path]
        let first = try RulebookBinary.run(arguments, environment: environment)
        #expect(try RulebookBinary.run(arguments, environment: environment).stdout == first.stdout)
        // Same size, different content, written in place (same inode).
        let edited = original.replacingOccurrences(of: "version: \"3\"", with: "version: \"7\"")
        #expect(edited.utf8.count == original.utf8.count)
        let handle = try FileHandle(forWritingTo: policyFile)
        try handle.write(contentsOf: Data(edited.utf8))
        try handle.close()
        let after = try RulebookBinary.run(arguments, environment: environment)
        #expect(after.stdout.contains("\"version\" : \"7\"") || after.stdout.contains("\"version\": \"7\""), "\(after.stdout.prefix(300))")
    }
}
