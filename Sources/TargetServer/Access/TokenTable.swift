import Foundation
import ServerSupport
import YAMLConfig

/// Bearer tokens and what each may reach.
public struct TokenTable: Sendable {
    public var entries: [String: Grants]

    public init(entries: [String: Grants] = [:]) {
        self.entries = entries
    }

    /// Reads a tokens file, throwing every problem in it (`ConfigProblems`, each file:line).
    public static func load(file: String, views: ViewSet? = nil) throws -> TokenTable {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigProblems([ConfigProblem(file: file, line: 0, message: "cannot read the tokens file")])
        }
        return try read(String(decoding: data, as: UTF8.self), file: file, views: views).get()
    }

    /// A tokens file's table: one token per line, then what it is granted, each `SCOPE` or
    /// `SCOPE:LEVEL`, where a scope is a collection path (and everything below it), `views/NAME`
    /// or `*` (every collection and view), and a level `read` or `freebusy` (a scope alone grants
    /// read and write); `#` starts a comment. Every problem is collected, each with its line;
    /// with `views`, a view the file names must be one of them.
    ///
    ///     s3cr3t-athletics  /public/athletics /public/holidays:read
    ///     booking-page      /people/alice views/team:freebusy *:freebusy
    ///     admin-token       *
    public static func read(_ text: String, file: String, views: ViewSet? = nil) -> Result<TokenTable, ConfigProblems> {
        var table = TokenTable()
        var problems: [ConfigProblem] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            func problem(_ message: String) {
                problems.append(ConfigProblem(file: file, line: n + 1, message: message))
            }
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard let token = words.first else { continue }
            guard words.count > 1 else {
                problem("token without grants (give paths such as /public/holidays, /people/alice:read, or *)")
                continue
            }
            if table.entries[token] != nil { problem("this token is already given on an earlier line") }
            var grants: [Grants.Grant] = []
            for word in words.dropFirst() {
                switch grant(word, views: views) {
                case .success(let g): grants.append(g)
                case .failure(let message): problem(message.text)
                }
            }
            table.entries[token] = Grants(grants)
        }
        return problems.isEmpty ? .success(table) : .failure(ConfigProblems(problems))
    }

    struct Message: Error {
        var text: String
    }

    /// One `SCOPE[:LEVEL]` word.
    static func grant(_ word: String, views: ViewSet?) -> Result<Grants.Grant, Message> {
        var scope = word
        var level = AccessLevel.write
        if let colon = word.lastIndex(of: ":") {
            scope = String(word[..<colon])
            let name = String(word[word.index(after: colon)...])
            guard let known = AccessLevel(name: name) else {
                return .failure(
                    Message(
                        text:
                            "\"\(name)\" in \"\(word)\" is not an access level: write \(scope) (read and write), \(scope):read or \(scope):freebusy\(Suggestion.hint(name, AccessLevel.allCases.map(\.description)))"
                    ))
            }
            level = known
        }
        if scope == "*" || Paths.isCollection(scope) { return .success(Grants.Grant(scope, level)) }
        if let name = View.name(ofTarget: scope) {
            if let views, views[name] == nil {
                return .failure(
                    Message(
                        text:
                            "\"\(scope)\" names no view of the views file\(Suggestion.hint(name, views.views.keys.sorted()))"
                    ))
            }
            return .success(Grants.Grant(scope, level))
        }
        return .failure(
            Message(text: "\"\(scope)\" is not a collection path such as /public/holidays, a view (views/NAME) or *"))
    }

    func grants(forAuthorization header: String?) -> Grants? {
        BearerToken.parse(header).flatMap { entries[$0] }
    }
}
