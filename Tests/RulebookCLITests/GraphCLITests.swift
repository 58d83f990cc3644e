import Foundation
import RulebookTestSupport
import Testing

@Suite("rulebook graph")
struct GraphCLITests {
    @Test("each shipped policy's diagram is exactly its golden file, in Mermaid and in DOT", arguments: ShowCLITests.policies)
    func golden(_ id: String) throws {
        for (format, suffix) in [("mermaid", "mmd"), ("dot", "dot")] {
            let run = try RulebookBinary.run(["graph", id, "--format", format])
            #expect(run.status == 0, "\(run.stderr)")
            if let difference = Fixtures.compare(run.stdout, golden: "graph/\(id).\(suffix)") {
                Issue.record(Comment(rawValue: difference))
            }
        }
    }

    @Test("Graphviz renders each DOT diagram to a PNG of some size", arguments: ShowCLITests.policies)
    func renders(_ id: String) throws {
        let dir = try RulebookBinary.temporaryFolder()
        let dotFile = dir.appendingPathComponent("\(id).dot"), png = dir.appendingPathComponent("\(id).png")
        let run = try RulebookBinary.run(["graph", id, "--format", "dot"])
        try run.stdout.write(to: dotFile, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/dot")
        process.arguments = ["-Tpng", "-o", png.path, dotFile.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        let size = (try? FileManager.default.attributesOfItem(atPath: png.path)[.size] as? Int) ?? 0
        #expect(size > 50_000, "\(id): a PNG of \(size) bytes")
    }

    @Test("lanes, deadlines, conditions, clocks and prohibitions are drawn")
    func contents() throws {
        let mermaid = try RulebookBinary.run(["graph", "treetops"]).stdout
        #expect(mermaid.hasPrefix("flowchart LR\n"))
        #expect(mermaid.contains("subgraph role_"))
        #expect(mermaid.contains("-.->"))           // a clock
        #expect(mermaid.contains("|\"when "))       // a condition
        let council = try RulebookBinary.run(["graph", "council", "--format", "dot"]).stdout
        #expect(council.contains("shape=octagon"))  // a prohibition
        #expect(council.contains("within"))
    }
}
