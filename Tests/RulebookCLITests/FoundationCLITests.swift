import Foundation
import RulebookTestSupport
import Testing

/// End-to-end: the built binary, its output and its exit status.
@Suite("rulebook CLI: foundation")
struct FoundationCLITests {
    @Test("--version and --help on the root and every subcommand")
    func help() throws {
        let version = try RulebookBinary.run(["--version"])
        #expect(version.status == 0)
        // `rulebook 0.1.0 (...)`: InstallCLITests checks the rest of the line.
        #expect(version.stdout.hasPrefix("rulebook "))
        #expect(version.stdout.split(separator: " ")[1].split(separator: ".").count == 3)
        for sub in ["validate", "show", "assess", "next", "audit"] {
            let run = try RulebookBinary.run([sub, "--help"])
            #expect(run.status == 0, "\(sub) --help")
            #expect(run.stdout.contains("USAGE: rulebook \(sub)"), "\(sub) --help")
        }
    }

    @Test("usage errors exit 2, not 64")
    func usage() throws {
        let run = try RulebookBinary.run(["no-such-command"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("Unexpected argument"))
        let badFormat = try RulebookBinary.run(["validate", "--format", "xml"])
        #expect(badFormat.status == 2)
    }

    @Test("shell completions are generated")
    func completions() throws {
        for shell in ["bash", "zsh", "fish"] {
            let run = try RulebookBinary.run(["--generate-completion-script", shell])
            #expect(run.status == 0)
            #expect(run.stdout.contains("validate"))
        }
    }

    @Test("a missing file is trouble: exit 2, named, no stack trace")
    func missingFile() throws {
        let run = try RulebookBinary.run(["validate", "/nonexistent/p.yaml"])
        #expect(run.status == 2)
        #expect(run.stderr == "rulebook: error: cannot read '/nonexistent/p.yaml': No such file or directory\n")
    }

    @Test("hostile YAML: each file named with line:col, exit 1, fast, never a crash")
    func hostile() throws {
        let folder = try RulebookBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for (p, n) in zip("abcdefgh", "bcdefghi") {
            bomb += "\(n): &\(n) [" + Array(repeating: "*\(p)", count: 9).joined(separator: ",") + "]\n"
        }
        let files: [(String, Data, String)] = [
            ("alias-bomb.yaml", Data(bomb.utf8), "alias-bomb.yaml:6:8: error: aliases expand"),
            ("nested.yaml", Data(("a: " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000)).utf8),
             "nested.yaml:1:67: error: nesting is deeper than 64 levels"),
            ("big.yaml", Data(("a: \"" + String(repeating: "x", count: 20 * 1024 * 1024) + "\"").utf8),
             "big.yaml:1:1: error: file is 20.0 MiB; the limit is 8 MiB"),
            // Binary noise from a fixed recipe, starting with a stray continuation byte.
            ("random.bin", Data([0x80] + (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }), "random.bin:1:1: error: invalid UTF-8"),
            ("latin1.yaml", Data([0x61, 0x3A, 0x20, 0xE9, 0x0A]), "latin1.yaml:1:4: error: invalid UTF-8"),
            ("dup.yaml", Data("id: a\nid: b\n".utf8), "dup.yaml:2:1: error: duplicate key 'id'"),
            ("tabs.yaml", Data("roles:\n\tdpo: x\n".utf8), "tabs.yaml:2:1: error: invalid YAML: a tab is used for indentation"),
            ("quote.yaml", Data("title: \"open\nid: x\n".utf8), "quote.yaml:1:8: error: invalid YAML: a quoted string is never closed"),
            ("empty.yaml", Data(), "empty.yaml:1:1: error: file is empty"),
            ("multi.yaml", Data("id: a\n---\nid: b\n".utf8), "multi.yaml:2:1: error: more than one YAML document"),
        ]
        for (name, data, expected) in files {
            let path = folder.appendingPathComponent(name).path
            try data.write(to: URL(fileURLWithPath: path))
            let started = Date()
            let run = try RulebookBinary.run(["validate", path, "--color", "never"])
            let seconds = Date().timeIntervalSince(started)
            #expect(run.status == 1, "\(name): \(run.stderr)")
            #expect(run.stderr.contains(folder.path + "/" + expected), "\(name): \(run.stderr)")
            #expect(!run.stderr.contains("Stack dump"), "\(name)")
            #expect(seconds < 10, "\(name) took \(seconds)s")  // generous: a guard against hangs, not a benchmark
        }
    }

    @Test("validate --format json describes every diagnostic with its location")
    func json() throws {
        let folder = try RulebookBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("dup.yaml").path
        try "id: dup\ntitle: A\norganisation: O\ntime_zone: Europe/London\ntitle: B\n".write(toFile: path, atomically: true, encoding: .utf8)
        let run = try RulebookBinary.run(["validate", path, "--format", "json"])
        #expect(run.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["errors"] as? Int == 1)
        let diagnostics = try #require(object["diagnostics"] as? [[String: Any]])
        let location = try #require(diagnostics.first?["location"] as? [String: Any])
        #expect(location["line"] as? Int == 5)
        #expect(location["column"] as? Int == 1)
        #expect(diagnostics.first?["code"] as? String == "duplicate-key")
        let notes = try #require(diagnostics.first?["notes"] as? [[String: Any]])
        #expect((notes.first?["location"] as? [String: Any])?["line"] as? Int == 2)
    }
}
