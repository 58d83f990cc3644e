/// An ISO 8601 duration such as `PT48H`, `P1D` or `P6M`.
///
/// Years, months, weeks and days are calendar units, added to the local date in the
/// policy's time zone (so `P1D` across a clock change is 23 or 25 hours); hours, minutes
/// and seconds are exact (so `PT48H` is always 48 real hours), as the engine requires.
public struct ISODuration: Hashable, Sendable, CustomStringConvertible {
    public var years = 0
    public var months = 0
    public var weeks = 0
    public var days = 0
    public var hours = 0
    public var minutes = 0
    public var seconds = 0

    /// Creates a duration from its parts.
    public init(years: Int = 0, months: Int = 0, weeks: Int = 0, days: Int = 0, hours: Int = 0, minutes: Int = 0, seconds: Int = 0) {
        self.years = years
        self.months = months
        self.weeks = weeks
        self.days = days
        self.hours = hours
        self.minutes = minutes
        self.seconds = seconds
    }

    /// Parses `PnYnMnWnDTnHnMnS` (integers only; at least one part; `T` before time parts).
    public init?(_ text: String) {
        var scalars = Substring(text)
        guard scalars.first == "P", scalars.count >= 3 else { return nil }
        scalars = scalars.dropFirst()
        var inTime = false
        var sawPart = false
        var lastOrder = -1
        while let c = scalars.first {
            if c == "T" {
                guard !inTime else { return nil }
                inTime = true
                scalars = scalars.dropFirst()
                guard !scalars.isEmpty else { return nil }
                continue
            }
            let numberText = scalars.prefix(while: { $0.isASCII && $0.isNumber })
            guard !numberText.isEmpty, numberText.count <= 9, let n = Int(numberText) else { return nil }
            scalars = scalars.dropFirst(numberText.count)
            guard let unit = scalars.first else { return nil }
            scalars = scalars.dropFirst()
            let order: Int
            switch (inTime, unit) {
            case (false, "Y"): years = n; order = 0
            case (false, "M"): months = n; order = 1
            case (false, "W"): weeks = n; order = 2
            case (false, "D"): days = n; order = 3
            case (true, "H"): hours = n; order = 4
            case (true, "M"): minutes = n; order = 5
            case (true, "S"): seconds = n; order = 6
            default: return nil
            }
            guard order > lastOrder else { return nil }
            lastOrder = order
            sawPart = true
        }
        guard sawPart else { return nil }
    }

    /// True when the duration has calendar parts (years, months, weeks or days).
    public var hasCalendarPart: Bool { years != 0 || months != 0 || weeks != 0 || days != 0 }

    /// The exact part in milliseconds (hours, minutes, seconds).
    public var exactMilliseconds: Int64 {
        (Int64(hours) * 3600 + Int64(minutes) * 60 + Int64(seconds)) * 1000
    }

    /// The ISO 8601 text.
    public var iso: String {
        var s = "P"
        if years != 0 { s += "\(years)Y" }
        if months != 0 { s += "\(months)M" }
        if weeks != 0 { s += "\(weeks)W" }
        if days != 0 { s += "\(days)D" }
        if hours != 0 || minutes != 0 || seconds != 0 {
            s += "T"
            if hours != 0 { s += "\(hours)H" }
            if minutes != 0 { s += "\(minutes)M" }
            if seconds != 0 { s += "\(seconds)S" }
        }
        return s == "P" ? "PT0S" : s
    }

    /// In words: `48 hours`, `1 day`, `6 months`, `1 hour 30 minutes`.
    public var description: String {
        func part(_ n: Int, _ unit: String) -> String? {
            n == 0 ? nil : "\(n) \(unit)\(n == 1 ? "" : "s")"
        }
        let parts = [part(years, "year"), part(months, "month"), part(weeks, "week"), part(days, "day"),
                     part(hours, "hour"), part(minutes, "minute"), part(seconds, "second")].compactMap { $0 }
        return parts.isEmpty ? "no time" : parts.joined(separator: " ")
    }
}
