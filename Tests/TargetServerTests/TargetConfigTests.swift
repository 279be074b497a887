import Foundation
@testable import TargetServer
import Testing
import TestSupport
import YAMLConfig

/// The views file and the tokens file: what they grant, and every problem with its file and line,
/// as `outboard-target check` prints them and `serve` refuses them.
@Suite struct TargetConfigTests {
    static let viewsText = """
        team:
          collections: [/people/alice, /people/bob]
          detail: busy
        everyone:
          collections:
            - /people/alice
            - /people/carol
        """

    @Test func aViewsFileGivesItsViews() throws {
        let views = try ViewSet.read(Self.viewsText, file: "views.yaml").get()
        #expect(views["team"] == View(name: "team", collections: ["/people/alice", "/people/bob"], detail: .busy))
        #expect(views["everyone"] == View(name: "everyone", collections: ["/people/alice", "/people/carol"]))
        #expect(views.views.count == 2)
    }

    @Test func everyProblemOfAViewsFileIsNamedWithItsLine() {
        let text = """
            team:
              collections: [/people/alice, people/bob, /people/alice]
              detail: some
              colour: red
            "bad name":
              collections: [/x]
            empty:
              collections: []
            none:
              detail: full
            """
        let (_, problems) = ViewSet.parse(text, file: "views.yaml")
        #expect(
            problems.map(\.description) == [
                "views.yaml:3: detail of view team is \"some\": expected full or busy",
                "views.yaml:2: collection \"people/bob\" of view team is not a collection path such as /people/alice",
                "views.yaml:2: collection /people/alice is named twice in view team",
                "views.yaml:4: unknown key \"colour\" in view team; expected one of: collections, detail",
                "views.yaml:5: view name \"bad name\" should be letters, digits, -, _, . or ~ (it is the NAME of /views/NAME.ics)",
                "views.yaml:8: view empty has no collections",
                "views.yaml:9: view none needs collections, a list of collection paths such as [/people/alice]",
            ])
        #expect(
            ViewSet.parse("team: [1, 2]\n", file: "v.yaml").1.map(\.description) == [
                "v.yaml:1: view team should be a mapping of keys to values"
            ])
        let syntax = ViewSet.parse("team:\n  collections: [/a\n", file: "v.yaml").1
        #expect(syntax.count == 1 && syntax[0].line > 0 && syntax[0].message.hasPrefix("not valid YAML"), "\(syntax)")
    }

    @Test func aTokensFileGivesLevelsPerCollectionAndView() throws {
        let views = try ViewSet.read(Self.viewsText, file: "views.yaml").get()
        let table = try TokenTable.read(
            """
            # token  grants
            writer   /people/carol
            reader   /people/alice:read /people/bob:write
            booking  /people/carol *:freebusy   # FreeBusyWrite
            team     views/team:freebusy
            """, file: "tokens", views: views
        ).get()
        let booking = try #require(table.entries["booking"])
        #expect(booking.level(of: "/people/carol") == .write)
        #expect(booking.level(of: "/people/carol/sub") == .write, "below a granted collection")
        #expect(booking.level(of: "/people/alice") == .freebusy)
        #expect(booking.allows(.freebusy, "views/team"))
        #expect(!booking.allows(.read, "/people/alice"))
        let reader = try #require(table.entries["reader"])
        #expect(reader.allows(.read, "/people/alice") && !reader.allows(.write, "/people/alice"))
        #expect(reader.allows(.write, "/people/bob"))
        #expect(reader.level(of: "/people/alicex") == nil, "a sibling with a longer name is not below it")
        let team = try #require(table.entries["team"])
        #expect(team.allows(.freebusy, view: try #require(views["team"])))
        #expect(!team.allows(.read, view: try #require(views["everyone"])))
        #expect(team.level(of: "/people/alice") == nil)
        #expect(table.entries["writer"]?.allows(.write, "/people/carol") == true)
    }

    @Test func everyProblemOfATokensFileIsNamedWithItsLine() throws {
        let views = try ViewSet.read(Self.viewsText, file: "views.yaml").get()
        let result = TokenTable.read(
            """
            lonely
            a  /people/alice:raed /people/bob:admin
            b  views/taem people/x
            a  *
            """, file: "tokens", views: views)
        guard case .failure(let problems) = result else {
            Issue.record("problems expected")
            return
        }
        #expect(
            problems.problems.map(\.description) == [
                "tokens:1: token without grants (give paths such as /public/holidays, /people/alice:read, or *)",
                "tokens:2: \"raed\" in \"/people/alice:raed\" is not an access level: write /people/alice (read and write), /people/alice:read or /people/alice:freebusy; did you mean read?",
                "tokens:2: \"admin\" in \"/people/bob:admin\" is not an access level: write /people/bob (read and write), /people/bob:read or /people/bob:freebusy",
                "tokens:3: \"views/taem\" names no view of the views file; did you mean team?",
                "tokens:3: \"people/x\" is not a collection path such as /public/holidays, a view (views/NAME) or *",
                "tokens:4: this token is already given on an earlier line",
            ])
    }

    @Test func checkReadsBothFilesAndTheRealBinaryPrintsEveryProblem() throws {
        let dir = TargetProcess.temporaryDirectory()
        let views = dir.appendingPathComponent("views.yaml")
        let tokens = dir.appendingPathComponent("tokens")
        try "team:\n  collections: [/people/alice]\n  detail: bsy\n".write(to: views, atomically: true, encoding: .utf8)
        try "t1 views/team:freebusy\nt2 views/other /people/alice:reed\n".write(
            to: tokens, atomically: true, encoding: .utf8)
        let expected = [
            "\(views.path):3: detail of view team is \"bsy\": expected full or busy",
            "\(tokens.path):2: \"views/other\" names no view of the views file",
            "\(tokens.path):2: \"reed\" in \"/people/alice:reed\" is not an access level: write /people/alice (read and write), /people/alice:read or /people/alice:freebusy; did you mean read?",
        ]
        #expect(TargetCheck.run(views: views.path, tokens: tokens.path).problems.map(\.description) == expected)
        let (status, output) = try Self.run(["check", "--views", views.path, "--tokens", tokens.path])
        #expect(status == 1)
        #expect(output == expected.joined(separator: "\n") + "\n")
        // Fixed, both files pass.
        try "team:\n  collections: [/people/alice]\n  detail: busy\n".write(
            to: views, atomically: true, encoding: .utf8)
        try "t1 views/team:freebusy\nt2 /people/alice:read\n".write(to: tokens, atomically: true, encoding: .utf8)
        #expect(
            try Self.run(["check", "--views", views.path, "--tokens", tokens.path]) == (0, "ok: 1 view, 2 tokens\n"))
        // serve refuses to start on a problem, printing it.
        try "t1 /people/alice:reed\n".write(to: tokens, atomically: true, encoding: .utf8)
        let (serveStatus, _) = try Self.run(["serve", "--port", "0", "--data", dir.path, "--tokens", tokens.path])
        #expect(serveStatus == 1)
    }

    @Test func theLinkCommandMakesRotatesAndRevokesAViewsSecretLink() throws {
        let dir = TargetProcess.temporaryDirectory()
        let (status, first) = try Self.run(["link", "--data", dir.path, "views/team"])
        #expect(status == 0)
        let key = try TargetStore(directory: dir.path).viewSecret(for: "team")
        #expect(first == "/views/team.ics?key=\(key)\n")
        #expect(try Self.run(["link", "--data", dir.path, "views/team"]) == (0, first), "the same link again")
        let (_, rotated) = try Self.run(["link", "--data", dir.path, "--rotate", "views/team"])
        #expect(rotated.hasPrefix("/views/team.ics?key=") && rotated != first)
        #expect(
            try Self.run(["link", "--data", dir.path, "--revoke", "views/team"])
                == (0, "revoked the secret link of views/team\n"))
        #expect(try Self.run(["link", "--data", dir.path, "views/team"]).1 != rotated, "a new one after revoking")
    }

    /// Runs `outboard-target ARGS` to completion (ended after 30 s): its exit status and
    /// standard output.
    static func run(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = TargetProcess.executable
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        try p.run()
        if done.wait(timeout: .now() + 30) == .timedOut {
            p.terminate()
            p.waitForExit()
        }
        return (p.terminationStatus, String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
}
