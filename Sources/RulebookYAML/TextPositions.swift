import RulebookDiagnostics

/// Byte-level helpers shared by the YAML and JSON readers: UTF-8 validation with the
/// position of the first bad byte, and byte offset to line and column.
enum TextPositions {
    /// The offset of the first byte that does not start or continue valid UTF-8, or nil
    /// when the whole input is valid. Overlong forms, surrogates and values past U+10FFFF
    /// are invalid, as the standard says.
    static func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            var need = 0
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch b {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2
            case 0xED: need = 2; upper = 0x9F
            case 0xF0: need = 3; lower = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; upper = 0x8F
            default: return i
            }
            guard i + need < n else { return i }
            let second = bytes[i + 1]
            guard second >= lower && second <= upper else { return i }
            var k = 2
            while k <= need {
                let c = bytes[i + k]
                guard c >= 0x80 && c <= 0xBF else { return i }
                k += 1
            }
            i += need + 1
        }
        return nil
    }

    /// The 1-based line and column (in Unicode scalars) of byte `offset`.
    static func position(ofByte offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> SourcePosition {
        var line = 1
        var column = 1
        var i = 0
        let end = min(offset, bytes.count)
        while i < end {
            let b = bytes[i]
            if b == 0x0A {
                line += 1
                column = 1
            } else if b == 0x0D {
                // A lone CR is a line break too; CR LF counts once (at the LF).
                if i + 1 < bytes.count, bytes[i + 1] == 0x0A {
                } else {
                    line += 1
                    column = 1
                }
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return SourcePosition(line: line, column: column)
    }
}
