import RulebookCore
import RulebookRegister
import RulebookTestSupport
import RulebookYAML

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where things are and how much to do.
struct BenchContext: Sendable {
    var scale: Scale
    /// The repository: Policies/ and Benchmarks/peers/ are found from here.
    var root: String
    /// Where inputs, outputs and results are written.
    var out: String
    /// The `rulebook` and `bench-hello` executables, built the same way.
    var rulebook: String
    var hello: String
    var seed: UInt64

    var policies: String { root + "/Policies" }
}

/// The Madras decision the peers reproduce (Benchmarks/peers/decision.json): which facts
/// are its inputs and which values its outputs.
struct DecisionSpec {
    var policy: String
    var people: String, factors: String, nearMiss: String
    var score: String, category: String, reportable: String
    var exampleCase: String
    var at: String

    static func load(root: String) throws -> DecisionSpec {
        let path = root + "/Benchmarks/peers/decision.json"
        let read = JSONReader.read(try readText(path), file: path)
        guard let spec = read.root else { throw SpawnError(description: "\(path) is not readable JSON") }
        func text(_ keys: String...) throws -> String {
            var node: Node? = spec
            for key in keys { node = node?[key] }
            guard let value = node?.scalar?.text else { throw SpawnError(description: "\(path) has no \(keys.joined(separator: "."))") }
            return value
        }
        return DecisionSpec(
            policy: try text("policy"), people: try text("inputs", "people"), factors: try text("inputs", "factors"),
            nearMiss: try text("inputs", "near_miss"), score: try text("outputs", "score"),
            category: try text("outputs", "category"), reportable: try text("outputs", "reportable"),
            exampleCase: try text("example_case"), at: try text("at"))
    }
}

/// The policy files in a folder, by id.
func loadLibrary(_ folder: String) throws -> PolicyLibrary {
    let library = PolicyLibrary()
    guard let dir = opendir(folder) else { throw SpawnError(description: "cannot open \(folder)") }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name.hasSuffix(".yaml") { names.append(name) }
    }
    for name in names.sorted() {
        let path = folder + "/" + name
        _ = library.add(PolicySource(file: path, text: try readText(path)))
    }
    return library
}

func compile(_ id: String, _ library: PolicyLibrary) throws -> Policy {
    let result = PolicyCompiler.compile(id: id, library: library, options: CompileOptions(listAssumptions: false, reviewChecks: false))
    guard let policy = result.policy else {
        throw SpawnError(description: "policy '\(id)' does not compile: " + result.diagnostics.map(\.message).joined(separator: "; "))
    }
    return policy
}

/// The decision's slots in a compiled policy.
struct DecisionSlots {
    var people: Int, factors: Int, nearMiss: Int
    var score: Int, category: Int, reportable: Int
    var factorDomain: EnumDomain

    init(_ spec: DecisionSpec, _ policy: Policy) throws {
        func fact(_ id: String) throws -> Int {
            guard let slot = policy.factSlot(of: id) else { throw SpawnError(description: "policy \(policy.id) has no fact \(id)") }
            return slot
        }
        func value(_ id: String) throws -> Int {
            guard let slot = policy.valueSlot(of: id) else { throw SpawnError(description: "policy \(policy.id) has no value \(id)") }
            return slot
        }
        people = try fact(spec.people)
        factors = try fact(spec.factors)
        nearMiss = try fact(spec.nearMiss)
        score = try value(spec.score)
        category = try value(spec.category)
        reportable = try value(spec.reportable)
        guard case .options(let domain) = policy.facts[factors].type, domain.isWeighted else {
            throw SpawnError(description: "\(spec.factors) is not a set of weighted factors")
        }
        factorDomain = domain
    }
}

/// Generated inputs of the decision: people, chosen factors (a mask), near miss.
struct DecisionInputs {
    var people: [Int] = []
    var factors: [UInt64] = []
    var nearMiss: [Bool] = []

    init(count: Int, domain: EnumDomain, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        people.reserveCapacity(count)
        factors.reserveCapacity(count)
        nearMiss.reserveCapacity(count)
        for _ in 0..<count {
            people.append(rng.logUniform(0, 100_000))
            var mask: UInt64 = 0
            for i in domain.options.indices where rng.chance(0.3) { mask |= 1 << UInt64(i) }
            factors.append(mask)
            nearMiss.append(rng.chance(0.1))
        }
    }
}

enum Workloads {
    // MARK: (a) the decision in process

    static func assess(_ ctx: BenchContext) throws -> [BenchResult] {
        let spec = try DecisionSpec.load(root: ctx.root)
        let policy = try compile(spec.policy, try loadLibrary(ctx.policies))
        let slots = try DecisionSlots(spec, policy)
        let count = 1 << 16
        let inputs = DecisionInputs(count: count, domain: slots.factorDomain, seed: ctx.seed)
        let passes = ctx.scale.pick(16, smoke: 1)
        var state = SlotValues(policy: policy)
        var checksum = 0
        let rates = measureRates(ctx.scale, units: count * passes) {
            for _ in 0..<passes {
                for i in 0..<count {
                    state.slots[slots.people] = .int(inputs.people[i])
                    state.slots[slots.factors] = .options(inputs.factors[i])
                    state.slots[slots.nearMiss] = .bool(inputs.nearMiss[i])
                    policy.deriveValues(&state)
                    if case .int(let s) = state.slots[slots.score] { checksum &+= s }
                    if case .int(let c) = state.slots[slots.category] { checksum &+= c << 8 }
                    if case .bool(true) = state.slots[slots.reportable] { checksum &+= 1 << 16 }
                }
            }
        }
        blackHole(checksum)
        return [BenchResult(
            id: "assess", title: "(a) \(spec.policy) assess (score, category, reportable), in process, one core",
            unit: "decisions/s", runs: rates, stats: Stats(rates), target: 2_000_000, higherIsBetter: true,
            peakRSSKiB: peakRSSKiB(),
            notes: ["every value of the policy is derived (\(policy.values.count)), not only the three compared"])]
    }

    // MARK: (c) next, per shipped policy

    static func next(_ ctx: BenchContext) throws -> [BenchResult] {
        let library = try loadLibrary(ctx.policies)
        var results: [BenchResult] = []
        for (n, id) in library.ids.enumerated() {
            let policy = try compile(id, library)
            let engine = Engine(policy: policy)
            var generator = IncidentGenerator(policy: policy, seed: ctx.seed &+ UInt64(n))
            let count = ctx.scale.pick(2000, smoke: 200)
            let incidents = (0..<count).map { generator.incident(number: $0, known: 0.6, events: 0...12) }
            let repeats = ctx.scale.pick(10, smoke: 1)
            var checksum = 0
            let rates = measureRates(ctx.scale, units: count * repeats) {
                for _ in 0..<repeats {
                    for (file, at) in incidents {
                        let evaluation = engine.evaluate(file, at: at)
                        let reports = EngineReports(evaluation: evaluation, file: file)
                        checksum &+= reports.nextDuties(role: nil, all: false).count
                        checksum &+= evaluation.questions.count
                    }
                }
            }
            // The same with the JSON report rendered (what `next --format json` prints).
            var bytes = 0
            let rendered = measureRates(ctx.scale, units: count) {
                for (file, at) in incidents {
                    let reports = EngineReports(evaluation: engine.evaluate(file, at: at), file: file)
                    bytes &+= reports.nextJSON(role: nil, all: false, pretty: false).utf8.count
                }
            }
            blackHole(checksum &+ bytes)
            let events = incidents.reduce(0) { $0 + $1.0.events.count }
            results.append(BenchResult(
                id: "next/\(id)", title: "(c) next, \(id) (\(policy.duties.count) duties, \(policy.facts.count) facts)",
                unit: "incidents/s", runs: rates, stats: Stats(rates), target: 200_000, higherIsBetter: true,
                peakRSSKiB: peakRSSKiB(),
                extra: ["with_json_report": Stats(rendered).median],
                notes: ["\(count) generated incidents, \(events / max(count, 1)) events each on average, 60% of facts answered"]))
        }
        return results
    }
}
