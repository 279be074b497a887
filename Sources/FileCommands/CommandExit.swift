/// Ends a command with an exit code and an optional message for standard error.
package struct CommandExit: Error {
    package var code: Int32
    package var message: String?

    package init(code: Int32, message: String?) {
        self.code = code
        self.message = message
    }

    /// The input had problems (already reported).
    package static let problems = CommandExit(code: 1, message: nil)
    /// Bad usage or unreadable input.
    package static func usage(_ message: String) -> CommandExit { CommandExit(code: 2, message: message) }
    /// Input that could not be read at all.
    package static func failed(_ message: String) -> CommandExit { CommandExit(code: 1, message: message) }
}
