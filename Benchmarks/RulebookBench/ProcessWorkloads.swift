import RulebookCore
import RulebookRegister
import RulebookYAML

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Workloads {
    // MARK: (e) cold start

    /// Whole processes: `rulebook assess POLICY CASE --format json` against the bare
    /// hello-world built the same way, run in alternation so drift hits both alike.
    static func coldStart(_ ctx: BenchContext) throws -> [BenchResult] {
        let spec = try DecisionSpec.load(root: ctx.root)
        let assess = [ctx.rulebook, "assess", spec.policy, ctx.root + "/" + spec.exampleCase, "--format", "json",
                      "--at", spec.at, "--policies", ctx.policies]
        let output = ctx.out + "/cold-start.json"
        let check = try spawn(assess, output: output)
        guard check.status == 0 else { throw SpawnError(description: "\(assess.joined(separator: " ")) failed (exit status \(check.status))") }
        let warmups = ctx.scale.pick(20, smoke: 2)
        let runs = ctx.scale.pick(300, smoke: 10)
        for _ in 0..<warmups {
            _ = try spawn(assess)
            _ = try spawn([ctx.hello])
        }
        var rulebook: [Double] = []
        var hello: [Double] = []
        var rulebookRSS = 0
        var helloRSS = 0
        for _ in 0..<runs {
            let a = try spawn(assess)
            let b = try spawn([ctx.hello])
            guard a.status == 0, b.status == 0 else { throw SpawnError(description: "a cold-start run failed") }
            rulebook.append(a.seconds * 1000)
            hello.append(b.seconds * 1000)
            rulebookRSS = max(rulebookRSS, a.peakRSSKiB)
            helloRSS = max(helloRSS, b.peakRSSKiB)
        }
        // Ratios of runs taken side by side.
        let ratios = zip(rulebook, hello).map { $0 / $1 }
        let r = Stats(rulebook)
        let h = Stats(hello)
        return [BenchResult(
            id: "cold-start", title: "(e) cold start: rulebook assess \(spec.policy) CASE --format json vs bare hello",
            unit: "× hello", runs: ratios, stats: Stats(ratios), target: 3, higherIsBetter: false, peakRSSKiB: rulebookRSS,
            extra: ["rulebook_ms": r.median, "hello_ms": h.median, "hello_peak_rss_mib": Double(helloRSS) / 1024,
                    "ratio_of_medians": r.median / h.median],
            notes: ["\(runs) runs of each, alternating, after \(warmups) warm-up runs"])]
    }

    // MARK: (f) register appends

    /// Durable appends: each `record` its own transaction (WAL, synchronous=FULL, so each
    /// commit waits for the disk), and the same events appended as one import (one
    /// transaction). The disk's own fdatasync rate is the ceiling of the first.
    static func register(_ ctx: BenchContext) throws -> [BenchResult] {
        let spec = try DecisionSpec.load(root: ctx.root)
        let library = try loadLibrary(ctx.policies)
        let policy = try compile(spec.policy, library)
        let lineage = try policy.lineage.map { (id: $0.id, file: $0.file, text: try readText($0.file)) }
        var generator = IncidentGenerator(policy: policy, seed: ctx.seed)
        let perCommit = ctx.scale.pick(2000, smoke: 100)
        var state = SlotValues(policy: policy)
        let events = generator.trail(count: perCommit, from: generator.base, maxGap: 600, state: &state)
        let lines: [String] = events.map { event in
            var w = JSONWriter(pretty: false)
            w.event(event, policy: policy)
            return w.text
        }
        let path = ctx.out + "/register-bench.sqlite"
        var commitRates: [Double] = []
        var groupRates: [Double] = []
        let runs = ctx.scale.pick(5, smoke: 1)
        for run in 0..<runs {
            for suffix in ["", "-wal", "-shm"] { removeFile(path + suffix) }
            let register = try Register(path: path, create: true)
            let number = try register.openIncident(lineage: lineage, policy: policy, facts: [], school: nil, at: generator.base)
            let start = monotonicNanoseconds()
            for line in lines {
                guard let node = JSONReader.read(line, file: "bench").root else { throw SpawnError(description: "bad generated event") }
                try register.record(number, event: node, recordedAt: generator.base)
            }
            let seconds = Double(monotonicNanoseconds() - start) / 1e9
            if run > 0 || runs == 1 { commitRates.append(Double(lines.count) / seconds) }
            // The same trail as one transaction (what `rulebook import` does).
            let groupStart = monotonicNanoseconds()
            _ = try register.importCase(lineage: lineage, policy: policy, file: CaseFile(policyID: policy.id, events: events),
                                        school: nil, openedAt: generator.base, recordedAt: generator.base)
            let groupSeconds = Double(monotonicNanoseconds() - groupStart) / 1e9
            if run > 0 || runs == 1 { groupRates.append(Double(events.count) / groupSeconds) }
        }
        let ceiling = try fdatasyncRate(ctx.out + "/fsync-probe", count: ctx.scale.pick(1000, smoke: 50))
        for suffix in ["", "-wal", "-shm"] { removeFile(path + suffix) }
        return [
            BenchResult(
                id: "register/commit", title: "(f) register: durable appends, one transaction each",
                unit: "appends/s", runs: commitRates, stats: Stats(commitRates), target: 5000, higherIsBetter: true,
                peakRSSKiB: peakRSSKiB(), extra: ["disk_fdatasync_per_s": ceiling],
                notes: ["each append is validated, hash-chained and committed (WAL, synchronous=FULL) before the next"]),
            BenchResult(
                id: "register/group", title: "(f) register: durable appends, one transaction for a whole trail",
                unit: "appends/s", runs: groupRates, stats: Stats(groupRates), target: 5000, higherIsBetter: true,
                peakRSSKiB: peakRSSKiB(), notes: ["\(events.count) events imported in one commit"]),
        ]
    }

    /// How many 4 KiB write + fdatasync pairs the disk under `path` completes per second.
    static func fdatasyncRate(_ path: String, count: Int) throws -> Double {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw SpawnError(description: "cannot write \(path)") }
        defer { close(fd); unlink(path) }
        let block = [UInt8](repeating: 0x2A, count: 4096)
        let start = monotonicNanoseconds()
        for i in 0..<count {
            _ = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4096, off_t(i % 64) * 4096) }
            fdatasync(fd)
        }
        return Double(count) / (Double(monotonicNanoseconds() - start) / 1e9)
    }
}

extension Workloads {
    // MARK: (b) assess --batch

    /// Writes the decision's generated inputs: cases for Rulebook (JSON Lines) and the
    /// same inputs in the peers' shape (people, factor weights, near miss).
    static func writeDecisionInputs(_ ctx: BenchContext, count: Int) throws -> (cases: String, peers: String, spec: DecisionSpec) {
        let spec = try DecisionSpec.load(root: ctx.root)
        let policy = try compile(spec.policy, try loadLibrary(ctx.policies))
        let slots = try DecisionSlots(spec, policy)
        let inputs = DecisionInputs(count: count, domain: slots.factorDomain, seed: ctx.seed)
        let casesPath = ctx.out + "/\(spec.policy)-cases.jsonl"
        let peersPath = ctx.out + "/\(spec.policy)-peer-inputs.jsonl"
        let cases = try LineWriter(casesPath)
        let peers = try LineWriter(peersPath)
        let weights = slots.factorDomain.options.map { $0.weight ?? 0 }
        for i in 0..<count {
            let facts = [
                FactAssignment(slot: slots.people, value: .int(inputs.people[i])),
                FactAssignment(slot: slots.factors, value: .options(inputs.factors[i])),
                FactAssignment(slot: slots.nearMiss, value: .bool(inputs.nearMiss[i])),
            ]
            var w = JSONWriter(pretty: false)
            w.caseFile(CaseFile(incident: "B-\(i + 1)", facts: facts), policy: policy)
            cases.write(w.text)
            var p = JSONWriter(pretty: false)
            p.object { p in
                p.field("people", int: inputs.people[i])
                p.field("factors") { p in
                    p.array { p in for (bit, weight) in weights.enumerated() where inputs.factors[i] & (1 << UInt64(bit)) != 0 { p.int(weight) } }
                }
                p.field("near_miss", bool: inputs.nearMiss[i])
            }
            peers.write(p.text)
        }
        return (casesPath, peersPath, spec)
    }

    /// One `rulebook assess POLICY --batch CASES` process per run: cases per second from
    /// spawn to exit, reading JSON Lines and writing JSON Lines.
    static func batch(_ ctx: BenchContext) throws -> [BenchResult] {
        let count = ctx.scale.pick(1_000_000, smoke: 5000)
        let (cases, _, spec) = try writeDecisionInputs(ctx, count: count)
        let output = ctx.out + "/\(spec.policy)-results.jsonl"
        let argv = [ctx.rulebook, "assess", spec.policy, "--batch", cases, "--at", spec.at, "--policies", ctx.policies]
        var rates: [Double] = []
        var rss = 0
        for run in 0..<(ctx.scale.warmupRuns + ctx.scale.measuredRuns) {
            let result = try spawn(argv, output: output)
            guard result.status == 0 else { throw SpawnError(description: "\(argv.joined(separator: " ")) failed (exit status \(result.status))") }
            if run >= ctx.scale.warmupRuns {
                rates.append(Double(count) / result.seconds)
                rss = max(rss, result.peakRSSKiB)
            }
        }
        let lines = try readText(output).split(separator: "\n").count
        guard lines == count else { throw SpawnError(description: "the batch wrote \(lines) lines for \(count) cases") }
        return [BenchResult(
            id: "batch", title: "(b) rulebook assess \(spec.policy) --batch: JSON Lines in and out, one process",
            unit: "cases/s", runs: rates, stats: Stats(rates), target: 250_000, higherIsBetter: true, peakRSSKiB: rss,
            notes: ["\(count) cases per run, timed from spawn to exit"])]
    }

    // MARK: (d) audit of a long trail, hash chain included

    /// One incident with a generated trail of a million events in a register, then one
    /// `rulebook audit NUMBER` process per run: the chain verified and the trail audited.
    static func audit(_ ctx: BenchContext) throws -> [BenchResult] {
        let spec = try DecisionSpec.load(root: ctx.root)
        let library = try loadLibrary(ctx.policies)
        let policy = try compile(spec.policy, library)
        let lineage = try policy.lineage.map { (id: $0.id, file: $0.file, text: try readText($0.file)) }
        let count = ctx.scale.pick(1_000_000, smoke: 5000)
        var generator = IncidentGenerator(policy: policy, seed: ctx.seed)
        var state = SlotValues(policy: policy)
        let facts = generator.facts(known: 0.8)
        for a in facts { state.slots[a.slot] = a.value }
        // The trail ends by the generator's base date (a register refuses the future:
        // a million events two minutes apart at most span up to four years).
        let events = generator.trail(count: count, from: generator.base - Int64(count) * 120_000, maxGap: 120, state: &state)
        let path = ctx.out + "/audit-bench.sqlite"
        for suffix in ["", "-wal", "-shm"] { removeFile(path + suffix) }
        let register = try Register(path: path, create: true)
        let setupStart = monotonicNanoseconds()
        let number = try register.importCase(
            lineage: lineage, policy: policy, file: CaseFile(policyID: policy.id, facts: facts, events: events),
            school: nil, openedAt: generator.base, recordedAt: generator.base)
        let setup = Double(monotonicNanoseconds() - setupStart) / 1e9
        let at = Timestamp.format(events.last!.at + 86_400_000)
        let output = ctx.out + "/audit.json"
        let argv = [ctx.rulebook, "audit", number, "--register", path, "--format", "json", "--at", at, "--policies", ctx.policies]
        var rates: [Double] = []
        var rss = 0
        let runs = ctx.scale.pick(5, smoke: 1)
        for run in 0..<(1 + runs) {
            let result = try spawn(argv, output: output)
            // 1 means findings (the generated trail is not a compliant one); 2 is trouble.
            guard result.status == 0 || result.status == 1 else {
                throw SpawnError(description: "\(argv.joined(separator: " ")) failed (exit status \(result.status))")
            }
            if run > 0 {
                rates.append(Double(count) / result.seconds)
                rss = max(rss, result.peakRSSKiB)
            }
        }
        return [BenchResult(
            id: "audit", title: "(d) rulebook audit of one \(count)-event trail, hash chain verified",
            unit: "events/s", runs: rates, stats: Stats(rates), target: 1_000_000, higherIsBetter: true, peakRSSKiB: rss,
            extra: ["import_events_per_s": Double(count) / setup],
            notes: ["one process per run, register on disk (page cache warm), timed from spawn to exit"])]
    }
}

// MARK: (g) the register as its users meet it: `list` at council scale, one `record`

extension Workloads {
    /// A register of generated incidents (nine events each) at two council scales, then
    /// one `rulebook list` process per run; and the latency of one `rulebook record` as a
    /// user sees it (a whole process, durable commit included).
    static func registerCLI(_ ctx: BenchContext) throws -> [BenchResult] {
        let spec = try DecisionSpec.load(root: ctx.root)
        let library = try loadLibrary(ctx.policies)
        let policy = try compile(spec.policy, library)
        let lineage = try policy.lineage.map { (id: $0.id, file: $0.file, text: try readText($0.file)) }
        var results: [BenchResult] = []
        let scales = ctx.scale.pick([(10_000, 0.2), (100_000, 2.0)], smoke: [(100, 0.2)])
        var lastRegister = ""
        var lastNumber = ""
        for (incidents, target) in scales {
            var generator = IncidentGenerator(policy: policy, seed: ctx.seed)
            let path = ctx.out + "/list-\(incidents).sqlite"
            for suffix in ["", "-wal", "-shm"] { removeFile(path + suffix) }
            let register = try Register(path: path, create: true)
            for i in 0..<incidents {
                var state = SlotValues(policy: policy)
                let facts = generator.facts(known: 0.6)
                for a in facts { state.slots[a.slot] = a.value }
                let start = generator.base + Int64(i % 1000) * 60_000
                let events = generator.trail(count: 9, from: start, maxGap: 3600, state: &state)
                lastNumber = try register.importCase(
                    lineage: lineage, policy: policy, file: CaseFile(policyID: policy.id, facts: facts, events: events),
                    school: "School \(i % 50)", openedAt: start, recordedAt: start)
            }
            lastRegister = path
            let argv = [ctx.rulebook, "list", "--register", path, "--at", Timestamp.format(generator.base + 90 * 86_400_000)]
            var seconds: [Double] = []
            var rss = 0
            for run in 0..<(1 + ctx.scale.pick(5, smoke: 1)) {
                let result = try spawn(argv, output: ctx.out + "/list.txt")
                guard result.status == 0 else {
                    throw SpawnError(description: "\(argv.joined(separator: " ")) failed (exit status \(result.status))")
                }
                if run > 0 {
                    seconds.append(result.seconds)
                    rss = max(rss, result.peakRSSKiB)
                }
            }
            results.append(BenchResult(
                id: "list/\(incidents)", title: "(g) rulebook list, \(incidents) incidents, \(incidents * 9) events",
                unit: "s", runs: seconds, stats: Stats(seconds), target: target, higherIsBetter: false, peakRSSKiB: rss,
                notes: ["one process per run, register on disk (page cache warm)"]))
            // The periodic report over the same register: every incident audited and counted.
            let reportArgv = [ctx.rulebook, "report", "--register", path, "--at", Timestamp.format(generator.base + 90 * 86_400_000),
                              "--format", "json"]
            var reportSeconds: [Double] = []
            var reportRSS = 0
            for run in 0..<(1 + ctx.scale.pick(5, smoke: 1)) {
                let result = try spawn(reportArgv, output: ctx.out + "/report.json")
                guard result.status == 0 else {
                    throw SpawnError(description: "\(reportArgv.joined(separator: " ")) failed (exit status \(result.status))")
                }
                if run > 0 {
                    reportSeconds.append(result.seconds)
                    reportRSS = max(reportRSS, result.peakRSSKiB)
                }
            }
            results.append(BenchResult(
                id: "report/\(incidents)", title: "(g) rulebook report --format json, \(incidents) incidents, \(incidents * 9) events",
                unit: "s", runs: reportSeconds, stats: Stats(reportSeconds), target: incidents >= 100_000 ? 2.0 : nil, higherIsBetter: false,
                peakRSSKiB: reportRSS,
                notes: ["one process per run, register on disk (page cache warm); every incident audited; target also ≤ 200 MiB peak"]))
        }
        // One `record` as a user sees it: a process, the pinned policy read, a durable commit.
        let roleOf = { (action: Int) -> String? in
            (policy.actions[action].roles ?? Array(policy.roles.indices)).first.map { policy.roles[$0].id }
        }
        guard let action = policy.actions.indices.first(where: { !policy.actions[$0].reasonRequired && policy.actions[$0].decision == nil
            && policy.actions[$0].establishes.isEmpty && !policy.actions[$0].closes && roleOf($0) != nil })
        else { return results }
        let base = IncidentGenerator(policy: policy, seed: ctx.seed).base
        // Without a key, then with one: signing must not make a record slower to notice.
        let key = ctx.out + "/bench-key"
        for suffix in ["", ".pub"] { removeFile(key + suffix) }
        let made = try spawn([ctx.rulebook, "key", "new", "--out", key], output: ctx.out + "/key.txt")
        guard made.status == 0 else { throw SpawnError(description: "rulebook key new failed (exit status \(made.status))") }
        for (id, extraArguments) in [("record", [String]()), ("record/signed", ["--signing-key", key])] {
            var millis: [Double] = []
            var rss = 0
            for run in 0..<(1 + ctx.scale.pick(50, smoke: 3)) {
                let minute = Int64(run) + (id == "record" ? 0 : 1000)
                let argv = [ctx.rulebook, "record", lastNumber, policy.actions[action].id, "--by", roleOf(action)!, "--register", lastRegister,
                            "--at", Timestamp.format(base + minute * 60_000)] + extraArguments
                let result = try spawn(argv, output: ctx.out + "/record.txt")
                guard result.status == 0 else {
                    throw SpawnError(description: "\(argv.joined(separator: " ")) failed (exit status \(result.status))")
                }
                if run > 0 {
                    millis.append(result.seconds * 1000)
                    rss = max(rss, result.peakRSSKiB)
                }
            }
            results.append(BenchResult(
                id: id, title: "(g) rulebook record, one event, as a user sees it" + (extraArguments.isEmpty ? "" : ", head signed"),
                unit: "ms", runs: millis, stats: Stats(millis), target: nil, higherIsBetter: false, peakRSSKiB: rss,
                extra: ["p99_ms": millis.sorted()[max(0, Int((Double(millis.count) * 0.99).rounded(.up)) - 1)]],
                notes: ["a whole process: start, pinned policy, validation, durable commit (synchronous FULL)"]))
        }
        return results
    }
}
