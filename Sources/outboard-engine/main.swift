import Foundation
import OutboardCLI

// Every `outboard` command but `ics` runs here: the `outboard` program replaces itself with
// this one (same process, same arguments). `outboard-engine ics …` works too.
let arguments = Array(CommandLine.arguments.dropFirst())
// A synchronous command (`filter`, `diff`, `ics`) runs here on the main thread, before anything
// awaits: its memory then comes from the main heap, which grows in large steps (a worker
// thread's heap grows a page at a time: about 3,000 mprotect calls for `ics expand`).
if let code = OutboardCommand.runSynchronously(arguments: arguments) { exit(code) }
exit(await OutboardCommand.run(arguments: arguments))
