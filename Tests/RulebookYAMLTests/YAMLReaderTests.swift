import RulebookDiagnostics
import RulebookTestSupport
import Testing

@testable import RulebookYAML

/// Reads marked text and returns the result with the markers' positions.
private func read(_ source: String, requireMapping: Bool = true, limits: ReaderLimits = ReaderLimits())
    -> (ReadResult, MarkedText)
{
    let marked = MarkedText(source)
    return (YAMLReader.read(marked.text, file: "t.yaml", limits: limits, requireMapping: requireMapping), marked)
}

private func errors(_ result: ReadResult) -> [Diagnostic] {
    result.diagnostics.filter { $0.severity == .error }
}

@Suite("YAML core schema")
struct CoreSchemaTests {
    @Test("only true/false are booleans; yes/no/on/off stay strings")
    func booleans() throws {
        let (result, _) = read("""
            a: true
            b: False
            c: yes
            d: no
            e: on
            f: off
            g: "true"
            h: 'false'
            """)
        let root = try #require(result.root)
        #expect(result.diagnostics.isEmpty)
        #expect(root["a"]?.scalar?.value == .bool(true))
        #expect(root["b"]?.scalar?.value == .bool(false))
        #expect(root["c"]?.scalar?.value == .string("yes"))
        #expect(root["d"]?.scalar?.value == .string("no"))
        #expect(root["e"]?.scalar?.value == .string("on"))
        #expect(root["f"]?.scalar?.value == .string("off"))
        #expect(root["g"]?.scalar?.value == .string("true"))
        #expect(root["h"]?.scalar?.value == .string("false"))
        #expect(root["c"]?.scalar?.isYAML11Boolean == true)
        #expect(root["g"]?.scalar?.isYAML11Boolean == false)
    }

    @Test("integers, floats and nulls resolve only when plain")
    func numbersAndNulls() throws {
        let (result, _) = read("""
            i: 42
            n: -7
            o: 0o17
            x: 0x1F
            f: 1.5
            e: 2e3
            z: ~
            y: null
            w:
            q: "42"
            big: 123456789012345678901234
            version: 1.0
            clause: 4.10
            date: 2026-11-02
            """)
        let root = try #require(result.root)
        #expect(root["i"]?.scalar?.value == .int(42))
        #expect(root["n"]?.scalar?.value == .int(-7))
        #expect(root["o"]?.scalar?.value == .int(15))
        #expect(root["x"]?.scalar?.value == .int(31))
        #expect(root["f"]?.scalar?.value == .float(1.5))
        #expect(root["e"]?.scalar?.value == .float(2000))
        #expect(root["z"]?.scalar?.value == .null)
        #expect(root["y"]?.scalar?.value == .null)
        #expect(root["w"]?.scalar?.value == .null)
        #expect(root["q"]?.scalar?.value == .string("42"))
        if case .float = root["big"]?.scalar?.value {} else { Issue.record("a too-large integer should not become an Int") }
        // The text as written is kept, so "4.10" is not read back as 4.1.
        #expect(root["clause"]?.scalar?.text == "4.10")
        #expect(root["version"]?.scalar?.text == "1.0")
        // The core schema has no timestamps: a date stays a string.
        #expect(root["date"]?.scalar?.value == .string("2026-11-02"))
    }

    @Test("explicit core tags are honoured; others are reported")
    func tags() throws {
        let (result, marked) = read("""
            a: !!str 12
            b: !!int "12"
            c: 1️⃣!custom x
            """)
        let root = try #require(result.root)
        #expect(root["a"]?.scalar?.value == .string("12"))
        #expect(root["b"]?.scalar?.value == .int(12))
        let problems = errors(result)
        #expect(problems.count == 1)
        #expect(problems.first?.span?.start == marked["1️⃣"])
        #expect(problems.first?.message == "YAML reads '!custom x' as a tag, not as text")
        #expect(problems.first?.hint == "quote a value that starts with '!': \"!custom x\"")
        #expect(root["c"]?.scalar?.text == "!custom x")
    }
}

@Suite("YAML positions")
struct PositionTests {
    @Test("nodes keep 1-based start and end marks")
    func spans() throws {
        let (result, marked) = read("""
            1️⃣title: 2️⃣Security Incidents Policy3️⃣
            roles:
              4️⃣- id: staff
                title: "5️⃣All staff"
            """)
        let root = try #require(result.root)
        let pair = try #require(root.mapping?.first)
        #expect(pair.key.span.start == marked["1️⃣"])
        #expect(pair.value.span.start == marked["2️⃣"])
        #expect(pair.value.span.end == marked["3️⃣"])
        let item = try #require(root["roles"]?.sequence?.first)
        #expect(item.span.start.line == marked["4️⃣"].line)
        #expect(item.span.start.column == marked["4️⃣"].column + 2)
        let quoted = try #require(item["title"])
        // A quoted scalar's span starts at its opening quote.
        #expect(quoted.span.start.column == marked["5️⃣"].column - 1)
        #expect(root.span.start == SourcePosition(line: 1, column: 1))
    }

    @Test("columns count characters, not bytes")
    func unicodeColumns() throws {
        let (result, marked) = read("café: [é, ’, 1️⃣x]\n")
        let items = try #require(result.root?["café"]?.sequence)
        #expect(items[2].span.start == marked["1️⃣"])
        #expect(marked["1️⃣"].column == 14)  // c-a-f-é-:-space-[-é-,-space-’-,-space-x
    }
}

@Suite("YAML structural errors")
struct StructuralErrorTests {
    @Test("a duplicate key is an error on the second, with a note on the first")
    func duplicateKey() throws {
        let (result, marked) = read("""
            duties:
              1️⃣report: a
              other: b
              2️⃣report: c
            """)
        let problems = errors(result)
        #expect(problems.count == 1)
        let problem = try #require(problems.first)
        #expect(problem.code == "duplicate-key")
        #expect(problem.span?.start == marked["2️⃣"])
        #expect(problem.notes.first?.span?.start == marked["1️⃣"])
        // The first value is kept, the duplicate dropped.
        let duties = try #require(result.root?["duties"])
        #expect(duties.mapping?.count == 2)
        #expect(duties["report"]?.scalar?.text == "a")
    }

    @Test("keys are compared by their text, so 1 and \"1\" collide")
    func duplicateByText() {
        let (result, marked) = read("1: a\n1️⃣\"1\": b\n")
        #expect(errors(result).first?.code == "duplicate-key")
        #expect(errors(result).first?.span?.start == marked["1️⃣"])
    }

    @Test("complex keys are refused")
    func complexKey() {
        let (result, _) = read("? [a, b]\n: c\n")
        #expect(errors(result).first?.code == "complex-key")
    }

    @Test("an empty file and a comment-only file are errors")
    func empty() {
        for text in ["", "# only a comment\n", "\n\n"] {
            let result = YAMLReader.read(text, file: "e.yaml")
            #expect(result.root == nil)
            #expect(errors(result).first?.code == "empty", "for \(text.debugDescription)")
            #expect(errors(result).first?.span?.start == SourcePosition(line: 1, column: 1))
        }
        let explicitEmpty = YAMLReader.read("---\n...\n", file: "e.yaml")
        #expect(errors(explicitEmpty).first?.code == "empty")
    }

    @Test("a root that is not a mapping is an error")
    func rootNotMapping() {
        let (result, marked) = read("1️⃣- a\n- b\n")
        #expect(result.root == nil)
        #expect(errors(result).first?.code == "root-not-mapping")
        #expect(errors(result).first?.span?.start == marked["1️⃣"])
        // Allowed when the caller does not require a mapping.
        let (free, _) = read("- a\n", requireMapping: false)
        #expect(free.root?.sequence?.count == 1)
    }

    @Test("a second document is an error at its marker")
    func multipleDocuments() {
        let (result, marked) = read("a: 1\n1️⃣---\nb: 2\n")
        #expect(result.root == nil)
        #expect(errors(result).first?.code == "multiple-documents")
        #expect(errors(result).first?.span?.start == marked["1️⃣"])
    }

    @Test("a tab used for indentation gets a hint")
    func tabs() throws {
        let (result, marked) = read("policy:\n  id: x\n1️⃣\tversion: 2\n")
        let problem = try #require(errors(result).first)
        #expect(problem.span?.start.line == marked["1️⃣"].line)
        #expect(problem.hint?.contains("tabs") == true)
        #expect(problem.message.contains("tab"))
    }

    @Test("an unclosed quote is reported with where it started")
    func unclosedQuote() throws {
        let (result, marked) = read("a: 1\nb: 1️⃣\"never closed\nc: 2\n")
        let problem = try #require(errors(result).first)
        #expect(problem.message.contains("never closed"))
        #expect(problem.hint == "add the closing quote")
        #expect(problem.span?.start == marked["1️⃣"])
        #expect(problem.notes.first?.span?.start.line == 4)
    }

    @Test("invalid UTF-8 is reported at the bad byte")
    func invalidUTF8() throws {
        var bytes = Array("a: ok\nb: caf".utf8)
        bytes.append(0xE9)  // Latin-1 é
        bytes += Array("\n".utf8)
        let result = YAMLReader.read(bytes: bytes, file: "l1.yaml")
        let problem = try #require(errors(result).first)
        #expect(problem.code == "encoding")
        #expect(problem.span?.start == SourcePosition(line: 2, column: 7))
    }

    @Test("control characters are refused with a position")
    func controlCharacter() throws {
        let result = YAMLReader.read(bytes: Array("a: x\u{01}y\n".utf8), file: "c.yaml")
        let problem = try #require(errors(result).first)
        #expect(problem.span?.start == SourcePosition(line: 1, column: 5))
    }

    @Test("UTF-16 input is refused")
    func utf16() {
        let result = YAMLReader.read(bytes: [0xFF, 0xFE, 0x61, 0x00], file: "u.yaml")
        #expect(errors(result).first?.message.contains("UTF-16") == true)
    }

    @Test("random bytes never crash the reader")
    func randomBytes() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<300 {
            let length = Int(generator.next() % 512)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let result = YAMLReader.read(bytes: bytes, file: "r.bin")
            #expect(result.root != nil || result.hasErrors)
        }
        // Printable noise: valid UTF-8 but broken YAML structure.
        let alphabet = Array("ab: -[]{}\"'&*!|>#%@`,?\n  \t".unicodeScalars)
        for _ in 0..<300 {
            var text = ""
            for _ in 0..<Int(generator.next() % 200) {
                text.unicodeScalars.append(alphabet[Int(generator.next() % UInt64(alphabet.count))])
            }
            let result = YAMLReader.read(text, file: "r.yaml")
            #expect(result.root != nil || result.hasErrors)
        }
    }
}

@Suite("YAML limits")
struct LimitTests {
    @Test("aliases are shared and allowed within the budget")
    func aliases() throws {
        let (result, _) = read("""
            base: &b {role: dpo, within: PT24H}
            one: *b
            two: *b
            """)
        let root = try #require(result.root)
        #expect(result.diagnostics.isEmpty)
        #expect(root["two"]?["within"]?.scalar?.text == "PT24H")
    }

    @Test("an alias bomb fails fast with a clear error")
    func aliasBomb() throws {
        var text = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        let names = ["b", "c", "d", "e", "f", "g", "h", "i"]
        var previous = "a"
        for name in names {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
            previous = name
        }
        let result = YAMLReader.read(text, file: "bomb.yaml")
        #expect(result.root == nil)
        let problem = try #require(errors(result).first)
        #expect(problem.code == "alias-bomb")
        #expect(problem.span != nil)
    }

    @Test("an alias to an unknown or enclosing anchor is an error")
    func unknownAlias() {
        let (result, marked) = read("a: 1️⃣*nothing\n")
        #expect(errors(result).first?.code == "alias")
        #expect(errors(result).first?.span?.start == marked["1️⃣"])
        let (recursive, _) = read("a: &x [1, *x]\n")
        #expect(errors(recursive).first?.code == "alias")
    }

    @Test("20,000 nested brackets stop at the depth cap")
    func deepNesting() throws {
        let text = "a: " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000) + "\n"
        let result = YAMLReader.read(text, file: "deep.yaml")
        #expect(result.root == nil)
        let problem = try #require(errors(result).first)
        #expect(problem.code == "too-deep")
        #expect(problem.span?.start.line == 1)
        // Nested mappings in block style too.
        var block = ""
        for level in 0..<100 { block += String(repeating: "  ", count: level) + "k\(level):\n" }
        #expect(errors(YAMLReader.read(block, file: "deep2.yaml")).first?.code == "too-deep")
    }

    @Test("a file over the size cap is refused before parsing")
    func sizeCap() throws {
        let text = "a: \"" + String(repeating: "x", count: 20 * 1024 * 1024) + "\"\n"
        let result = YAMLReader.read(text, file: "huge.yaml")
        let problem = try #require(errors(result).first)
        #expect(problem.code == "too-large")
        #expect(problem.message.contains("20.0 MiB"))
        #expect(problem.message.contains("8 MiB"))
    }

    @Test("the node cap stops a file with too many nodes")
    func nodeCap() {
        let text = (0..<50).map { "k\($0): v" }.joined(separator: "\n")
        let result = YAMLReader.read(text, file: "n.yaml", limits: ReaderLimits(maxNodes: 40))
        #expect(errors(result).first?.code == "too-many-nodes")
    }

    @Test("200,000 keys are read with duplicates found by hashing")
    func manyKeys() throws {
        var text = ""
        text.reserveCapacity(200_000 * 12)
        for i in 0..<200_000 { text += "key\(i): \(i)\n" }
        text += "key7: again\n"
        let result = YAMLReader.read(text, file: "wide.yaml")
        #expect(result.root?.mapping?.count == 200_000)
        #expect(errors(result).count == 1)
        #expect(errors(result).first?.span?.start.line == 200_001)
    }
}
