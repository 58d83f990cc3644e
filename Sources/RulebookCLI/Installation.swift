import Foundation

/// Where an installed rulebook finds the data installed with it: `share/rulebook` beside
/// the folder the executable is in (PREFIX/bin/rulebook → PREFIX/share/rulebook). It is
/// worked out from the running executable, not fixed when building, so the same binary
/// works under any PREFIX (`make install PREFIX=...`, the Debian package's /usr).
enum Installation {
    /// The policies folder when no --policies is given and there is no ./Policies.
    static let defaultPolicies = "Policies"

    /// What `--policies` says in --help (and so in the man pages).
    static let policiesHelp =
        "Folder of policy files, searched when POLICY is an id (default: ./Policies when there is one, else the policies installed with rulebook, PREFIX/share/rulebook/Policies)."

    /// The hint when the policies folder `folder` does not exist.
    static func missingPoliciesHint(_ folder: String) -> String {
        guard folder == defaultPolicies else { return "give --policies DIR, or a path to the policy file" }
        return "give --policies DIR, or a path to the policy file (there is no ./Policies here, and no policies installed beside this rulebook in PREFIX/share/rulebook/Policies)"
    }

    /// The policies folder to use: `given` (--policies) when there is one; else
    /// ./Policies when it exists; else the installed policies when they exist; else
    /// ./Policies, which whoever reads it then reports missing.
    static func policies(_ given: String?) -> String {
        if let given { return given }
        if isFolder(defaultPolicies) { return defaultPolicies }
        return installedPolicies ?? defaultPolicies
    }

    /// PREFIX/share/rulebook/Policies, when this executable was installed with its policies.
    static var installedPolicies: String? {
        guard let share = shareFolder else { return nil }
        let folder = share + "/Policies"
        return isFolder(folder) ? folder : nil
    }

    /// PREFIX/share/rulebook for this executable (PREFIX/bin/rulebook), when it exists.
    static let shareFolder: String? = {
        guard let executable = executablePath else { return nil }
        let bin = (executable as NSString).deletingLastPathComponent
        let prefix = (bin as NSString).deletingLastPathComponent
        let share = (prefix.isEmpty ? "/" : prefix) + (prefix.hasSuffix("/") ? "" : "/") + "share/rulebook"
        return isFolder(share) ? share : nil
    }()

    /// The running executable's own path, symbolic links resolved (a link in
    /// /usr/local/bin to a binary elsewhere finds the share folder beside the binary).
    static let executablePath: String? = {
        var link = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &link, link.count - 1)
        if n > 0 { return String(decoding: link[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        // No /proc (macOS): what the process was started as.
        return Bundle.main.executableURL?.resolvingSymlinksInPath().path
    }()

    static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
