import Foundation
import RulebookCore
import RulebookYAML

@testable import RulebookCLI

/// The fuzz targets: each reads one input and either returns (fine) or stops the process
/// (a crash, or two ways of computing the same thing that disagree).
enum FuzzTarget: String, CaseIterable, Sendable {
    case yaml, json, expression, policy, cases, archive, batch
    case argvDifferential = "argv-diff", archiveDifferential = "archive-diff", zoneDifferential = "zone-diff"
    case programDifferential = "program-diff"

    /// The target $RULEBOOK_FUZZ names (libFuzzer runs one per process).
    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["RULEBOOK_FUZZ"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write("rulebook-fuzz: set RULEBOOK_FUZZ to one of \(allCases.map(\.rawValue).joined(separator: ", "))\n".data(using: .utf8)!)
            exit(2)
        }
        return target
    }()

    func run(_ data: UnsafeBufferPointer<UInt8>) {
        switch self {
        case .yaml: Self.yaml(data)
        case .json: Self.json(data)
        case .expression: Self.expression(data)
        case .policy: Self.policy(data)
        case .cases: Self.cases(data)
        case .archive: Self.archive(data)
        case .batch: Self.batch(data)
        case .argvDifferential: Self.argv(data)
        case .archiveDifferential: Self.archiveDifferential(data)
        case .zoneDifferential: Self.zone(data)
        case .programDifferential: Self.program(data)
        }
    }

    /// Small limits, so the fuzzer explores structure rather than size.
    static let limits = ReaderLimits(maxBytes: 256 * 1024, maxDepth: 64, maxNodes: 50_000, maxAliasExpansion: 10_000)

    // MARK: Readers

    static func yaml(_ data: UnsafeBufferPointer<UInt8>) {
        for requireMapping in [true, false] {
            let result = YAMLReader.read(bytes: Array(data), file: "fuzz.yaml", limits: limits, requireMapping: requireMapping)
            if result.root == nil, !result.diagnostics.contains(where: { $0.severity == .error }) {
                disagree("yaml", "no document and no error")
            }
        }
    }

    static func json(_ data: UnsafeBufferPointer<UInt8>) {
        let document = JSONReader.read(bytes: data, file: "fuzz.json", limits: limits, requireMapping: false)
        if document.root == nil, !document.diagnostics.contains(where: { $0.severity == .error }) {
            disagree("json", "no document and no error")
        }
        // Every JSON document is YAML too: the YAML reader must not crash on it either.
        if document.root != nil { _ = YAMLReader.read(bytes: Array(data), file: "fuzz.yaml", limits: limits, requireMapping: false) }
        _ = JSONLinesReader.read(bytes: data, file: "fuzz.jsonl", limits: limits)
    }

    // MARK: Expressions: parser, type checker, and the program against the tree

    /// A policy with a fact of every type, in which the input is compiled as a value.
    static func expressionPolicy(_ expression: String) -> String {
        var escaped = ""
        for scalar in expression.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) || scalar.value == 0xFEFF {
                    escaped += String(format: "\\u%04X", scalar.value)
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return """
            id: fuzz
            title: Fuzz
            organisation: Fuzz
            time_zone: Europe/London
            roles: {staff: {title: Staff, assumption: a}}
            facts:
              flag: {type: bool, question: Q?, assumption: a}
              people: {type: integer, min: 0, max: 100, question: Q?, assumption: a}
              count: {type: integer, question: Q?, assumption: a}
              level: {type: enum, options: [low, mid, high], question: Q?, assumption: a}
              factors: {type: set, question: Q?, assumption: a, options: {x: {weight: 1, assumption: a}, y: {weight: -2, assumption: a}, z: {weight: 3, assumption: a}}}
              seen_at: {type: datetime, question: Q?, assumption: a}
              note: {type: text, question: Q?, assumption: a}
            values:
              score: {expr: people * 2 + count, assumption: a}
              fuzz: {expr: "\(escaped)", assumption: a}
            actions: {act: {title: Act, roles: [staff]}}
            duties:
              duty: {title: Duty, role: staff, action: act, from: {fact: seen_at}, within: PT1H, assumption: a}
              other: {title: Other, role: staff, action: act, when: "known(fuzz)", assumption: a}
            """
    }

    static func expression(_ data: UnsafeBufferPointer<UInt8>) {
        let text = String(decoding: data.prefix(2048), as: UTF8.self)
        let library = PolicyLibrary()
        library.add(PolicySource(file: "fuzz.yaml", text: expressionPolicy(text)))
        guard let policy = PolicyCompiler.compile(id: "fuzz", library: library).policy else { return }
        var source = ByteSource(UnsafeBufferPointer(rebasing: data[data.index(data.startIndex, offsetBy: min(data.count, 2048))...]))
        for _ in 0..<8 { compare(policy, state(policy, &source), target: "expression") }
    }

    // MARK: Policies, structure-aware

    static func policy(_ data: UnsafeBufferPointer<UInt8>) {
        let shared = Fixtures.shared
        let source = PolicySource(file: "fuzz-policy.yaml", bytes: Array(data))
        let report = PolicyValidator.validate(files: [source], context: shared.sources, calendars: shared.calendars)
        // Whatever compiles is applied to a generated case without a crash.
        let library = PolicyLibrary()
        for calendar in shared.calendars { library.addCalendar(calendar) }
        for s in shared.sources { library.add(s) }
        guard report.errorCount == 0, let id = library.add(source),
              let policy = PolicyCompiler.compile(id: id, library: library).policy
        else { return }
        var bytes = ByteSource(data)
        let file = generatedCase(policy, &bytes)
        let engine = Engine(policy: policy)
        let at = bytes.instant()
        _ = engine.audit(file, at: at)
        _ = PolicyMarkdown(policy: policy).render()
        let back = try? PolicyArchive.decode(PolicyArchive.encode(policy))
        if back == nil { disagree("policy", "a compiled policy's archive does not read back") }
    }

    // MARK: Case files: the fast reader against the full one

    static func cases(_ data: UnsafeBufferPointer<UInt8>) {
        guard let first = data.first else { return }
        let policies = Fixtures.shared.policies
        let policy = policies[Int(first) % policies.count]
        let line = UnsafeBufferPointer(rebasing: data.dropFirst())
        let fast = FastCaseDecoder(policy: policy)
        let read = JSONReader.read(bytes: line, file: "fuzz.json", limits: limits)
        let full = read.root.flatMap { CaseLoader.load($0, policy: policy).0 }
        if let quick = fast.decode(line) {
            guard let full else { disagree("cases", "the fast reader accepted a case the full reader refuses") }
            if quick.incident != full.incident || quick.policyID != full.policyID || quick.facts.map(\.slot) != full.facts.map(\.slot)
                || quick.facts.map(\.value) != full.facts.map(\.value) {
                disagree("cases", "the fast and full readers read the case differently")
            }
        }
        if let quick = fast.decodeEvent(line) {
            guard let root = read.root, let event = CaseLoader.event(root, policy: policy).0 else {
                disagree("cases", "the fast reader accepted an event the full reader refuses")
            }
            if quick.at != event.at || quick.action != event.action || quick.role != event.role || quick.actor != event.actor
                || quick.facts.map(\.value) != event.facts.map(\.value) || quick.reason != event.reason || quick.note != event.note
                || quick.decision != event.decision {
                disagree("cases", "the fast and full readers read the event differently")
            }
        }
        // The same bytes as a YAML case file.
        if let root = YAMLReader.read(bytes: Array(line), file: "fuzz.yaml", limits: limits).root {
            _ = CaseLoader.load(root, policy: policy)
        }
    }

    // MARK: The policy archive: a damaged one is detected, never trusted

    static func archive(_ data: UnsafeBufferPointer<UInt8>) {
        guard let policy = try? PolicyArchive.decode(Array(data)) else { return }
        // Whatever reads back is safe to run.
        var bytes = ByteSource(data)
        let file = generatedCase(policy, &bytes)
        _ = Engine(policy: policy).audit(file, at: bytes.instant())
        _ = PolicyMarkdown(policy: policy).render()
    }

    static func batch(_ data: UnsafeBufferPointer<UInt8>) {
        guard let first = data.first else { return }
        let policies = Fixtures.shared.policies
        let policy = policies[Int(first) % policies.count]
        let assessor = BatchAssessor(policy: policy, at: 1_793_611_440_000, explain: first % 2 == 0, file: "fuzz.jsonl")
        var out = JSONWriter(pretty: false)
        let input = UnsafeBufferPointer(rebasing: data.dropFirst())
        _ = assessor.run(input, firstLine: 1, into: &out)
        // Every line written is JSON.
        for line in out.text.split(separator: "\n") where JSONReader.read(String(line), file: "out").root == nil {
            disagree("batch", "an output line is not a JSON object: \(line.prefix(200))")
        }
    }

    // MARK: Differential

    static func argv(_ data: UnsafeBufferPointer<UInt8>) {
        let words = String(decoding: data.prefix(1024), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard words.count <= 32 else { return }
        let fast = FastPath.request(words)
        guard let fast else { return }   // declining is always allowed
        let parsed = try? Rulebook.parseAsRoot(words)
        let slow: (any Request)?
        switch parsed {
        case let c as Assess: slow = c.request
        case let c as Next: slow = c.request
        case let c as Audit: slow = c.request
        default: slow = nil
        }
        let same: Bool
        switch (fast, slow) {
        case (let x as AssessRequest, let y as AssessRequest): same = x == y
        case (let x as NextRequest, let y as NextRequest): same = x == y
        case (let x as AuditRequest, let y as AuditRequest): same = x == y
        default: same = false
        }
        if !same { disagree("argv-diff", "the fast path read \(words) as \(fast), ArgumentParser as \(String(describing: slow))") }
    }

    static func archiveDifferential(_ data: UnsafeBufferPointer<UInt8>) {
        guard let first = data.first else { return }
        let policies = Fixtures.shared.policies
        let policy = policies[Int(first) % policies.count]
        guard let back = try? PolicyArchive.decode(PolicyArchive.encode(policy)) else {
            disagree("archive-diff", "policy \(policy.id) does not read back from its archive")
        }
        var bytes = ByteSource(UnsafeBufferPointer(rebasing: data.dropFirst()))
        let file = generatedCase(policy, &bytes)
        for _ in 0..<3 {
            let at = bytes.instant()
            let a = Engine(policy: policy).audit(file, at: at), b = Engine(policy: back).audit(file, at: at)
            if a.evaluation.values.slots != b.evaluation.values.slots {
                disagree("archive-diff", "\(policy.id): values differ at \(Timestamp.format(at))")
            }
            for (x, y) in zip(a.evaluation.duties, b.evaluation.duties)
            where x.state != y.state || x.deadline != y.deadline || x.doneAt != y.doneAt || x.clockStart != y.clockStart {
                disagree("archive-diff", "\(policy.id): duty \(policy.duties[x.duty].id) differs at \(Timestamp.format(at))")
            }
            if a.verdict != b.verdict || a.findings.map(\.kind) != b.findings.map(\.kind) {
                disagree("archive-diff", "\(policy.id): the audits differ at \(Timestamp.format(at))")
            }
        }
    }

    /// The zones the shipped policies use, and some with unusual rules.
    static let zones = ["Europe/London", "UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham",
                        "America/Sao_Paulo", "Africa/Casablanca", "Europe/Dublin", "Antarctica/Troll"]

    static func zone(_ data: UnsafeBufferPointer<UInt8>) {
        var bytes = ByteSource(data)
        let identifier = zones[bytes.below(zones.count)]
        guard let foundation = ZoneClock(identifier: identifier) else { disagree("zone-diff", "\(identifier) unknown") }
        let tabled = ZoneClock(identifier: identifier, table: foundation.tableForWindow())
        for _ in 0..<16 {
            // Instants across the table's whole window, and near now, at any second.
            let instant = bytes.byte() % 2 == 0
                ? Int64(bytes.below(130 * 365 * 24 * 60)) * 60_000 + Int64(bytes.below(60)) * 1000
                : bytes.instant() + Int64(bytes.below(3600)) * 1000
            if foundation.offset(at: instant) != tabled.offset(at: instant) {
                disagree("zone-diff", "\(identifier) at \(Timestamp.format(instant)): offset \(foundation.offset(at: instant)) from Foundation, \(tabled.offset(at: instant)) from the table")
            }
            let duration = ISODuration(months: bytes.below(3), days: bytes.below(10), hours: bytes.below(100))
            if foundation.add(duration, to: instant) != tabled.add(duration, to: instant) || foundation.endOfDay(instant) != tabled.endOfDay(instant) {
                disagree("zone-diff", "\(identifier): a deadline from \(Timestamp.format(instant)) differs")
            }
        }
    }

    static func program(_ data: UnsafeBufferPointer<UInt8>) {
        guard let first = data.first else { return }
        let policies = Fixtures.shared.policies
        let policy = policies[Int(first) % policies.count]
        var bytes = ByteSource(UnsafeBufferPointer(rebasing: data.dropFirst()))
        for _ in 0..<4 { compare(policy, state(policy, &bytes), target: "program-diff") }
    }

    // MARK: Helpers

    /// Facts, probes and occurred actions from the bytes.
    static func state(_ policy: Policy, _ bytes: inout ByteSource) -> SlotValues {
        var state = SlotValues(policy: policy)
        for (slot, fact) in policy.facts.enumerated() {
            state.slots[slot] = bytes.value(fact.type, minimum: fact.minimum, maximum: fact.maximum)
        }
        for slot in (policy.facts.count + policy.values.count)..<policy.slotCount {
            state.slots[slot] = bytes.value(policy.slotType(slot))
        }
        for a in policy.actions.indices { state.occurred[a] = bytes.byte() % 2 == 0 }
        return state
    }

    /// The flat program and the rule-walking reference agree on every value, condition
    /// and open question.
    static func compare(_ policy: Policy, _ start: SlotValues, target: String) {
        var reference = start
        for j in policy.values.indices {
            reference.slots[policy.facts.count + j] = policy.derive(policy.values[j], reference)
        }
        var fast = start
        policy.deriveValues(&fast)
        if fast.slots != reference.slots {
            let slot = zip(fast.slots, reference.slots).enumerated().first { $0.element.0 != $0.element.1 }!.offset
            disagree(target, "\(policy.id): value \(policy.slotID(slot)) is \(fast.slots[slot]) from the program, \(reference.slots[slot]) from the tree")
        }
        for (i, duty) in policy.duties.enumerated() {
            let expected = duty.condition?.expr.evaluate(reference) ?? .bool(true)
            if policy.program.dutyCondition(i, reference) != expected {
                disagree(target, "\(policy.id): the condition of duty \(duty.id) differs")
            }
            var a: [Int] = [], b: [Int] = []
            duty.condition?.expr.undecidedInputs(reference, into: &a) { slot, list in policy.undecidedFacts(of: slot, reference, into: &list) }
            policy.program.undecidedFacts(ofDuty: i, reference, into: &b)
            if a != b { disagree(target, "\(policy.id): the open questions of duty \(duty.id) differ: \(a) and \(b)") }
        }
        for slot in policy.facts.count..<policy.slotCount {
            var a: [Int] = [], b: [Int] = []
            policy.undecidedFacts(of: slot, reference, into: &a)
            policy.program.undecidedFacts(ofSlot: slot, reference, into: &b)
            if a != b { disagree(target, "\(policy.id): the open questions of \(policy.slotID(slot)) differ: \(a) and \(b)") }
        }
    }

    /// A case from the bytes: some facts, up to 12 events by any role.
    static func generatedCase(_ policy: Policy, _ bytes: inout ByteSource) -> CaseFile {
        var file = CaseFile()
        for (slot, fact) in policy.facts.enumerated() where bytes.byte() % 3 != 0 {
            let value = bytes.value(fact.type, minimum: fact.minimum, maximum: fact.maximum)
            if value.isKnown { file.facts.append(FactAssignment(slot: slot, value: value)) }
        }
        guard !policy.actions.isEmpty, !policy.roles.isEmpty else { return file }
        for _ in 0..<bytes.below(13) where !bytes.isEmpty {
            var event = Event(at: bytes.instant(), action: bytes.below(policy.actions.count), role: bytes.below(policy.roles.count))
            if bytes.byte() % 4 == 0, !policy.facts.isEmpty {
                let slot = bytes.below(policy.facts.count)
                let value = bytes.value(policy.facts[slot].type, minimum: policy.facts[slot].minimum, maximum: policy.facts[slot].maximum)
                if value.isKnown { event.facts = [FactAssignment(slot: slot, value: value)] }
            }
            if bytes.byte() % 3 == 0 { event.reason = "because" }
            file.events.append(event)
        }
        file.orderByTime()
        return file
    }
}
