/// The periodic report written out: Markdown and HTML (with the charts as SVG), CSV (one
/// table per section, for spreadsheets) and JSON (`Schemas/report.schema.json`). All four
/// are made from the same ``ReportTable``s, so they cannot disagree.
extension PeriodicReport {
    /// `Period: 2026-01-01 to 2026-03-31 · judged at … · school: …`.
    public var scope: String {
        var parts: [String] = []
        switch (from, to) {
        case let (f?, t?): parts.append("incidents that started from \(Timestamp.formatDate(f)) to \(Timestamp.formatDate(t))")
        case let (f?, nil): parts.append("incidents that started on or after \(Timestamp.formatDate(f))")
        case let (nil, t?): parts.append("incidents that started on or before \(Timestamp.formatDate(t))")
        case (nil, nil): parts.append("every incident in the register")
        }
        if let school { parts.append("school \(school)") }
        if let policyFilter { parts.append("policy \(policyFilter)") }
        parts.append("duties judged at \(Timestamp.format(at))")
        return parts.joined(separator: " · ")
    }

    /// The columns that hold durations or instants (written twice to tools: in words or
    /// the zone, and as a number or UTC), by their key, so a column keeps its shape when
    /// every cell in it is empty.
    static let columnKinds = ["median": "duration", "p90": "duration", "next_deadline": "time"]

    private static func kinds(_ table: ReportTable) -> [Int: String] {
        var out: [Int: String] = [:]
        for (i, column) in table.columns.enumerated() { if let kind = columnKinds[column.key] { out[i] = kind } }
        return out
    }

    private static func display(_ cell: ReportTable.Cell) -> String {
        switch cell {
        case .text(let t): return t
        case .int(let n): return String(n)
        case .duration(let ms): return Durations.describe(ms)
        case .time(_, let local): return local
        case .none: return "—"
        }
    }

    // MARK: Markdown

    /// Markdown; a chart is drawn inline as SVG, or linked when `chartLinks` names a file
    /// for its table.
    public func markdown(chartLinks: [String: String] = [:]) -> String {
        var out = "# Incident report\n\n\(scope)\n\n"
        for table in tables() {
            out += "## \(table.title)\n\n"
            if let note = table.note { out += note + "\n\n" }
            if let chart = table.chart {
                if let link = chartLinks[table.id] {
                    out += "![\(table.title)](\(link))\n\n"
                } else {
                    out += Self.inlineSVG(chart) + "\n\n"
                }
            }
            guard !table.rows.isEmpty else {
                out += "None.\n\n"
                continue
            }
            out += "| " + table.columns.map { Self.markdownCell($0.heading) }.joined(separator: " | ") + " |\n"
            out += "|" + table.rows[0].map { cell -> String in
                if case .int = cell { return "---:|" }
                return "---|"
            }.joined() + "\n"
            for row in table.rows {
                out += "| " + row.map { Self.markdownCell(Self.display($0)) }.joined(separator: " | ") + " |\n"
            }
            out += "\n"
        }
        while out.hasSuffix("\n\n") { out.removeLast() }
        return out
    }

    private static func markdownCell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    /// An SVG document without its XML declaration, for embedding in Markdown or HTML.
    static func inlineSVG(_ document: String) -> String {
        var text = Substring(document)
        if text.hasPrefix("<?xml"), let end = text.firstIndex(of: "\n") { text = text[text.index(after: end)...] }
        return String(text).trimmingCharacters(in: "\n")
    }

    // MARK: HTML

    /// One self-contained HTML page: styles inline, charts as inline SVG, no scripts.
    public func html() -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Incident report</title>
            <style>
            body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #202020; margin: 1.5rem; max-width: 72rem; }
            h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #bdbdbd; }
            table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
            th, td { border: 1px solid #bdbdbd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; }
            th { background: #f0f0f0; }
            figure { margin: 0.5rem 0; overflow-x: auto; } svg { max-width: 100%; height: auto; }
            p.scope { color: #404040; }
            </style>
            </head>
            <body>
            <main>
            <h1>Incident report</h1>

            """
        out += "<p class=\"scope\">\(Self.escape(scope))</p>\n"
        for table in tables() {
            out += "<section aria-labelledby=\"\(table.id)\">\n<h2 id=\"\(table.id)\">\(Self.escape(table.title))</h2>\n"
            if let note = table.note { out += "<p>\(Self.escape(note))</p>\n" }
            if let chart = table.chart { out += "<figure>\n\(Self.inlineSVG(chart))\n</figure>\n" }
            if table.rows.isEmpty {
                out += "<p>None.</p>\n</section>\n"
                continue
            }
            out += "<table>\n<thead><tr>" + table.columns.map { "<th scope=\"col\">\(Self.escape($0.heading))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
            for row in table.rows {
                out += "<tr>" + row.map { cell -> String in
                    if case .int = cell { return "<td class=\"n\">\(Self.display(cell))</td>" }
                    return "<td>\(Self.escape(Self.display(cell)))</td>"
                }.joined() + "</tr>\n"
            }
            out += "</tbody>\n</table>\n</section>\n"
        }
        return out + "</main>\n</body>\n</html>\n"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    // MARK: CSV

    /// The ids of the report's tables (`--section`).
    public static let sectionIDs = ["summary", "by_month", "by_school", "by_kind", "milestones", "duties", "open_incidents", "findings"]

    /// CSV (RFC 4180): one table, or every table each after a row naming it and a blank
    /// line between them. A duration is given in words and in milliseconds (`_ms`), an
    /// instant in its zone and in UTC (`_utc`).
    public func csv(section: String? = nil) -> String {
        var out = ""
        for table in tables() where section == nil || table.id == section {
            if section == nil {
                if !out.isEmpty { out += "\r\n" }
                out += Self.csvRow([table.id, table.title])
            }
            let kinds = Self.kinds(table)
            var header: [String] = []
            for (i, column) in table.columns.enumerated() {
                header.append(column.key)
                switch kinds[i] {
                case "duration": header.append(column.key + "_ms")
                case "time": header.append(column.key + "_utc")
                default: break
                }
            }
            out += Self.csvRow(header)
            for row in table.rows {
                var fields: [String] = []
                for (i, cell) in row.enumerated() {
                    switch cell {
                    case .none: fields.append("")
                    default: fields.append(Self.display(cell))
                    }
                    switch (kinds[i], cell) {
                    case ("duration", .duration(let ms)): fields.append(String(ms))
                    case ("time", .time(let t, _)): fields.append(Timestamp.format(t))
                    case ("duration", _), ("time", _): fields.append("")
                    default: break
                    }
                }
                out += Self.csvRow(fields)
            }
        }
        return out
    }

    private static func csvRow(_ fields: [String]) -> String {
        fields.map { field in
            // A leading = + - @ would be a formula to a spreadsheet: quoted with a '.
            var text = field
            if let first = text.first, "=+-@".contains(first), Int(text) == nil { text = "'" + text }
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || text != field else { return text }
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ",") + "\r\n"
    }

    // MARK: JSON

    /// JSON (`Schemas/report.schema.json`): the scope, then each table as an array of
    /// objects keyed by column (the summary as one object).
    public func json(pretty: Bool = true) -> String {
        var w = JSONWriter(pretty: pretty)
        w.object { w in
            w.field("report") { w in
                w.object { w in
                    w.field("at", string: Timestamp.format(at))
                    w.field("from", string: from.map(Timestamp.formatDate))
                    w.field("to", string: to.map(Timestamp.formatDate))
                    w.field("school", string: school)
                    w.field("policy", string: policyFilter)
                }
            }
            for table in tables() {
                let kinds = Self.kinds(table)
                func row(_ cells: [ReportTable.Cell], _ w: inout JSONWriter) {
                    w.object { w in
                        for (i, (column, cell)) in zip(table.columns, cells).enumerated() {
                            switch cell {
                            case .text(let t): w.field(column.key, string: t)
                            case .int(let n): w.field(column.key, int: n)
                            case .duration(let ms):
                                w.field(column.key, string: Durations.describe(ms))
                                w.field(column.key + "_ms", int: Int(ms))
                            case .time(let t, let local):
                                w.field(column.key, string: Timestamp.format(t))
                                w.field(column.key + "_local", string: local)
                            case .none:
                                w.field(column.key, string: nil)
                                switch kinds[i] {
                                case "duration": w.field(column.key + "_ms", int: nil)
                                case "time": w.field(column.key + "_local", string: nil)
                                default: break
                                }
                            }
                        }
                    }
                }
                w.field(table.id) { w in
                    if table.id == "summary", let only = table.rows.first {
                        row(only, &w)
                    } else {
                        w.array { w in for r in table.rows { row(r, &w) } }
                    }
                }
            }
        }
        return w.text + "\n"
    }
}

private extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
