import RulebookDiagnostics
import RulebookYAML

/// Structure-aware mutation of policy files: the input is read as YAML, one node of its
/// tree is changed (an entry dropped or repeated, a value swapped with another, moved, or
/// replaced by an awkward one), and the tree is written back as JSON, which is YAML too.
/// The validator then meets well-formed policies with wrong parts, which byte flips
/// rarely produce.
enum NodeMutator {
    static func mutate(_ data: UnsafeBufferPointer<UInt8>, seed: UInt64) -> [UInt8]? {
        guard let root = YAMLReader.read(bytes: Array(data), file: "m.yaml", limits: FuzzTarget.limits).root else { return nil }
        var random = seed &+ 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            random = random &* 6364136223846793005 &+ 1442695040888963407
            return n <= 1 ? 0 : Int((random >> 33) % UInt64(n))
        }
        var all: [Node] = []
        func collect(_ node: Node) {
            all.append(node)
            switch node.content {
            case .scalar: break
            case .sequence(let items): items.forEach(collect)
            case .mapping(let pairs): pairs.forEach { collect($0.value) }
            }
        }
        collect(root)
        let target = next(all.count)
        let awkward = ["", "-1", "0", "99999999999999999999", "P0D", "PT0S", "P99999Y", "x && (", "!a", "a * b / 0",
                       "late(nothing)", "1970-01-01", "2038-01-19T03:14:08Z", "{working_days: 0}", "null", "true", "[]",
                       String(repeating: "a", count: 300), "\u{202E}", "33(1)", "Europe/Nowhere"]
        var counter = 0
        func rewrite(_ node: Node) -> Node {
            defer { counter += 1 }
            var node = node
            if counter == target {
                switch (next(6), node.content) {
                case (0, .mapping(var pairs)) where !pairs.isEmpty:
                    pairs.remove(at: next(pairs.count))
                    node.content = .mapping(pairs)
                case (1, .mapping(var pairs)) where !pairs.isEmpty:
                    pairs.append(pairs[next(pairs.count)])
                    node.content = .mapping(pairs)
                case (2, .sequence(var items)) where !items.isEmpty:
                    if next(2) == 0 { items.remove(at: next(items.count)) } else { items.append(items[next(items.count)]) }
                    node.content = .sequence(items)
                case (3, _):
                    node = all[next(all.count)]
                case (4, .scalar):
                    node.content = .sequence([node])
                default:
                    let text = awkward[next(awkward.count)]
                    node.content = .scalar(Scalar(text: text, style: .doubleQuoted, value: .string(text)))
                }
                return node
            }
            switch node.content {
            case .scalar: break
            case .sequence(let items): node.content = .sequence(items.map(rewrite))
            case .mapping(let pairs): node.content = .mapping(pairs.map { Node.Pair(key: $0.key, value: rewrite($0.value)) })
            }
            return node
        }
        var out = ""
        write(rewrite(root), to: &out)
        return Array(out.utf8)
    }

    /// JSON text for a node (keys and strings quoted, numbers and booleans as they are).
    static func write(_ node: Node, to out: inout String) {
        switch node.content {
        case .scalar(let s):
            switch s.value {
            case .null: out += "null"
            case .bool(let b): out += b ? "true" : "false"
            case .int(let n): out += String(n)
            case .float(let d) where d.isFinite: out += "\(d)"
            default: quote(s.text, &out)
            }
        case .sequence(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                write(item, to: &out)
            }
            out += "]"
        case .mapping(let pairs):
            out += "{"
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out += ", " }
                quote(pair.key.scalar?.text ?? "", &out)
                out += ": "
                write(pair.value, to: &out)
            }
            out += "}"
        }
    }

    private static func quote(_ text: String, _ out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += "\\u00" + String(scalar.value, radix: 16).leftPadded(2) } else { out.unicodeScalars.append(scalar) }
            }
        }
        out += "\""
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
