/// RFC 3339 times and calendar dates, without Foundation's formatters: strict, fast and
/// the same on every platform.
public enum Timestamp {
    /// Parses `2026-11-02T09:14:00Z`, `2026-11-02T09:14:00.5+01:00` (a space may stand
    /// for the `T`). The offset is required: a time without one is ambiguous.
    public static func parse(_ text: String) -> Instant? {
        var text = text
        return text.withUTF8 { parse(utf8: $0) }
    }

    /// ``parse(_:)`` on UTF-8 bytes.
    public static func parse(utf8 b: UnsafeBufferPointer<UInt8>) -> Instant? {
        guard b.count >= 20 else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard let year = digits(0, 4), b[4] == UInt8(ascii: "-"), let month = digits(5, 2), b[7] == UInt8(ascii: "-"),
              let day = digits(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == 0x20,
              let hour = digits(11, 2), b[13] == UInt8(ascii: ":"), let minute = digits(14, 2),
              b[16] == UInt8(ascii: ":"), let second = digits(17, 2)
        else { return nil }
        guard isValidDate(year: year, month: month, day: day), hour < 24, minute < 60, second < 61 else { return nil }
        var i = 19
        var millis = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 100
            let start = i
            while i < b.count, b[i] >= 48 && b[i] <= 57 {
                millis += Int(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard let oh = digits(i + 1, 2), b.count > i + 3, b[i + 3] == UInt8(ascii: ":"), let om = digits(i + 4, 2),
                  oh < 24, om < 60
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offset
        return Int64(seconds) * 1000 + Int64(millis)
    }

    /// Formats an instant as RFC 3339 at the given UTC offset (`Z` when zero); milliseconds
    /// appear only when present.
    public static func format(_ instant: Instant, offsetSeconds: Int = 0) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        append(instant, offsetSeconds: offsetSeconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// ``format(_:offsetSeconds:)``'s text appended to `bytes` as UTF-8 (for writers that
    /// build records byte by byte).
    public static func append(_ instant: Instant, offsetSeconds: Int = 0, to bytes: inout [UInt8]) {
        let local = instant + Int64(offsetSeconds) * 1000
        let (days, msOfDay) = local.floorDivided(by: 86_400_000)
        let (y, m, d) = civilFromDays(Int(days))
        let secondsOfDay = Int(msOfDay / 1000)
        let millis = Int(msOfDay % 1000)
        func two(_ value: Int) {
            bytes.append(UInt8(ascii: "0") + UInt8(value / 10))
            bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
        }
        if y >= 0 && y <= 9999 {
            two(y / 100)
            two(y % 100)
        } else {
            bytes.append(contentsOf: pad(y, 4).utf8)
        }
        bytes.append(UInt8(ascii: "-")); two(m)
        bytes.append(UInt8(ascii: "-")); two(d)
        bytes.append(UInt8(ascii: "T")); two(secondsOfDay / 3600)
        bytes.append(UInt8(ascii: ":")); two(secondsOfDay / 60 % 60)
        bytes.append(UInt8(ascii: ":")); two(secondsOfDay % 60)
        if millis != 0 {
            bytes.append(UInt8(ascii: "."))
            bytes.append(UInt8(ascii: "0") + UInt8(millis / 100))
            two(millis % 100)
        }
        if offsetSeconds == 0 {
            bytes.append(UInt8(ascii: "Z"))
        } else {
            let magnitude = abs(offsetSeconds)
            bytes.append(offsetSeconds < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            two(magnitude / 3600)
            bytes.append(UInt8(ascii: ":"))
            two(magnitude / 60 % 60)
        }
    }

    /// A calendar date written `YYYY-MM-DD` or `YYYY-MM` (the first of the month), as
    /// days since 1970-01-01; nil when invalid.
    public static func parseDate(_ text: String) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, parts[0].count == 4, parts[1].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1])
        else { return nil }
        var day = 1
        if parts.count == 3 {
            guard parts[2].count == 2, let d = Int(parts[2]) else { return nil }
            day = d
        }
        guard isValidDate(year: year, month: month, day: day) else { return nil }
        return daysFromCivil(year: year, month: month, day: day)
    }

    /// Formats days since 1970-01-01 as `YYYY-MM-DD`.
    public static func formatDate(_ days: Int) -> String {
        let (y, m, d) = civilFromDays(days)
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    /// True for a real calendar date (leap years included).
    public static func isValidDate(year: Int, month: Int, day: Int) -> Bool {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1 else { return false }
        return day <= daysIn(year: year, month: month)
    }

    /// The number of days in a month.
    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date for days since 1970-01-01.
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

extension Int64 {
    /// Floor division and the non-negative remainder.
    func floorDivided(by d: Int64) -> (Int64, Int64) {
        let q = self / d
        let r = self % d
        return r < 0 ? (q - 1, r + d) : (q, r)
    }
}
