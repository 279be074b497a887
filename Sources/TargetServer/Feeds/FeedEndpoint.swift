import CalendarModel
import Foundation
import GRDB
import Hummingbird
import NIOCore
import Recurrence

/// `GET /calendars/PATH.ics` (a collection) and `GET /views/NAME.ics` (a view): published feeds,
/// in full or busy-only (`?view=busy`, or a view whose detail is busy), with a strong ETag
/// derived from the member collections' revisions and 304 on `If-None-Match`. A bearer token
/// must hold the feed at read (full) or freebusy (busy-only), or the request carry the feed's
/// secret link key (`?key=`).
struct FeedEndpoint: Sendable {
    var config: TargetConfiguration
    var store: TargetStore
    var onUnreadable: @Sendable (String, String) -> Void

    /// What a request names: a collection, or a view (nil when the views file has none of that name).
    enum Feed {
        case collection(String)
        case view(String, View?)

        /// X-WR-CALNAME: the collection's last segment, or the view's name.
        var name: String {
            switch self {
            case .collection(let path): String(path.split(separator: "/").last ?? "")
            case .view(let name, _): name
            }
        }

        /// Its collections (none for a view the views file lacks).
        var members: [String] {
            switch self {
            case .collection(let path): [path]
            case .view(_, let view): view?.collections ?? []
            }
        }

        /// How grants and refusals name it: the collection path, or `views/NAME`.
        var target: String {
            switch self {
            case .collection(let path): path
            case .view(let name, _): "views/" + name
            }
        }
    }

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("calendars/**") { request, context -> Response in
            let rest = context.parameters.getCatchAll().joined(separator: "/")
            guard rest.hasSuffix(".ics") else { return Response(status: .notFound) }
            let collection = "/" + rest.dropLast(4)
            guard Paths.isCollection(collection) else { return Response(status: .notFound) }
            return try await serve(.collection(collection), request)
        }
        router.get("views/:file") { request, context -> Response in
            let file = context.parameters.get("file") ?? ""
            let name = String(file.dropLast(4))
            guard file.hasSuffix(".ics"), View.isName(name) else { return Response(status: .notFound) }
            return try await serve(.view(name, config.views[name]), request)
        }
    }

    /// What a feed request gets, decided in one read.
    enum Answer {
        case refused(String?)
        case missing
        case notModified(etag: String)
        /// `refresh`: the seconds the feed asks calendar apps to poll at; `zones`: the zone
        /// names of the member collections that have one.
        case body(etag: String, [StoredEntity], refresh: Int64, zones: [String: String])
    }

    /// What a request asks for, read from its query and headers.
    struct Ask: Sendable {
        /// Nil for the full feed.
        var busy: BusyFeed?
        var zoneName: String
        var secret: String?
        var bearer: Grants?
        var ifNoneMatch: String?

        var level: AccessLevel { busy == nil ? .read : .freebusy }
    }

    func serve(_ feed: Feed, _ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var busy = false
        if case .view(_, let view?) = feed { busy = view.detail == .busy }
        switch query.get("view") {
        case nil, "full": break
        case "busy": busy = true
        case let other?: return Self.text(.badRequest, "view=\(other) is not a feed form: use view=busy (or none)")
        }
        let zoneName = query.get("zone") ?? "UTC"
        guard let zone = AvailabilityEndpoint.zone(named: zoneName) else {
            return Self.text(
                .badRequest, "zone=\(zoneName) is not a zone this server knows (an IANA name such as Europe/Berlin)")
        }
        let now = Int64(config.now().timeIntervalSince1970.rounded(.down))
        let ask = Ask(
            busy: busy ? BusyFeed(key: store.busyKey, horizon: config.indexHorizon, now: now, zone: zone) : nil,
            zoneName: zoneName,
            secret: query.get("key"), bearer: config.tokens.grants(forAuthorization: request.headers[.authorization]),
            ifNoneMatch: request.headers[.ifNoneMatch])
        switch try await store.db.read({ db in try decide(db, feed, ask) }) {
        case .refused(let why):
            return Response(
                status: ask.bearer == nil && ask.secret == nil ? .unauthorized : .forbidden,
                headers: [.wwwAuthenticate: "Bearer", .contentType: "text/plain; charset=utf-8"],
                body: .init(
                    byteBuffer: ByteBuffer(string: (why ?? "a bearer token or the feed's secret link is needed") + "\n")
                ))
        case .missing: return Response(status: .notFound)
        case .notModified(let etag): return Response(status: .notModified, headers: [.eTag: etag])
        case .body(let etag, let entities, let refresh, let zones):
            let header = Publisher.Header(
                name: feed.name, refreshInterval: refresh, zone: Publisher.Header.zone(of: zones, members: feed.members)
            )
            let bytes =
                ask.busy.map {
                    var busy = $0
                    busy.zones = zones.compactMapValues(AvailabilityEndpoint.zone(named:))
                    return Publisher.busy(header, busy, entities: entities, onUnreadable: onUnreadable)
                }
                ?? Publisher.full(header, entities: entities, onUnreadable: onUnreadable)
            return Response(
                status: .ok,
                headers: [.contentType: "text/calendar; charset=utf-8", .eTag: etag, .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    /// Access and the ETag, decided before the entities are read: a refusal or a 304 (what
    /// polling calendar apps get most) reads no calendar data.
    func decide(_ db: Database, _ feed: Feed, _ ask: Ask) throws -> Answer {
        let stored: String?
        let members = feed.members
        switch feed {
        case .collection(let path): stored = try StoreSQL.secret(db, path)
        case .view(let name, _): stored = try StoreSQL.viewSecret(db, name)
        }
        if stored == nil || ask.secret != stored {
            guard let bearer = ask.bearer else {
                return .refused(ask.secret == nil ? nil : "the key is not this feed's secret link")
            }
            if let why = refusal(bearer, feed, ask.level) { return .refused(why) }
        }
        switch feed {
        case .view(_, nil): return .missing
        case .collection(let path): if try StoreSQL.revision(db, path) == nil { return .missing }
        case .view: break
        }
        // Calendar apps are asked to poll a mirror as often as its subscription refreshes it (the
        // most frequent of a view's), else at the server's interval.
        let refresh =
            try members.compactMap { try Freshness.of(db, collection: $0)?.refreshInterval }.min()
            ?? config.refreshInterval
        // The ETag: a hash of what the bytes depend on (the form, the refresh interval, and each
        // member collection's revision and zone).
        var state = "\(ask.busy.map { "busy \($0.stamp) \(ask.zoneName)" } ?? "full") \(refresh)"
        var zones: [String: String] = [:]
        for m in members {
            zones[m] = try Freshness.zoneName(db, collection: m)
            state += "\n\(m) \(try StoreSQL.revision(db, m).map(String.init) ?? "-") \(zones[m] ?? "-")"
        }
        let etag = "\"" + CanonicalForm.sha256Hex(Array(state.utf8)).prefix(24) + "\""
        if let inm = ask.ifNoneMatch,
            inm.split(separator: ",").contains(where: {
                $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "") == etag
            })
        {
            return .notModified(etag: etag)
        }
        return .body(
            etag: etag, try members.flatMap { try StoreSQL.entities(db, collection: $0) }, refresh: refresh,
            zones: zones)
    }

    /// Why `grants` do not reach the feed at `level` (a view is reached through its own grant or
    /// through every one of its collections), or nil.
    func refusal(_ grants: Grants, _ feed: Feed, _ level: AccessLevel) -> String? {
        let form = level == .read ? "the full feed" : "the busy-only feed"
        guard let why = grants.refusal(level, feed.target, views: config.views, for: form) else { return nil }
        // Say what the token can have instead, when it is the busy-only form.
        return level == .read && grants.allows(.freebusy, feed.target) ? why + "; ask for ?view=busy" : why
    }

    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: message + "\n")))
    }
}
