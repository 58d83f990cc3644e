import RulebookDiagnostics

/// Validates policy files: each is read, resolved against the others (for `extends`) and
/// compiled, and every diagnostic is collected once.
public enum PolicyValidator {
    /// Validates `files`. `context` holds other policies that may be extended (the
    /// policies folder); they are not themselves reported on.
    public static func validate(
        files: [PolicySource], context: [PolicySource] = [], calendars: [PolicySource] = [], options: CompileOptions = CompileOptions()
    ) -> ValidationReport {
        let library = PolicyLibrary()
        for source in calendars { library.addCalendar(source) }
        let checked = Set(files.map(\.file))
        var ids: [String] = []
        for source in files {
            if let id = library.add(source) { ids.append(id) }
        }
        for source in context where !checked.contains(source.file) {
            library.add(source)
        }
        var diagnostics = library.diagnostics.filter { $0.span.map { checked.contains($0.file) } ?? true }
        for id in ids {
            diagnostics += PolicyCompiler.compile(id: id, library: library, options: options).diagnostics
        }
        return ValidationReport(files: files.map(\.file), diagnostics: inFileOrder(deduplicated(diagnostics)))
    }

    /// Sorts by file (in the order first seen) then position, keeping the found order for
    /// ties and for diagnostics without a position, so output reads down each file.
    static func inFileOrder(_ list: [Diagnostic]) -> [Diagnostic] {
        var fileRank: [String: Int] = [:]
        for d in list { if let f = d.span?.file, fileRank[f] == nil { fileRank[f] = fileRank.count } }
        return list.enumerated().sorted { a, b in
            let ka = (a.element.span.flatMap { fileRank[$0.file] } ?? -1, a.element.span?.start.line ?? 0, a.element.span?.start.column ?? 0, a.offset)
            let kb = (b.element.span.flatMap { fileRank[$0.file] } ?? -1, b.element.span?.start.line ?? 0, b.element.span?.start.column ?? 0, b.offset)
            return ka < kb
        }.map(\.element)
    }

    /// Drops repeats (a base's problem found again while compiling a policy that extends
    /// it), keeping the first.
    static func deduplicated(_ list: [Diagnostic]) -> [Diagnostic] {
        var seen: Set<Diagnostic> = []
        return list.filter { seen.insert($0).inserted }
    }
}
