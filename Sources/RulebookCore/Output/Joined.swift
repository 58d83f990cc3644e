extension Array where Element == String {
    /// The elements with `separator` between them, as `joined(separator:)` does, but
    /// specialised: the standard library's `joined(separator:)` is an unspecialised
    /// generic whose first call makes the runtime look up associated types, a quarter of
    /// a million instructions in a cold start. Used on the paths `assess` and `next` take.
    func joined(by separator: String) -> String {
        var text = ""
        for (i, part) in enumerated() {
            if i > 0 { text += separator }
            text += part
        }
        return text
    }
}

extension String {
    /// The text made safe for a terminal: control and format characters (escape sequences
    /// among them) are shown as `\u{1b}`, never sent. Stored or imported text (a school's
    /// name, an incident number, a note) passes through this before it is printed.
    public var printable: String {
        // Printable ASCII, by far the usual text, needs no look-up of character properties.
        if utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return self }
        guard unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format })
        else { return self }
        var out = ""
        for scalar in unicodeScalars {
            if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
