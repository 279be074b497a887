import Foundation
import YAMLConfig
import Yams

/// The views of `outboard-target serve --views FILE`: a YAML mapping of view names to
/// `{collections: [/a, /b], detail: full | busy}`.
///
///     team:
///       collections: [/people/alice, /people/bob]
///       detail: busy
public struct ViewSet: Sendable, Hashable {
    public var views: [String: View]

    public init(_ views: [View] = []) {
        self.views = Dictionary(views.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public subscript(name: String) -> View? { views[name] }

    /// Reads a views file, throwing every problem in it (`ConfigProblems`, each file:line).
    public static func load(file: String) throws -> ViewSet {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigProblems([ConfigProblem(file: file, line: 0, message: "cannot read the views file")])
        }
        return try read(String(decoding: data, as: UTF8.self), file: file).get()
    }

    /// The views of a file's text, or every problem found in it.
    public static func read(_ text: String, file: String) -> Result<ViewSet, ConfigProblems> {
        let (views, problems) = parse(text, file: file)
        return problems.isEmpty ? .success(views) : .failure(ConfigProblems(problems))
    }

    /// The views read well, and every problem: `outboard-target check` checks a tokens file
    /// against the view names even when some view has a problem.
    static func parse(_ text: String, file: String) -> (ViewSet, [ConfigProblem]) {
        let reader = ConfigReader(file: file)
        guard let root = reader.root(text) else { return (ViewSet(), reader.problems) }
        var views: [View] = []
        for name in root.keys {
            guard View.isName(name) else {
                reader.problem(
                    line: root.line(of: name),
                    "view name \"\(name)\" should be letters, digits, -, _, . or ~ (it is the NAME of /views/NAME.ics)")
                _ = root.node(name)
                continue
            }
            guard let map = root.map(name, context: "view \(name)") else { continue }
            if let view = view(name, map, reader, line: root.line(of: name)) { views.append(view) }
        }
        if root.keys.isEmpty {
            reader.problem(line: root.line, "no views: give one such as team: {collections: [/people/alice]}")
        }
        return (ViewSet(views), reader.problems)
    }

    /// One view's mapping; `line` is the line of its name.
    private static func view(_ name: String, _ map: ConfigMap, _ reader: ConfigReader, line: Int) -> View? {
        defer { map.rejectUnknownKeys(allowed: ["collections", "detail"]) }
        var detail = View.Detail.full
        if let d = map.string("detail") {
            if let known = View.Detail(rawValue: d) {
                detail = known
            } else {
                reader.problem(
                    line: map.line(of: "detail"), "detail of view \(name) is \"\(d)\": expected full or busy")
            }
        }
        guard let items = map.list("collections") else {
            reader.problem(
                line: line,
                "view \(name) needs collections, a list of collection paths such as [/people/alice]")
            return nil
        }
        var collections: [String] = []
        for (_, node) in items {
            let path = node.string ?? ""
            let at = node.mark?.line ?? map.line(of: "collections")
            if !Paths.isCollection(path) {
                reader.problem(
                    line: at, "collection \"\(path)\" of view \(name) is not a collection path such as /people/alice")
            } else if collections.contains(path) {
                reader.problem(line: at, "collection \(path) is named twice in view \(name)")
            } else {
                collections.append(path)
            }
        }
        if items.isEmpty { reader.problem(line: map.line(of: "collections"), "view \(name) has no collections") }
        return View(name: name, collections: collections, detail: detail)
    }
}
