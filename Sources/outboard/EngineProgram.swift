import FileCommands
import Glibc

/// `outboard-engine`, the program that runs every command but `ics`.
enum EngineProgram {
    static let name = "outboard-engine"

    /// Replaces this process with `outboard-engine`, run with `arguments`: the one in the
    /// directory of this program's file (its real path, so a symbolic link to `outboard`
    /// elsewhere finds it), else the one beside the path this program was started by, else the
    /// first in PATH. When none can be run, says why on standard error and exits as a shell
    /// does: 127 when there is none, 126 when it cannot be run.
    static func replaceThisProcess(arguments: [String]) -> Never {
        let invokedAs = CommandLine.arguments.first ?? "outboard"
        let argv = ([invokedAs] + arguments).map { strdup($0) } + [nil]
        var tried: [String] = []
        var failure: Int32 = ENOENT
        for path in candidates(invokedAs: invokedAs) where !tried.contains(path) {
            tried.append(path)
            execvp(path, argv)
            // A later candidate may still run; the most telling failure is kept.
            if errno != ENOENT || failure == ENOENT { failure = errno }
        }
        Console.current.error(
            "outboard: cannot run \(name) (tried \(tried.joined(separator: ", "))): \(String(cString: strerror(failure))). "
                + "Every command but `ics` runs in \(name), installed beside outboard (`swift build` builds both).")
        exit(failure == ENOENT ? 127 : 126)
    }

    /// Where the engine may be, in the order tried.
    static func candidates(invokedAs: String) -> [String] {
        var paths: [String] = []
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if count > 0 {
            let program = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let slash = program.lastIndex(of: "/") { paths.append(String(program[...slash]) + name) }
        }
        if let slash = invokedAs.lastIndex(of: "/") { paths.append(String(invokedAs[...slash]) + name) }
        paths.append(name)  // no slash: execvp looks it up in PATH
        return paths
    }
}
