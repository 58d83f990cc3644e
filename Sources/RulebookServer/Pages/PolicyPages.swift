import Foundation
import Hummingbird
import RulebookCore

extension Pages {
    func policiesPage(_ viewer: Viewer) -> Response {
        let list = api.policies.values.map(\.policy).sorted { $0.title < $1.title }.map { p -> [String: Any] in
            ["id": p.id, "title": p.title, "organisation": p.organisation, "version": opt(p.control.version),
             "extends": opt(p.lineage.count > 1 ? p.lineage[1].id : nil)]
        }
        return page("policies", ["policies": list], title: "Policies", viewer: viewer, nav: "policies")
    }

    /// `rulebook show` as a page, with the diagram and the coverage of the document.
    func policyPage(_ id: String, _ viewer: Viewer) throws -> Response {
        let policy = try api.served(id).policy
        let coverage = CoverageReport(policy: policy)
        let rows: [[String: Any]] = coverage.entries.filter { $0.status != .text }.map { e in
            var rules = e.rules.map { "\($0.kind) \($0.id)" }.joined(separator: ", ")
            if rules.isEmpty, let why = e.explanation { rules = "not encoded: " + why.reason }
            return ["clause": e.unit.id, "text": e.unit.text, "status": e.status.rawValue, "rules": rules.isEmpty ? "—" : rules]
        }
        let summary = "\(coverage.obligations) obligations in the document: \(coverage.count(.encoded)) encoded, "
            + "\(coverage.count(.explained)) explained as not encoded, \(coverage.count(.uncovered)) not accounted for."
        let model: [String: Any] = [
            "id": policy.id, "title": policy.title, "procedure": MarkdownHTML.render(PolicyMarkdown(policy: policy).render()),
            "diagram": diagrams.available, "coverage": rows, "coverage_summary": summary,
        ]
        return page("policy", model, title: policy.title, viewer: viewer, nav: "policies")
    }
}

/// The Markdown `rulebook show` writes, as HTML: headings, paragraphs, lists, quotes,
/// tables, and bold, italic and code within a line. Every character of the text is
/// escaped first: nothing in a policy file becomes markup.
enum MarkdownHTML {
    static func escape(_ s: String) -> String { PageHTML.escape(s) }

    /// Bold, italic and code spans in one escaped line.
    static func inline(_ text: String) -> String {
        var out = ""
        var rest = Substring(escape(text))
        while let c = rest.first {
            if c == "`", let end = rest.dropFirst().firstIndex(of: "`") {
                out += "<code>" + rest[rest.index(after: rest.startIndex)..<end] + "</code>"
                rest = rest[rest.index(after: end)...]
            } else if rest.hasPrefix("**"), let end = rest.dropFirst(2).range(of: "**") {
                out += "<strong>" + inline(unescape(String(rest[rest.index(rest.startIndex, offsetBy: 2)..<end.lowerBound]))) + "</strong>"
                rest = rest[end.upperBound...]
            } else if c == "*" || c == "_", rest.count > 1, let end = rest.dropFirst().firstIndex(of: c),
                      end > rest.index(after: rest.startIndex), rest[rest.index(after: rest.startIndex)] != " "
            {
                // Only at a word's edge: snake_case ids keep their underscores.
                let before = out.last
                if c == "_", let before, before.isLetter || before.isNumber {
                    out.append(c)
                    rest = rest.dropFirst()
                    continue
                }
                out += "<em>" + inline(unescape(String(rest[rest.index(after: rest.startIndex)..<end]))) + "</em>"
                rest = rest[rest.index(after: end)...]
            } else {
                out.append(c)
                rest = rest.dropFirst()
            }
        }
        return out
    }

    /// Undoes `escape` for text that `inline` escapes again.
    private static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    static func slug(_ text: String) -> String {
        var out = ""
        for c in text.lowercased() {
            if c.isLetter || c.isNumber { out.append(c) } else if out.last != "-" { out.append("-") }
        }
        return out.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }

    static func cells(_ line: Substring) -> [String] {
        var body = line.trimmingCharacters(in: .whitespaces)
        if body.hasPrefix("|") { body.removeFirst() }
        if body.hasSuffix("|") && !body.hasSuffix("\\|") { body.removeLast() }
        // A `\|` is a bar inside a cell.
        return body.replacingOccurrences(of: "\\|", with: "\u{0}").split(separator: "|", omittingEmptySubsequences: false)
            .map { $0.replacingOccurrences(of: "\u{0}", with: "|").trimmingCharacters(in: .whitespaces) }
    }

    static func render(_ markdown: String) -> String {
        var html = ""
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false)
        var i = 0
        var paragraph: [Substring] = []
        var usedIDs: Set<String> = []
        func flush() {
            if !paragraph.isEmpty { html += "<p>" + paragraph.map { inline(String($0)) }.joined(separator: "<br>\n") + "</p>\n" }
            paragraph = []
        }
        while i < lines.count {
            let line = lines[i]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                flush()
                i += 1
            } else if let level = headingLevel(trimmed) {
                flush()
                let text = String(trimmed.dropFirst(level + 1))
                var id = slug(text)
                while usedIDs.contains(id) { id += "-" }
                usedIDs.insert(id)
                html += "<h\(level) id=\"\(id)\">\(inline(text))</h\(level)>\n"
                i += 1
            } else if trimmed.hasPrefix("|"), i + 1 < lines.count, lines[i + 1].trimmingCharacters(in: .whitespaces).hasPrefix("|-")
                        || (i + 1 < lines.count && lines[i + 1].hasPrefix("|:"))
            {
                flush()
                html += "<div class=\"table-wrap\"><table>\n<thead><tr>" + cells(line).map { "<th scope=\"col\">\(inline($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
                i += 2
                while i < lines.count, lines[i].trimmingCharacters(in: .whitespaces).hasPrefix("|") {
                    html += "<tr>" + cells(lines[i]).map { "<td>\(inline($0))</td>" }.joined() + "</tr>\n"
                    i += 1
                }
                html += "</tbody></table></div>\n"
            } else if trimmed.hasPrefix("> ") || trimmed == ">" {
                flush()
                var quote: [String] = []
                while i < lines.count, lines[i].hasPrefix(">") {
                    quote.append(String(lines[i].dropFirst().trimmingCharacters(in: .whitespaces)))
                    i += 1
                }
                html += "<blockquote><p>" + quote.map(inline).joined(separator: "<br>\n") + "</p></blockquote>\n"
            } else if listItem(line) != nil {
                flush()
                let ordered = listItem(line)!.ordered
                html += ordered ? "<ol>\n" : "<ul>\n"
                while i < lines.count, let item = listItem(lines[i]), item.ordered == ordered {
                    var text = item.text
                    i += 1
                    // Continuation lines, indented under the item.
                    while i < lines.count, lines[i].hasPrefix("  "), listItem(lines[i]) == nil, !lines[i].trimmingCharacters(in: .whitespaces).isEmpty {
                        text += " " + lines[i].trimmingCharacters(in: .whitespaces)
                        i += 1
                    }
                    html += (item.number.map { "<li value=\"\($0)\">" } ?? "<li>") + inline(text) + "</li>\n"
                }
                html += ordered ? "</ol>\n" : "</ul>\n"
            } else if trimmed == "---" {
                flush()
                html += "<hr>\n"
                i += 1
            } else {
                paragraph.append(Substring(trimmed))
                i += 1
            }
        }
        flush()
        return html
    }

    static func headingLevel(_ line: String) -> Int? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
        return hashes
    }

    static func listItem(_ line: Substring) -> (ordered: Bool, number: Int?, text: String)? {
        let trimmed = line.drop { $0 == " " }
        guard line.count - trimmed.count < 2 else { return nil }
        if trimmed.hasPrefix("- ") || trimmed.hasPrefix("* ") { return (false, nil, String(trimmed.dropFirst(2))) }
        let digits = trimmed.prefix { $0.isNumber }
        if !digits.isEmpty, trimmed.dropFirst(digits.count).hasPrefix(". ") {
            return (true, Int(digits), String(trimmed.dropFirst(digits.count + 2)))
        }
        return nil
    }
}
