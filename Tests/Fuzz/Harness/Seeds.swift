import Foundation
import RulebookCore

/// The seeds no file in the repository holds: each shipped policy's archive, and inputs
/// whose first byte picks each policy for the targets that read one from it. Written by
/// `rulebook-fuzz make-seeds DIR` (scripts/fuzz-seeds puts them in Tests/Fuzz/corpus).
enum Seeds {
    static func write(to folder: String) {
        let policies = Fixtures.shared.policies
        func put(_ target: String, _ name: String, _ bytes: [UInt8]) {
            let dir = folder + "/" + target
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(bytes))
        }
        var state: UInt64 = 20261201
        func random(_ n: Int) -> [UInt8] {
            (0..<n).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
        }
        for (i, policy) in policies.enumerated() {
            put("archive", policy.id, PolicyArchive.encode(policy))
            for k in 0..<4 {
                put("archive-diff", "\(policy.id)-\(k)", [UInt8(i)] + random(200))
                put("program-diff", "\(policy.id)-\(k)", [UInt8(i)] + random(400))
            }
        }
        for k in 0..<8 { put("zone-diff", "seed-\(k)", random(300)) }
        let lines = [
            "assess\nmadras\ncase.yaml", "next\ncouncil\nINC-2026-0001\n--role\nsimo", "audit\ntreetops\nc.jsonl\n--at\n2026-11-02T09:00:00Z",
            "assess\nmadras\n--batch\nin.jsonl", "next\n--format\njson\nleverton\nx.yaml\n--all", "audit\n--register\nr.sqlite\nINC-1",
            "assess\n--explain\nmadras\n--batch\n-", "next\nx.yaml\n--color\nalways\n--policies\nP",
        ]
        for (k, line) in lines.enumerated() { put("argv-diff", "line-\(k)", Array(line.utf8)) }
    }
}
