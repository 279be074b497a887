import ArgumentParser
import CalendarModel
import Foundation
import Hummingbird
import Logging
import TargetServer
import YAMLConfig

/// `outboard-target`: the reference CalWS-SOAP target server.
@main
struct OutboardTarget: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outboard-target",
        abstract:
            "The reference CalWS-SOAP target server of Outboard: stores collections in SQLite and publishes each as an iCalendar feed.",
        subcommands: [Serve.self, Check.self, Link.self, Reindex.self],
        defaultSubcommand: nil
    )

    struct DataOption: ParsableArguments {
        @Option(help: ArgumentHelp("Where the SQLite store lives.", valueName: "dir")) var data = "./.outboard-target"
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Run the server: POST /calws (CalWS-SOAP), GET /calendars/PATH.ics (published collections), GET /views/NAME.ics (views), POST /availability (free/busy), GET /health, GET /metrics.",
            discussion: """
                POST /calws needs a bearer token; POST /availability a token granted every member it names at freebusy \
                or above; GET /calendars/PATH.ics needs a token granted the collection at read (at freebusy with \
                ?view=busy, the busy-only feed) or its secret link (?key=, from 'outboard-target link'); \
                GET /views/NAME.ics the same for a view (or every collection in it); GET /health and GET /metrics \
                need none. --tokens FILE grants each token collections (one line per token: TOKEN /path/one \
                /path/two:read /path/three:freebusy views/NAME *:freebusy; a path alone is read and write, * is \
                everything); the environment variable OUTBOARD_TARGET_TOKEN is one token granted every collection. \
                --views FILE names views (YAML: NAME: {collections: [/a, /b], detail: full | busy}). The server \
                refuses to start on any problem in either file ('outboard-target check' lists them). Port 0 picks \
                a free port; the address is printed once listening.
                """
        )
        @OptionGroup var data: DataOption
        @Option(help: "The address to listen on.") var host = "127.0.0.1"
        @Option(help: "The port to listen on (0: any free port).") var port = 8765
        @Option(
            help: ArgumentHelp(
                "A file of bearer tokens and what each may use, at which level (read, freebusy).", valueName: "file"))
        var tokens: String?
        @Option(help: ArgumentHelp("A YAML file of views (named sets of collections).", valueName: "file"))
        var views: String?
        @Option(
            help: ArgumentHelp(
                "How often calendar apps should poll published feeds (REFRESH-INTERVAL, X-PUBLISHED-TTL), as an ISO 8601 duration.",
                valueName: "duration"))
        var refreshInterval = "PT1H"
        @Option(
            help: ArgumentHelp(
                "How far around each write the instance index expands it: days back and days ahead (0:0 keeps no index; availability is then expanded on the fly).",
                valueName: "back:ahead"))
        var indexHorizon = "42:400"

        func validate() throws {
            guard let seconds = ISODuration.seconds(refreshInterval), seconds >= 60 else {
                throw ValidationError(
                    "--refresh-interval \(refreshInterval) should be a duration of a minute or more, such as PT15M, PT1H or P1D"
                )
            }
            guard horizon != nil else {
                throw ValidationError(
                    "--index-horizon must be DAYS_BACK:DAYS_AHEAD such as 42:400, not \(indexHorizon)")
            }
        }

        var horizon: IndexHorizon? {
            let parts = indexHorizon.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
            guard parts.count == 2, let back = parts[0], let ahead = parts[1], back >= 0, ahead >= 0 else { return nil }
            return IndexHorizon(daysBack: back, daysAhead: ahead)
        }

        func run() async throws {
            let viewSet: ViewSet
            var table = TokenTable()
            do {
                viewSet = try views.map { try ViewSet.load(file: $0) } ?? ViewSet()
                if let tokens { table = try TokenTable.load(file: tokens, views: views == nil ? nil : viewSet) }
            } catch let problems as ConfigProblems {
                FileHandle.standardError.write(Data("\(problems)\n".utf8))
                throw ExitCode(1)
            }
            if let env = ProcessInfo.processInfo.environment["OUTBOARD_TARGET_TOKEN"], !env.isEmpty {
                table.entries[env] = Grants(all: true)
            }
            if table.entries.isEmpty {
                // Runs with no flags: a token for this run only, granted every collection.
                let token = RandomToken.hex(bytes: 16)
                table.entries[token] = Grants(all: true)
                FileHandle.standardOutput.write(
                    Data(
                        "no token configured: this run accepts the bearer token \(token) (set OUTBOARD_TARGET_TOKEN or --tokens FILE to choose)\n"
                            .utf8))
            }
            var logger = Logger(label: "outboard-target")
            logger.logLevel =
                ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            let config = TargetConfiguration(
                dataDirectory: data.data, host: host, port: port, tokens: table, indexHorizon: horizon ?? .standard,
                views: viewSet, refreshInterval: ISODuration.seconds(refreshInterval) ?? 3600)
            let host = self.host
            let dataDir = data.data
            let app = try buildTargetApplication(config, logger: logger) { bound in
                // Written straight to the descriptor: a parent process waits for this line on a pipe.
                FileHandle.standardOutput.write(
                    Data("outboard-target listening on http://\(host):\(bound)/calws (data in \(dataDir))\n".utf8))
            }
            try await app.runService()
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check a views file and a tokens file as 'serve' reads them: every problem as file:line: message, exit 1 on any."
        )
        @Option(help: ArgumentHelp("The YAML file of views.", valueName: "file")) var views: String?
        @Option(
            help: ArgumentHelp(
                "The tokens file (its views/NAME grants are checked against --views).", valueName: "file"))
        var tokens: String?

        func validate() throws {
            if views == nil && tokens == nil { throw ValidationError("give --views FILE, --tokens FILE or both") }
        }

        func run() throws {
            let (summary, problems) = TargetCheck.run(views: views, tokens: tokens)
            guard problems.isEmpty else {
                print(problems.map(\.description).joined(separator: "\n"))
                throw ExitCode(1)
            }
            print("ok: \(summary)")
        }
    }

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print (creating it if needed) the secret link of a collection or a view, for calendar apps that cannot send a token; --revoke disables it."
        )
        @OptionGroup var data: DataOption
        @Flag(help: "Revoke the link (a new one can be made afterwards).") var revoke = false
        @Flag(help: "Replace the link with a new one.") var rotate = false
        @Argument(help: "The collection, such as /public/holidays, or a view, such as views/team.") var target: String

        func run() async throws {
            let store = try TargetStore(directory: data.data)
            let view = target.hasPrefix("views/") ? String(target.dropFirst(6)) : nil
            if revoke {
                if let view { try store.revokeViewSecret(for: view) } else { try store.setSecret(nil, for: target) }
                print("revoked the secret link of \(target)")
                return
            }
            if let view {
                print("/views/\(view).ics?key=\(try store.viewSecret(for: view, rotate: rotate))")
            } else {
                print("/calendars\(target).ics?key=\(try store.secret(for: target, rotate: rotate))")
            }
        }
    }

    struct Reindex: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Re-derive the instance index of a collection (or of every one) from its entities, print where the stored rows drifted, and write the derived rows.",
            discussion: """
                Each entity is expanded over the window it is indexed over (one stored before the index existed, \
                over the horizon around now) and compared with its stored rows. Lines: 'missing' (derived, not stored), \
                'stale' (stored, not derived), 'not indexed', 'unreadable'; then one summary line per collection. \
                Safe while a server runs on the same data. Exit status: 0 when the index was right (or, without \
                --check, has been corrected), 1 when --check found drift, 2 for bad usage or an unknown collection.
                """
        )
        @OptionGroup var data: DataOption
        @Flag(help: "Only report the drift; write nothing.") var check = false
        @Argument(help: "The collection, such as /public/holidays (default: every collection).") var path: String?

        func run() async throws {
            let store = try TargetStore(directory: data.data)
            let reports: [IndexCheck.Report]
            do {
                reports = try await IndexCheck(store: store).run(collection: path, fix: !check, now: Date())
            } catch let error as TargetError {
                FileHandle.standardError.write(Data("outboard-target: \(error)\n".utf8))
                throw ExitCode(2)
            }
            for line in reports.flatMap(\.lines) { print(line) }
            if check, reports.contains(where: { !$0.drifts.isEmpty }) { throw ExitCode(1) }
        }
    }
}
