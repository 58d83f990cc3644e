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
        let checked = Set(files.map(\.file))
        // A calendar file named among the files is checked as a calendar; the calendars
        // beside the policies are read too, and their problems always shown (a policy
        // naming a broken calendar would otherwise only say it is missing).
        let calendarFiles = files.filter(isCalendar) + calendars.filter { !checked.contains($0.file) }
        for source in calendarFiles { library.addCalendar(source) }
        let shown = checked.union(calendarFiles.map(\.file))
        var ids: [String] = []
        for source in files where !isCalendar(source) {
            if let id = library.add(source) { ids.append(id) }
        }
        for source in context where !checked.contains(source.file) {
            library.add(source)
        }
        var diagnostics = library.diagnostics.filter { $0.span.map { shown.contains($0.file) } ?? true }
        for id in ids {
            diagnostics += PolicyCompiler.compile(id: id, library: library, options: options).diagnostics
        }
        return ValidationReport(files: files.map(\.file), diagnostics: inFileOrder(deduplicated(diagnostics)))
    }

    /// Whether a file is a working-day calendar: a top-level `calendar:` and no `id:`
    /// (a policy always has an id; it may name a calendar too).
    static func isCalendar(_ source: PolicySource) -> Bool {
        var calendar = false
        for line in String(decoding: source.bytes, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("id:") { return false }
            if line.hasPrefix("calendar:") { calendar = true }
        }
        return calendar
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
