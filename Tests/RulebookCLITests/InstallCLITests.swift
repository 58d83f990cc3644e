import Foundation
import RulebookTestSupport
import Testing

/// End-to-end: what an installed rulebook does that a checkout's does not — its version
/// line, the policies installed beside it, and the shell completions.
@Suite("rulebook CLI: installing")
struct InstallCLITests {
    /// An installation in a scratch folder: PREFIX/bin/rulebook (the built binary, hard
    /// linked, so it finds PREFIX/share as an installed one does) and, unless `policies`
    /// is false, PREFIX/share/rulebook/Policies (a copy of the shipped policies).
    static func install(policies: Bool = true) throws -> (prefix: URL, binary: String, work: URL) {
        let prefix = try RulebookBinary.temporaryFolder()
        let bin = prefix.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let binary = bin.appendingPathComponent("rulebook").path
        do {
            try FileManager.default.linkItem(atPath: RulebookBinary.path, toPath: binary)
        } catch {
            try FileManager.default.copyItem(atPath: RulebookBinary.path, toPath: binary)
        }
        if policies {
            let share = prefix.appendingPathComponent("share/rulebook")
            try FileManager.default.createDirectory(at: share, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: RulebookBinary.packageRoot.appendingPathComponent("Policies"), to: share.appendingPathComponent("Policies"))
        }
        let work = prefix.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        return (prefix, binary, work)
    }

    @Test("--version: the version from its one place, then the commit and build day, or 'development build'")
    func version() throws {
        let run = try RulebookBinary.run(["--version"])
        #expect(run.status == 0)
        let line = run.stdout.trimmingCharacters(in: .newlines)
        let pattern = #/^rulebook (\d+\.\d+\.\d+) \((development build: no commit or build date recorded; make install and make deb record them|commit [0-9a-f]{7,40}(-modified)?, built \d{4}-\d{2}-\d{2})\)$/#
        let match = try #require(line.wholeMatch(of: pattern), "\(line)")
        // The Makefile (make deb, the package's version) reads the same constant.
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        make.arguments = ["make", "-s", "--no-print-directory", "print-version"]
        make.currentDirectoryURL = RulebookBinary.packageRoot
        let out = Pipe()
        make.standardOutput = out
        try make.run()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        make.waitUntilExit()
        #expect(printed.trimmingCharacters(in: .whitespacesAndNewlines) == String(match.1))
    }

    @Test("with no --policies and no ./Policies, the policies installed in PREFIX/share/rulebook are used")
    func installedPolicies() throws {
        let (prefix, binary, work) = try Self.install()
        defer { try? FileManager.default.removeItem(at: prefix) }
        let show = try RulebookBinary.run(["show", "madras"], in: work, executable: binary)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("Madras"))
        let validate = try RulebookBinary.run(["validate", "--hide-notes"], in: work, executable: binary)
        #expect(validate.status == 0, "\(validate.stderr)")
        let tests = try RulebookBinary.run(["test"], in: work, executable: binary)
        #expect(tests.status == 0, "\(tests.stdout)\(tests.stderr)")
        #expect(tests.stdout.contains(" passed, 0 failed"))
        let example = prefix.appendingPathComponent("share/rulebook/Policies/examples/madras-foi-disclosure.yaml").path
        let next = try RulebookBinary.run(["next", example, "--at", "2026-11-03T10:00:00Z"], in: work, executable: binary)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stdout.contains("OVERDUE"))
    }

    @Test("./Policies comes before the installed policies, and --policies before both")
    func localPoliciesFirst() throws {
        let (prefix, binary, work) = try Self.install()
        defer { try? FileManager.default.removeItem(at: prefix) }
        let local = work.appendingPathComponent("Policies")
        try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: RulebookBinary.packageRoot.appendingPathComponent("Policies/council.yaml"), to: local.appendingPathComponent("council.yaml"))
        let missing = try RulebookBinary.run(["show", "madras"], in: work, executable: binary)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no policy 'madras' in Policies"), "\(missing.stderr)")
        let installed = prefix.appendingPathComponent("share/rulebook/Policies").path
        let given = try RulebookBinary.run(["show", "madras", "--policies", installed], in: work, executable: binary)
        #expect(given.status == 0, "\(given.stderr)")
    }

    @Test("with no policies anywhere, the error says where it looked")
    func noPolicies() throws {
        let (prefix, binary, work) = try Self.install(policies: false)
        defer { try? FileManager.default.removeItem(at: prefix) }
        let run = try RulebookBinary.run(["show", "madras"], in: work, executable: binary)
        #expect(run.status == 2)
        #expect(run.stderr.contains("no policies folder 'Policies'"), "\(run.stderr)")
        #expect(run.stderr.contains("PREFIX/share/rulebook/Policies"), "\(run.stderr)")
        let help = try RulebookBinary.run(["next", "--help"], in: work, executable: binary)
        #expect(help.stdout.contains("PREFIX/share/rulebook/Policies"))
    }

    /// What bash completes for `words` (the last is the word being completed), with the
    /// script the binary generates, as bash-completion would call it.
    static func bashCompletions(_ words: [String], in directory: URL, environment: [String: String] = [:]) throws -> [String] {
        let script = try RulebookBinary.run(["--generate-completion-script", "bash"])
        let folder = try RulebookBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("rulebook.bash")
        try script.stdout.write(to: file, atomically: true, encoding: .utf8)
        let quoted = ([RulebookBinary.path] + words).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let run = try RulebookBinary.run(["-c", """
            source '\(file.path)'
            COMP_WORDS=(\(quoted.joined(separator: " ")))
            COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
            COMP_LINE="${COMP_WORDS[*]}"
            COMP_POINT=${#COMP_LINE}
            COMPREPLY=()
            _rulebook "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf '%s\\n' "${COMPREPLY[@]}"
            """], in: directory, environment: environment, executable: "/bin/bash")
        #expect(run.status == 0, "\(run.stderr)")
        return run.stdout.split(separator: "\n").map(String.init)
    }

    @Test("bash completes subcommands, policy ids and incident numbers")
    func bashCompletion() throws {
        let folder = try RulebookBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = folder.appendingPathComponent("school")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: RulebookBinary.packageRoot.appendingPathComponent("Policies"), to: root.appendingPathComponent("Policies"))
        #expect(try Self.bashCompletions(["ne"], in: root) == ["next"])
        #expect(try Self.bashCompletions(["user", "re"], in: root) == ["reset-password"])
        // Policy ids from ./Policies, and from --policies when the command line gives it.
        #expect(try Self.bashCompletions(["show", "ma"], in: root) == ["madras"])
        #expect(try Self.bashCompletions(["list", "--policy", "t"], in: root) == ["treetops"])
        let elsewhere = folder.appendingPathComponent("mine")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: root.appendingPathComponent("Policies/council.yaml"), to: elsewhere.appendingPathComponent("council.yaml"))
        #expect(try Self.bashCompletions(["show", "--policies", elsewhere.path, ""], in: folder) == ["council", "mine/", "school/"])
        // Incident numbers from the register: --register, or $RULEBOOK_REGISTER.
        let register = folder.appendingPathComponent("r.sqlite").path
        for _ in 0..<2 {
            let open = try RulebookBinary.run(["open", "madras", "--register", register, "--at", "2026-11-02T09:20:00Z"], in: root)
            #expect(open.status == 0, "\(open.stderr)")
        }
        #expect(try Self.bashCompletions(["record", "--register", register, "INC"], in: folder) == ["INC-2026-0001", "INC-2026-0002"])
        #expect(try Self.bashCompletions(["export", "INC-2026-0002"], in: folder, environment: ["RULEBOOK_REGISTER": register])
                == ["INC-2026-0002"])
        // POLICY then CASE: ids, incident numbers, case files.
        let next = try Self.bashCompletions(["next", "--register", register, ""], in: root)
        #expect(next.contains("madras") && next.contains("INC-2026-0001") && next.contains("Policies/"), "\(next)")
        // No register: nothing, and none is made.
        #expect(try Self.bashCompletions(["verify", "INC"], in: folder, environment: ["RULEBOOK_REGISTER": folder.path + "/none.sqlite"]) == [])
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/none.sqlite"))
    }
}
