import Foundation
import OutboardCLI

// `outboard`: every command (`OutboardCommand`). A synchronous command (`filter`, `diff`, `ics`)
// runs here on the main thread, before anything awaits: its memory then comes from the main
// heap, which grows in large steps (a worker thread's heap grows a page at a time).
let arguments = Array(CommandLine.arguments.dropFirst())
if let code = OutboardCommand.runSynchronously(arguments: arguments) { exit(code) }
exit(await OutboardCommand.run(arguments: arguments))
