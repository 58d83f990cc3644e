import RulebookDiagnostics

/// Bounds that keep a hostile or broken file from exhausting time or memory.
///
/// libyaml 0.2.5 has no depth limit and no alias-expansion limit of its own, so the
/// reader enforces both, plus a size cap checked before parsing starts.
public struct ReaderLimits: Sendable, Hashable {
    /// Largest input accepted, in bytes.
    public var maxBytes: Int
    /// Deepest nesting of sequences and mappings.
    public var maxDepth: Int
    /// Most nodes one document may hold (scalars plus collections, aliases not expanded).
    public var maxNodes: Int
    /// Most nodes that aliases may add when expanded: an alias to an anchored subtree of
    /// `n` nodes costs `n`. A "billion laughs" document exceeds it within a few aliases.
    public var maxAliasExpansion: Int

    /// Creates limits; the defaults suit hand-written policy and case files.
    public init(
        maxBytes: Int = 8 * 1024 * 1024,
        maxDepth: Int = 64,
        maxNodes: Int = 2_000_000,
        maxAliasExpansion: Int = 100_000
    ) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
        self.maxAliasExpansion = maxAliasExpansion
    }

    /// The error for an input larger than `maxBytes`, or nil when it fits.
    public func sizeProblem(_ count: Int, file: String) -> Diagnostic? {
        guard count > maxBytes else { return nil }
        return .error(
            "file is \(Self.describeBytes(count)); the limit is \(Self.describeBytes(maxBytes))",
            at: SourceSpan(file: file, at: SourcePosition(line: 1, column: 1)), code: "too-large",
            hint: "policy and case files are small; check that this is the file you meant")
    }

    /// `20.0 MiB`, `512 KiB`, `100 bytes`.
    static func describeBytes(_ n: Int) -> String {
        if n >= 1024 * 1024 {
            let mib = Double(n) / 1_048_576
            return mib == mib.rounded() ? "\(Int(mib)) MiB" : String(format1: mib) + " MiB"
        }
        if n >= 1024 { return "\(n / 1024) KiB" }
        return "\(n) bytes"
    }
}

extension String {
    /// One decimal place without Foundation (`20.4`).
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }
}
