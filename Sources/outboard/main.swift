import FileCommands
import Glibc

// `outboard`: the commands that only read and write files (`outboard ics …`) run in this
// program, which links no more than reading a calendar needs, so they start in a few
// milliseconds. Every other command is the engine's: this process becomes `outboard-engine`,
// installed beside it, with the same arguments (and keeps its process id, so signals and
// exit codes reach the engine and its caller as before).
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "ics", let code = FileToolCommand.runCommandLineSynchronously(arguments) {
    exit(code)
}
EngineProgram.replaceThisProcess(arguments: arguments)
