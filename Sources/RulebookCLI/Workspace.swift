import ArgumentParser
import Foundation
import RulebookCore
import RulebookDiagnostics
import RulebookYAML

/// Finds and loads policies and cases for the commands, printing diagnostics and
/// turning any failure into exit status 2.
enum Workspace {
    /// Loads POLICY: an id in `folder`, or a path to a policy file (the folder's other
    /// policies are available to `extends`). An invalid policy prints its errors.
    static func policy(_ argument: String, folder: String, colour: Bool, today: Int? = Today.days) throws -> Policy {
        if let cached = PolicyCache.load(argument: argument, folder: folder) { return cached }
        let library = PolicyLibrary()
        var id = argument
        // The files read for the lineage, with the bytes compiled (for the cache).
        var read: [(path: String, bytes: [UInt8])] = []
        let isPath = argument.contains("/") || argument.hasSuffix(".yaml") || argument.hasSuffix(".yml")
        if isPath {
            let source = try PolicyFiles.source(at: argument)
            guard let added = library.add(source) else {
                printDiagnostics(library.diagnostics, colour: colour)
                throw Trouble("'\(argument)' is not a usable policy file")
            }
            id = added
            read.append((argument, source.bytes))
        }
        // Read only what the lineage needs when files are named after their ids
        // (Policies/<id>.yaml); otherwise read the whole folder to find the ids.
        let byName = addLineageByName(from: id, folder: folder, to: library, skipping: argument, read: &read)
        if !byName {
            if let files = try? PolicyFiles.expand([folder]) {
                for file in files where file != argument && library.id(ofFile: file) == nil {
                    if let source = try? PolicyFiles.source(at: file) { library.add(source) }
                }
            } else if !isPath {
                throw Trouble("no policies folder '\(folder)'", hint: Installation.missingPoliciesHint(folder))
            }
        }
        // The working-day calendars the lineage names, from calendars/ beside the policies.
        for name in library.calendarNames {
            for directory in [folder, isPath ? (argument as NSString).deletingLastPathComponent : folder] {
                let path = (directory.isEmpty ? "." : directory) + "/calendars/" + name + ".yaml"
                guard FileManager.default.fileExists(atPath: path), let source = try? PolicyFiles.source(at: path) else { continue }
                if library.addCalendar(source) == nil {
                    printDiagnostics(library.diagnostics.filter { $0.severity == .error }, colour: colour)
                    throw Trouble("the calendar '\(path)' has errors")
                }
                read.append((path, source.bytes))
                break
            }
        }
        guard library.ids.contains(id) else {
            throw Trouble(
                "no policy '\(argument)' in \(folder)",
                hint: Suggestions.didYouMean(argument, among: library.ids)
                    ?? "the policies are: " + library.ids.joined(separator: ", "))
        }
        let result = PolicyCompiler.compile(
            id: id, library: library, options: CompileOptions(today: today, listAssumptions: false, reviewChecks: false))
        guard let policy = result.policy else {
            printDiagnostics(result.diagnostics.filter { $0.severity == .error }, colour: colour)
            throw Trouble("policy '\(id)' has errors; run `rulebook validate \(library.file(of: id) ?? id)`")
        }
        // Kept only when the lineage was found by file name: then these files alone
        // decide what the argument means.
        if byName { PolicyCache.store(policy, argument: argument, folder: folder, files: read) }
        return policy
    }

    /// Adds `id` and the policies it extends from `folder/<id>.yaml`; false when a file
    /// is missing or does not hold the id its name promises (the caller then reads the
    /// whole folder). The files read are added to `read`.
    private static func addLineageByName(
        from id: String, folder: String, to library: PolicyLibrary, skipping: String, read: inout [(path: String, bytes: [UInt8])]
    ) -> Bool {
        var next: String? = id
        var seen: Set<String> = []
        while let current = next, seen.insert(current).inserted {
            if library.ids.contains(current) {
                next = library.extends(of: current)
                continue
            }
            let base = folder.hasSuffix("/") ? folder : folder + "/"
            let path = base + current + ".yaml"
            guard path != skipping, FileManager.default.fileExists(atPath: path), let source = try? PolicyFiles.source(at: path),
                  library.add(source) == current
            else { return false }
            read.append((path, source.bytes))
            next = library.extends(of: current)
        }
        return true
    }

    /// Loads CASE: a YAML or JSON case file, or (`.jsonl`) a trail of events. Extra
    /// events may come from a JSON Lines `trail`.
    static func incident(_ path: String, policy: Policy, trail: String?, colour: Bool) throws -> CaseFile {
        var file: CaseFile
        let limits = ReaderLimits(maxBytes: 64 * 1024 * 1024, maxNodes: 20_000_000)
        if path.hasSuffix(".jsonl") {
            file = CaseFile(events: try events(path, policy: policy, colour: colour))
        } else {
            let bytes = try FileReader.bytes(at: path, limit: limits.maxBytes)
            let read = path.hasSuffix(".json")
                ? bytes.withUnsafeBufferPointer { JSONReader.read(bytes: $0, file: path, limits: limits) }
                : YAMLReader.read(bytes: bytes, file: path, limits: limits)
            guard let root = read.root else {
                printDiagnostics(read.diagnostics, colour: colour)
                throw Trouble("'\(path)' is not a readable case file")
            }
            let (loaded, diagnostics) = CaseLoader.load(root, policy: policy)
            printDiagnostics(diagnostics, colour: colour)
            guard let loaded else { throw Trouble("'\(path)' does not fit policy '\(policy.id)'") }
            file = loaded
            if let named = file.policyID, named != policy.id, !policy.lineageIDs.contains(named) {
                throw Trouble("'\(path)' is a case for policy '\(named)', not '\(policy.id)'",
                              hint: "name the policy the case was opened under")
            }
        }
        if let trail {
            file.events += try events(trail, policy: policy, colour: colour)
            if let bad = zip(file.events, file.events.dropFirst()).first(where: { $1.at < $0.at }) {
                throw Trouble("the trail's events must come after the case's: one at \(Timestamp.format(bad.1.at)) follows one at \(Timestamp.format(bad.0.at))")
            }
        }
        return file
    }

    private static func events(_ path: String, policy: Policy, colour: Bool) throws -> [Event] {
        let bytes = try FileReader.bytes(at: path, limit: 4 * 1024 * 1024 * 1024)
        let read = bytes.withUnsafeBufferPointer { JSONLinesReader.read(bytes: $0, file: path) }
        if read.diagnostics.contains(where: { $0.severity == .error }) {
            printDiagnostics(read.diagnostics, colour: colour)
            throw Trouble("'\(path)' is not a readable trail (JSON Lines, one event per line)")
        }
        let (events, diagnostics) = CaseLoader.loadTrail(read.records, policy: policy)
        printDiagnostics(diagnostics, colour: colour)
        if diagnostics.contains(where: { $0.severity == .error }) {
            throw Trouble("'\(path)' does not fit policy '\(policy.id)'")
        }
        return events
    }

    /// The texts of a policy's lineage (its file and the files it extends, then its
    /// working-day calendar as `calendar:<id>`), for pinning.
    static func lineageTexts(_ policy: Policy) throws -> [(id: String, file: String, text: String)] {
        var texts = try policy.lineage.map { header in
            let bytes = try FileReader.bytes(at: header.file, limit: ReaderLimits().maxBytes)
            return (header.id, header.file, String(decoding: bytes, as: UTF8.self))
        }
        if let calendar = policy.clock.calendar {
            let bytes = try FileReader.bytes(at: calendar.file, limit: ReaderLimits().maxBytes)
            texts.append((PinnedLineage.calendarPrefix + calendar.id, calendar.file, String(decoding: bytes, as: UTF8.self)))
        }
        return texts
    }

    /// Every calendar file (`calendars/*.yaml`) in the folders of `paths` (files or
    /// folders).
    static func calendarFiles(near paths: [String]) -> [String] {
        var out: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            let folder = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
                ? path : (path as NSString).deletingLastPathComponent
            let directory = (folder.isEmpty ? "." : folder) + "/calendars"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                let file = directory + "/" + name
                if !out.contains(file) { out.append(file) }
            }
        }
        return out
    }

    /// The case's policy id, read without a policy (for `rulebook next CASE`); nil when
    /// the case names none. A case that cannot be read at all is trouble, with the reason
    /// (too large, not YAML, a control character...), never "names no policy".
    static func policyNamed(inCase path: String, colour: Bool = false) throws -> String? {
        guard !path.hasSuffix(".jsonl") else { return nil }
        let bytes = try FileReader.bytes(at: path, limit: ReaderLimits().maxBytes)
        let read = path.hasSuffix(".json")
            ? bytes.withUnsafeBufferPointer { JSONReader.read(bytes: $0, file: path) }
            : YAMLReader.read(bytes: bytes, file: path)
        guard let root = read.root else {
            printDiagnostics(read.diagnostics.filter { $0.severity == .error }, colour: colour)
            throw Trouble("'\(path)' is not a readable case file")
        }
        return root["policy"]?.scalar?.text
    }

    static func printDiagnostics(_ diagnostics: [Diagnostic], colour: Bool) {
        guard !diagnostics.isEmpty else { return }
        if Terminal.errorsAsJSON {
            Terminal.heldDiagnostics += diagnostics
            return
        }
        let renderer = DiagnosticRenderer(colour: colour) { FileReader.text(at: $0) }
        Terminal.standardError.write(renderer.render(diagnostics))
    }
}

extension Policy {
    /// The ids of this policy and the ones it extends.
    var lineageIDs: [String] { lineage.map(\.id) }
}

/// `--at`: an RFC 3339 time, default now.
struct AtOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The moment to evaluate at, RFC 3339 (default: now).", valueName: "time"))
    var at: String?

    func instant() throws -> Instant { try Self.instant(at) }

    /// `at` read as an RFC 3339 time, or now when nil.
    static func instant(_ at: String?) throws -> Instant {
        guard let at else { return Instant((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
        guard let instant = Timestamp.parse(at) else {
            throw Trouble("--at '\(at)' is not an RFC 3339 time", hint: "e.g. --at 2026-11-03T10:00:00Z (the offset is required)")
        }
        return instant
    }
}

/// Where an incident is and when it is looked at: `[POLICY] CASE` (the policy may be
/// left out when the case names it) and the options every command about one incident
/// takes, for ArgumentParser. What they mean is ``IncidentRequest``'s business.
struct IncidentLocation: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "POLICY (an id in the policies folder, or a path), then CASE (a case file .yaml/.json, a trail .jsonl, or an incident number in the register). POLICY may be left out when the case names it.",
        valueName: "policy-and-case"), completion: Completions.policiesAndCases)
    var items: [String] = []

    @Option(name: .long, help: ArgumentHelp("More events, as JSON Lines, after the case's own.", valueName: "file"))
    var trail: String?

    @Option(name: .long, help: ArgumentHelp("The moment to evaluate at, RFC 3339 (default: now).", valueName: "time"))
    var at: String?

    @Option(name: .long, help: ArgumentHelp(Installation.policiesHelp, valueName: "dir"), completion: .directory)
    var policies: String?

    @Option(name: .long, help: ArgumentHelp(
        "The register file (default: $RULEBOOK_REGISTER, else ./rulebook.sqlite).", valueName: "path"),
            completion: .file(extensions: ["sqlite"]))
    var register: String?

    @Option(name: .long, help: ArgumentHelp(
        "An incident in a PostgreSQL register instead of the file (default: $RULEBOOK_DATABASE when --register is not given; postgres://USER@HOST:PORT/DATABASE).", valueName: "url"))
    var database: String?

    @Option(name: .long, help: "Colour diagnostics: auto (only on a terminal), always or never.")
    var color: ColourChoice = .auto

    /// The request, with its output in `format`.
    func request(format: OutputFormat) -> IncidentRequest {
        IncidentRequest(items: items, trail: trail, at: at, policies: policies, register: register, database: database, format: format, color: color)
    }
}

/// What `assess`, `next` and `audit` take: the incident, and text or JSON output.
struct IncidentArguments: ParsableArguments {
    @OptionGroup var location: IncidentLocation

    @Option(name: .long, help: "Output format: text for people, json for tools.")
    var format: OutputFormat = .text

    func validate() throws {
        do { try request.validate() } catch let usage as UsageError { throw ValidationError(usage.message) }
    }

    var request: IncidentRequest { location.request(format: format) }
}
