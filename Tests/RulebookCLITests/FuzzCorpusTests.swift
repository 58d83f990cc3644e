import Foundation
import RulebookTestSupport
import Testing

/// Every input in the committed fuzz corpus (seeds and every finding, kept as a
/// regression input) replayed through its target by the plain harness: the crashes and
/// disagreements fuzzing found stay fixed.
@Suite("Fuzz corpus: every committed input replayed through its target")
struct FuzzCorpusTests {
    static let corpus = RulebookBinary.packageRoot.appendingPathComponent("Tests/Fuzz/corpus")
    static let harness = URL(fileURLWithPath: RulebookBinary.path).deletingLastPathComponent().appendingPathComponent("rulebook-fuzz").path

    @Test("each target's corpus replays with no failure", arguments: [
        "yaml", "json", "expression", "policy", "cases", "archive", "batch", "argv-diff", "archive-diff", "zone-diff", "program-diff",
    ])
    func replay(target: String) throws {
        let folder = Self.corpus.appendingPathComponent(target).path
        let inputs = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(inputs.count >= 5, "\(target) has a corpus of \(inputs.count)")
        let run = try RulebookBinary.run([target, folder], executable: Self.harness)
        #expect(run.status == 0, "\(run.stderr.suffix(2000))")
        #expect(run.stdout.contains("\(inputs.count) inputs, no failure"), "\(run.stdout)")
    }

    @Test("an unknown target is trouble (exit 2), never a silent pass")
    func disagreementIsReported() throws {
        let run = try RulebookBinary.run(["no-such-target", Self.corpus.path], executable: Self.harness)
        #expect(run.status == 2)
        #expect(run.stderr.contains("usage: rulebook-fuzz"))
    }
}
