import Foundation
import OutboardCLI

let arguments = Array(CommandLine.arguments.dropFirst())
// A synchronous command (the `ics` commands among them) runs here on the main thread, before
// anything awaits: its memory then comes from the main heap, which grows in large steps (a
// worker thread's heap grows a page at a time: about 3,000 mprotect calls for `ics expand`).
if let code = OutboardCommand.runSynchronously(arguments: arguments) { exit(code) }
exit(await OutboardCommand.run(arguments: arguments))
