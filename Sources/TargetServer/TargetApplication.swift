import CalendarModel
import CalWS
import Foundation
import GRDB
import Hummingbird
import ServerSupport
import Logging
import NIOCore
import SafeXML

/// What went wrong setting the server up.
public enum TargetError: Error, CustomStringConvertible {
    case config(String)
    public var description: String {
        switch self {
        case .config(let m): m
        }
    }
}

/// How `outboard-target serve` runs.
public struct TargetConfiguration: Sendable {
    public var dataDirectory: String
    public var host: String
    public var port: Int
    public var tokens: TokenTable
    /// The largest SOAP body read; a larger one is refused with 413 before it is parsed.
    public var maxBodyBytes: Int
    /// How far around each write the instance index expands the entity (default 42 days back,
    /// 400 days ahead); availability outside it is expanded on the fly.
    public var indexHorizon: IndexHorizon
    /// Whether `serve` keeps the index covering its horizon in the background: a round at start
    /// (indexing entities stored before the index) and one a day (`IndexUpkeepService`).
    public var indexUpkeep = true
    /// The views served at `GET /views/NAME.ics` and usable as availability members.
    public var views: ViewSet
    /// Seconds; every published feed says it as REFRESH-INTERVAL and X-PUBLISHED-TTL (default 1 hour).
    public var refreshInterval: Int64
    /// The clock busy-only feeds anchor their window at (tests set it).
    public var now: @Sendable () -> Date

    public init(
        dataDirectory: String = "./.outboard-target", host: String = "127.0.0.1", port: Int = 8765,
        tokens: TokenTable = TokenTable(), maxBodyBytes: Int = 64 << 20, indexHorizon: IndexHorizon = .standard,
        views: ViewSet = ViewSet(), refreshInterval: Int64 = 3600, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.tokens = tokens
        self.maxBodyBytes = maxBodyBytes
        self.indexHorizon = indexHorizon
        self.views = views
        self.refreshInterval = refreshInterval
        self.now = now
    }
}

/// Builds the reference target server: `POST /calws` (CalWS-SOAP), `GET /calendars/PATH.ics`
/// (each collection published as iCalendar with a strong ETag, in full or `?view=busy`),
/// `GET /views/NAME.ics` (views), `POST /availability` (free/busy answers from the instance
/// index), `GET /health`.
/// `onRunning` is told the port actually bound (useful with port 0).
public func buildTargetApplication(
    _ config: TargetConfiguration, logger: Logger,
    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let store = try TargetStore(directory: config.dataDirectory)
    let metrics = TargetMetrics()
    let onUnreadable: @Sendable (String, String) -> Void = { href, reason in
        // One entity the store cannot read back (stored by an older version, or edited by hand)
        // is left out of answers and feeds; the collection stays served.
        logger.error(
            "stored entity cannot be read back; it is left out",
            metadata: ["entity.href": "\(href)", "error": "\(reason)"])
        metrics.unreadable()
    }
    let service = TargetService(
        store: store, horizon: config.indexHorizon, views: config.views, onUnreadable: onUnreadable)
    let router = Router()
    router.add(middleware: RequestLogMiddleware(.debug))

    router.get("metrics") { _, _ -> Response in
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }

    router.get("health") { _, _ -> Response in
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}\n")))
    }

    registerCalWS(on: router, config: config, service: service, metrics: metrics)

    AvailabilityEndpoint.register(
        on: router, tokens: config.tokens, views: config.views, store: store, onUnreadable: onUnreadable)

    FeedEndpoint(config: config, store: store, onUnreadable: onUnreadable).register(on: router)

    CalDAVEndpoint(config: config, service: service).register(on: router)

    let upkeep = IndexUpkeepService(
        upkeep: IndexUpkeep(store: store, horizon: config.indexHorizon, onUnreadable: onUnreadable), logger: logger)
    let (host, port) = (config.host, config.port)
    return Application(
        router: router, configuration: .init(address: .hostname(host, port: port), serverName: "outboard-target"),
        services: config.indexUpkeep ? [upkeep] : [],
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
}

/// `POST /calws`: the bearer token, the body within its limit, the request decoded, every
/// collection it touches granted at the level the operation needs, then the operation.
private func registerCalWS<Context: RequestContext>(
    on router: Router<Context>, config: TargetConfiguration, service: TargetService, metrics: TargetMetrics
) {
    router.post("calws") { request, context -> Response in
        guard let grants = config.tokens.grants(forAuthorization: request.headers[.authorization]) else {
            metrics.refused("unauthorized")
            return Response(
                status: .unauthorized, headers: [.wwwAuthenticate: "Bearer", .contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: "a bearer token is required\n")))
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: config.maxBodyBytes)
        } catch {
            metrics.refused("too-large")
            return soap(
                .contentTooLarge, MessageCodec.fault(code: "Client", "the body exceeds \(config.maxBodyBytes) bytes"))
        }
        let calws: CalWSRequest
        do {
            calws = try MessageCodec.decodeRequest(Array(buffer: body), reader: SafeXMLReader())
        } catch {
            context.logger.info("unreadable CalWS request", metadata: ["error": "\(error)"])
            metrics.refused("unreadable")
            return soap(
                .internalServerError, MessageCodec.fault(code: "Client", "the request cannot be read: \(error)"))
        }
        // Every collection the request touches must be granted at the level the operation needs
        // (reads: read, writes: write), or nothing is done (403).
        if let (denied, message) = Access.needs(of: calws).lazy.compactMap({ need in
            grants.refusal(need.level, need.collection, views: config.views, for: calws.operation).map {
                (need.collection, $0)
            }
        }).first {
            let response = Operation.failure(calws, .forbidden, message, status: .noAccess)
            metrics.refused("forbidden")
            context.logger.info("token not granted", metadata: ["collection": "\(denied)", "op": "\(calws.operation)"])
            return soap(.forbidden, MessageCodec.encode(response))
        }
        let started = ContinuousClock.now
        let response = await service.handle(calws, grants: grants)
        let elapsed = ContinuousClock.now - started
        metrics.record(
            calws, response,
            nanoseconds: elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        context.logger.debug(
            "calws",
            metadata: [
                "op": "\(calws.operation)", "status": "\(response.result.status.rawValue)",
                "error": "\(response.result.error.map { "\($0)" } ?? "")",
            ])
        return soap(.ok, MessageCodec.encode(response))
    }
}

private func soap(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
    Response(
        status: status, headers: [.contentType: "text/xml; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// The collections a request reads or writes, and the access level each needs.
enum Access {
    static func needs(of r: CalWSRequest) -> [(collection: String, level: AccessLevel)] {
        switch r.body {
        case .getProperties(let href): href == "/" ? [] : [(href, .freebusy)]
        case .calendarQuery(let q): [(q.href, .read)]
        case .calendarMultiget(let href, let hrefs, _):
            ([href] + hrefs.compactMap { Paths.entity($0)?.0 }).map { ($0, .read) }
        case .fetchItem(let href): [(Paths.entity(href)?.0 ?? href, .read)]
        case .deleteItem(let href), .updateItem(let href, _, _): [(Paths.entity(href)?.0 ?? href, .write)]
        case .addItem(let href, _): [(href, .write)]
        case .freebusyReport(let href, _): [(View.target(ofHref: href), .freebusy)]
        case .reportFreshness(let f): [(f.href, .write)]
        case .multiOp(let ops): ops.flatMap(needs)
        }
    }
}
