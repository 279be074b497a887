import Foundation
import YAMLConfig

/// What `outboard-target check` runs: the views file and the tokens file read as `serve` reads
/// them, every problem collected with its file and line.
public enum TargetCheck {
    /// Every problem of the files given, and a one-line summary of what they hold. The tokens
    /// file's `views/NAME` grants are checked against the views file when both are given.
    public static func run(views viewsFile: String?, tokens tokensFile: String?) -> (
        summary: String, problems: [ConfigProblem]
    ) {
        var problems: [ConfigProblem] = []
        var parts: [String] = []
        var views: ViewSet?
        if let viewsFile {
            if let text = read(viewsFile, "views", &problems) {
                let (set, found) = ViewSet.parse(text, file: viewsFile)
                problems += found
                views = set
                parts.append("\(set.views.count) view\(set.views.count == 1 ? "" : "s")")
            }
        }
        if let tokensFile, let text = read(tokensFile, "tokens", &problems) {
            switch TokenTable.read(text, file: tokensFile, views: views) {
            case .success(let table):
                parts.append("\(table.entries.count) token\(table.entries.count == 1 ? "" : "s")")
            case .failure(let found): problems += found.problems
            }
        }
        return (parts.joined(separator: ", "), problems)
    }

    private static func read(_ file: String, _ kind: String, _ problems: inout [ConfigProblem]) -> String? {
        guard let data = FileManager.default.contents(atPath: file) else {
            problems.append(ConfigProblem(file: file, line: 0, message: "cannot read the \(kind) file"))
            return nil
        }
        return String(decoding: data, as: UTF8.self)
    }
}
