import ArgumentParser
import Foundation

/// The benchmarks, in the order they run and print.
nonisolated(unsafe) let benchmarks: [(id: String, run: (BenchContext) throws -> [BenchResult])] = [
    ("assess", Workloads.assess),
    ("batch", Workloads.batch),
    ("next", Workloads.next),
    ("audit", Workloads.audit),
    ("cold-start", Workloads.coldStart),
    ("register", Workloads.register),
    ("register-cli", Workloads.registerCLI),
    ("constructs", ConstructWorkloads.run),
]

struct Options: ParsableArguments {
    @Flag(help: "A short run that only proves every benchmark still works (CI); its figures mean nothing.")
    var smoke = false
    @Option(help: ArgumentHelp("Where inputs, outputs and results.json go.", valueName: "dir"))
    var out = "bench-out"
    @Option(help: ArgumentHelp("The repository (Policies/ and Benchmarks/ are found from here).", valueName: "dir"))
    var root = "."
    @Option(help: ArgumentHelp("The rulebook executable (default: next to this one).", valueName: "path"))
    var rulebook: String?
    @Option(help: ArgumentHelp("The bare hello-world executable (default: next to this one).", valueName: "path"))
    var hello: String?
    @Option(help: "The seed of the generated incidents.")
    var seed: UInt64 = 20261121

    func context() -> BenchContext {
        let here = directory(of: currentExecutable())
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        }
        return BenchContext(
            scale: Scale(smoke: smoke), root: absolute(root), out: absolute(out),
            rulebook: absolute(rulebook ?? here + "/rulebook"), hello: absolute(hello ?? here + "/bench-hello"), seed: seed)
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rulebook-bench",
        abstract: "Measure Rulebook: decisions, batch, next, audit, cold start, register appends.",
        discussion: """
            Each benchmark runs in a child process of its own, so its peak memory is its own. \
            Every figure is the median of several measured runs after warm-up runs, with the \
            spread (interquartile range over median). Results go to OUT/results.json; \
            Benchmarks/peers/peers.py adds the peer engines and prints the combined table.
            """,
        subcommands: [RunAll.self, RunOne.self],
        defaultSubcommand: RunAll.self)
}

struct RunAll: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "all", abstract: "Run every benchmark (or those named).")

    @OptionGroup var options: Options
    @Option(help: ArgumentHelp("Only these benchmarks, comma-separated.", valueName: "ids"))
    var only: String?

    func run() throws {
        let ctx = options.context()
        makeDirectory(ctx.out)
        let wanted = only.map { Set($0.split(separator: ",").map(String.init)) }
        let known = Set(benchmarks.map(\.id))
        if let unknown = wanted?.subtracting(known), !unknown.isEmpty {
            throw ValidationError("no benchmark named \(unknown.sorted().joined(separator: ", ")); they are: \(benchmarks.map(\.id).joined(separator: ", "))")
        }
        var results: [BenchResult] = []
        for (id, _) in benchmarks where wanted?.contains(id) ?? true {
            FileHandle.standardError.write("rulebook-bench: \(id)...\n".data(using: .utf8)!)
            let output = ctx.out + "/\(id).result.json"
            var argv = [currentExecutable(), "one", id, "--out", ctx.out, "--root", ctx.root, "--rulebook", ctx.rulebook,
                        "--hello", ctx.hello, "--seed", String(ctx.seed)]
            if ctx.scale.smoke { argv.append("--smoke") }
            let child = try spawn(argv, output: output)
            guard child.status == 0 else { throw SpawnError(description: "benchmark \(id) failed (exit status \(child.status))") }
            var found = try JSONDecoder().decode([BenchResult].self, from: Data(try readText(output).utf8))
            // In-process benchmarks report their own peak; the child's is the same figure
            // taken by the kernel, and the one used when the benchmark did not measure one.
            for i in found.indices where found[i].peakRSSKiB == nil { found[i].peakRSSKiB = child.peakRSSKiB }
            results += found
            removeFile(output)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeText(String(decoding: try encoder.encode(results), as: UTF8.self) + "\n", to: ctx.out + "/results.json")
        print(table(results, smoke: ctx.scale.smoke), terminator: "")
    }
}

struct RunOne: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "one", abstract: "Run one benchmark in this process and print its results as JSON.")

    @Argument(help: "The benchmark's id.") var id: String
    @OptionGroup var options: Options

    func run() throws {
        guard let benchmark = benchmarks.first(where: { $0.id == id }) else {
            throw ValidationError("no benchmark named \(id)")
        }
        let ctx = options.context()
        makeDirectory(ctx.out)
        let results = try benchmark.run(ctx)
        print(String(decoding: try JSONEncoder().encode(results), as: UTF8.self))
    }
}

/// The results as a table for people.
func table(_ results: [BenchResult], smoke: Bool) -> String {
    var rows: [[String]] = [["benchmark", "median", "unit", "spread", "min–max", "target", "", "peak RSS"]]
    for r in results {
        rows.append([
            r.id, formatFigure(r.stats.median), r.unit, "±\(formatFigure(r.stats.spread * 50))%",
            "\(formatFigure(r.stats.min))–\(formatFigure(r.stats.max))",
            r.target.map { (r.higherIsBetter ? "≥ " : "≤ ") + formatFigure($0) } ?? "",
            r.meetsTarget.map { $0 ? "met" : "MISSED" } ?? "",
            r.peakRSSKiB.map { "\(formatFigure(Double($0) / 1024)) MiB" } ?? "",
        ])
    }
    var out = (smoke ? "SMOKE RUN: too short for the figures to mean anything\n" : "") + renderTable(rows, rightAligned: [1, 3, 7])
    for r in results where !r.extra.isEmpty || !r.notes.isEmpty {
        let extras = r.extra.keys.sorted().map { "\($0) \(formatFigure(r.extra[$0]!))" }
        out += "  \(r.id): " + (extras + r.notes).joined(separator: "; ") + "\n"
    }
    return out
}

Bench.main()
