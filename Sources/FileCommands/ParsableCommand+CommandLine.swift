import ArgumentParser

extension ParsableCommand {
    /// Runs the command line `arguments` (without the program name) with this command as the
    /// root and returns the exit code: 0 success, 1 when the input had problems (or, for
    /// comparisons, differences), 2 for bad usage or unreadable input. Output goes to
    /// `Console.current`.
    package static func runCommandLine(_ arguments: [String]) async -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            return checkingOutput(0)
        } catch {
            return checkingOutput(exitCode(reporting: error))
        }
    }

    /// Runs the command line `arguments` as `runCommandLine` does when its command is
    /// synchronous (the `ics` commands among them), on the calling thread; nil, having run
    /// nothing, when the command is asynchronous.
    package static func runCommandLineSynchronously(_ arguments: [String]) -> Int32? {
        do {
            var command = try parseAsRoot(arguments)
            if command is AsyncParsableCommand { return nil }
            try command.run()
            return checkingOutput(0)
        } catch {
            return checkingOutput(exitCode(reporting: error))
        }
    }

    /// `code`, or 1 with a message when standard output could not be written (the output is
    /// incomplete, whatever the command found).
    private static func checkingOutput(_ code: Int32) -> Int32 {
        guard let failure = Console.current.outputFailure else { return code }
        Console.current.error("outboard: cannot write standard output: \(failure)")
        return code == 0 ? 1 : code
    }

    /// Reports what ended a command on the console and gives its exit code.
    private static func exitCode(reporting error: Error) -> Int32 {
        let console = Console.current
        if let exit = error as? CommandExit {
            if let message = exit.message { console.error("outboard: " + message) }
            return exit.code
        }
        let code = exitCode(for: error)
        let message = fullMessage(for: error)
        if code == .success {
            if !message.isEmpty { console.print(message) }
            return 0
        }
        if !message.isEmpty { console.error(message) }
        // ArgumentParser's usage errors exit 64 (EX_USAGE); Outboard documents 2, as diff(1) does.
        return code == .validationFailure ? 2 : code.rawValue
    }
}
