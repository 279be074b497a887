import FileCommands
import Glibc

// `outboard`: the commands that only read and write files (`outboard ics …`) run in this
// program, which links no more than reading a calendar needs, so they start in a few
// milliseconds. Every other command is the engine's: this process becomes `outboard-engine`,
// installed beside it, with the same arguments (and keeps its process id, so signals and
// exit codes reach the engine and its caller as before).
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "ics" {
    // The heaps grow in steps of 64 MiB of address space instead of a page or two at a time
    // (pages are still taken only when first touched): `ics expand` on a 2.8 MB calendar made
    // about 1,500 mprotect and 80 brk calls growing them (the worker thread's heap grows by
    // mprotect). Not for the engine, a long-running process.
    Malloc.setTopPad(64 << 20)
    if let code = FileToolCommand.runCommandLineSynchronously(arguments) { exit(code) }
}
EngineProgram.replaceThisProcess(arguments: arguments)

/// glibc's mallopt(3), which Swift's Glibc module does not declare (malloc.h is not in it).
enum Malloc {
    /// mallopt(M_TOP_PAD, bytes); M_TOP_PAD is -2 in malloc.h.
    static func setTopPad(_ bytes: Int32) {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(-2, bytes)
    }
}
