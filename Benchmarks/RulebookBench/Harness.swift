#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic time in nanoseconds.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Keeps a result alive so the optimiser cannot drop the work that produced it.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

#if canImport(Glibc)
private let RUSAGE_SELF_WHO = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
private let RUSAGE_SELF_WHO = RUSAGE_SELF
#endif

/// The peak resident set of this process so far, in KiB.
func peakRSSKiB() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF_WHO, &usage)
    return usage.ru_maxrss
}

/// Median, extremes and spread of a list of measurements.
struct Stats: Codable, Sendable {
    var median: Double
    var min: Double
    var max: Double
    /// The interquartile range relative to the median (0.02 = 2%).
    var spread: Double

    init(_ values: [Double]) {
        precondition(!values.isEmpty, "no measurements")
        let sorted = values.sorted()
        func quantile(_ q: Double) -> Double {
            let position = q * Double(sorted.count - 1)
            let low = Int(position.rounded(.down))
            let high = Swift.min(low + 1, sorted.count - 1)
            let fraction = position - Double(low)
            return sorted[low] * (1 - fraction) + sorted[high] * fraction
        }
        median = quantile(0.5)
        min = sorted.first!
        max = sorted.last!
        spread = median == 0 ? 0 : (quantile(0.75) - quantile(0.25)) / median
    }
}

/// One line of the results table.
struct BenchResult: Codable, Sendable {
    /// Stable id: `assess`, `batch`, `next/madras`, `audit`, `cold-start`, `register/commit`...
    var id: String
    var title: String
    /// What the figures count: `decisions/s`, `× hello`, ...
    var unit: String
    /// One figure per measured run.
    var runs: [Double]
    var stats: Stats
    /// The target from the issue, when there is one.
    var target: Double?
    /// True when bigger figures are better (rates); false for ratios and times.
    var higherIsBetter: Bool
    /// Peak resident memory of the process doing the work, in KiB.
    var peakRSSKiB: Int?
    /// Other figures worth printing (e.g. the two medians a ratio is made of).
    var extra: [String: Double] = [:]
    var notes: [String] = []

    var meetsTarget: Bool? {
        target.map { higherIsBetter ? stats.median >= $0 : stats.median <= $0 }
    }
}

/// How much work a run does: the full benchmark, or a smoke run that only proves the
/// code paths still work (CI).
struct Scale: Sendable {
    var smoke: Bool
    var warmupRuns: Int { smoke ? 1 : 3 }
    var measuredRuns: Int { smoke ? 3 : 11 }

    /// `full` normally, `small` for a smoke run.
    func pick<T>(_ full: T, smoke small: T) -> T { smoke ? small : full }
}

/// Runs `body` `warmupRuns` times unmeasured, then `measuredRuns` times, each doing
/// `units` units of work, and returns units per second for each measured run.
func measureRates(_ scale: Scale, units: Int, _ body: () throws -> Void) rethrows -> [Double] {
    for _ in 0..<scale.warmupRuns { try body() }
    var rates: [Double] = []
    for _ in 0..<scale.measuredRuns {
        let start = monotonicNanoseconds()
        try body()
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        rates.append(Double(units) / seconds)
    }
    return rates
}

/// Human figures: 2.31M, 254k, 6.2.
func formatFigure(_ value: Double) -> String {
    func fixed(_ v: Double, _ digits: Int) -> String {
        var scaled = v
        for _ in 0..<digits { scaled *= 10 }
        let rounded = Int(scaled.rounded())
        if digits == 0 { return String(rounded) }
        var divisor = 1
        for _ in 0..<digits { divisor *= 10 }
        let whole = rounded / divisor
        let fraction = String(rounded % divisor)
        return "\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
    let magnitude = abs(value)
    if magnitude >= 1e6 { return fixed(value / 1e6, magnitude >= 1e8 ? 0 : 2) + "M" }
    if magnitude >= 1e4 { return fixed(value / 1e3, magnitude >= 1e5 ? 0 : 1) + "k" }
    if magnitude >= 100 { return fixed(value, 0) }
    if magnitude >= 10 { return fixed(value, 1) }
    return fixed(value, 2)
}

/// A table with a header row, columns padded to their widest cell.
func renderTable(_ rows: [[String]], rightAligned: Set<Int> = []) -> String {
    guard let header = rows.first else { return "" }
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    var out = ""
    for (r, row) in rows.enumerated() {
        var line = ""
        for (i, cell) in row.enumerated() {
            let pad = String(repeating: " ", count: widths[i] - cell.count)
            line += (rightAligned.contains(i) ? pad + cell : cell + pad) + (i == row.count - 1 ? "" : "  ")
        }
        while line.hasSuffix(" ") { line.removeLast() }
        out += line + "\n"
        if r == 0 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
    }
    return out
}
