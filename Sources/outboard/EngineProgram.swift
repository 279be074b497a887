import FileCommands
import Glibc

/// `outboard-engine`, the program that runs every command but `ics`.
enum EngineProgram {
    static let name = "outboard-engine"

    /// Replaces this process with `outboard-engine` from this program's directory, run with
    /// `arguments`; when that is impossible, says why on standard error and exits 127 (as a
    /// shell does for a program it cannot find).
    static func replaceThisProcess(arguments: [String]) -> Never {
        let path = besideThisProgram()
        let argv = ([CommandLine.arguments.first ?? "outboard"] + arguments).map { strdup($0) } + [nil]
        execvp(path, argv)
        let why = String(cString: strerror(errno))
        Console.current.error(
            "outboard: cannot run \(path): \(why). Every command but `ics` runs in \(name), installed beside outboard (`swift build` builds both; `swift build --product outboard-engine` that one)."
        )
        exit(127)
    }

    /// The engine's path: in the directory this program's file is in (its real path, so a
    /// symbolic link to `outboard` elsewhere finds it too); its bare name, looked up in PATH,
    /// when that directory cannot be known.
    static func besideThisProgram() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let program =
            count > 0
            ? String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : CommandLine.arguments.first ?? ""
        guard let slash = program.lastIndex(of: "/") else { return name }
        return String(program[...slash]) + name
    }
}
