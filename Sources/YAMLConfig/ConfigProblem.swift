/// One problem in a configuration file: where it is and what was expected.
public struct ConfigProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based line (0 when the problem is about the whole file).
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`, the form `outboard check` prints.
    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// Every problem found while loading configuration, thrown together so a person fixes them all at once.
public struct ConfigProblems: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]

    public init(_ problems: [ConfigProblem]) {
        self.problems = problems
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
