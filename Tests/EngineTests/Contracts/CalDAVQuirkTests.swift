import Engine
import EngineAdapters
import EngineTesting
import Filters
import Foundation
import Hummingbird
import NIOCore
import Testing
import TestSupport

/// Radicale behind a proxy that makes it answer as other CalDAV servers do, passing everything
/// else on: without sync-collection (403, `supported-report`, as a server without WebDAV sync),
/// cutting a sync-collection answer short (its last member left out, a 507 for the collection,
/// and the server's final token, which skips what was left out), or answering writes without an
/// ETag (as Google does).
final class CalDAVProxy: Sendable {
    struct Quirks: OptionSet, Sendable {
        let rawValue: Int
        static let noSyncCollection = Quirks(rawValue: 1)
        static let truncatesSync = Quirks(rawValue: 2)
        static let noETagOnWrites = Quirks(rawValue: 4)
    }

    let task: Task<Void, Error>
    let base: String

    private init(task: Task<Void, Error>, port: Int) {
        self.task = task
        base = "http://127.0.0.1:\(port)"
    }

    static func start(forwardingTo upstream: String, _ quirks: Quirks) async throws -> CalDAVProxy {
        let router = Router()
        let forwarded: Set<String> = ["authorization", "content-type", "depth", "if-match", "if-none-match"]
        for name in ["GET", "PUT", "DELETE", "PROPFIND", "REPORT", "MKCOL", "MKCALENDAR"] {
            guard let method = HTTPRequest.Method(name) else { continue }
            router.on("**", method: method) { request, _ -> Response in
                var request = request
                let body = Array(buffer: try await request.collectBody(upTo: 64 << 20))
                let sync = name == "REPORT" && String(decoding: body, as: UTF8.self).contains("sync-collection")
                if sync, quirks.contains(.noSyncCollection) {
                    return Response(
                        status: .forbidden, headers: [.contentType: "application/xml"],
                        body: .init(
                            byteBuffer: ByteBuffer(string: "<d:error xmlns:d=\"DAV:\"><d:supported-report/></d:error>"))
                    )
                }
                let headers = request.headers.filter { forwarded.contains($0.name.canonicalName) }.map {
                    ($0.name.rawName, $0.value)
                }
                let answer = try await CurlHTTPClient().send(
                    EngineAdapters.HTTPRequest(
                        method: name, url: upstream + request.uri.path, headers: headers,
                        body: body.isEmpty ? nil : body))
                var out: HTTPFields = [.contentType: answer.header("content-type") ?? "application/xml"]
                if let etag = answer.header("etag"), !(quirks.contains(.noETagOnWrites) && name == "PUT") {
                    out[.eTag] = etag
                }
                var bytes = answer.body
                if sync, quirks.contains(.truncatesSync) { bytes = Self.cutShort(bytes, collection: request.uri.path) }
                return Response(
                    status: .init(code: answer.status), headers: out, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) })
        let task = Task { try await app.runService() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return CalDAVProxy(task: task, port: port)
    }

    /// Radicale's multistatus with its last member's response left out and a 507 for the
    /// collection in its place, when it lists two members or more.
    static func cutShort(_ body: [UInt8], collection: String) -> [UInt8] {
        let text = String(decoding: body, as: UTF8.self)
        guard text.components(separatedBy: "<response>").count > 2,
            let last = text.range(of: "<response>", options: .backwards),
            let end = text.range(of: "</response>", range: last.upperBound..<text.endIndex)
        else { return body }
        let insufficient =
            "<response><href>\(collection)</href><status>HTTP/1.1 507 Insufficient Storage</status></response>"
        return Array(text.replacingCharacters(in: last.lowerBound..<end.upperBound, with: insufficient).utf8)
    }

    func stop() { task.cancel() }
}

@Suite struct CalDAVQuirkTests {
    /// The server as the proxy shows it: its base URL stands in for Radicale's.
    struct Behind {
        let radicale: CalDAVServerProcess
        let proxy: CalDAVProxy

        static func start(_ quirks: CalDAVProxy.Quirks = .noSyncCollection) async throws -> Behind {
            let radicale = try CalDAVServerProcess.start(.radicale)
            return Behind(radicale: radicale, proxy: try await CalDAVProxy.start(forwardingTo: radicale.base, quirks))
        }

        func subscription(_ id: String, password: String = CalDAVServerProcess.password, extra: String = "") throws
            -> Subscription
        {
            try CalDAVSourceTests.subscription(
                id, url: "\(proxy.base)/outboard/contract/", password: password, extra: extra)
        }

        func stop() {
            proxy.stop()
            radicale.stop()
        }
    }

    @Test(arguments: FeedContract.requirements)
    func calDAVSourceAgainstAServerWithoutSyncCollection(_ requirement: FeedContract.Requirement) async throws {
        try await check(requirement, .noSyncCollection)
    }

    func check(_ requirement: FeedContract.Requirement, _ quirks: CalDAVProxy.Quirks) async throws {
        let behind = try await Behind.start(quirks)
        try behind.radicale.makeCalendar("/outboard/contract/")
        let published = CalDAVSourceTests.Published()
        try await requirement.check(
            .init(
                source: CalDAVSource(batchSize: 2), subscription: try behind.subscription("caldav"),
                publish: { try published.publish($0, to: behind.radicale, at: "/outboard/contract/") },
                refused: try behind.subscription("refused", password: "wrong"),
                small: try behind.subscription("small", extra: "max-feed-bytes: 1kB"), stop: { behind.stop() }))
    }

    /// Its answers cut short, with a token that skips what they left out: the first pass checks
    /// the listing against PROPFIND's and adds every member; a later one does not trust the cut
    /// changes and compares the members by ETag. Nothing is lost.
    @Test func aServerThatCutsItsListingsShortLosesNothing() async throws {
        let behind = try await Behind.start(.truncatesSync)
        defer { behind.stop() }
        try behind.radicale.makeCalendar("/outboard/contract/")
        let published = CalDAVSourceTests.Published()
        var events = (1...5).map {
            FeedContract.Event(href: "/c/m\($0).ics", uid: "m\($0)@club", summary: "Match \($0)")
        }
        try published.publish(events, to: behind.radicale, at: "/outboard/contract/")
        let s = try behind.subscription("club")
        let store = InMemoryStateStore()
        let target = InMemoryTarget()
        func pass() async -> SyncReport {
            await SyncPass(
                subscription: s, filters: FilterPipeline([]), store: store, target: target, source: CalDAVSource()
            ).run()
        }
        let first = await pass()
        #expect(first.succeeded && first.added.count == 5, "\(first.error ?? "")")
        events[1].summary = "Match 2 (moved)"
        events[3].summary = "Match 4 (moved)"
        events.append(FeedContract.Event(href: "/c/m6.ics", uid: "m6@club", summary: "Match 6"))
        try published.publish(events, to: behind.radicale, at: "/outboard/contract/")
        let second = await pass()
        #expect(second.succeeded, "\(second.error ?? "")")
        #expect(second.added == ["m6@club"] && Set(second.updated.map(\.key)) == ["m2@club", "m4@club"], "\(second)")
        #expect(second.diagnostics.contains { $0.contains("cut its answer short") })
        #expect(second.settledUnparsed == 3, "the others were compared by ETag")
    }

    @Test func eachPassListsByPROPFINDAndFetchesOnlyWhatChanged() async throws {
        let behind = try await Behind.start()
        defer { behind.stop() }
        try behind.radicale.makeCalendar("/outboard/contract/")
        let published = CalDAVSourceTests.Published()
        var events = (1...4).map {
            FeedContract.Event(href: "/c/m\($0).ics", uid: "m\($0)@club", summary: "Match \($0)")
        }
        try published.publish(events, to: behind.radicale, at: "/outboard/contract/")
        let s = try behind.subscription("club")
        let store = InMemoryStateStore()
        let target = InMemoryTarget()
        func pass() async -> SyncReport {
            await SyncPass(
                subscription: s, filters: FilterPipeline([]), store: store, target: target, source: CalDAVSource()
            ).run()
        }
        #expect(await pass().added.count == 4)
        #expect(try store.feed("club").position == .token(""), "the collection gives no token")
        let before = behind.radicale.requests().count
        #expect(await pass().notModified)
        #expect(Array(behind.radicale.requests().dropFirst(before)) == ["PROPFIND /outboard/contract/"])
        events[2].summary = "Match 3 (moved)"
        events.removeFirst()
        try published.publish(events, to: behind.radicale, at: "/outboard/contract/")
        let r = await pass()
        #expect(r.updated.map(\.key) == ["m3@club"] && r.deleted == ["m1@club"] && r.settledUnparsed == 2, "\(r)")
    }
}

/// `CalDAVTarget` against Radicale behind a proxy that strips the ETag from every PUT's answer
/// (as Google's CalDAV does): each write is followed by a GET for its ETag, and the contract holds.
@Suite struct CalDAVTargetWithoutETagsTests {
    @Test(arguments: TargetContract.requirements)
    func calDAVTargetWhoseServerAnswersWritesWithoutAnETag(_ requirement: TargetContract.Requirement) async throws {
        let radicale = try CalDAVServerProcess.start(.radicale)
        let proxy = try await CalDAVProxy.start(forwardingTo: radicale.base, .noETagOnWrites)
        try radicale.send("MKCOL", "/c/")
        func target(_ user: String) -> CalDAVTarget? {
            CalDAVTarget(
                url: proxy.base,
                authorization: "Basic " + Data("\(user):\(CalDAVServerProcess.password)".utf8).base64EncodedString(),
                maxEntityBytes: 1 << 20)
        }
        try await requirement.check(
            .init(
                target: try #require(target(CalDAVServerProcess.user)), reader: target(CalDAVServerProcess.reader),
                maxEntityBytes: 1 << 20,
                stop: {
                    proxy.stop()
                    radicale.stop()
                }))
    }
}
