import Foundation
import OutboardCLI

exit(await OutboardCommand.run(arguments: Array(CommandLine.arguments.dropFirst())))
