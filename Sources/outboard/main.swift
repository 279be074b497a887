import FileCommands
import Glibc

// `outboard`: the commands that only read and write files (`outboard ics …`) run in this
// program, which links no more than reading a calendar needs, so they start in a few
// milliseconds. Every other command is the engine's: this process becomes `outboard-engine`,
// installed beside it, with the same arguments (and keeps its process id, so signals and
// exit codes reach the engine and its caller as before).
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "ics" {
    Malloc.growInLargeSteps()
    if let code = FileToolCommand.runCommandLineSynchronously(arguments) { exit(code) }
}
EngineProgram.replaceThisProcess(arguments: arguments)

/// glibc's mallopt(3), which Swift's Glibc module does not declare (malloc.h is not in it).
enum Malloc {
    /// For a command that runs once and exits: the heaps grow in steps of 64 MiB of address
    /// space instead of a page or two at a time (pages are still taken only when first touched;
    /// `ics expand` on a 2.8 MB calendar made about 1,500 mprotect and 80 brk calls growing them,
    /// the worker thread's heap by mprotect), and blocks of up to 32 MiB come from the heaps
    /// rather than from mmap (setting the pad alone would fix mmap's threshold at 128 KiB). Not
    /// for the engine, a long-running process.
    static func growInLargeSteps() {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let topPad: Int32 = -2
        let mmapThreshold: Int32 = -3  // M_TOP_PAD, M_MMAP_THRESHOLD
        _ = mallopt(topPad, 64 << 20)
        _ = mallopt(mmapThreshold, 32 << 20)
    }
}
