import CalendarModel
import Engine
import EngineAdapters
import EngineTesting
import Filters
import Foundation
import SyncCore
import Testing
import TestSupport
import YAMLConfig

/// Passes with CalDAV at either end, against real servers (Radicale and Xandikos), as an admin
/// runs them: a feed into a CalDAV collection, and one server's collection mirrored on another.
/// Radicale logs every request it serves, so the tests count what each pass sent.
@Suite struct CalDAVSyncTests {
    /// A subscription of `source` (the source mapping's lines) into the collection at `path`.
    static func subscription(
        _ id: String, source: String, into server: CalDAVServerProcess, path: String,
        password: String = CalDAVServerProcess.password
    ) throws -> Subscription {
        let secret = TargetProcess.temporaryDirectory().appendingPathComponent("password")
        try password.write(to: secret, atomically: true, encoding: .utf8)
        let auth =
            server.checksCredentials
            ? "  auth:\n    type: basic\n    username: \(CalDAVServerProcess.user)\n    password-file: \(secret.path)\n"
            : ""
        // Xandikos keeps each collection in a Git repository and takes one write at a time: others
        // are answered 423 (sent again) or, now and then, 500 (the write's fate unknown).
        let oneAtATime = server.kind == .xandikos ? "  writes-in-flight: 1\n" : ""
        let yaml = "source:\n\(source)target:\n  type: caldav\n  url: \(server.base + path)\n\(auth)\(oneAtATime)"
        return try SubscriptionLoader.load(id: id, text: yaml, file: "\(id).yaml", filters: [:], environment: [:]).get()
    }

    /// The source lines of a CalDAV collection on `server` (Radicale: with its credentials).
    static func caldavSource(_ server: CalDAVServerProcess, _ path: String) throws -> String {
        let secret = TargetProcess.temporaryDirectory().appendingPathComponent("password")
        try CalDAVServerProcess.password.write(to: secret, atomically: true, encoding: .utf8)
        return "  type: caldav\n  url: \(server.base + path)\n"
            + (server.checksCredentials
                ? "  auth:\n    type: basic\n    username: \(CalDAVServerProcess.user)\n    password-file: \(secret.path)\n"
                : "")
    }

    static func pass(_ s: Subscription, _ store: any ItemStateStore, target: (any CalendarTarget)? = nil) async throws
        -> SyncReport
    {
        var pass = try Composition.pass(s, filters: FilterPipeline([]), store: store)
        if let target { pass.target = target }
        return await pass.run()
    }

    /// The collection's events by UID: their SUMMARY.
    static func summaries(_ s: Subscription) async throws -> [String: String] {
        let entries = try await Composition.target(for: s).list(collection: s.targetCollection, withData: true)
        var all: [String: String] = [:]
        for e in entries {
            guard let uid = e.uid else { continue }
            #expect(all[uid] == nil, "\(uid) is in the collection once")
            all[uid] = e.calendar?.components.first { $0.name == "VEVENT" }?.property("SUMMARY")?.text ?? ""
        }
        return all
    }

    /// What `server` was sent while `body` ran, as "METHOD path" (Radicale only).
    static func sent(_ server: CalDAVServerProcess, during body: () async throws -> Void) async rethrows -> [String] {
        let before = server.requests().count
        try await body()
        return Array(server.requests().dropFirst(before))
    }

    @Test(arguments: CalDAVServerProcess.Kind.allCases)
    func aFeedIsMirroredIntoACalDAVCollectionByOnePUTPerChange(_ kind: CalDAVServerProcess.Kind) async throws {
        let nginx = try NginxProcess.start()
        defer { nginx.stop() }
        let server = try CalDAVServerProcess.start(kind)
        defer { server.stop() }
        try server.send("MKCOL", "/outboard/")
        try nginx.put("club.ics", feed((1...5).map { match($0) }))
        let s = try Self.subscription(
            "club", source: "  url: \(nginx.url("club.ics"))\n", into: server, path: "/outboard/club/")
        let store = InMemoryStateStore()

        // The collection does not exist yet: the first add makes it.
        let first = try await Self.pass(s, store)
        #expect(first.succeeded && first.added.count == 5, "\(first.error ?? "") \(first.failed) \(first.diagnostics)")
        #expect(try await Self.summaries(s).count == 5)

        let unchanged = try await Self.sent(server) {
            let r = try await Self.pass(s, store)
            #expect(r.notModified)
        }
        #expect(unchanged.isEmpty, "a feed that has not changed sends the target nothing: \(unchanged)")

        try nginx.put("club.ics", feed((1...5).map { match($0, summary: $0 == 2 ? "Match 2, moved" : nil) }))
        let changed = try await Self.sent(server) {
            let r = try await Self.pass(s, store)
            #expect(r.succeeded && r.updated.map(\.key) == ["match-2@club"], "\(r.error ?? "")")
        }
        if kind == .radicale {
            #expect(changed.filter { $0.hasPrefix("PUT ") } == ["PUT /outboard/club/match-2@club.ics"], "\(changed)")
            #expect(!changed.contains { $0.hasPrefix("GET ") }, "the copy came with the listing: \(changed)")
        }
        #expect(try await Self.summaries(s)["match-2@club"] == "Match 2, moved")

        try nginx.put("club.ics", feed((1...4).map { match($0, summary: $0 == 2 ? "Match 2, moved" : nil) }))
        let deleted = try await Self.pass(s, store)
        #expect(deleted.succeeded && deleted.deleted == ["match-5@club"], "\(deleted.error ?? "")")
        #expect(try await Self.summaries(s).keys.sorted() == (1...4).map { "match-\($0)@club" })
    }

    /// A target that lets someone edit the entity on the server just before the engine's first
    /// update of it arrives: the PUT is refused 412, the engine fetches the copy, diffs again
    /// and sends the update once more.
    struct EditedInBetween: CalendarTarget {
        var inner: CalDAVTarget
        var edit: @Sendable (String) throws -> Void
        var capabilities: TargetCapabilities { inner.capabilities }
        func list(collection: String, withData: Bool) async throws(TargetError) -> [TargetEntry] {
            try await inner.list(collection: collection, withData: withData)
        }
        func find(uid: String, in collection: String) async throws(TargetError) -> TargetEntry? {
            try await inner.find(uid: uid, in: collection)
        }
        func entry(href: String) async throws(TargetError) -> TargetEntry { try await inner.entry(href: href) }
        func entries(collection: String, hrefs: [String], withData: Bool) async throws(TargetError) -> [TargetEntry] {
            try await inner.entries(collection: collection, hrefs: hrefs, withData: withData)
        }
        func write(_ writes: [TargetWrite]) async -> [WriteOutcome] {
            for case .update(let href, _, _) in writes { try? edit(href) }
            return await inner.write(writes)
        }
        func reportFreshness(_ freshness: CollectionFreshness) async throws(TargetError) {}
        func describe(collection: String) async throws(TargetError) -> CollectionDescription? {
            try await inner.describe(collection: collection)
        }
    }

    @Test func anEditOnTheServerBetweenFetchAndWriteIsA412ThatIsFetchedDiffedAndSentAgain() async throws {
        let nginx = try NginxProcess.start()
        defer { nginx.stop() }
        let server = try CalDAVServerProcess.start(.radicale)
        defer { server.stop() }
        try server.makeCalendar("/outboard/club/")
        try nginx.put("club.ics", feed((1...3).map { match($0) }))
        let s = try Self.subscription(
            "club", source: "  url: \(nginx.url("club.ics"))\n", into: server, path: "/outboard/club/")
        let store = InMemoryStateStore()
        #expect(try await Self.pass(s, store).added.count == 3)

        try nginx.put("club.ics", feed((1...3).map { match($0, summary: $0 == 1 ? "Match 1, moved" : nil) }))
        let edited = feed([match(1, extra: ["COMMENT:edited on the server"])])
        let once = NSLock()
        nonisolated(unsafe) var done = false
        let target = EditedInBetween(inner: try #require(try Composition.target(for: s) as? CalDAVTarget)) { href in
            guard
                once.withLock({
                    !done
                        && {
                            done = true
                            return true
                        }()
                })
            else { return }
            try server.put(href, edited)
        }
        let sent = try await Self.sent(server) {
            let r = try await Self.pass(s, store, target: target)
            #expect(r.succeeded && r.updated.map(\.key) == ["match-1@club"] && r.failed.isEmpty, "\(r.failed)")
        }
        #expect(
            sent.filter { $0.hasPrefix("PUT /outboard/club/match-1") }.count == 3,
            "the edit, the 412, the retry: \(sent)")
        let copy = try await Composition.target(for: s).list(collection: s.targetCollection, withData: true)
            .first { $0.uid == "match-1@club" }?.calendar?.components.first { $0.name == "VEVENT" }
        #expect(copy?.property("SUMMARY")?.text == "Match 1, moved", "the feed's change is applied")
        #expect(copy?.property("COMMENT") == nil, "the copy is the feed's again")
    }

    @Test func wrongCredentialsFailThePassNamingTheSubscriptionAndWriteNothing() async throws {
        let nginx = try NginxProcess.start()
        defer { nginx.stop() }
        let server = try CalDAVServerProcess.start(.radicale)
        defer { server.stop() }
        try server.makeCalendar("/outboard/club/")
        try nginx.put("club.ics", feed((1...2).map { match($0) }))
        let s = try Self.subscription(
            "club", source: "  url: \(nginx.url("club.ics"))\n", into: server, path: "/outboard/club/",
            password: "wrong")
        let r = try await Self.pass(s, InMemoryStateStore())
        #expect(!r.succeeded && r.errorKind == .target, "\(r.errorKind.map { "\($0)" } ?? "") \(r.error ?? "")")
        #expect(r.error?.contains("club") == true && r.error?.contains("401") == true, "\(r.error ?? "")")
    }

    @Test func aKilledEngineMidPassConvergesWithNoDuplicate() async throws {
        let nginx = try NginxProcess.start()
        defer { nginx.stop() }
        let server = try CalDAVServerProcess.start(.radicale)
        defer { server.stop() }
        try server.makeCalendar("/outboard/big/")
        let big = Array(FeedGenerator(events: 300, seed: 5).text().utf8)
        try nginx.put("big.ics", big)
        let dir = TargetProcess.temporaryDirectory()
        let subs = dir.appendingPathComponent("Subscriptions")
        let filters = dir.appendingPathComponent("Filters")
        let state = dir.appendingPathComponent("state")
        for d in [subs, filters, state] {
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        }
        let secret = dir.appendingPathComponent("password")
        try CalDAVServerProcess.password.write(to: secret, atomically: true, encoding: .utf8)
        let yaml = """
            source:
              url: \(nginx.url("big.ics"))
            target:
              type: caldav
              url: \(server.base)/outboard/big/
              auth:
                type: basic
                username: \(CalDAVServerProcess.user)
                password-file: \(secret.path)

            """
        try yaml.write(to: subs.appendingPathComponent("big.yaml"), atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = TargetProcess.executable.deletingLastPathComponent().appendingPathComponent("outboard")
        p.arguments = ["sync", "big", "--subscriptions", subs.path, "--filters", filters.path, "--state", state.path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Killed once some 40 entities are on the server, while it writes the others.
        killWhen(p) { server.requests().count { $0.hasPrefix("PUT ") } >= 40 }
        let s = try SubscriptionLoader.load(id: "big", text: yaml, file: "big.yaml", filters: [:], environment: [:])
            .get()
        let partial = try await Self.summaries(s).count
        let items = ItemGrouper.items(from: try ICalParser().parse(big)).items
        #expect(partial >= 30 && partial < items.count, "killed mid-pass, with \(partial) of \(items.count) written")
        let r = try await Self.pass(s, try StatusStore(directory: state.path))
        #expect(r.succeeded && r.failed.isEmpty, "\(r.error ?? "") \(r.failed.prefix(3))")
        let held = try await Self.summaries(s)
        #expect(
            held.count == items.count && Set(held.keys) == Set(items.compactMap(\.uid)), "each item once, none lost")
    }
}

/// One CalDAV server's collection mirrored onto another (Radicale onto Radicale or Xandikos):
/// what changed travels by sync token, a split series and a cancelled instance arrive as the
/// field edits they are.
@Suite struct CalDAVMirrorTests {
    static let path = "/outboard/club/"

    /// A weekly training series from 2 March 2026, 18:00 UTC: its rule's end, more lines for the
    /// master, and overrides (their RECURRENCE-IDs, each moved an hour later or cancelled).
    static func training(
        _ uid: String = "training@club", start: String = "20260302T180000Z", end: String = "COUNT=10",
        master: [String] = [], moved: [String] = [], cancelled: [String] = []
    ) -> [UInt8] {
        var lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//club//EN", "BEGIN:VEVENT", "UID:\(uid)",
            "DTSTAMP:20260101T000000Z", "DTSTART:\(start)", "DURATION:PT1H30M", "RRULE:FREQ=WEEKLY;\(end)",
            "SUMMARY:Training",
        ]
        lines += master + ["END:VEVENT"]
        for id in moved + cancelled {
            lines += [
                "BEGIN:VEVENT", "UID:\(uid)", "DTSTAMP:20260101T000000Z", "RECURRENCE-ID:\(id)",
                "DTSTART:\(id.replacingOccurrences(of: "T180000Z", with: "T190000Z"))", "DURATION:PT1H30M",
                "SUMMARY:Training", cancelled.contains(id) ? "STATUS:CANCELLED" : "STATUS:CONFIRMED", "END:VEVENT",
            ]
        }
        lines.append("END:VCALENDAR")
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    struct Mirror {
        let source: CalDAVServerProcess
        let target: CalDAVServerProcess
        let subscription: Subscription
        let store = InMemoryStateStore()

        init(onto kind: CalDAVServerProcess.Kind) throws {
            source = try CalDAVServerProcess.start(.radicale)
            target = try CalDAVServerProcess.start(kind)
            try source.makeCalendar(CalDAVMirrorTests.path)
            try target.makeCalendar("/mirror/club/")
            subscription = try CalDAVSyncTests.subscription(
                "club", source: try CalDAVSyncTests.caldavSource(source, CalDAVMirrorTests.path), into: target,
                path: "/mirror/club/")
        }

        func put(_ name: String, _ body: [UInt8]) throws {
            #expect([201, 204].contains(try source.put(CalDAVMirrorTests.path + name, body)))
        }

        func pass() async throws -> SyncReport { try await CalDAVSyncTests.pass(subscription, store) }

        /// The target's copy of `uid`.
        func copy(_ uid: String) async throws -> ICalComponent? {
            try await Composition.target(for: subscription).list(
                collection: subscription.targetCollection, withData: true
            )
            .first { $0.uid == uid }?.calendar
        }

        func stop() {
            source.stop()
            target.stop()
        }
    }

    @Test(arguments: CalDAVServerProcess.Kind.allCases)
    func aCollectionIsMirroredOnAnotherServerByWhatChanged(_ kind: CalDAVServerProcess.Kind) async throws {
        let m = try Mirror(onto: kind)
        defer { m.stop() }
        for n in 1...3 { try m.put("match-\(n).ics", feed([match(n)])) }
        try m.put("training.ics", Self.training(moved: ["20260420T180000Z"]))
        let first = try await m.pass()
        #expect(first.succeeded && first.added.count == 4, "\(first.error ?? "") \(first.failed)")

        // Unchanged: one REPORT to the source, nothing to the target.
        var toTarget: [String] = []
        let unchanged = try await CalDAVSyncTests.sent(m.source) {
            toTarget = try await CalDAVSyncTests.sent(m.target) {
                let r = try await m.pass()
                #expect(r.notModified)
            }
        }
        #expect(unchanged == ["REPORT \(Self.path)"], "one sync-collection, no GET: \(unchanged)")
        #expect(toTarget.isEmpty, "\(toTarget)")

        // One changed field: one PUT; a deletion: one DELETE.
        try m.put("match-2.ics", feed([match(2, summary: "Match 2 (moved)")]))
        #expect(try m.source.send("DELETE", Self.path + "match-3.ics") == 200)
        toTarget = try await CalDAVSyncTests.sent(m.target) {
            let r = try await m.pass()
            #expect(
                r.updated.map(\.key) == ["match-2@club"] && r.deleted == ["match-3@club"],
                "\(r.error ?? "") \(r.failed)")
        }
        if kind == .radicale {
            #expect(
                toTarget.filter { !$0.hasPrefix("REPORT") }.sorted() == [
                    "DELETE /mirror/club/match-3@club.ics", "PUT /mirror/club/match-2@club.ics",
                ])
        }

        // A token the source no longer knows: its members compared by ETag, only the new one read.
        try m.source.forgetTokens(of: Self.path)
        try m.put("match-4.ics", feed([match(4)]))
        let expired = try await m.pass()
        #expect(expired.succeeded && expired.added == ["match-4@club"] && expired.updated.isEmpty, "\(expired)")
        #expect(expired.diagnostics.contains { $0.contains("could not say what changed since the stored token") })
        #expect(expired.settledUnparsed == 3, "the others were compared by ETag, not read")
    }

    /// "This and following" from the sixth training: the old series ends (COUNT becomes UNTIL,
    /// its moved eighth instance left behind by a careless client), a new series starts. Either
    /// may arrive first; each pass leaves a sane mirror, and the moved instance is in the new
    /// series only.
    @Test(arguments: [true, false])
    func aSplitSeriesArrivingInEitherOrder(_ oldFirst: Bool) async throws {
        let m = try Mirror(onto: .radicale)
        defer { m.stop() }
        try m.put("training.ics", Self.training(moved: ["20260420T180000Z"]))
        #expect(try await m.pass().added == ["training@club"])
        let ended = Self.training(end: "UNTIL=20260330T180000Z", moved: ["20260420T180000Z"])
        let next = Self.training(
            "training-2@club", start: "20260406T180000Z", end: "COUNT=5", moved: ["20260420T180000Z"])
        for step in oldFirst
            ? [("training.ics", ended), ("training-2.ics", next)] : [("training-2.ics", next), ("training.ics", ended)]
        {
            try m.put(step.0, step.1)
            let sent = try await CalDAVSyncTests.sent(m.target) {
                let r = try await m.pass()
                #expect(r.succeeded && r.failed.isEmpty, "\(r.error ?? "") \(r.failed)")
            }
            #expect(sent.count { $0.hasPrefix("PUT ") } == 1, "each piece is one write: \(sent)")
        }
        let old = try #require(try await m.copy("training@club"))
        #expect(old.components.filter { $0.name == "VEVENT" }.count == 1, "the old series lost its moved instance")
        #expect(
            old.components.first?.property("RRULE")?.value.map(ValueFormatter.icalString)
                == "FREQ=WEEKLY;UNTIL=20260330T180000Z")
        let new = try #require(try await m.copy("training-2@club"))
        #expect(new.components.filter { $0.recurrenceID != nil }.count == 1, "the new series has it")
    }

    @Test func aCancelledInstanceAndANewExdateAreFieldEdits() async throws {
        let m = try Mirror(onto: .radicale)
        defer { m.stop() }
        try m.put("training.ics", Self.training())
        #expect(try await m.pass().added == ["training@club"])
        try m.put("training.ics", Self.training(cancelled: ["20260309T180000Z"]))
        let cancelled = try await m.pass()
        #expect(cancelled.updated.map(\.key) == ["training@club"] && cancelled.deleted.isEmpty, "\(cancelled)")
        let copy = try #require(try await m.copy("training@club"))
        #expect(copy.components.contains { $0.recurrenceID != nil && $0.property("STATUS")?.text == "CANCELLED" })
        try m.put(
            "training.ics", Self.training(master: ["EXDATE:20260316T180000Z"], cancelled: ["20260309T180000Z"]))
        let excluded = try await m.pass()
        #expect(excluded.updated.map(\.key) == ["training@club"] && excluded.deleted.isEmpty, "\(excluded)")
        #expect(try await m.copy("training@club")?.components.first?.property("EXDATE") != nil)
    }
}
