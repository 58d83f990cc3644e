import Testing

@testable import RulebookCore


@Suite("RFC 3339")
struct TimestampTests {
    @Test("parses offsets and fractions; requires an offset")
    func parse() {
        #expect(Timestamp.parse("1970-01-01T00:00:00Z") == 0)
        #expect(Timestamp.parse("2026-11-02T09:14:00Z") == 1_793_610_840_000)
        #expect(Timestamp.parse("2026-11-02T10:14:00+01:00") == 1_793_610_840_000)
        #expect(Timestamp.parse("2026-11-02 09:14:00.25z") == 1_793_610_840_250)
        for bad in ["2026-11-02T09:14:00", "2026-11-02", "2026-02-30T00:00:00Z", "2026-11-02T24:00:00Z",
                    "2026-11-02T09:14Z", "yesterday", "2026-11-02T09:14:00+1:00", ""] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("formats in UTC or at an offset, round-tripping")
    func format() {
        let instant = t("2026-07-05T08:30:00Z")
        #expect(Timestamp.format(instant) == "2026-07-05T08:30:00Z")
        #expect(Timestamp.format(instant, offsetSeconds: 3600) == "2026-07-05T09:30:00+01:00")
        #expect(Timestamp.format(instant + 5) == "2026-07-05T08:30:00.005Z")
        #expect(Timestamp.format(t("1969-12-31T23:59:59Z")) == "1969-12-31T23:59:59Z")
        for days in [-1000, 0, 19_000, 20_759, 2_932_896] {
            let (y, m, d) = Timestamp.civilFromDays(days)
            #expect(Timestamp.daysFromCivil(year: y, month: m, day: d) == days)
        }
    }

    @Test("calendar dates for document control")
    func dates() {
        #expect(Timestamp.parseDate("2019-11").map(Timestamp.formatDate) == "2019-11-01")
        #expect(Timestamp.parseDate("2024-02-29") != nil)
        #expect(Timestamp.parseDate("2023-02-29") == nil)
        #expect(Timestamp.parseDate("Autumn 2019") == nil)
    }
}

@Suite("ISO 8601 durations")
struct DurationTests {
    @Test("parses and describes", arguments: [
        ("PT72H", "72 hours", "PT72H"), ("P1D", "1 day", "P1D"), ("P6M", "6 months", "P6M"),
        ("PT1H30M", "1 hour 30 minutes", "PT1H30M"), ("P1Y2M3W4DT5H6M7S", "1 year 2 months 3 weeks 4 days 5 hours 6 minutes 7 seconds", "P1Y2M3W4DT5H6M7S"),
    ])
    func valid(_ text: String, _ words: String, _ iso: String) throws {
        let d = try #require(ISODuration(text))
        #expect(d.description == words)
        #expect(d.iso == iso)
    }

    @Test("rejects what is not a duration", arguments: ["P", "PT", "72 hours", "P1H", "PT72", "P1.5D", "PT1H1D", "P1M1Y", "1D", "P-1D"])
    func invalid(_ text: String) {
        #expect(ISODuration(text) == nil)
    }
}

@Suite("Deadlines in Europe/London")
struct ZoneClockTests {
    let london = ZoneClock(identifier: "Europe/London")!

    @Test("unknown zones are refused")
    func unknownZone() {
        #expect(ZoneClock(identifier: "Europe/Londn") == nil)
        #expect(ZoneClock(identifier: "GMT+1") == nil)
        #expect(ZoneClock(identifier: "UTC") != nil)
    }

    @Test("offsets on both sides of both 2026 clock changes")
    func offsets() {
        #expect(london.offset(at: t("2026-03-29T00:59:59Z")) == 0)
        #expect(london.offset(at: t("2026-03-29T01:00:00Z")) == 3600)
        #expect(london.offset(at: t("2026-10-25T00:59:59Z")) == 3600)
        #expect(london.offset(at: t("2026-10-25T01:00:00Z")) == 0)
        #expect(london.describe(t("2026-07-05T08:30:00Z")) == "2026-07-05 09:30 BST")
        #expect(london.format(t("2026-12-05T08:30:00Z")) == "2026-12-05T08:30:00Z")
    }

    @Test("72 hours across a clock change is 72 real hours")
    func exactHours() {
        let spring = t("2026-03-28T12:00:00Z")
        #expect(london.add(ISODuration("PT72H")!, to: spring) == spring + 72 * 3_600_000)
        let autumn = t("2026-10-24T12:00:00Z")
        #expect(london.add(ISODuration("PT72H")!, to: autumn) == t("2026-10-27T12:00:00Z"))
    }

    @Test("a calendar day across a clock change is 23 or 25 hours")
    func calendarDays() {
        // Noon GMT on the Saturday before the spring change is noon BST on Sunday: 23 hours.
        #expect(london.add(ISODuration("P1D")!, to: t("2026-03-28T12:00:00Z")) == t("2026-03-29T11:00:00Z"))
        // Noon BST on the Saturday before the autumn change is noon GMT on Sunday: 25 hours.
        #expect(london.add(ISODuration("P1D")!, to: t("2026-10-24T11:00:00Z")) == t("2026-10-25T12:00:00Z"))
        // Months clamp at the month's end, in local time.
        #expect(london.add(ISODuration("P6M")!, to: t("2026-08-31T09:00:00+01:00")) == t("2027-02-28T09:00:00Z"))
    }

    @Test("the same day ends at local midnight")
    func endOfDay() {
        #expect(london.endOfDay(t("2026-03-29T10:00:00Z")) == t("2026-03-29T23:00:00Z"))
        #expect(london.endOfDay(t("2026-10-24T22:30:00Z")) == t("2026-10-24T23:00:00Z"))
        #expect(london.endOfDay(t("2026-10-25T10:00:00Z")) == t("2026-10-26T00:00:00Z"))
        #expect(london.endOfDay(t("2026-12-31T23:59:59Z")) == t("2027-01-01T00:00:00Z"))
    }

    @Test("a wall time in the spring gap moves later; in the autumn overlap the earlier instant is taken")
    func gapAndOverlap() {
        let springDay = Timestamp.daysFromCivil(year: 2026, month: 3, day: 29)
        #expect(london.instant(day: springDay, millisecond: 90 * 60_000) == t("2026-03-29T01:30:00Z"))
        let autumnDay = Timestamp.daysFromCivil(year: 2026, month: 10, day: 25)
        #expect(london.instant(day: autumnDay, millisecond: 90 * 60_000) == t("2026-10-25T00:30:00Z"))
    }
}

@Suite("Zone tables: a cached policy's clock without Foundation")
struct ZoneTableTests {
    static let zones = ["Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC",
                        "Europe/Moscow", "America/Sao_Paulo", "Pacific/Apia"]

    @Test("offsets and names agree with Foundation from 1970 to 2100, at and around every transition", arguments: zones)
    func agreesWithFoundation(_ id: String) {
        let foundation = ZoneClock(identifier: id)!
        let table = foundation.tableForWindow()
        #expect(table.isWellFormed)
        let clock = ZoneClock(identifier: id, table: table)
        var mismatches: [String] = []
        func check(_ instant: Instant) {
            guard mismatches.count < 5 else { return }
            if clock.offset(at: instant) != foundation.offset(at: instant)
                || clock.abbreviation(at: instant) != foundation.abbreviation(at: instant) {
                mismatches.append("\(Timestamp.format(instant)): table \(clock.offset(at: instant)) \(clock.abbreviation(at: instant)), "
                                  + "Foundation \(foundation.offset(at: instant)) \(foundation.abbreviation(at: instant))")
            }
        }
        for seconds in table.transitions {
            for delta: Int64 in [-3600, -1, 0, 1, 3600] { check((seconds + delta) * 1000) }
        }
        var seconds = ZoneTable.window.from
        while seconds < ZoneTable.window.until {
            check(seconds * 1000)
            seconds += 6 * 3600 + 17 * 60  // drifts across every hour of the day
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        // Outside the window the clock asks Foundation.
        for instant in [t("1960-07-01T12:00:00Z"), t("2150-07-01T12:00:00Z")] {
            #expect(clock.offset(at: instant) == foundation.offset(at: instant))
        }
    }

    @Test("London's table holds both 2026 clock changes and the names GMT and BST")
    func london() {
        let table = ZoneClock(identifier: "Europe/London")!.tableForWindow()
        #expect(table.transitions.contains(t("2026-03-29T01:00:00Z") / 1000))
        #expect(table.transitions.contains(t("2026-10-25T01:00:00Z") / 1000))
        #expect((table.standardName, table.daylightName) == ("GMT", "BST"))
        let clock = ZoneClock(identifier: "Europe/London", table: table)
        #expect(clock.endOfDay(t("2026-03-29T10:00:00Z")) == t("2026-03-29T23:00:00Z"))
        #expect(clock.add(ISODuration("P1D")!, to: t("2026-10-24T11:00:00Z")) == t("2026-10-25T12:00:00Z"))
        #expect(clock.describe(t("2026-07-05T08:30:00Z")) == "2026-07-05 09:30 BST")
    }
}
