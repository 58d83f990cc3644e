/// The periodic report's charts, as self-contained SVG: stacked columns (by month),
/// stacked bars (by school, by finding), and shares (each duty's on time, late, missed,
/// open). Series differ by pattern as well as colour (solid, hatched, cross-hatched,
/// outline), so a chart reads in greyscale and to colour-blind readers; every bar carries
/// its numbers in a `<title>`.
enum ReportCharts {
    /// Fill and stroke of series `i`: solid, hatched, cross-hatched, outline.
    static let styles: [(fill: String, stroke: String)] = [
        ("#2166ac", "#2166ac"),
        ("url(#chart-hatch)", "#e08214"),
        ("url(#chart-cross)", "#b2182b"),
        ("#ffffff", "#404040"),
    ]
    /// For the duty shares: on time, late, missed, open.
    static let shareStyles: [(fill: String, stroke: String)] = [
        ("#1b7837", "#1b7837"),
        ("url(#chart-hatch)", "#e08214"),
        ("url(#chart-cross)", "#b2182b"),
        ("#ffffff", "#2166ac"),
    ]

    static let defs = """
        <pattern id="chart-hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#fdd9b5"/><line x1="0" y1="0" x2="0" y2="8" stroke="#e08214" stroke-width="3"/></pattern>
        <pattern id="chart-cross" width="8" height="8" patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="#f4c2c2"/><path d="M0,0 L8,8 M8,0 L0,8" stroke="#b2182b" stroke-width="1.5"/></pattern>

        """

    static func short(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    /// A legend row at `y`.
    static func legend(_ svg: inout SVG, names: [String], styles: [(fill: String, stroke: String)], x: Double, y: Double) {
        var lx = x
        for (i, name) in names.enumerated() {
            let style = styles[i % styles.count]
            svg.element("rect", [("x", SVG.number(lx)), ("y", SVG.number(y)), ("width", "14"), ("height", "14"), ("fill", style.fill),
                                 ("stroke", style.stroke), ("stroke-width", "1.5")])
            svg.element("text", [("x", SVG.number(lx + 20)), ("y", SVG.number(y + 11)), ("fill", "#404040")], text: name)
            lx += 34 + Double(name.count) * 7
        }
    }

    /// A round step for an axis that reaches `maximum` in about five steps.
    static func step(for maximum: Int) -> Int {
        guard maximum > 5 else { return 1 }
        var step = 1
        while maximum / step > 5 {
            for m in [2, 5, 10] where maximum / (step * m) <= 5 { return step * m }
            step *= 10
        }
        return step
    }

    /// Stacked columns, one per label (months).
    static func columns(title: String, labels: [String], series: [(name: String, values: [Int])]) -> String {
        let totals = labels.indices.map { i in series.reduce(0) { $0 + $1.values[i] } }
        let maximum = Swift.max(1, totals.max() ?? 1)
        let step = step(for: maximum)
        let top = Double((maximum + step - 1) / step * step)
        let left = 56.0, plotTop = 60.0, plotHeight = 220.0
        let column = Swift.max(14.0, Swift.min(48.0, 760.0 / Double(Swift.max(1, labels.count))))
        let width = left + Double(labels.count) * column + 30
        var svg = SVG(width: Swift.max(480, width), height: plotTop + plotHeight + 70)
        svg.element("text", [("x", "12"), ("y", "22"), ("font-size", "15"), ("font-weight", "bold")], text: title)
        legend(&svg, names: series.map(\.name), styles: styles, x: 12, y: 32)
        var tick = 0
        while Double(tick) <= top {
            let y = plotTop + plotHeight - Double(tick) / top * plotHeight
            svg.element("line", [("x1", SVG.number(left)), ("y1", SVG.number(y)), ("x2", SVG.number(width - 20)), ("y2", SVG.number(y)),
                                 ("stroke", "#d9d9d9")])
            svg.element("text", [("x", SVG.number(left - 6)), ("y", SVG.number(y + 4)), ("text-anchor", "end"), ("fill", "#404040")],
                        text: String(tick))
            tick += step
        }
        for (i, label) in labels.enumerated() {
            let x = left + Double(i) * column + 2
            var base = plotTop + plotHeight
            let numbers = series.map { "\($0.name): \($0.values[i])" }.joined(separator: ", ")
            svg.group(title: "\(label): \(totals[i]) (\(numbers))") { svg in
                for (s, item) in series.enumerated() where item.values[i] > 0 {
                    let h = Double(item.values[i]) / top * plotHeight
                    base -= h
                    let style = styles[s % styles.count]
                    svg.element("rect", [("x", SVG.number(x)), ("y", SVG.number(base)), ("width", SVG.number(column - 4)),
                                         ("height", SVG.number(h)), ("fill", style.fill), ("stroke", style.stroke), ("stroke-width", "1")])
                }
            }
            let ly = plotTop + plotHeight + 14
            svg.element("text", [("x", SVG.number(x + (column - 4) / 2)), ("y", SVG.number(ly)), ("font-size", "10"), ("fill", "#404040"),
                                 ("text-anchor", "end"),
                                 ("transform", "rotate(-45 \(SVG.number(x + (column - 4) / 2)) \(SVG.number(ly)))")], text: label)
        }
        return svg.document(title: title, defs: defs)
    }

    /// Stacked horizontal bars, one per label, drawn to scale.
    static func bars(title: String, labels: [String], series: [(name: String, values: [Int])]) -> String {
        let totals = labels.indices.map { i in series.reduce(0) { $0 + $1.values[i] } }
        let maximum = Double(Swift.max(1, totals.max() ?? 1))
        let labelWidth = 260.0, plotWidth = 480.0, row = 22.0, top = 58.0
        var svg = SVG(width: labelWidth + plotWidth + 90, height: top + Double(labels.count) * row + 16)
        svg.element("text", [("x", "12"), ("y", "22"), ("font-size", "15"), ("font-weight", "bold")], text: title)
        if series.count > 1 { legend(&svg, names: series.map(\.name), styles: styles, x: 12, y: 32) }
        for (i, label) in labels.enumerated() {
            let y = top + Double(i) * row
            svg.element("text", [("x", SVG.number(labelWidth - 8)), ("y", SVG.number(y + 14)), ("text-anchor", "end"), ("fill", "#202020")],
                        text: short(label, 38))
            var x = labelWidth
            let numbers = series.map { "\($0.name): \($0.values[i])" }.joined(separator: ", ")
            svg.group(title: "\(label): \(totals[i])" + (series.count > 1 ? " (\(numbers))" : "")) { svg in
                for (s, item) in series.enumerated() where item.values[i] > 0 {
                    let w = Double(item.values[i]) / maximum * plotWidth
                    let style = styles[s % styles.count]
                    svg.element("rect", [("x", SVG.number(x)), ("y", SVG.number(y + 3)), ("width", SVG.number(w)), ("height", SVG.number(row - 6)),
                                         ("fill", style.fill), ("stroke", style.stroke), ("stroke-width", "1")])
                    x += w
                }
            }
            svg.element("text", [("x", SVG.number(x + 6)), ("y", SVG.number(y + 14)), ("fill", "#404040")], text: String(totals[i]))
        }
        return svg.document(title: title, defs: defs)
    }

    /// For each group (a policy) and each row (a duty) the shares of on time, late, missed
    /// and open, as a bar of full width.
    static func shares(title: String, groups: [(title: String, rows: [(label: String, values: [Int])])]) -> String {
        let labelWidth = 340.0, plotWidth = 440.0, row = 22.0, top = 58.0, heading = 26.0
        let count = groups.reduce(0) { $0 + $1.rows.count }
        var svg = SVG(width: labelWidth + plotWidth + 110, height: top + Double(count) * row + Double(groups.count) * heading + 10)
        svg.element("text", [("x", "12"), ("y", "22"), ("font-size", "15"), ("font-weight", "bold")], text: title)
        let names = ["on time", "late", "missed", "open"]
        legend(&svg, names: names, styles: shareStyles, x: 12, y: 32)
        var y = top
        for group in groups {
            svg.element("text", [("x", "12"), ("y", SVG.number(y + 17)), ("font-weight", "bold"), ("fill", "#202020")], text: short(group.title, 90))
            y += heading
            for item in group.rows {
                let total = item.values.reduce(0, +)
                svg.element("text", [("x", SVG.number(labelWidth - 8)), ("y", SVG.number(y + 14)), ("text-anchor", "end"), ("fill", "#202020")],
                            text: short(item.label, 44))
                let numbers = zip(names, item.values).map { "\($0): \($1)" }.joined(separator: ", ")
                svg.group(title: "\(item.label): \(numbers)") { svg in
                    var x = labelWidth
                    if total == 0 {
                        svg.element("rect", [("x", SVG.number(x)), ("y", SVG.number(y + 3)), ("width", SVG.number(plotWidth)),
                                             ("height", SVG.number(row - 6)), ("fill", "#ffffff"), ("stroke", "#bdbdbd"),
                                             ("stroke-dasharray", "2 3")])
                        return
                    }
                    for (s, value) in item.values.enumerated() where value > 0 {
                        let w = Double(value) / Double(total) * plotWidth
                        let style = shareStyles[s]
                        svg.element("rect", [("x", SVG.number(x)), ("y", SVG.number(y + 3)), ("width", SVG.number(w)), ("height", SVG.number(row - 6)),
                                             ("fill", style.fill), ("stroke", style.stroke), ("stroke-width", "1")])
                        x += w
                    }
                }
                // As the table says it: on time, of those settled (on time, late or missed).
                let settled = item.values[0] + item.values[1] + item.values[2]
                let share = settled == 0 ? "none settled" : String(item.values[0] * 100 / settled) + "% on time"
                svg.element("text", [("x", SVG.number(labelWidth + plotWidth + 6)), ("y", SVG.number(y + 14)), ("fill", "#404040"),
                                     ("font-size", "11")], text: share)
                y += row
            }
        }
        return svg.document(title: title, defs: defs)
    }
}
