import Foundation
import RulebookDiagnostics

/// Test fixtures under Tests/Fixtures, and golden files that can be re-recorded.
public enum Fixtures {
    /// Tests/Fixtures.
    public static var root: URL { RulebookBinary.packageRoot.appendingPathComponent("Tests/Fixtures") }

    /// A fixture file's URL.
    public static func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    /// The text of a fixture.
    public static func text(_ path: String) throws -> String {
        try String(contentsOf: url(path), encoding: .utf8)
    }

    /// The `.yaml` files of a fixture folder, sorted.
    public static func yamlFiles(in folder: String) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: url(folder), includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "yaml" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Whether golden files should be rewritten from the actual output
    /// (`RULEBOOK_RECORD=1 swift test`), to be reviewed by hand before committing.
    public static var recording: Bool { ProcessInfo.processInfo.environment["RULEBOOK_RECORD"] == "1" }

    /// Compares `actual` with the golden file at `path` (relative to Tests/Fixtures),
    /// or records it. Returns nil when they match, else a description of the difference.
    public static func compare(_ actual: String, golden path: String) -> String? {
        let file = url(path)
        if recording {
            try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? actual.write(to: file, atomically: true, encoding: .utf8)
            return nil
        }
        guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
            return "missing golden file \(path); run with RULEBOOK_RECORD=1 to create it, then review it"
        }
        guard expected != actual else { return nil }
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(e.count, a.count) {
            let el = i < e.count ? String(e[i]) : "<end>"
            let al = i < a.count ? String(a[i]) : "<end>"
            if el != al { return "\(path) differs at line \(i + 1):\n  expected: \(el)\n  actual:   \(al)" }
        }
        return "\(path) differs"
    }

    /// Diagnostics as stable lines for golden files: `file:line:col: severity: [code] message`,
    /// then `  hint: ...` and `  note at line:col: ...`, with file names relative to
    /// Tests/Fixtures.
    public static func describe(_ diagnostics: [Diagnostic]) -> String {
        let prefix = root.path + "/"
        func place(_ span: SourceSpan?) -> String {
            guard let span else { return "-" }
            let file = span.file.hasPrefix(prefix) ? String(span.file.dropFirst(prefix.count)) : span.file
            return "\(file):\(span.start.line):\(span.start.column)"
        }
        var out = ""
        for d in diagnostics {
            out += "\(place(d.span)): \(d.severity.rawValue): [\(d.code)] \(d.message)\n"
            if let hint = d.hint { out += "  hint: \(hint)\n" }
            for note in d.notes { out += "  note at \(place(note.span)): \(note.message)\n" }
        }
        return out
    }
}
