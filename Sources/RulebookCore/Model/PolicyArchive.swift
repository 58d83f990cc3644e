import RulebookDiagnostics

/// A compiled policy as bytes and back, so a command can skip reading the YAML and
/// compiling it when the files have not changed (the CLI keeps these in a cache,
/// keyed by the files' contents and the executable that wrote them).
///
/// The format is this build's private business: no compatibility across versions is
/// promised, and the reader is strict. Anything it does not expect (wrong magic, a tag
/// out of range, a count past the end) throws, and the caller compiles the YAML instead.
/// Shared option domains stay shared: each is written once and referred to after.
public enum PolicyArchive {
    /// Bumped whenever the layout below changes.
    public static let formatVersion: UInt32 = 12
    private static let magic: [UInt8] = Array("RBPA".utf8)

    /// Why bytes could not be read back.
    public struct Damaged: Error, CustomStringConvertible {
        public var description: String
    }

    /// `RBPA`, the format version, the policy, then a checksum of everything before it.
    public static func encode(_ policy: Policy) -> [UInt8] {
        var w = Writer()
        w.bytes += magic
        w.u32(formatVersion)
        w.policy(policy)
        let sum = checksum(w.bytes[...])
        w.int(Int(bitPattern: UInt(sum)))
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> Policy {
        guard bytes.count >= 16, Array(bytes[0..<4]) == magic else { throw Damaged(description: "not a policy archive") }
        let body = bytes[0..<(bytes.count - 8)]
        var stored: UInt64 = 0
        for (i, b) in bytes[(bytes.count - 8)...].enumerated() { stored |= UInt64(b) << UInt64(8 * i) }
        guard checksum(body) == stored else { throw Damaged(description: "checksum mismatch: the archive is damaged") }
        return try body.withUnsafeBufferPointer { buffer in
            var r = Reader(bytes: buffer)
            r.position = 4
            guard try r.u32() == formatVersion else { throw Damaged(description: "archive format \(formatVersion) expected") }
            let policy = try r.policy()
            guard r.position == buffer.count else { throw Damaged(description: "bytes left over") }
            return policy
        }
    }

    /// FNV-1a, 64 bits, eight bytes at a time: catches damage (a truncated write, a
    /// flipped bit), not a forger, who could as well edit the policy files.
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        bytes.withUnsafeBufferPointer { b in
            var i = 0
            while i + 8 <= b.count {
                hash = (hash ^ UnsafeRawPointer(b.baseAddress! + i).loadUnaligned(as: UInt64.self)) &* 0x0000_0100_0000_01B3
                i += 8
            }
            while i < b.count {
                hash = (hash ^ UInt64(b[i])) &* 0x0000_0100_0000_01B3
                i += 1
            }
        }
        return hash
    }
}

// MARK: - Writing

private struct Writer {
    var bytes: [UInt8] = []
    private var strings: [String: Int] = [:]
    private var domains: [ObjectIdentifier: Int] = [:]

    init() { bytes.reserveCapacity(1 << 16) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func int(_ v: Int) { withUnsafeBytes(of: Int64(v).littleEndian) { bytes += $0 } }
    mutating func bool(_ v: Bool) { u8(v ? 1 : 0) }

    /// A string, or a reference to one written before.
    mutating func string(_ s: String) {
        if let index = strings[s] {
            u8(1)
            int(index)
            return
        }
        strings[s] = strings.count
        u8(0)
        let utf8 = Array(s.utf8)
        int(utf8.count)
        bytes += utf8
    }

    mutating func optional<T>(_ v: T?, _ write: (inout Writer, T) -> Void) {
        if let v {
            u8(1)
            write(&self, v)
        } else {
            u8(0)
        }
    }

    mutating func array<T>(_ items: [T], _ write: (inout Writer, T) -> Void) {
        int(items.count)
        for item in items { write(&self, item) }
    }

    mutating func ints(_ items: [Int]) { array(items) { $0.int($1) } }
    mutating func optionalString(_ s: String?) { optional(s) { $0.string($1) } }
    mutating func optionalInt(_ v: Int?) { optional(v) { $0.int($1) } }

    mutating func span(_ s: SourceSpan) {
        string(s.file)
        int(s.start.line); int(s.start.column); int(s.end.line); int(s.end.column)
    }

    mutating func provenance(_ p: Provenance) {
        string(p.policy)
        optionalString(p.clause)
        optionalString(p.law)
        optionalString(p.assumption)
        optional(p.span) { $0.span($1) }
    }

    mutating func domain(_ d: EnumDomain) {
        if let index = domains[ObjectIdentifier(d)] {
            u8(1)
            int(index)
            return
        }
        domains[ObjectIdentifier(d)] = domains.count
        u8(0)
        string(d.owner)
        array(d.options) { w, o in
            w.string(o.id)
            w.string(o.title)
            w.optionalInt(o.weight)
            w.optional(o.provenance) { $0.provenance($1) }
        }
    }

    mutating func type(_ t: ValueType) {
        switch t {
        case .bool: u8(0)
        case .int: u8(1)
        case .text: u8(2)
        case .datetime: u8(3)
        case .option(let d): u8(4); domain(d)
        case .options(let d): u8(5); domain(d)
        case .duration: u8(6)
        }
    }

    mutating func value(_ v: Value) {
        switch v {
        case .unknown: u8(0)
        case .bool(let b): u8(1); bool(b)
        case .int(let n): u8(2); int(n)
        case .option(let i): u8(3); int(i)
        case .options(let m): u8(4); int(Int(bitPattern: UInt(m)))
        case .time(let t): u8(5); int(Int(t))
        case .text(let s): u8(6); string(s)
        }
    }

    mutating func expr(_ e: Expr) {
        switch e {
        case .constant(let v): u8(0); value(v)
        case .slot(let s): u8(1); int(s)
        case .not(let a): u8(2); expr(a)
        case .and(let a, let b): u8(3); expr(a); expr(b)
        case .or(let a, let b): u8(4); expr(a); expr(b)
        case .equal(let a, let b): u8(5); expr(a); expr(b)
        case .notEqual(let a, let b): u8(6); expr(a); expr(b)
        case .less(let a, let b): u8(7); expr(a); expr(b)
        case .lessOrEqual(let a, let b): u8(8); expr(a); expr(b)
        case .add(let a, let b): u8(9); expr(a); expr(b)
        case .subtract(let a, let b): u8(10); expr(a); expr(b)
        case .negate(let a): u8(11); expr(a)
        case .oneOf(let a, let list): u8(12); expr(a); array(list) { $0.value($1) }
        case .hasOption(let a, let i): u8(13); expr(a); int(i)
        case .hasOptionOf(let a, let b): u8(14); expr(a); expr(b)
        case .hasAny(let a, let m): u8(15); expr(a); int(Int(bitPattern: UInt(m)))
        case .hasAll(let a, let m): u8(16); expr(a); int(Int(bitPattern: UInt(m)))
        case .sum(let a, let weights): u8(17); expr(a); ints(weights)
        case .count(let a): u8(18); expr(a)
        case .known(let a): u8(19); expr(a)
        case .occurred(let a): u8(20); int(a)
        case .minimum(let a, let b, let ra, let rb): u8(21); expr(a); expr(b); range(ra); range(rb)
        case .maximum(let a, let b, let ra, let rb): u8(22); expr(a); expr(b); range(ra); range(rb)
        case .multiply(let a, let b): u8(23); expr(a); expr(b)
        case .divide(let a, let b): u8(24); expr(a); expr(b)
        case .remainder(let a, let b): u8(25); expr(a); expr(b)
        case .shift(let a, let shift): u8(26); expr(a); duration(shift.duration)
        case .elapsed(let a, let b): u8(27); expr(a); expr(b)
        }
    }

    mutating func compiled(_ c: CompiledExpression) {
        expr(c.expr)
        type(c.type)
        string(c.source)
        ints(c.slots)
    }

    mutating func duration(_ d: ISODuration) {
        for part in [d.years, d.months, d.weeks, d.days, d.hours, d.minutes, d.seconds] { int(part) }
    }

    mutating func range(_ r: IntRange) { optionalInt(r.lower); optionalInt(r.upper) }

    mutating func calendar(_ c: WorkingCalendar) {
        string(c.id); string(c.title); string(c.source); u8(c.weekend); int(c.firstDay); int(c.lastDay)
        array(Array(c.holidays.indices)) { w, i in w.int(c.holidays[i]); w.string(c.names[i]) }
        string(c.file)
    }

    mutating func deadline(_ d: DeadlineRule) {
        switch d {
        case .after(let duration): u8(0); self.duration(duration)
        case .endOfDay: u8(1)
        case .workingDays(let n): u8(2); int(n)
        case .endOfNextWorkingDay: u8(3)
        }
    }

    mutating func clock(_ c: Clock) {
        switch c {
        case .fact(let s): u8(0); int(s)
        case .action(let a): u8(1); int(a)
        case .duty(let d): u8(2); int(d)
        case .earliest(let list): u8(3); array(list) { $0.clock($1) }
        case .latest(let list): u8(4); array(list) { $0.clock($1) }
        }
    }

    /// The zone's transitions, so a cached policy's clock needs no Foundation time zone.
    mutating func zoneTable(_ t: ZoneTable) {
        int(Int(t.initialOffset)); bool(t.initialDaylight)
        array(Array(t.transitions.indices)) { w, i in
            w.int(Int(t.transitions[i])); w.int(Int(t.offsets[i])); w.bool(t.daylight[i])
        }
        string(t.standardName); string(t.daylightName)
    }

    mutating func policy(_ p: Policy) {
        string(p.id); string(p.title); string(p.organisation); optionalString(p.source)
        let c = p.control
        optionalString(c.version); optionalString(c.approved); optionalString(c.approvedBy); optionalString(c.nextReview)
        optionalInt(c.nextReviewDay); optional(c.nextReviewSpan) { $0.span($1) }
        array(c.references) { $0.string($1) }
        optionalString(c.notes)
        string(p.clock.identifier)
        zoneTable(p.clock.tableForWindow())
        optional(p.clock.calendar) { $0.calendar($1) }
        array(p.lineage) { w, h in
            w.string(h.id); w.string(h.title); w.string(h.organisation); w.optionalString(h.source); w.string(h.file)
        }
        string(p.layout.rawValue)
        array(p.outline) { w, o in
            w.string(o.clause); w.optionalString(o.title); w.optionalString(o.must); w.optionalString(o.why)
            w.optionalString(o.how); w.optionalString(o.text); w.string(o.policy); w.span(o.span)
            w.optionalString(o.summary)
            for span in [o.spans.must, o.spans.why, o.spans.how, o.spans.text] { w.optional(span) { $0.span($1) } }
        }
        array(p.definitions) { w, d in
            w.string(d.id); w.string(d.term); w.string(d.text); w.provenance(d.provenance); w.span(d.span)
        }
        array(p.terms) { w, t in
            w.string(t.id); w.string(t.title); w.deadline(t.rule); w.provenance(t.provenance); w.span(t.span)
        }
        array(p.roles) { w, r in
            w.string(r.id); w.string(r.title); w.optionalString(r.holder); w.ints(r.standIns)
            w.optional(r.provenance) { $0.provenance($1) }; w.span(r.span)
            w.array(r.standInConditions) { w, c in w.int(c.role); w.compiled(c.condition) }
            w.ints(r.includes); w.optionalString(r.contact)
        }
        array(p.facts) { w, f in
            w.string(f.id); w.string(f.title); w.type(f.type); w.string(f.question); w.provenance(f.provenance)
            w.optionalInt(f.minimum); w.optionalInt(f.maximum); w.bool(f.anonymisesReporter); w.span(f.span)
            w.optional(f.setBy) { $0.ints($1) }; w.ints(f.reporterRoles)
        }
        array(p.values) { w, v in
            w.string(v.id); w.string(v.title); w.type(v.type)
            switch v.rule {
            case .expression(let e):
                w.u8(0); w.compiled(e)
            case .table(let input, let bands):
                w.u8(1); w.int(input)
                w.array(bands) { w, b in
                    w.optionalInt(b.from); w.optionalInt(b.to); w.value(b.value); w.optionalString(b.label)
                    w.optional(b.provenance) { $0.provenance($1) }; w.span(b.span)
                }
            case .cases(let cases):
                w.u8(2)
                w.array(cases) { w, c in
                    w.optional(c.condition) { $0.compiled($1) }; w.value(c.value); w.optionalString(c.label)
                    w.optional(c.provenance) { $0.provenance($1) }; w.span(c.span)
                }
            case .grid(let grid):
                w.u8(3)
                for axis in [grid.rows, grid.columns] {
                    w.int(axis.input); w.span(axis.span)
                    w.array(axis.bands) { w, b in
                        w.optionalInt(b.from); w.optionalInt(b.to); w.int(Int(bitPattern: UInt(b.options))); w.optionalString(b.label)
                        w.span(b.span)
                    }
                }
                w.array(grid.cells) { $0.value($1) }
                w.array(grid.rowSpans) { $0.span($1) }
            }
            w.provenance(v.provenance); w.span(v.span)
        }
        array(p.actions) { w, a in
            w.string(a.id); w.string(a.title); w.optional(a.roles) { $0.ints($1) }; w.bool(a.reasonRequired)
            w.optional(a.decision) { w, d in w.int(d.slot); w.optional(d.asserts) { $0.value($1) } }
            w.bool(a.closes); w.optional(a.provenance) { $0.provenance($1) }; w.span(a.span); w.ints(a.establishes)
        }
        array(p.duties) { w, d in
            w.string(d.id); w.string(d.title); w.ints(d.roles); w.int(Int(bitPattern: UInt(d.dischargers))); w.ints(d.actions)
            w.optional(d.condition) { $0.compiled($1) }; w.optional(d.clock) { $0.clock($1) }
            w.optional(d.deadline) { $0.deadline($1) }; w.optionalInt(d.term); w.ints(d.prerequisites)
            w.provenance(d.provenance); w.optionalString(d.must); w.optionalString(d.why); w.optionalString(d.how); w.span(d.span)
            w.optional(d.notBefore) { $0.duration($1) }; w.optional(d.target) { $0.deadline($1) }; w.bool(d.reasonWhenLate)
        }
        array(p.prohibitions) { w, x in
            w.string(x.id); w.string(x.title); w.ints(x.roles); w.ints(x.actions); w.optionalString(x.text)
            w.provenance(x.provenance); w.span(x.span)
        }
        array(p.constraints) { w, c in
            w.string(c.id); w.compiled(c.rule); w.string(c.message); w.provenance(c.provenance); w.span(c.span)
        }
        array(p.notEncoded) { w, n in
            w.string(n.policy); w.string(n.clause); w.string(n.reason); w.string(n.origin); w.span(n.span)
        }
        array(p.lineageChanges) { w, c in
            w.string(c.kind.rawValue); w.string(c.section); w.string(c.id); w.string(c.base); w.string(c.by)
        }
        array(p.probes) { w, probe in w.string(probe.kind.rawValue); w.int(probe.target) }
        optional(p.report) { w, plan in
            w.optional(plan.start) { $0.compiled($1) }; w.optional(plan.nearMiss) { $0.compiled($1) }
            w.array(plan.breakdowns) { w, b in w.string(b.title); w.compiled(b.expression); w.span(b.span) }
            w.array(plan.milestones) { w, m in
                w.string(m.title)
                switch m.target {
                case .duty(let d): w.u8(0); w.int(d)
                case .action(let a): w.u8(1); w.int(a)
                }
                w.span(m.span)
            }
            w.provenance(plan.provenance); w.span(plan.span)
        }
        optional(p.reminders) { w, plan in
            w.array(plan.before) { $0.int(Int($1)) }
            w.array(plan.duties.keys.sorted()) { w, d in w.int(d); w.array(plan.duties[d]!) { $0.int(Int($1)) } }
            w.provenance(plan.provenance); w.span(plan.span)
        }
        array(p.drafts) { w, d in
            w.string(d.id); w.string(d.title); w.optionalString(d.to); w.string(d.template); w.provenance(d.provenance); w.span(d.span)
            w.array(d.fields) { w, f in
                w.string(f.id); w.string(f.title); w.string(f.question); w.bool(f.required)
                switch f.source {
                case .value(let e): w.u8(0); w.compiled(e)
                case .contact(let r): w.u8(1); w.int(r)
                case .notes(let actions): w.u8(2); w.ints(actions)
                case .actor(let a): w.u8(3); w.int(a)
                }
                w.optional(f.provenance) { $0.provenance($1) }; w.span(f.span)
            }
        }
        string(p.file)
    }
}

// MARK: - Reading

private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    private var strings: [String] = []
    private var domains: [EnumDomain] = []
    /// Expressions nest; a damaged archive must not recurse without end.
    private var depth = 0
    /// The policy's clock, once read (durations added to datetimes need it).
    private var zoneClock: ZoneClock?

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private func damaged(_ what: String) -> PolicyArchive.Damaged {
        PolicyArchive.Damaged(description: "\(what) at byte \(position)")
    }

    mutating func u8() throws -> UInt8 {
        guard position < bytes.count else { throw damaged("unexpected end") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u32() throws -> UInt32 {
        guard position + 4 <= bytes.count else { throw damaged("unexpected end") }
        let v = UnsafeRawPointer(bytes.baseAddress! + position).loadUnaligned(as: UInt32.self)
        position += 4
        return UInt32(littleEndian: v)
    }

    mutating func int() throws -> Int {
        guard position + 8 <= bytes.count else { throw damaged("unexpected end") }
        let v = UnsafeRawPointer(bytes.baseAddress! + position).loadUnaligned(as: Int64.self)
        position += 8
        return Int(Int64(littleEndian: v))
    }

    /// A count of things to follow, each at least one byte.
    mutating func count() throws -> Int {
        let n = try int()
        guard n >= 0, n <= bytes.count - position else { throw damaged("bad count \(n)") }
        return n
    }

    /// An index below `limit`.
    mutating func index(below limit: Int) throws -> Int {
        let n = try int()
        guard n >= 0, n < limit else { throw damaged("index \(n) out of range") }
        return n
    }

    mutating func bool() throws -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        default: throw damaged("bad flag")
        }
    }

    mutating func string() throws -> String {
        switch try u8() {
        case 0:
            let n = try count()
            let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<(position + n)]), as: UTF8.self)
            position += n
            strings.append(s)
            return s
        case 1:
            return strings[try index(below: strings.count)]
        default:
            throw damaged("bad string tag")
        }
    }

    mutating func optional<T>(_ read: (inout Reader) throws -> T) throws -> T? {
        switch try u8() {
        case 0: return nil
        case 1: return try read(&self)
        default: throw damaged("bad optional tag")
        }
    }

    mutating func array<T>(_ read: (inout Reader) throws -> T) throws -> [T] {
        let n = try count()
        var out: [T] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try read(&self)) }
        return out
    }

    mutating func ints() throws -> [Int] { try array { try $0.int() } }
    mutating func optionalString() throws -> String? { try optional { try $0.string() } }
    mutating func optionalInt() throws -> Int? { try optional { try $0.int() } }

    mutating func span() throws -> SourceSpan {
        let file = try string()
        let start = SourcePosition(line: try int(), column: try int())
        let end = SourcePosition(line: try int(), column: try int())
        return SourceSpan(file: file, start: start, end: end)
    }

    mutating func provenance() throws -> Provenance {
        Provenance(policy: try string(), clause: try optionalString(), law: try optionalString(), assumption: try optionalString(),
                   span: try optional { try $0.span() })
    }

    mutating func domain() throws -> EnumDomain {
        switch try u8() {
        case 0:
            let owner = try string()
            let options = try array { r in
                EnumDomain.Option(id: try r.string(), title: try r.string(), weight: try r.optionalInt(),
                                  provenance: try r.optional { try $0.provenance() })
            }
            let domain = EnumDomain(owner: owner, options: options)
            domains.append(domain)
            return domain
        case 1:
            return domains[try index(below: domains.count)]
        default:
            throw damaged("bad domain tag")
        }
    }

    mutating func type() throws -> ValueType {
        switch try u8() {
        case 0: return .bool
        case 1: return .int
        case 2: return .text
        case 3: return .datetime
        case 4: return .option(try domain())
        case 5: return .options(try domain())
        case 6: return .duration
        default: throw damaged("bad type tag")
        }
    }

    mutating func value() throws -> Value {
        switch try u8() {
        case 0: return .unknown
        case 1: return .bool(try bool())
        case 2: return .int(try int())
        case 3: return .option(try int())
        case 4: return .options(UInt64(UInt(bitPattern: try int())))
        case 5: return .time(Int64(try int()))
        case 6: return .text(try string())
        default: throw damaged("bad value tag")
        }
    }

    mutating func expr() throws -> Expr {
        depth += 1
        defer { depth -= 1 }
        guard depth < 10_000 else { throw damaged("expression nested too deep") }
        switch try u8() {
        case 0: return .constant(try value())
        case 1: return .slot(try int())
        case 2: return .not(try expr())
        case 3: return .and(try expr(), try expr())
        case 4: return .or(try expr(), try expr())
        case 5: return .equal(try expr(), try expr())
        case 6: return .notEqual(try expr(), try expr())
        case 7: return .less(try expr(), try expr())
        case 8: return .lessOrEqual(try expr(), try expr())
        case 9: return .add(try expr(), try expr())
        case 10: return .subtract(try expr(), try expr())
        case 11: return .negate(try expr())
        case 12: return .oneOf(try expr(), try array { try $0.value() })
        case 13: return .hasOption(try expr(), try int())
        case 14: return .hasOptionOf(try expr(), try expr())
        case 15: return .hasAny(try expr(), UInt64(UInt(bitPattern: try int())))
        case 16: return .hasAll(try expr(), UInt64(UInt(bitPattern: try int())))
        case 17: return .sum(try expr(), try ints())
        case 18: return .count(try expr())
        case 19: return .known(try expr())
        case 20: return .occurred(try int())
        case 21: return .minimum(try expr(), try expr(), try range(), try range())
        case 22: return .maximum(try expr(), try expr(), try range(), try range())
        case 23: return .multiply(try expr(), try expr())
        case 24: return .divide(try expr(), try expr())
        case 25: return .remainder(try expr(), try expr())
        case 26:
            let a = try expr()
            let d = try durationValue()
            guard let zoneClock else { throw damaged("a duration before the time zone") }
            return .shift(a, TimeShift(duration: d, clock: zoneClock))
        case 27: return .elapsed(try expr(), try expr())
        default: throw damaged("bad expression tag")
        }
    }

    mutating func compiled() throws -> CompiledExpression {
        CompiledExpression(expr: try expr(), type: try type(), source: try string(), slots: try ints())
    }

    mutating func durationValue() throws -> ISODuration {
        ISODuration(years: try int(), months: try int(), weeks: try int(), days: try int(), hours: try int(),
                    minutes: try int(), seconds: try int())
    }

    mutating func deadline() throws -> DeadlineRule {
        switch try u8() {
        case 0:
            return .after(try durationValue())
        case 1: return .endOfDay
        case 2:
            let n = try int()
            guard n >= 0 && n <= 3650 else { throw damaged("bad working days") }
            return .workingDays(n)
        case 3: return .endOfNextWorkingDay
        default: throw damaged("bad deadline tag")
        }
    }

    mutating func clock() throws -> Clock {
        switch try u8() {
        case 0: return .fact(try int())
        case 1: return .action(try int())
        case 2: return .duty(try int())
        case 3: return .earliest(try array { try $0.clock() })
        case 4: return .latest(try array { try $0.clock() })
        default: throw damaged("bad clock tag")
        }
    }

    mutating func range() throws -> IntRange { IntRange(try optionalInt(), try optionalInt()) }

    mutating func calendar() throws -> WorkingCalendar {
        let id = try string(), title = try string(), source = try string(), weekend = try u8()
        let first = try int(), last = try int()
        let holidays = try array { r in (day: try r.int(), name: try r.string()) }
        guard first <= last, first > -10_000_000, last < 10_000_000,
              zip(holidays, holidays.dropFirst()).allSatisfy({ $0.day < $1.day })
        else { throw damaged("bad calendar") }
        return WorkingCalendar(id: id, title: title, source: source, weekend: weekend, firstDay: first, lastDay: last,
                               holidays: holidays, file: try string())
    }

    mutating func zoneTable() throws -> ZoneTable {
        let initialOffset = try int(), initialDaylight = try bool()
        let entries = try array { r in (at: try r.int(), offset: try r.int(), daylight: try r.bool()) }
        let offsets = -18 * 3600...18 * 3600
        guard offsets.contains(initialOffset), entries.allSatisfy({ offsets.contains($0.offset) }) else {
            throw damaged("bad zone offset")
        }
        let table = ZoneTable(
            initialOffset: Int32(initialOffset), initialDaylight: initialDaylight, transitions: entries.map { Int64($0.at) },
            offsets: entries.map { Int32($0.offset) }, daylight: entries.map(\.daylight),
            standardName: try string(), daylightName: try string())
        guard table.isWellFormed else { throw damaged("bad zone table") }
        return table
    }

    mutating func policy() throws -> Policy {
        let id = try string(), title = try string(), organisation = try string(), source = try optionalString()
        var control = DocumentControl()
        control.version = try optionalString()
        control.approved = try optionalString()
        control.approvedBy = try optionalString()
        control.nextReview = try optionalString()
        control.nextReviewDay = try optionalInt()
        control.nextReviewSpan = try optional { try $0.span() }
        control.references = try array { try $0.string() }
        control.notes = try optionalString()
        let zone = try string()
        let table = try zoneTable()
        let calendar = try optional { try $0.calendar() }
        let clock = ZoneClock(identifier: zone, table: table, calendar: calendar)
        zoneClock = clock
        let lineage = try array { r in
            PolicyHeader(id: try r.string(), title: try r.string(), organisation: try r.string(), source: try r.optionalString(),
                         file: try r.string())
        }
        guard let layout = Layout(rawValue: try string()) else { throw damaged("bad layout") }
        let outline = try array { r in
            OutlineItem(clause: try r.string(), title: try r.optionalString(), must: try r.optionalString(), why: try r.optionalString(),
                        how: try r.optionalString(), text: try r.optionalString(), policy: try r.string(), span: try r.span(),
                        summary: try r.optionalString(),
                        spans: FieldSpans(must: try r.optional { try $0.span() }, why: try r.optional { try $0.span() },
                                          how: try r.optional { try $0.span() }, text: try r.optional { try $0.span() }))
        }
        let definitions = try array { r in
            Definition(id: try r.string(), term: try r.string(), text: try r.string(), provenance: try r.provenance(), span: try r.span())
        }
        let terms = try array { r in
            Term(id: try r.string(), title: try r.string(), rule: try r.deadline(), provenance: try r.provenance(), span: try r.span())
        }
        let roles = try array { r -> Role in
            var role = Role(id: try r.string(), title: try r.string(), holder: try r.optionalString(), standIns: try r.ints(),
                            provenance: try r.optional { try $0.provenance() }, span: try r.span(),
                            standInConditions: try r.array { r in StandInCondition(role: try r.int(), condition: try r.compiled()) },
                            includes: try r.ints())
            role.contact = try r.optionalString()
            return role
        }
        let facts = try array { r in
            Fact(id: try r.string(), title: try r.string(), type: try r.type(), question: try r.string(), provenance: try r.provenance(),
                 minimum: try r.optionalInt(), maximum: try r.optionalInt(), anonymisesReporter: try r.bool(), span: try r.span(),
                 setBy: try r.optional { try $0.ints() }, reporterRoles: try r.ints())
        }
        let values = try array { r -> DerivedValue in
            let id = try r.string(), title = try r.string(), type = try r.type()
            let rule: DerivedValue.Rule
            switch try r.u8() {
            case 0:
                rule = .expression(try r.compiled())
            case 1:
                let input = try r.int()
                rule = .table(input: input, bands: try r.array { r in
                    DerivedValue.Band(from: try r.optionalInt(), to: try r.optionalInt(), value: try r.value(), label: try r.optionalString(),
                                      provenance: try r.optional { try $0.provenance() }, span: try r.span())
                })
            case 2:
                rule = .cases(try r.array { r in
                    DerivedValue.Case(condition: try r.optional { try $0.compiled() }, value: try r.value(), label: try r.optionalString(),
                                      provenance: try r.optional { try $0.provenance() }, span: try r.span())
                })
            case 3:
                func axis(_ r: inout Reader) throws -> DerivedValue.Grid.Axis {
                    let input = try r.int(), span = try r.span()
                    let bands = try r.array { r in
                        DerivedValue.Grid.AxisBand(from: try r.optionalInt(), to: try r.optionalInt(),
                                                   options: UInt64(UInt(bitPattern: try r.int())), label: try r.optionalString(), span: try r.span())
                    }
                    return DerivedValue.Grid.Axis(input: input, bands: bands, span: span)
                }
                let rows = try axis(&r), columns = try axis(&r)
                let cells = try r.array { try $0.value() }
                guard !rows.bands.isEmpty, !columns.bands.isEmpty, cells.count == rows.bands.count * columns.bands.count else {
                    throw r.damaged("a grid's cells do not fit its bands")
                }
                rule = .grid(DerivedValue.Grid(rows: rows, columns: columns, cells: cells, rowSpans: try r.array { try $0.span() }))
            default:
                throw r.damaged("bad rule tag")
            }
            return DerivedValue(id: id, title: title, type: type, rule: rule, provenance: try r.provenance(), span: try r.span())
        }
        let actions = try array { r in
            Action(id: try r.string(), title: try r.string(), roles: try r.optional { try $0.ints() }, reasonRequired: try r.bool(),
                   decision: try r.optional { r in Action.Decision(slot: try r.int(), asserts: try r.optional { try $0.value() }) },
                   closes: try r.bool(), provenance: try r.optional { try $0.provenance() }, span: try r.span(),
                   establishes: try r.ints())
        }
        let duties = try array { r in
            Duty(id: try r.string(), title: try r.string(), roles: try r.ints(), dischargers: UInt64(UInt(bitPattern: try r.int())),
                 actions: try r.ints(), condition: try r.optional { try $0.compiled() }, clock: try r.optional { try $0.clock() },
                 deadline: try r.optional { try $0.deadline() }, term: try r.optionalInt(), prerequisites: try r.ints(),
                 provenance: try r.provenance(), must: try r.optionalString(), why: try r.optionalString(), how: try r.optionalString(),
                 span: try r.span(), notBefore: try r.optional { try $0.durationValue() }, target: try r.optional { try $0.deadline() },
                 reasonWhenLate: try r.bool())
        }
        let prohibitions = try array { r in
            Prohibition(id: try r.string(), title: try r.string(), roles: try r.ints(), actions: try r.ints(), text: try r.optionalString(),
                        provenance: try r.provenance(), span: try r.span())
        }
        let constraints = try array { r in
            Constraint(id: try r.string(), rule: try r.compiled(), message: try r.string(), provenance: try r.provenance(),
                       span: try r.span())
        }
        let notEncoded = try array { r in
            NotEncoded(policy: try r.string(), clause: try r.string(), reason: try r.string(), origin: try r.string(), span: try r.span())
        }
        let lineageChanges = try array { r -> LineageChange in
            guard let kind = LineageChange.Kind(rawValue: try r.string()) else { throw r.damaged("bad lineage change") }
            return LineageChange(kind: kind, section: try r.string(), id: try r.string(), base: try r.string(), by: try r.string())
        }
        let probes = try array { r -> Probe in
            guard let kind = ProbeKind(rawValue: try r.string()) else { throw r.damaged("bad probe") }
            return Probe(kind: kind, target: try r.int())
        }
        let report = try optional { r -> ReportPlan in
            let start = try r.optional { try $0.compiled() }, nearMiss = try r.optional { try $0.compiled() }
            let breakdowns = try r.array { r in ReportPlan.Breakdown(title: try r.string(), expression: try r.compiled(), span: try r.span()) }
            let milestones = try r.array { r -> ReportPlan.Milestone in
                let title = try r.string()
                let target: ReportPlan.Milestone.Target
                switch try r.u8() {
                case 0: target = .duty(try r.int())
                case 1: target = .action(try r.int())
                default: throw r.damaged("bad milestone")
                }
                return ReportPlan.Milestone(title: title, target: target, span: try r.span())
            }
            return ReportPlan(start: start, nearMiss: nearMiss, breakdowns: breakdowns, milestones: milestones,
                              provenance: try r.provenance(), span: try r.span())
        }
        let reminders = try optional { r -> ReminderPlan in
            let before = try r.array { r in Int64(try r.int()) }
            var byDuty: [Int: [Int64]] = [:]
            for (d, list) in try r.array({ r in (try r.int(), try r.array { r in Int64(try r.int()) }) }) {
                guard d >= 0 && d < duties.count else { throw r.damaged("bad reminder duty") }
                byDuty[d] = list
            }
            return ReminderPlan(before: before, duties: byDuty, provenance: try r.provenance(), span: try r.span())
        }
        let drafts = try array { r -> DraftTemplate in
            let id = try r.string(), title = try r.string(), to = try r.optionalString(), template = try r.string()
            let provenance = try r.provenance(), span = try r.span()
            let fields = try r.array { r -> DraftTemplate.Field in
                let id = try r.string(), title = try r.string(), question = try r.string(), required = try r.bool()
                let source: DraftTemplate.Field.Source
                switch try r.u8() {
                case 0: source = .value(try r.compiled())
                case 1: source = .contact(role: try r.int())
                case 2: source = .notes(actions: try r.ints())
                case 3: source = .actor(action: try r.int())
                default: throw r.damaged("bad draft field")
                }
                return DraftTemplate.Field(id: id, title: title, question: question, required: required, source: source,
                                           provenance: try r.optional { try $0.provenance() }, span: try r.span())
            }
            return DraftTemplate(id: id, title: title, to: to, fields: fields, template: template, provenance: provenance, span: span)
        }
        let file = try string()
        try check(facts: facts, values: values, roles: roles, actions: actions, duties: duties, prohibitions: prohibitions,
                  constraints: constraints, terms: terms.count, probes: probes, report: report, drafts: drafts)
        return Policy(
            id: id, title: title, organisation: organisation, source: source, control: control, clock: clock, lineage: lineage,
            layout: layout, outline: outline, definitions: definitions, terms: terms, roles: roles, facts: facts, values: values,
            actions: actions, duties: duties, prohibitions: prohibitions, constraints: constraints, notEncoded: notEncoded,
            lineageChanges: lineageChanges, probes: probes, report: report, reminders: reminders, drafts: drafts, file: file)
    }

    /// Every index the engine follows without checking stays inside its array, and every
    /// number it narrows fits: a policy read back is as safe to run as one compiled.
    private func check(facts: [Fact], values: [DerivedValue], roles: [Role], actions: [Action], duties: [Duty],
                       prohibitions: [Prohibition], constraints: [Constraint], terms: Int, probes: [Probe],
                       report: ReportPlan?, drafts: [DraftTemplate]) throws {
        let slots = facts.count + values.count + probes.count
        for probe in probes where probe.target != -1 {
            guard inRange(probe.target, probe.kind.asksDuty ? duties.count : actions.count) else { throw damaged("bad probe") }
        }
        func inRange(_ i: Int, _ n: Int) -> Bool { i >= 0 && i < n }
        func expression(_ e: Expr) throws {
            var ok = true
            e.visit { node in
                switch node {
                case .slot(let s): ok = ok && inRange(s, slots)
                case .occurred(let a): ok = ok && inRange(a, actions.count)
                case .hasOption(_, let i): ok = ok && inRange(i, 64)
                case .constant(.option(let i)): ok = ok && inRange(i, 64)
                case .oneOf(_, let list):
                    for v in list { if case .option(let i) = v { ok = ok && inRange(i, 64) } }
                default: break
                }
            }
            guard ok else { throw damaged("an expression refers outside the policy") }
        }
        for value in values {
            switch value.rule {
            case .expression(let e): try expression(e.expr)
            case .table(let input, _): guard inRange(input, slots) else { throw damaged("a table reads outside the policy") }
            case .cases(let cases): for c in cases { if let e = c.condition { try expression(e.expr) } }
            case .grid(let grid):
                guard inRange(grid.rows.input, slots), inRange(grid.columns.input, slots) else { throw damaged("a grid reads outside the policy") }
            }
        }
        for role in roles {
            guard role.standIns.allSatisfy({ inRange($0, roles.count) }), role.includes.allSatisfy({ inRange($0, roles.count) }),
                  role.standInConditions.allSatisfy({ inRange($0.role, roles.count) })
            else { throw damaged("bad stand-in or member") }
            for c in role.standInConditions { try expression(c.condition.expr) }
        }
        for fact in facts where !((fact.setBy ?? []) + fact.reporterRoles).allSatisfy({ inRange($0, roles.count) }) { throw damaged("bad set_by") }
        for c in constraints { try expression(c.rule.expr) }
        for action in actions {
            guard (action.roles ?? []).allSatisfy({ inRange($0, roles.count) }), action.establishes.allSatisfy({ inRange($0, facts.count) })
            else { throw damaged("bad action role or fact") }
            if let d = action.decision, !inRange(d.slot - facts.count, values.count) { throw damaged("bad decision slot") }
        }
        for p in prohibitions where !(p.roles.allSatisfy { inRange($0, roles.count) } && p.actions.allSatisfy { inRange($0, actions.count) }) {
            throw damaged("bad prohibition")
        }
        for (i, duty) in duties.enumerated() {
            guard duty.roles.allSatisfy({ inRange($0, roles.count) }), duty.actions.allSatisfy({ inRange($0, actions.count) }),
                  duty.prerequisites.allSatisfy({ inRange($0, i) }), duty.term.map({ inRange($0, terms) }) ?? true
            else { throw damaged("duty \(duty.id) refers outside the policy") }
            if let e = duty.condition { try expression(e.expr) }
            for part in duty.clock?.parts ?? [] {
                switch part {
                case .fact(let s): guard inRange(s, slots) else { throw damaged("bad clock") }
                case .action(let a): guard inRange(a, actions.count) else { throw damaged("bad clock") }
                case .duty(let d): guard inRange(d, i) else { throw damaged("bad clock") }
                case .earliest, .latest: throw damaged("bad clock")
                }
            }
        }
        if let report {
            for e in [report.start, report.nearMiss].compactMap({ $0 }) + report.breakdowns.map(\.expression) { try expression(e.expr) }
            for m in report.milestones {
                switch m.target {
                case .duty(let d): guard inRange(d, duties.count) else { throw damaged("bad milestone") }
                case .action(let a): guard inRange(a, actions.count) else { throw damaged("bad milestone") }
                }
            }
        }
        for field in drafts.flatMap(\.fields) {
            switch field.source {
            case .value(let e): try expression(e.expr)
            case .contact(let r): guard inRange(r, roles.count) else { throw damaged("bad draft field") }
            case .notes(let list): guard list.allSatisfy({ inRange($0, actions.count) }) else { throw damaged("bad draft field") }
            case .actor(let a): guard inRange(a, actions.count) else { throw damaged("bad draft field") }
            }
        }
        guard slots < Int(Int32.max), actions.count < 1 << 20 else { throw damaged("too large") }
    }
}
