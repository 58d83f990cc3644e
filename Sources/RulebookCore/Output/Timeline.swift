/// An incident as a timeline (`rulebook timeline`): a time axis in the policy's zone, a
/// row per duty with its window from clock start to deadline, the event that discharged
/// it, events as markers, and "now". States differ by colour and by pattern or shape, so
/// the picture reads in greyscale and for colour-blind readers:
///
/// | state | colour | fill | mark |
/// |---|---|---|---|
/// | done | green | solid | ● at the discharging event |
/// | done late | orange | diagonal hatching | ▲ at the discharging event |
/// | overdue | red | cross-hatching | ✕ at the deadline |
/// | due | blue | none (outline) | |
/// | waiting / unknown | grey | dotted outline / dots | |
public struct Timeline {
    public let evaluation: Evaluation
    public let file: CaseFile

    public init(evaluation: Evaluation, file: CaseFile) {
        self.evaluation = evaluation
        self.file = file
    }

    private var policy: Policy { evaluation.policy }

    /// The duties drawn: every one that applies or may, in order of clock start (then
    /// deadline, then the policy's order).
    var rows: [DutyStatus] {
        evaluation.duties.filter { $0.state != .notApplicable }.sorted { a, b in
            let x = (a.clockStart ?? .max, a.deadline ?? .max, a.duty), y = (b.clockStart ?? .max, b.deadline ?? .max, b.duty)
            return x < y
        }
    }

    /// The time shown: the incident's moments and the evaluation, with a margin.
    var span: (from: Instant, to: Instant) {
        var times = file.events.filter { $0.at <= evaluation.at }.map(\.at) + [evaluation.at]
        for s in rows {
            times += [s.clockStart, s.deadline, s.doneAt].compactMap { $0 }
        }
        for slot in policy.facts.indices { if case .time(let t) = evaluation.values.slots[slot] { times.append(t) } }
        let low = times.min()!, high = times.max()!
        let margin = max(Int64(3_600_000), (high - low) / 20)
        return (low - margin, high + margin)
    }

    /// Local tick marks: the step (in hours) that gives at most about ten ticks, each on
    /// a local whole hour or midnight, so a clock change shows as an uneven gap.
    func ticks() -> [Instant] {
        let (from, to) = span
        let hours = Double(to - from) / 3_600_000
        let steps = [1, 2, 3, 6, 12, 24, 48, 168, 336, 720, 2160]
        let step = steps.first { hours / Double($0) <= 10 } ?? 8760
        let clock = policy.clock
        var out: [Instant] = []
        var (day, ms) = clock.localDay(of: from)
        if step < 24 {
            ms = (ms / Int64(step * 3_600_000) + 1) * Int64(step * 3_600_000)
        } else {
            day += 1
            ms = 0
        }
        while out.count < 40 {
            let t = clock.instant(day: day, millisecond: ms)
            if t > to { break }
            if t >= from { out.append(t) }
            if step < 24 {
                ms += Int64(step * 3_600_000)
                if ms >= 86_400_000 { day += 1; ms -= 86_400_000 }
            } else {
                day += step / 24
            }
        }
        return out
    }

    // MARK: SVG

    static let styles: [DutyState: (colour: String, fill: String, dash: String?)] = [
        .done: ("#1b7837", "#1b7837", nil),
        .doneLate: ("#e08214", "url(#hatch-late)", nil),
        .overdue: ("#b2182b", "url(#hatch-overdue)", nil),
        .due: ("#2166ac", "none", nil),
        .waiting: ("#737373", "none", "2 3"),
        .unknown: ("#737373", "url(#dots-unknown)", "6 3"),
    ]

    static let defs = """
        <pattern id="hatch-late" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#fdd9b5"/><line x1="0" y1="0" x2="0" y2="8" stroke="#e08214" stroke-width="3"/></pattern>
        <pattern id="hatch-overdue" width="8" height="8" patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="#f4c2c2"/><path d="M0,0 L8,8 M8,0 L0,8" stroke="#b2182b" stroke-width="1.5"/></pattern>
        <pattern id="dots-unknown" width="6" height="6" patternUnits="userSpaceOnUse"><circle cx="3" cy="3" r="1.2" fill="#737373"/></pattern>

        """

    /// The timeline as a self-contained SVG document.
    public func svg() -> String {
        let clock = policy.clock
        let rows = self.rows
        let labelWidth = 330.0, plotWidth = 760.0, rowHeight = 26.0, top = 56.0
        let eventsRow = top + Double(rows.count) * rowHeight + 10
        let height = eventsRow + 40 + 70
        let (from, to) = span
        func x(_ t: Instant) -> Double { labelWidth + plotWidth * Double(t - from) / Double(max(1, to - from)) }
        var svg = SVG(width: labelWidth + plotWidth + 50, height: height)
        let title = "\(policy.title): \(file.incident ?? "incident") at \(clock.describe(evaluation.at))"
        svg.element("text", [("x", "12"), ("y", "22"), ("font-size", "15"), ("font-weight", "bold")], text: title)
        svg.element("text", [("x", "12"), ("y", "40"), ("fill", "#404040")],
                    text: "Each duty's window from its clock start to its deadline; times in \(clock.identifier)")
        // Axis and ticks.
        let axisY = eventsRow + 30
        svg.element("line", [("x1", SVG.number(labelWidth)), ("y1", SVG.number(axisY)), ("x2", SVG.number(labelWidth + plotWidth)),
                             ("y2", SVG.number(axisY)), ("stroke", "#000000")])
        for tick in ticks() {
            let tx = SVG.number(x(tick))
            svg.element("line", [("x1", tx), ("y1", SVG.number(top - 6)), ("x2", tx), ("y2", SVG.number(axisY + 4)),
                                 ("stroke", "#d9d9d9")])
            let local = clock.describe(tick)   // 2026-11-02 09:14 GMT
            let parts = local.split(separator: " ")
            svg.element("text", [("x", tx), ("y", SVG.number(axisY + 16)), ("text-anchor", "middle"), ("font-size", "10")],
                        text: String(parts[0].dropFirst(5)))
            svg.element("text", [("x", tx), ("y", SVG.number(axisY + 28)), ("text-anchor", "middle"), ("font-size", "10")],
                        text: parts.dropFirst().joined(separator: " "))
        }
        // Rows.
        for (i, status) in rows.enumerated() {
            let duty = policy.duties[status.duty]
            let y = top + Double(i) * rowHeight
            let style = Self.styles[status.state] ?? ("#737373", "none", nil)
            var hover = "\(duty.title) — \(status.state.rawValue.replacingOccurrences(of: "_", with: " ")) — \(duty.provenance.citation(in: policy.id))"
            if let d = status.deadline { hover += " — deadline \(clock.describe(d))" }
            if let done = status.doneAt { hover += " — done \(clock.describe(done))" }
            let name = duty.title.count > 40 ? String(duty.title.prefix(39)) + "…" : duty.title
            svg.group([("class", "duty"), ("data-state", status.state.rawValue)], title: hover) { svg in
                svg.element("text", [("x", "12"), ("y", SVG.number(y + 17))], text: name)
                svg.element("text", [("x", SVG.number(labelWidth - 8)), ("y", SVG.number(y + 17)), ("text-anchor", "end"),
                                     ("font-size", "10"), ("fill", style.colour)],
                            text: status.state.rawValue.replacingOccurrences(of: "_", with: " "))
                if let start = status.clockStart {
                    let end = status.deadline ?? max(evaluation.at, status.doneAt ?? evaluation.at)
                    var attributes = [("x", SVG.number(x(start))), ("y", SVG.number(y + 5)),
                                      ("width", SVG.number(max(2, x(end) - x(start)))), ("height", "14"),
                                      ("fill", style.fill), ("stroke", style.colour), ("stroke-width", "1.5")]
                    if status.state == .done { attributes.append(("fill-opacity", "0.35")) }
                    if let dash = style.dash ?? (status.deadline == nil ? "4 2" : nil) { attributes.append(("stroke-dasharray", dash)) }
                    svg.element("rect", attributes)
                }
                if let done = status.doneAt {
                    let cx = x(done), cy = y + 12
                    if status.state == .doneLate {
                        svg.element("path", [("d", "M\(SVG.number(cx)),\(SVG.number(cy - 7)) L\(SVG.number(cx + 7)),\(SVG.number(cy + 6)) L\(SVG.number(cx - 7)),\(SVG.number(cy + 6)) Z"),
                                             ("fill", style.colour), ("stroke", "#000000")])
                    } else {
                        svg.element("circle", [("cx", SVG.number(cx)), ("cy", SVG.number(cy)), ("r", "6"), ("fill", style.colour), ("stroke", "#000000")])
                    }
                } else if status.state == .overdue, let deadline = status.deadline {
                    let cx = x(deadline), cy = y + 12
                    svg.element("path", [("d", "M\(SVG.number(cx - 6)),\(SVG.number(cy - 6)) L\(SVG.number(cx + 6)),\(SVG.number(cy + 6)) M\(SVG.number(cx + 6)),\(SVG.number(cy - 6)) L\(SVG.number(cx - 6)),\(SVG.number(cy + 6))"),
                                         ("stroke", style.colour), ("stroke-width", "3")])
                }
            }
        }
        // Events.
        svg.element("text", [("x", "12"), ("y", SVG.number(eventsRow + 14))], text: "Events")
        for event in file.events where event.at <= evaluation.at {
            let cx = x(event.at), cy = eventsRow + 10
            let what = "\(clock.describe(event.at)) — \(policy.roles[event.role].title): \(policy.actions[event.action].title)"
            svg.element("path", [("d", "M\(SVG.number(cx)),\(SVG.number(cy - 6)) L\(SVG.number(cx + 5)),\(SVG.number(cy)) L\(SVG.number(cx)),\(SVG.number(cy + 6)) L\(SVG.number(cx - 5)),\(SVG.number(cy)) Z"),
                                 ("fill", "#404040")], title: what)
        }
        // Now.
        let nowX = SVG.number(x(evaluation.at))
        svg.element("line", [("x1", nowX), ("y1", SVG.number(top - 10)), ("x2", nowX), ("y2", SVG.number(axisY)),
                             ("stroke", "#000000"), ("stroke-width", "1.5"), ("stroke-dasharray", "6 3")], title: "now: \(clock.describe(evaluation.at))")
        svg.element("text", [("x", nowX), ("y", SVG.number(top - 14)), ("text-anchor", "middle"), ("font-size", "10")], text: "now")
        // Legend.
        let legendY = axisY + 44
        var lx = 12.0
        for state in [DutyState.done, .doneLate, .overdue, .due, .waiting, .unknown] {
            let style = Self.styles[state]!
            var attributes = [("x", SVG.number(lx)), ("y", SVG.number(legendY)), ("width", "24"), ("height", "12"),
                              ("fill", style.fill), ("stroke", style.colour), ("stroke-width", "1.5")]
            if state == .done { attributes.append(("fill-opacity", "0.35")) }
            if let dash = style.dash { attributes.append(("stroke-dasharray", dash)) }
            svg.element("rect", attributes)
            let name = state.rawValue.replacingOccurrences(of: "_", with: " ")
            svg.element("text", [("x", SVG.number(lx + 30)), ("y", SVG.number(legendY + 10))], text: name)
            lx += 30 + Double(name.count) * 7 + 24
        }
        svg.element("text", [("x", SVG.number(lx)), ("y", SVG.number(legendY + 10)), ("fill", "#404040")],
                    text: "● done  ▲ done late  ✕ missed deadline  ◆ event")
        return svg.document(title: title, defs: Self.defs)
    }

    /// The same as text, one line per duty.
    public func text() -> String {
        let clock = policy.clock
        var out = "\(policy.title): \(file.incident ?? "incident") at \(clock.describe(evaluation.at))\n"
        for status in rows {
            let duty = policy.duties[status.duty]
            let window = [status.clockStart.map { "from " + clock.describe($0) }, status.deadline.map { "by " + clock.describe($0) }]
                .compactMap { $0 }.joined(separator: " ")
            let done = status.doneAt.map { "; done " + clock.describe($0) } ?? ""
            let state = status.state.rawValue.replacingOccurrences(of: "_", with: " ").uppercased()
            out += "  " + state.padding(toLength: 12, withPad: " ", startingAt: 0) + " \(duty.title)"
                + (window.isEmpty ? "" : " — \(window)") + done + "   [\(duty.provenance.citation(in: policy.id))]\n"
        }
        return out
    }

    /// One self-contained HTML page: the timeline and, beside it, what must happen next.
    public static func html(svg: String, next: String, title: String) -> String {
        let picture = svg.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n")   // no XML declaration
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(SVG.escape(title))</title>
            <style>body{font-family:sans-serif;margin:1rem;color:#111}main{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}figure{margin:0;max-width:100%;overflow-x:auto}pre{white-space:pre-wrap;font-size:.85rem;max-width:40rem}</style>
            </head>
            <body>
            <h1>\(SVG.escape(title))</h1>
            <main>
            <figure>\(picture)</figure>
            <section aria-labelledby="next"><h2 id="next">What must happen next</h2><pre>\(SVG.escape(next))</pre></section>
            </main>
            </body>
            </html>

            """
    }
}
