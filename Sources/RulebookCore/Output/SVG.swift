/// A small SVG writer: elements with escaped attributes and text, numbers written with
/// at most one decimal so the output is stable for golden files. Self-contained
/// documents (no external fonts, scripts or links).
public struct SVG {
    private(set) var body = ""
    public let width: Double
    public let height: Double

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// `12`, `12.5`: one decimal at most, no exponent.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let tenths = Int((value * 10).rounded())
        let whole = abs(tenths) / 10, fraction = abs(tenths) % 10
        return (tenths < 0 ? "-" : "") + String(whole) + (fraction == 0 ? "" : "." + String(fraction))
    }

    /// Text and attribute values with `&`, `<`, `>` and quotes escaped.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 allows no control characters but tab, newline and return.
                if scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r" { out += " " } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    private static func attributes(_ list: [(String, String)]) -> String {
        list.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }

    /// Appends raw markup made by this writer's own methods.
    mutating func raw(_ markup: String) { body += markup }

    public mutating func element(_ name: String, _ attributes: [(String, String)], text: String? = nil, title: String? = nil) {
        body += "<\(name)\(Self.attributes(attributes))"
        if text == nil && title == nil {
            body += "/>\n"
            return
        }
        body += ">"
        if let title { body += "<title>\(Self.escape(title))</title>" }
        if let text { body += Self.escape(text) }
        body += "</\(name)>\n"
    }

    public mutating func group(_ attributes: [(String, String)] = [], title: String? = nil, _ content: (inout SVG) -> Void) {
        body += "<g\(Self.attributes(attributes))>"
        if let title { body += "<title>\(Self.escape(title))</title>" }
        body += "\n"
        content(&self)
        body += "</g>\n"
    }

    /// The document, with `defs` (patterns, markers) first.
    public func document(title: String, defs: String = "") -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" "
            + "viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\" role=\"img\">\n"
            + "<title>\(Self.escape(title))</title>\n"
            + (defs.isEmpty ? "" : "<defs>\n\(defs)</defs>\n")
            + "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
            + body + "</svg>\n"
    }
}
