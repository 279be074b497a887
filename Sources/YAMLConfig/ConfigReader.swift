import Yams

/// Reads one YAML configuration file and collects every problem in it, each with its line, rather
/// than stopping at the first (the "decode raw, validate, collect" habit of STYLE.md).
public final class ConfigReader {
    public let file: String
    public private(set) var problems: [ConfigProblem] = []

    public init(file: String) {
        self.file = file
    }

    /// Records a problem at `node`'s line (or the whole file when there is no node).
    public func problem(_ node: Node?, _ message: String) {
        problems.append(ConfigProblem(file: file, line: node?.mark?.line ?? 0, message: message))
    }

    /// Records a problem at a line.
    public func problem(line: Int, _ message: String) {
        problems.append(ConfigProblem(file: file, line: line, message: message))
    }

    /// The document's root mapping, or nil with a problem (YAML syntax errors carry their line).
    public func root(_ text: String) -> ConfigMap? {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            problem(line: Self.line(of: error), "not valid YAML: \(Self.problem(of: error))")
            return nil
        } catch {
            problem(line: 0, "not valid YAML: \(error)")
            return nil
        }
        guard let node else {
            problem(line: 0, "the file is empty")
            return nil
        }
        return ConfigMap(node, reader: self, context: "the file")
    }

    private static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: 0
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): problem
        default: "\(error)"
        }
    }
}

/// A YAML mapping being read: typed accessors that report wrong types, and a final check that
/// reports every key that was not read (a misspelt key is never silently ignored).
public final class ConfigMap {
    public let node: Node
    public let reader: ConfigReader
    /// Words for messages: "rule 3", "the file", "when".
    public let context: String
    private let entries: [(key: String, keyNode: Node, value: Node)]
    private var used: Set<String> = []

    /// Wraps `node`, or reports that a mapping was expected and returns nil.
    public init?(_ node: Node, reader: ConfigReader, context: String) {
        guard case .mapping(let m) = node else {
            reader.problem(node, "\(context) should be a mapping of keys to values")
            return nil
        }
        self.node = node
        self.reader = reader
        self.context = context
        self.entries = m.map { ($0.key.string ?? "", $0.key, $0.value) }
    }

    /// The line of the mapping itself.
    public var line: Int { node.mark?.line ?? 0 }

    /// The keys, in file order.
    public var keys: [String] { entries.map(\.key) }

    /// The value node of `key`, marking the key as read.
    public func node(_ key: String) -> Node? {
        guard let e = entries.first(where: { $0.key == key }) else { return nil }
        used.insert(key)
        return e.value
    }

    /// The line of `key` (or of the mapping when the key is absent).
    public func line(of key: String) -> Int {
        entries.first { $0.key == key }?.keyNode.mark?.line ?? line
    }

    /// A scalar value as text.
    public func string(_ key: String) -> String? {
        guard let n = node(key) else { return nil }
        guard case .scalar(let s) = n else {
            reader.problem(n, "\(key) in \(context) should be a single value")
            return nil
        }
        return s.string
    }

    /// A scalar or a list of scalars.
    public func strings(_ key: String) -> [String]? {
        guard let n = node(key) else { return nil }
        switch n {
        case .scalar(let s): return [s.string]
        case .sequence(let seq):
            var out: [String] = []
            for item in seq {
                guard case .scalar(let s) = item else {
                    reader.problem(item, "each item of \(key) in \(context) should be a single value")
                    continue
                }
                out.append(s.string)
            }
            return out
        default:
            reader.problem(n, "\(key) in \(context) should be a value or a list of values")
            return nil
        }
    }

    /// A whole number.
    public func int(_ key: String) -> Int? {
        guard let n = node(key) else { return nil }
        guard let v = n.int else {
            reader.problem(n, "\(key) in \(context) should be a whole number, not \"\(n.string ?? "…")\"")
            return nil
        }
        return v
    }

    /// true / false.
    public func bool(_ key: String) -> Bool? {
        guard let n = node(key) else { return nil }
        guard let v = n.bool else {
            reader.problem(n, "\(key) in \(context) should be true or false, not \"\(n.string ?? "…")\"")
            return nil
        }
        return v
    }

    /// A nested mapping.
    public func map(_ key: String, context: String? = nil) -> ConfigMap? {
        guard let n = node(key) else { return nil }
        return ConfigMap(n, reader: reader, context: context ?? "\(key) in \(self.context)")
    }

    /// A list; each item is handed over with its 1-based position.
    public func list(_ key: String) -> [(Int, Node)]? {
        guard let n = node(key) else { return nil }
        guard case .sequence(let seq) = n else {
            reader.problem(n, "\(key) in \(context) should be a list")
            return nil
        }
        return seq.enumerated().map { ($0.offset + 1, $0.element) }
    }

    /// Reports every key that was not read, suggesting the allowed key it most resembles.
    public func rejectUnknownKeys(allowed: [String]) {
        for e in entries where !used.contains(e.key) {
            reader.problem(
                e.keyNode,
                "unknown key \"\(e.key)\" in \(context)\(Suggestion.hint(e.key, allowed)); expected one of: \(allowed.joined(separator: ", "))"
            )
        }
    }
}
