import Foundation

/// Local time in a policy's time zone: the UTC offset at an instant, the end of the local
/// day, and calendar arithmetic that honours clock changes.
///
/// Offsets come from the platform's time-zone database through Foundation and are
/// cached per quarter hour, because duty evaluation asks for them on every incident. A
/// clock can also be made from its `ZoneTable` (the transitions over a long window, as a
/// cached policy keeps them), and then answers inside that window without Foundation,
/// whose time-zone set-up costs a cold start more than half a millisecond.
public final class ZoneClock: Sendable {
    /// The IANA identifier (`Europe/London`).
    public let identifier: String
    /// The working-day calendar the policy counts `working_days` in, when it names one.
    public let calendar: WorkingCalendar?
    /// Foundation's zone: made at once by `init?(identifier:)`, when first needed (an
    /// instant outside the table) by `init(identifier:table:)`.
    private let zone: Locked<TimeZone?>
    /// The transitions over `ZoneTable.window`, when the clock was made from them.
    private let table: ZoneTable?
    /// The zone's short names (GMT, BST), worked out when first asked for: only text
    /// output needs them, and asking ICU costs a cold start half a millisecond.
    private let names = Locked<(standard: String, daylight: String)?>(nil)
    /// Offsets from Foundation by quarter hour, direct-mapped: slot `quarter % size` holds
    /// the last quarter asked for there (keys start at `Int64.min`, which no quarter is).
    private let cache = Locked(OffsetCache())
    private static let cacheSize = 4096

    /// Empty until Foundation is first asked: a clock made from a table may never need it.
    private struct OffsetCache: Sendable {
        var keys: [Int64] = []
        var offsets: [Int32] = []
    }

    /// A clock for an IANA time zone, or nil when the identifier is unknown.
    public init?(identifier: String) {
        // Foundation accepts abbreviations and offsets ("GMT+1") too; a policy names a
        // zone by its IANA id, which always holds a '/' or is UTC.
        guard identifier == "UTC" || identifier.contains("/"),
              let zone = TimeZone(identifier: identifier)
        else { return nil }
        self.identifier = identifier
        self.zone = Locked(zone)
        self.table = nil
        self.calendar = nil
    }

    /// A clock from a table `tableForWindow()` made earlier; Foundation is asked only
    /// about instants outside the table's window.
    public init(identifier: String, table: ZoneTable, calendar: WorkingCalendar? = nil) {
        self.identifier = identifier
        self.zone = Locked(nil)
        self.table = table
        self.calendar = calendar
    }

    private init(identifier: String, zone: TimeZone?, table: ZoneTable?, calendar: WorkingCalendar?) {
        self.identifier = identifier
        self.zone = Locked(zone)
        self.table = table
        self.calendar = calendar
    }

    /// The same clock, counting working days in `calendar`.
    public func with(calendar: WorkingCalendar?) -> ZoneClock {
        ZoneClock(identifier: identifier, zone: zone.withLock { $0 }, table: table, calendar: calendar)
    }

    /// Foundation's zone, made when first needed.
    private var foundationZone: TimeZone {
        zone.withLock { zone in
            if let zone { return zone }
            // The identifier was accepted when the table was made; should the platform
            // no longer know it, UTC is the only honest answer left.
            let made = TimeZone(identifier: identifier) ?? TimeZone(identifier: "UTC")!
            zone = made
            return made
        }
    }

    /// Every transition of the zone in `ZoneTable.window`, with the offsets and names:
    /// what `init(identifier:table:)` needs to answer without Foundation.
    public func tableForWindow() -> ZoneTable {
        if let table { return table }
        let zone = foundationZone
        let (from, until) = ZoneTable.window
        let start = Date(timeIntervalSince1970: Double(from))
        var table = ZoneTable(
            initialOffset: Int32(zone.secondsFromGMT(for: start)), initialDaylight: zone.isDaylightSavingTime(for: start),
            transitions: [], offsets: [], daylight: [], standardName: "", daylightName: "")
        var date = start
        while let next = zone.nextDaylightSavingTimeTransition(after: date), next.timeIntervalSince1970 < Double(until) {
            table.transitions.append(Int64(next.timeIntervalSince1970.rounded(.down)))
            table.offsets.append(Int32(zone.secondsFromGMT(for: next)))
            table.daylight.append(zone.isDaylightSavingTime(for: next))
            date = next
        }
        (table.standardName, table.daylightName) = shortNames()
        return table
    }

    /// The UTC offset, in seconds, in force at `instant`.
    public func offset(at instant: Instant) -> Int {
        if let table, let entry = table.entry(at: instant) { return Int(entry.offset) }
        // Every real transition falls on a quarter hour in UTC (Lord Howe's is at 15:30),
        // so the quarter hour is a safe cache key.
        let quarter = instant.floorDivided(by: 900_000).0
        let slot = Int(UInt64(bitPattern: quarter) % UInt64(Self.cacheSize))
        if let cached = cache.withLock({ !$0.keys.isEmpty && $0.keys[slot] == quarter ? Int($0.offsets[slot]) : nil }) {
            return cached
        }
        let offset = foundationZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(quarter * 900)))
        cache.withLock {
            if $0.keys.isEmpty {
                $0.keys = [Int64](repeating: .min, count: Self.cacheSize)
                $0.offsets = [Int32](repeating: 0, count: Self.cacheSize)
            }
            $0.keys[slot] = quarter
            $0.offsets[slot] = Int32(offset)
        }
        return offset
    }

    /// The zone's abbreviation at `instant` (`GMT`, `BST`), for people.
    public func abbreviation(at instant: Instant) -> String {
        if let table, let entry = table.entry(at: instant) {
            return entry.daylight ? table.daylightName : table.standardName
        }
        let (standard, daylight) = shortNames()
        return foundationZone.isDaylightSavingTime(for: Date(timeIntervalSince1970: Double(instant) / 1000)) ? daylight : standard
    }

    private func shortNames() -> (standard: String, daylight: String) {
        if let table { return (table.standardName, table.daylightName) }
        return names.withLock { names in
            if let names { return names }
            // British English names give GMT/BST; Foundation's plain abbreviation on Linux
            // says "GMT+1".
            let locale = Locale(identifier: "en_GB")
            let zone = foundationZone
            let standard = zone.localizedName(for: .shortStandard, locale: locale) ?? identifier
            let found = (standard, zone.localizedName(for: .shortDaylightSaving, locale: locale) ?? standard)
            names = found
            return found
        }
    }

    /// `instant` as RFC 3339 with the local offset.
    public func format(_ instant: Instant) -> String {
        Timestamp.format(instant, offsetSeconds: offset(at: instant))
    }

    /// `2026-11-02 09:14 GMT`, for text output.
    public func describe(_ instant: Instant) -> String {
        let local = Timestamp.format(instant, offsetSeconds: offset(at: instant))
        return String(local.prefix(10)) + " " + String(local.dropFirst(11).prefix(5)) + " " + abbreviation(at: instant)
    }

    /// The local calendar date (days since 1970-01-01) and milliseconds into that day.
    public func localDay(of instant: Instant) -> (day: Int, millisecond: Int64) {
        let local = instant + Int64(offset(at: instant)) * 1000
        let (day, ms) = local.floorDivided(by: 86_400_000)
        return (Int(day), ms)
    }

    /// The instant of a local wall-clock time. In a spring-forward gap the time does not
    /// exist and the first instant after the gap is returned; in an autumn overlap the
    /// earlier of the two instants.
    public func instant(day: Int, millisecond: Int64) -> Instant {
        // Days beyond any calendar (a policy's `P999999999Y`) saturate rather than trap.
        guard day > -100_000_000 && day < 100_000_000 else { return day < 0 ? .min : .max }
        let wall = Int64(day) * 86_400_000 + millisecond
        // Try the offsets in force around the wall time; the earliest instant that reads
        // back as this wall time wins.
        let before = offset(at: wall - 86_400_000)
        let at = offset(at: wall)
        let after = offset(at: wall + 86_400_000)
        var best: Instant?
        func consider(_ candidate: Int) {
            let t = wall - Int64(candidate) * 1000
            if offset(at: t) == candidate, best == nil || t < best! { best = t }
        }
        consider(before)
        if at != before { consider(at) }
        if after != before && after != at { consider(after) }
        if let best { return best }
        // A gap: read the wall time with the offset from before the jump, which moves it
        // later by the gap's length (01:30 on a spring-forward night becomes 02:30).
        return wall - Int64(min(before, at, after)) * 1000
    }

    /// The end of the local calendar day that holds `instant` (the next local midnight).
    public func endOfDay(_ instant: Instant) -> Instant {
        let (day, _) = localDay(of: instant)
        return self.instant(day: day + 1, millisecond: 0)
    }

    /// `instant` plus `duration`: calendar parts on the local date (month ends clamp, as
    /// 31 January + P1M is 28 or 29 February), then exact parts in real time.
    public func add(_ duration: ISODuration, to instant: Instant) -> Instant {
        var result = instant
        if duration.hasCalendarPart {
            let (day, ms) = localDay(of: instant)
            var (y, m, d) = Timestamp.civilFromDays(day)
            let totalMonths = y * 12 + (m - 1) + duration.years * 12 + duration.months
            // Beyond ±100,000 years nothing is meaningful: saturate rather than trap.
            guard abs(totalMonths) < 1_200_000 else { return totalMonths < 0 ? .min : .max }
            var (years, month) = totalMonths.quotientAndRemainder(dividingBy: 12)
            if month < 0 {
                years -= 1
                month += 12
            }
            y = years
            m = month + 1
            d = min(d, Timestamp.daysIn(year: y, month: m))
            let newDay = Timestamp.daysFromCivil(year: y, month: m, day: d) + duration.weeks * 7 + duration.days
            result = self.instant(day: newDay, millisecond: ms)
        }
        let (sum, overflow) = result.addingReportingOverflow(duration.exactMilliseconds)
        return overflow ? (duration.exactMilliseconds < 0 ? .min : .max) : sum
    }
}

/// A time zone's transitions over a long window (1970 to 2100): the offset and whether
/// it is daylight-saving time from each transition on, and the zone's short names.
public struct ZoneTable: Sendable, Equatable {
    /// Seconds since 1970 where the table is authoritative: `from..<until`.
    public static let window: (from: Int64, until: Int64) = (0, 4_102_444_800)

    public var initialOffset: Int32
    public var initialDaylight: Bool
    /// Seconds since 1970, ascending; `offsets[i]` and `daylight[i]` hold from
    /// `transitions[i]` on.
    public var transitions: [Int64]
    public var offsets: [Int32]
    public var daylight: [Bool]
    public var standardName: String
    public var daylightName: String

    public init(initialOffset: Int32, initialDaylight: Bool, transitions: [Int64], offsets: [Int32], daylight: [Bool],
                standardName: String, daylightName: String) {
        self.initialOffset = initialOffset
        self.initialDaylight = initialDaylight
        self.transitions = transitions
        self.offsets = offsets
        self.daylight = daylight
        self.standardName = standardName
        self.daylightName = daylightName
    }

    /// True when the arrays agree in length and the transitions ascend inside the window.
    public var isWellFormed: Bool {
        guard offsets.count == transitions.count, daylight.count == transitions.count else { return false }
        for (i, t) in transitions.enumerated() {
            guard t >= Self.window.from, t < Self.window.until, i == 0 || transitions[i - 1] < t else { return false }
        }
        let plausible: ClosedRange<Int32> = -18 * 3600...18 * 3600
        return offsets.allSatisfy { plausible.contains($0) } && plausible.contains(initialOffset)
    }

    /// The offset and daylight flag at `instant`, or nil outside the window.
    func entry(at instant: Instant) -> (offset: Int32, daylight: Bool)? {
        let seconds = instant.floorDivided(by: 1000).0
        guard seconds >= Self.window.from, seconds < Self.window.until else { return nil }
        // The last transition at or before `seconds`.
        var low = 0, high = transitions.count
        while low < high {
            let mid = (low + high) / 2
            if transitions[mid] <= seconds { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? (initialOffset, initialDaylight) : (offsets[low - 1], daylight[low - 1])
    }
}

/// A value behind a lock. A pthread mutex (NSLock), not Synchronization's Mutex: the
/// thread sanitizer understands the former and, on Linux, reports every access guarded
/// by the latter as a race.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
