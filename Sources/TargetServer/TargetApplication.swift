import CalendarModel
import CalWS
import Foundation
import GRDB
import Hummingbird
import ServerSupport
import Logging
import NIOCore
import SafeXML

/// Bearer tokens and what each may reach.
public struct TokenTable: Sendable {
    public var entries: [String: Grants]

    public init(entries: [String: Grants] = [:]) {
        self.entries = entries
    }

    /// Reads a tokens file: one token per line, then the collections it is granted (`*` for all);
    /// `#` starts a comment.
    ///
    ///     s3cr3t-athletics  /public/athletics /public/holidays
    ///     admin-token       *
    public static func load(file: String) throws -> TokenTable {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw TargetError.config("cannot read the tokens file \(file)")
        }
        var table = TokenTable()
        for (n, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let token = words.first else { continue }
            guard words.count > 1 else {
                throw TargetError.config(
                    "\(file):\(n + 1): token without collections (give paths such as /public/holidays, or *)")
            }
            var grants = Grants()
            for w in words.dropFirst() {
                if w == "*" {
                    grants.all = true
                } else if Paths.isCollection(w) {
                    grants.collections.append(w)
                } else {
                    throw TargetError.config(
                        "\(file):\(n + 1): \"\(w)\" is not a collection path such as /public/holidays")
                }
            }
            table.entries[token] = grants
        }
        return table
    }

    func grants(forAuthorization header: String?) -> Grants? {
        BearerToken.parse(header).flatMap { entries[$0] }
    }
}

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

    public init(
        dataDirectory: String = "./.outboard-target", host: String = "127.0.0.1", port: Int = 8765,
        tokens: TokenTable = TokenTable(), maxBodyBytes: Int = 64 << 20, indexHorizon: IndexHorizon = .standard
    ) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.tokens = tokens
        self.maxBodyBytes = maxBodyBytes
        self.indexHorizon = indexHorizon
    }
}

/// Builds the reference target server: `POST /calws` (CalWS-SOAP), `GET /calendars/PATH.ics`
/// (each collection published as iCalendar with a strong ETag), `POST /availability` (free/busy
/// answers from the instance index), `GET /health`.
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
    let service = TargetService(store: store, horizon: config.indexHorizon, onUnreadable: onUnreadable)
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
        // Every collection the request touches must be granted, or nothing is done (403).
        if let denied = Access.collections(of: calws).first(where: { !grants.allows($0) }) {
            let response = Operation.failure(
                calws, .forbidden, "this token is not granted \(denied)", status: .noAccess)
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

    AvailabilityEndpoint.register(on: router, tokens: config.tokens, store: store, onUnreadable: onUnreadable)

    router.get("calendars/**") { request, context -> Response in
        let rest = context.parameters.getCatchAll().joined(separator: "/")
        guard rest.hasSuffix(".ics") else { return Response(status: .notFound) }
        let collection = "/" + rest.dropLast(4)
        guard Paths.isCollection(collection) else { return Response(status: .notFound) }
        let secret = request.uri.queryParameters.get("key")
        let bearer = config.tokens.grants(forAuthorization: request.headers[.authorization])
        let inm = request.headers[.ifNoneMatch]
        // Access and the ETag are decided before the entities are read: a refusal or a 304 (what
        // polling calendar apps get most) reads no calendar data.
        let answer = try await store.db.read { db -> FeedAnswer in
            let stored = try StoreSQL.secret(db, collection)
            guard bearer?.allows(collection) == true || (stored != nil && secret == stored) else { return .refused }
            guard let revision = try StoreSQL.revision(db, collection) else { return .missing }
            let etag = "\"r\(revision)\""
            if let inm,
                inm.split(separator: ",").contains(where: {
                    $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "") == etag
                })
            {
                return .notModified(etag: etag)
            }
            return .body(etag: etag, try StoreSQL.entities(db, collection: collection))
        }
        let etag: String
        let entities: [StoredEntity]
        switch answer {
        case .refused:
            return Response(
                status: bearer == nil && secret == nil ? .unauthorized : .forbidden,
                headers: [.wwwAuthenticate: "Bearer"])
        case .missing: return Response(status: .notFound)
        case .notModified(let tag): return Response(status: .notModified, headers: [.eTag: tag])
        case .body(let tag, let stored): (etag, entities) = (tag, stored)
        }
        let bytes = Publisher.calendar(collection: collection, entities: entities, onUnreadable: onUnreadable)
        return Response(
            status: .ok,
            headers: [.contentType: "text/calendar; charset=utf-8", .eTag: etag, .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    let upkeep = IndexUpkeepService(
        upkeep: IndexUpkeep(store: store, horizon: config.indexHorizon, onUnreadable: onUnreadable), logger: logger)
    let (host, port) = (config.host, config.port)
    return Application(
        router: router, configuration: .init(address: .hostname(host, port: port), serverName: "outboard-target"),
        services: config.indexUpkeep ? [upkeep] : [],
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
}

private func soap(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
    Response(
        status: status, headers: [.contentType: "text/xml; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// What a published feed's request gets, decided in one read.
enum FeedAnswer {
    case refused, missing
    case notModified(etag: String)
    case body(etag: String, [StoredEntity])
}

/// The collections a request reads or writes.
enum Access {
    static func collections(of r: CalWSRequest) -> [String] {
        switch r.body {
        case .getProperties(let href): href == "/" ? [] : [href]
        case .calendarQuery(let q): [q.href]
        case .calendarMultiget(let href, let hrefs, _): [href] + hrefs.compactMap { Paths.entity($0)?.0 }
        case .fetchItem(let href), .deleteItem(let href), .updateItem(let href, _, _): [Paths.entity(href)?.0 ?? href]
        case .addItem(let href, _), .freebusyReport(let href, _): [href]
        case .reportFreshness(let f): [f.href]
        case .multiOp(let ops): ops.flatMap(collections)
        }
    }
}

/// A collection as one subscribable iCalendar feed.
enum Publisher {
    static func calendar(collection: String, entities: [StoredEntity], onUnreadable: (String, String) -> Void)
        -> [UInt8]
    {
        var zones: [ICalComponent] = []
        var seen = Set<String>()
        var components: [ICalComponent] = []
        let read = SharedZones()
        for e in entities {
            guard let cal = Entities.readable(e, zones: read, onUnreadable) else { continue }
            for c in cal.components {
                if c.name == "VTIMEZONE" {
                    if seen.insert(c.property("TZID")?.text ?? "").inserted { zones.append(c) }
                } else {
                    components.append(c)
                }
            }
        }
        let props = [
            ICalProperty("VERSION", .text("2.0")),
            ICalProperty("PRODID", .text("-//Outboard//Reference Target Server//EN")),
            ICalProperty("X-WR-CALNAME", .unknown(String(collection.split(separator: "/").last ?? ""))),
        ]
        return ICalWriter.write([ICalComponent(name: "VCALENDAR", properties: props, components: zones + components)])
    }
}
