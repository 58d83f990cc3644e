import ArgumentParser
import Foundation
import RulebookCore
import RulebookRegister

/// What the shells complete (`rulebook --generate-completion-script bash|zsh|fish`) beyond
/// subcommands and options: policy ids, read from the policies folder, and incident
/// numbers, read from the register, when Tab is pressed. The shell runs
/// `rulebook ---completion ...` with the words typed so far; `--policies` and
/// `--register` among them are honoured, as the command would honour them. Nothing is
/// ever written: a missing folder or register completes nothing.
enum Completions {
    /// Policy ids.
    static let policyIDs = CompletionKind.custom { words, _, _ in listPolicyIDs(words) }

    /// Policy ids, or policy files (`.yaml`) and folders.
    static let policies = CompletionKind.custom { words, _, prefix in listPolicyIDs(words) + files(prefix, [".yaml", ".yml"]) }

    /// Incident numbers in the register.
    static let incidents = CompletionKind.custom { words, _, _ in listIncidentNumbers(words) }

    /// POLICY then CASE (`next`, `assess`, `audit`, `timeline`): policy ids, incident
    /// numbers, and case files and folders.
    static let policiesAndCases = CompletionKind.custom { words, _, prefix in
        listPolicyIDs(words) + listIncidentNumbers(words) + files(prefix, [".yaml", ".yml", ".json", ".jsonl"])
    }

    /// The ids of the policies in the folder the command would search.
    static func listPolicyIDs(_ words: [String]) -> [String] {
        let folder = Installation.policies(value(of: "--policies", in: words))
        let library = PolicyLibrary()
        for file in (try? PolicyFiles.expand([folder])) ?? [] {
            if let source = try? PolicyFiles.source(at: file) { library.add(source) }
        }
        return library.ids.sorted()
    }

    /// The incident numbers in the register the command would read (never created).
    static func listIncidentNumbers(_ words: [String]) -> [String] {
        let path = RegisterOptions.path(value(of: "--register", in: words))
        guard FileManager.default.fileExists(atPath: path),
              let register = try? Register(path: path, access: .read),
              let incidents = try? register.incidents()
        else { return [] }
        return incidents.map(\.number)
    }

    /// Files ending in one of `suffixes`, and folders (with a trailing /), whose path
    /// starts with `prefix`.
    static func files(_ prefix: String, _ suffixes: [String]) -> [String] {
        let slash = prefix.lastIndex(of: "/")
        let folder = slash.map { String(prefix[...$0]) } ?? ""
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : expandingTilde(folder))) ?? []
        return names.sorted().compactMap { name in
            guard !name.hasPrefix(".") || prefix.hasPrefix(folder + ".") else { return nil }
            let path = folder + name
            if Installation.isFolder(expandingTilde(path)) { return path + "/" }
            return suffixes.contains(where: { name.hasSuffix($0) }) ? path : nil
        }
    }

    /// The value of `option` among the shell's words (`--option VALUE` or
    /// `--option=VALUE`), unquoted; the last one wins, as it does for the command.
    static func value(of option: String, in words: [String]) -> String? {
        var found: String?
        for (i, word) in words.enumerated() {
            if word == option, i + 1 < words.count, !words[i + 1].isEmpty {
                found = words[i + 1]
            } else if word.hasPrefix(option + "=") {
                found = String(word.dropFirst(option.count + 1))
            }
        }
        return found.map { expandingTilde(unquoted($0)) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A shell word without the quotes around it or the backslashes in it.
    private static func unquoted(_ word: String) -> String {
        if word.count >= 2, let first = word.first, first == "'" || first == "\"", word.last == first {
            return String(word.dropFirst().dropLast())
        }
        return word.replacingOccurrences(of: "\\", with: "")
    }

    private static func expandingTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/"), let home = ProcessInfo.processInfo.environment["HOME"] else { return path }
        return home + path.dropFirst()
    }
}
