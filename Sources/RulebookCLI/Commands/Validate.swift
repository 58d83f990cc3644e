import ArgumentParser
import Foundation
import RulebookCore
import RulebookDiagnostics
import RulebookYAML

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check policy files and report every problem at file:line:col.",
        discussion: """
            PATH may be a policy file or a folder (its *.yaml and *.yml files are checked). \
            With no PATH, the policies folder is checked. Exit status: 0 no errors (warnings \
            and notes allowed), 1 errors found, 2 a file could not be read.
            """)

    @Argument(help: ArgumentHelp("Policy files or folders.", valueName: "path"))
    var paths: [String] = []

    @OptionGroup var locations: PolicyOptions
    @OptionGroup var output: OutputOptions

    @Flag(name: .long, help: "Leave out notes (the list of assumptions).")
    var hideNotes = false

    func run() throws {
        let files = try PolicyFiles.expand(paths.isEmpty ? [locations.policies] : paths)
        var sources: [PolicySource] = []
        var oversized: [Diagnostic] = []
        for file in files {
            // An oversized file is reported from its size alone, never read.
            if let size = FileReader.size(at: file), let problem = ReaderLimits().sizeProblem(size, file: file) {
                oversized.append(problem)
            } else {
                sources.append(try PolicyFiles.source(at: file))
            }
        }
        let context = (try? PolicyFiles.expand([locations.policies]))?.compactMap { try? PolicyFiles.source(at: $0) } ?? []
        let calendars = Workspace.calendarFiles(near: files + [locations.policies + "/x"]).compactMap { try? PolicyFiles.source(at: $0) }
        var report = PolicyValidator.validate(
            files: sources, context: context, calendars: calendars, options: CompileOptions(today: Today.days, sources: Self.documents(beside: files + [locations.policies + "/x"])))
        report.files = files
        report.diagnostics = oversized + report.diagnostics
        if hideNotes { report.diagnostics.removeAll { $0.severity == .note } }
        switch output.format {
        case .text:
            let renderer = DiagnosticRenderer(colour: output.colourErrors) { FileReader.text(at: $0) }
            Terminal.standardError.write(renderer.render(report.diagnostics))
            Terminal.standardError.write(report.summary + "\n")
        case .json:
            Terminal.standardOutput.write(report.json() + "\n")
        }
        if report.errorCount > 0 { throw ExitCode(1) }
    }
}

extension Validate {
    /// The published documents in a `sources/` folder beside the policy files (by file
    /// name, as a policy's `source:` names them), for checking quotations.
    static func documents(beside files: [String]) -> [String: String] {
        var out: [String: String] = [:]
        let folders = Set(files.map { path -> String in
            guard let slash = path.lastIndex(of: "/") else { return "sources" }
            return String(path[..<slash]) + "/sources"
        })
        for folder in folders {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where out[name] == nil {
                if let bytes = try? FileReader.bytes(at: folder + "/" + name, limit: 8 * 1024 * 1024) {
                    out[name] = String(decoding: bytes, as: UTF8.self)
                }
            }
        }
        return out
    }
}

/// Turns the command line's paths into the list of policy files to read.
enum PolicyFiles {
    /// Files as given; folders expanded to their `*.yaml`/`*.yml` files (not recursive),
    /// sorted so output is stable.
    static func expand(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw Trouble("cannot read '\(path)': No such file or directory")
            }
            if isFolder.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                let yaml = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                if yaml.isEmpty { throw Trouble("no policy files (*.yaml) in '\(path)'") }
                let base = path.hasSuffix("/") ? path : path + "/"
                files += yaml.map { base + $0 }
            } else {
                files.append(path)
            }
        }
        return files
    }

    /// The file's contents as a policy source.
    static func source(at path: String) throws -> PolicySource {
        PolicySource(file: path, bytes: try FileReader.bytes(at: path, limit: ReaderLimits().maxBytes))
    }
}
