import Engine
import EngineAdapters
import EngineTesting
import Filters
import Foundation
import Hummingbird
import NIOCore
import Testing
import TestSupport

/// Radicale behind a proxy that answers `sync-collection` as a CalDAV server without WebDAV sync
/// does (403, `supported-report`) and passes every other request on: `CalDAVSource` lists such a
/// collection by PROPFIND and fetches only the members whose ETag changed.
final class NoSyncProxy: Sendable {
    let task: Task<Void, Error>
    let base: String

    private init(task: Task<Void, Error>, port: Int) {
        self.task = task
        base = "http://127.0.0.1:\(port)"
    }

    static func start(forwardingTo upstream: String) async throws -> NoSyncProxy {
        let router = Router()
        let forwarded: Set<String> = ["authorization", "content-type", "depth", "if-match", "if-none-match"]
        for name in ["GET", "PUT", "DELETE", "PROPFIND", "REPORT", "MKCOL", "MKCALENDAR"] {
            guard let method = HTTPRequest.Method(name) else { continue }
            router.on("**", method: method) { request, _ -> Response in
                var request = request
                let body = Array(buffer: try await request.collectBody(upTo: 64 << 20))
                if name == "REPORT", String(decoding: body, as: UTF8.self).contains("sync-collection") {
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
                if let etag = answer.header("etag") { out[.eTag] = etag }
                return Response(
                    status: .init(code: answer.status), headers: out,
                    body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
            }
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) })
        let task = Task { try await app.runService() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return NoSyncProxy(task: task, port: port)
    }

    func stop() { task.cancel() }
}

@Suite struct NoSyncCollectionTests {
    /// The server as the proxy shows it: its base URL stands in for Radicale's.
    struct Behind {
        let radicale: CalDAVServerProcess
        let proxy: NoSyncProxy

        static func start() async throws -> Behind {
            let radicale = try CalDAVServerProcess.start(.radicale)
            return Behind(radicale: radicale, proxy: try await NoSyncProxy.start(forwardingTo: radicale.base))
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
        let behind = try await Behind.start()
        try behind.radicale.makeCalendar("/outboard/contract/")
        let published = CalDAVSourceTests.Published()
        try await requirement.check(
            .init(
                source: CalDAVSource(batchSize: 2), subscription: try behind.subscription("caldav"),
                publish: { try published.publish($0, to: behind.radicale, at: "/outboard/contract/") },
                refused: try behind.subscription("refused", password: "wrong"),
                small: try behind.subscription("small", extra: "max-feed-bytes: 1kB"), stop: { behind.stop() }))
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
