import FileCommands
import Foundation
import OutboardCLI
import Testing

/// A configuration in a temporary directory: `Subscriptions/`, `Filters/`, a state directory,
/// a feed file and a token file, for the commands that read configuration.
struct ConfigFolder {
    let root: URL
    var subscriptions: URL { root.appendingPathComponent("Subscriptions") }
    var filters: URL { root.appendingPathComponent("Filters") }
    var feed: URL { root.appendingPathComponent("feed.ics") }
    var token: URL { root.appendingPathComponent("token") }
    /// The options every such command takes.
    var options: [String] {
        [
            "--subscriptions", subscriptions.path, "--filters", filters.path, "--state",
            root.appendingPathComponent("state").path,
        ]
    }

    init(feed: String = sample) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("outboard-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("Subscriptions"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("Filters"), withIntermediateDirectories: true)
        try feed.write(to: root.appendingPathComponent("feed.ics"), atomically: true, encoding: .utf8)
        try "secret-token\n".write(to: root.appendingPathComponent("token"), atomically: true, encoding: .utf8)
    }

    /// Writes `Subscriptions/ID.yaml`: the feed file, the target (default: one nobody listens on), and the
    /// token file; `before` goes first (to move the target's lines down).
    func subscription(
        _ id: String, collection: String, before: String = "", target: String = "http://127.0.0.1:1/calws"
    ) throws {
        try """
        \(before)source:
          url: \(feed.absoluteString)
        target:
          url: \(target)
          collection: \(collection)
          token-file: \(token.path)

        """.write(to: subscriptions.appendingPathComponent("\(id).yaml"), atomically: true, encoding: .utf8)
    }

    func filter(_ name: String, _ text: String) throws {
        try text.write(to: filters.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
    }
}

@Suite struct CheckCommandTests {
    @Test func aValidConfigurationIsCountedAndExitsZero() async throws {
        let config = try ConfigFolder()
        try config.subscription("a", collection: "/a")
        try config.subscription("b", collection: "/b")
        try config.filter("strip-alarms", "stage: input\nrules:\n  - remove-component: VALARM\n")
        let r = await outboard(["check"] + config.options)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out == "2 subscriptions and 1 filter are valid\n")
        #expect(r.err == "")
    }

    /// Every problem, each as file:line: message; two subscriptions writing one collection are
    /// reported at the second one's `target.collection`.
    @Test func everyProblemIsPrintedWithItsFileAndLine() async throws {
        let config = try ConfigFolder()
        try config.subscription("a", collection: "/shared")
        try config.subscription("b", collection: "/shared", before: "refresh: 1h\n")
        try config.filter("bad", "stage: input\nrules:\n  - remove-propery: X-FOO\n")
        let r = await outboard(["check"] + config.options)
        #expect(r.code == 1)
        #expect(r.out == "")
        let subs = config.subscriptions.path
        let filters = config.filters.path
        #expect(
            r.err == """
                \(filters)/bad.yaml:3: rule 1 has no action; give exactly one of: remove-component, remove-property, remove-parameter, \
                rename-property, set, add, default, rewrite, map, drop
                \(subs)/b.yaml:6: writes the same collection /shared at http://127.0.0.1:1/calws as a (\(subs)/a.yaml); \
                give each subscription its own collection

                """)
    }
}

/// `outboard ARGS` with the arguments as an array.
func outboard(_ args: [String], stdin: String = "") async -> (code: Int32, out: String, err: String) {
    let console = Console.recording(stdin: Array(stdin.utf8))
    let code = await Console.$current.withValue(console) { await OutboardCommand.run(arguments: args) }
    return (code, console.output, console.errorOutput)
}
