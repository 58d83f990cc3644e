import Foundation
import Testing

@testable import RulebookCore

@Suite("JSON writer")
struct JSONWriterTests {
    /// The escaping JSON requires, one character at a time: the reference the writer's
    /// word-at-a-time scan must agree with.
    static func reference(_ s: String) -> String {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += Array("\\\"".utf8)
            case UInt8(ascii: "\\"): out += Array("\\\\".utf8)
            case 0x0A: out += Array("\\n".utf8)
            case 0x0D: out += Array("\\r".utf8)
            case 0x09: out += Array("\\t".utf8)
            case 0..<0x20: out += Array(String(format: "\\u%04x", Int(b)).utf8)
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }

    @Test("strings are escaped wherever the special byte falls, in text of any length")
    func escaping() throws {
        let specials: [Character] = ["\"", "\\", "\n", "\r", "\t", "\u{01}", "\u{1F}", "é", "—", "😀"]
        for length in 0..<40 {
            for special in specials {
                for position in stride(from: 0, through: length, by: 3) {
                    var text = String(repeating: "a", count: length)
                    text.insert(special, at: text.index(text.startIndex, offsetBy: position))
                    var w = JSONWriter(pretty: false)
                    w.string(text)
                    #expect(w.text == Self.reference(text), "\(text.debugDescription)")
                    // And it reads back as the same text.
                    let back = try JSONSerialization.jsonObject(with: Data(w.text.utf8), options: .fragmentsAllowed) as? String
                    #expect(back == text)
                }
            }
        }
    }

    @Test("times are RFC 3339, with milliseconds only when present and the offset as given")
    func times() {
        #expect(Timestamp.format(0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.format(1_793_611_440_123) == "2026-11-02T09:24:00.123Z")
        #expect(Timestamp.format(1_793_611_440_000, offsetSeconds: 3600) == "2026-11-02T10:24:00+01:00")
        #expect(Timestamp.format(1_793_611_440_000, offsetSeconds: -(5 * 3600 + 30 * 60)) == "2026-11-02T03:54:00-05:30")
        #expect(Timestamp.format(-1000) == "1969-12-31T23:59:59Z")
        #expect(Timestamp.parse(Timestamp.format(1_793_611_440_007)) == 1_793_611_440_007)
    }
}
