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
