import RulebookDiagnostics
import RulebookYAML

/// Which days are working days: every day but the weekend days and the listed holidays,
/// over the years the calendar covers. A calendar is data (`Policies/calendars/*.yaml`);
/// a policy names one with `calendar:` and counts `working_days` in it.
public final class WorkingCalendar: Sendable {
    /// The calendar's id (`england-and-wales`).
    public let id: String
    public let title: String
    /// Where the dates come from.
    public let source: String
    /// Bit `w` set when weekday `w` (0 Monday … 6 Sunday) is a weekend day.
    public let weekend: UInt8
    /// The first and last day covered (days since 1970-01-01).
    public let firstDay: Int
    public let lastDay: Int
    /// The holidays (days since 1970-01-01), ascending, with their names.
    public let holidays: [Int]
    public let names: [String]
    /// The calendar file.
    public let file: String

    public init(id: String, title: String, source: String, weekend: UInt8, firstDay: Int, lastDay: Int,
                holidays: [(day: Int, name: String)], file: String) {
        self.id = id
        self.title = title
        self.source = source
        self.weekend = weekend
        self.firstDay = firstDay
        self.lastDay = lastDay
        let sorted = holidays.sorted { $0.day < $1.day }
        self.holidays = sorted.map(\.day)
        names = sorted.map(\.name)
        self.file = file
    }

    static let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    /// The weekday of a day: 0 Monday … 6 Sunday (1970-01-01 was a Thursday).
    public static func weekday(of day: Int) -> Int { ((day + 3) % 7 + 7) % 7 }

    /// Whether `day` is a working day; nil outside the days the calendar covers.
    public func isWorkingDay(_ day: Int) -> Bool? {
        guard day >= firstDay && day <= lastDay else { return nil }
        if weekend & (1 << UInt8(Self.weekday(of: day))) != 0 { return false }
        return holidayIndex(day) == nil
    }

    /// The holiday's name, when `day` is one.
    public func holiday(on day: Int) -> String? { holidayIndex(day).map { names[$0] } }

    private func holidayIndex(_ day: Int) -> Int? {
        var low = 0, high = holidays.count
        while low < high {
            let mid = (low + high) / 2
            if holidays[mid] < day { low = mid + 1 } else { high = mid }
        }
        return low < holidays.count && holidays[low] == day ? low : nil
    }

    /// The first working day on or after `day`; nil when the calendar runs out first.
    func workingDay(onOrAfter day: Int) -> Int? {
        var d = day
        while let working = isWorkingDay(d) {
            if working { return d }
            d += 1
        }
        return nil
    }

    /// The day the calendar would need to answer about to go past `day`: the first day
    /// after it that it does not cover (for messages).
    public var firstUncoveredDay: Int { lastDay + 1 }

    // MARK: Reading

    /// Reads a calendar file; nil (with diagnostics in `decoder`) when it is not valid.
    static func read(_ root: Node, file: String, decoder: NodeDecoder) -> WorkingCalendar? {
        guard let object = decoder.object(root, "a calendar", allowed: ["calendar", "title", "weekend", "from", "to", "source", "holidays"],
                                          required: ["calendar", "title", "weekend", "from", "to", "source", "holidays"]),
              let id = object.text("calendar"), let title = object.text("title"), let source = object.text("source")
        else { return nil }
        guard PolicyLibrary.isPolicyID(id) else {
            decoder.error("a calendar id is lowercase letters, digits, '-' and '_'", at: object["calendar"]?.span, code: "bad-id")
            return nil
        }
        var weekend: UInt8 = 0
        var failed = false
        if let list = object["weekend"]?.sequence {
            for item in list {
                guard let name = item.scalar?.text, let w = weekdays.firstIndex(of: name.lowercased()) else {
                    decoder.error("'\(item.scalar?.text ?? item.kindDescription)' is not a day of the week", at: item.span, code: "wrong-type",
                                  hint: "write e.g. [saturday, sunday]")
                    failed = true
                    continue
                }
                weekend |= 1 << UInt8(w)
            }
        } else {
            decoder.error("'weekend' must be a list of days, e.g. [saturday, sunday]", at: object["weekend"]?.span, code: "wrong-type")
            failed = true
        }
        func day(_ node: Node?, _ what: String) -> Int? {
            guard let node, let text = node.scalar?.text, text.count == 10, let day = Timestamp.parseDate(text) else {
                decoder.error("\(what) must be a date, YYYY-MM-DD", at: node?.span, code: "bad-date")
                return nil
            }
            return day
        }
        let first = day(object["from"], "'from'")
        let last = day(object["to"], "'to'")
        if let first, let last, first > last {
            decoder.error("'from' is after 'to'", at: object["from"]?.span, code: "bad-range")
            failed = true
        }
        var holidays: [(Int, String)] = []
        if let node = object["holidays"], node.mapping != nil {
            var previous: Int?
            for pair in decoder.entries(node, "holidays") {
                let date = pair.key.scalar?.text ?? ""
                guard let d = day(pair.key, "a holiday") else { failed = true; continue }
                guard let name = pair.value.scalar?.text, !name.isEmpty else {
                    decoder.error("holiday \(date) needs a name", at: pair.value.span, code: "wrong-type")
                    failed = true
                    continue
                }
                if let first, let last, d < first || d > last {
                    decoder.error("holiday \(date) is outside the calendar's 'from'–'to'", at: pair.key.span, code: "bad-range")
                    failed = true
                }
                if let previous, d <= previous {
                    decoder.error("holiday \(date) is out of order or repeated", at: pair.key.span, code: "bad-order",
                                  hint: "list the holidays in date order, each once")
                    failed = true
                }
                previous = d
                holidays.append((d, name))
            }
        } else {
            decoder.error("'holidays' must map dates to names, e.g. 2026-12-25: Christmas Day", at: object["holidays"]?.span,
                          code: "wrong-type")
            failed = true
        }
        guard !failed, let first, let last else { return nil }
        return WorkingCalendar(id: id, title: title, source: source, weekend: weekend, firstDay: first, lastDay: last,
                               holidays: holidays.map { (day: $0.0, name: $0.1) }, file: file)
    }
}

extension ZoneClock {
    /// The instant `count` working days after `start`, at the same local time: a start
    /// on a day that is not a working day counts from the beginning of the next working
    /// day. Nil (with the day it needed) when the calendar runs out.
    public func add(workingDays count: Int, to start: Instant) -> (Instant?, neededDay: Int?) {
        guard let calendar else { return (nil, nil) }
        var (day, ms) = localDay(of: start)
        guard let working = calendar.isWorkingDay(day) else { return (nil, day) }
        if !working {
            guard let next = calendar.workingDay(onOrAfter: day) else { return (nil, calendar.firstUncoveredDay) }
            day = next
            ms = 0
        }
        for _ in 0..<max(0, count) {
            guard let next = calendar.workingDay(onOrAfter: day + 1) else { return (nil, calendar.firstUncoveredDay) }
            day = next
        }
        return (instant(day: day, millisecond: ms), nil)
    }

    /// The end (next local midnight) of the first working day after the day `start` falls
    /// on. Nil (with the day it needed) when the calendar runs out.
    public func endOfNextWorkingDay(after start: Instant) -> (Instant?, neededDay: Int?) {
        guard let calendar else { return (nil, nil) }
        let (day, _) = localDay(of: start)
        guard calendar.isWorkingDay(day) != nil else { return (nil, day) }
        guard let next = calendar.workingDay(onOrAfter: day + 1) else { return (nil, calendar.firstUncoveredDay) }
        return (instant(day: next + 1, millisecond: 0), nil)
    }
}

/// How a policy's pinned texts (kept by the register with each incident) name the
/// working-day calendar among the policy files: `calendar:<id>`.
public enum PinnedLineage {
    public static let calendarPrefix = "calendar:"
}
