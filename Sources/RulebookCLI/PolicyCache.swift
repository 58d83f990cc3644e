import CLibCrypto
import Foundation
import RulebookCore

/// Compiled policies kept between runs, so a command that names a policy whose files have
/// not changed skips reading their YAML and compiling them (most of a cold `next`).
///
/// An entry is found by the policy argument and the policies folder. It records the
/// executable that wrote it and the SHA-256 of every file of the policy's lineage, and is
/// used only when all of them are unchanged: an edited policy, a new build, a moved file
/// all mean compiling again. A damaged or unreadable entry is ignored and rewritten.
/// Failing to write one never fails a command.
///
/// Where: `$RULEBOOK_CACHE` (a folder, or `off`), else `$XDG_CACHE_HOME/rulebook`, else
/// `~/.cache/rulebook`.
enum PolicyCache {
    /// The folder, or nil when caching is off or there is nowhere to put it.
    static let folder: String? = {
        // getenv, not ProcessInfo: that builds a dictionary of the whole environment.
        func variable(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        if let chosen = variable("RULEBOOK_CACHE") {
            return chosen == "off" || chosen.isEmpty ? nil : chosen
        }
        if let xdg = variable("XDG_CACHE_HOME"), xdg.hasPrefix("/") { return xdg + "/rulebook" }
        if let home = variable("HOME"), home.hasPrefix("/") { return home + "/.cache/rulebook" }
        return nil
    }()

    private static let magic = Array("RBPC\n".utf8)

    /// The compiled policy for `argument` in `folder`, when an entry exists and every file
    /// it was compiled from is unchanged.
    static func load(argument: String, folder: String) -> Policy? {
        _ = started
        guard let path = entryPath(argument: argument, folder: folder),
              let bytes = readAll(path), bytes.count > magic.count, Array(bytes[0..<magic.count]) == magic
        else { return nil }
        var r = EntryReader(bytes: bytes, position: magic.count)
        guard let build = r.string(), build == buildIdentity, let count = r.int(), count > 0, count < 64 else { return nil }
        for _ in 0..<count {
            guard let file = r.string(), let digest = r.string(), let recorded = r.string() else { return nil }
            // Unchanged file metadata (device, inode, size, modified and changed times to
            // the nanosecond) means unchanged content; otherwise the content decides.
            if recorded != "-", recorded == identity(of: file) { continue }
            guard let current = readAll(file), sha256(current) == digest else { return nil }
        }
        return try? PolicyArchive.decode(Array(bytes[r.position...]))
    }

    /// Keeps `policy`, compiled from `files` (each file's path and the bytes compiled).
    static func store(_ policy: Policy, argument: String, folder: String, files: [(path: String, bytes: [UInt8])]) {
        guard let path = entryPath(argument: argument, folder: folder), let directory = self.folder else { return }
        var out = magic
        func put(_ s: String) {
            let utf8 = Array(s.utf8)
            out += Array(String(utf8.count).utf8) + [0x0A] + utf8
        }
        put(buildIdentity)
        put(String(files.count))
        for file in files {
            put(absolute(file.path))
            put(sha256(file.bytes))
            // The metadata is trusted later only if the file had not changed for a while
            // before this run began: then it describes the bytes that were compiled. (A
            // coarse file system clock could otherwise hide an edit made in the same tick.)
            var info = stat()
            let settled = stat(file.path, &info) == 0 && info.st_ctim.tv_sec < started - 2
            put(settled ? identity(of: info) : "-")
        }
        out += PolicyArchive.encode(policy)
        // Written whole to a temporary name, then renamed: readers never see half a file.
        mkdir(directory, 0o700)
        let temporary = path + ".\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(out)) else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }

    /// When this run began, in seconds since 1970.
    private static let started = time(nil)

    private static func identity(of path: String) -> String? {
        var info = stat()
        return stat(path, &info) == 0 ? identity(of: info) : nil
    }

    private static func identity(of info: stat) -> String {
        "\(info.st_dev) \(info.st_ino) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ctim.tv_sec).\(info.st_ctim.tv_nsec)"
    }

    // MARK: Internals

    private static func entryPath(argument: String, folder: String) -> String? {
        guard let directory = self.folder else { return nil }
        // A compiled policy names its files as they were given: relative names are only
        // right from the same working folder, so they key the entry with it.
        let relative = !folder.hasPrefix("/") || (argument.contains("/") && !argument.hasPrefix("/"))
        let key = sha256(Array("\(absolute(folder))\n\(argument.contains("/") ? absolute(argument) : argument)\n\(relative ? "from " + workingDirectory : "absolute")".utf8))
        // String(_:), not `+ key.prefix(32)`: appending a Substring goes through an
        // unspecialised generic whose first use costs a cold start a conformance scan.
        return directory + "/" + String(key.prefix(32)) + ".policy"
    }

    /// The executable's identity: a rebuilt binary does not trust an older one's entries.
    private static let buildIdentity: String = {
        var link = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &link, link.count - 1)
        var info = stat()
        guard n > 0, stat(link, &info) == 0 else { return "unknown build" }
        let path = String(decoding: link[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "rulebook \(Rulebook.version) \(path) format \(PolicyArchive.formatVersion) size \(info.st_size) modified \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }()

    private static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : workingDirectory + "/" + path
    }

    private static let workingDirectory: String = {
        var buffer = [CChar](repeating: 0, count: 4096)
        return getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
    }()

    /// A whole file, read straight into an array of its size.
    private static func readAll(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size < 64 << 20 else { return nil }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            done += n
        }
        return bytes
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        // The one-step API: OpenSSL's one-call SHA256() first sets up its provider
        // machinery, which costs a cold start more than the hashing.
        var digest = [UInt8](repeating: 0, count: 32)
        var context = SHA256_CTX()
        SHA256_Init(&context)
        bytes.withUnsafeBufferPointer { b in _ = SHA256_Update(&context, b.baseAddress, b.count) }
        SHA256_Final(&digest, &context)
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `<length>\n<bytes>` fields.
    private struct EntryReader {
        let bytes: [UInt8]
        var position: Int

        mutating func string() -> String? {
            guard let newline = bytes[position...].firstIndex(of: 0x0A),
                  let length = Int(String(decoding: bytes[position..<newline], as: UTF8.self)), length >= 0,
                  newline + 1 + length <= bytes.count
            else { return nil }
            position = newline + 1 + length
            return String(decoding: bytes[(newline + 1)..<position], as: UTF8.self)
        }

        mutating func int() -> Int? { string().flatMap { Int($0) } }
    }
}
