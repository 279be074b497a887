import CalWS
import CalendarModel
import Foundation
import GRDB
import Hummingbird
import NIOCore
import SafeXML

/// The views of the views file as read-only calendars, `/dav/@views/NAME/` (`@` is in no
/// collection path, so a view never hides a collection):
///
/// - a full view holds the objects of its collections, each named `SEGMENTS@NAME.ics` after its
///   collection and its name there; its sync token carries each member's revision;
/// - a busy view holds the busy-only events its published feed holds (`BusyFeed`: one per busy
///   or tentative instance over the index horizon, nothing but the times), each named by its
///   UID, and answers no sync-collection (its objects move with the day).
///
/// A full view is read with `read` on the view (or on each collection), a busy one with
/// `freebusy`; `free-busy-query` answers over the view's collections as CalWS's does.
extension CalDAVEndpoint {
    /// One object of a view: its name in the view, its ETag and its calendar.
    struct ViewObject: Sendable {
        var name: String
        var etag: String
        var calendar: ICalComponent
        /// The entity it is (full views), in the store's words.
        var entity: (collection: String, name: String)?
    }

    /// The level a view needs.
    static func level(of view: View) -> AccessLevel { view.detail == .busy ? .freebusy : .read }

    /// The object name of an entity in a full view.
    static func viewName(collection: String, name: String) -> String {
        collection.split(separator: "/").joined(separator: "@") + "@" + name
    }

    /// The view's ETag and sync token (none for a busy view): its members' revisions, and for a
    /// busy view the day its window is anchored at. It reads no calendar data.
    func state(of view: View, _ db: Database) throws -> (etag: String, token: String) {
        let revisions = try view.collections.map { "\(try StoreSQL.revision(db, $0) ?? 0)" }.joined(separator: ".")
        guard view.detail == .busy else { return ("\"v\(revisions)\"", Self.tokenPrefix + "v" + revisions) }
        return ("\"b\(busyFeed().stamp).\(revisions)\"", "")
    }

    /// The busy-only feed of a busy view as served now.
    func busyFeed() -> BusyFeed {
        let now = Int64(config.now().timeIntervalSince1970.rounded(.down))
        return BusyFeed(key: service.store.busyKey, horizon: config.indexHorizon, now: now, zone: .utc)
    }

    /// The view's objects as it is now.
    func objects(of view: View, _ db: Database) throws -> [ViewObject] {
        var entities: [StoredEntity] = []
        for c in view.collections { entities += try StoreSQL.entities(db, collection: c) }
        guard view.detail == .busy else {
            let zones = SharedZones()
            return entities.compactMap { e -> ViewObject? in
                guard let calendar = Entities.readable(e, zones: zones, service.onUnreadable) else { return nil }
                return ViewObject(
                    name: Self.viewName(collection: e.collection, name: e.name), etag: Self.etag(e.changeToken),
                    calendar: calendar, entity: (e.collection, e.name))
            }
        }
        var busy = busyFeed()
        for c in view.collections {
            if let z = try Freshness.zoneName(db, collection: c), let rules = AvailabilityEndpoint.zone(named: z) {
                busy.zones[c] = rules
            }
        }
        return busy.events(of: entities, onUnreadable: service.onUnreadable).map { event in
            let calendar = ICalComponent(
                name: "VCALENDAR",
                properties: [
                    ICalProperty("VERSION", .text("2.0")), ICalProperty("PRODID", .text("-//Outboard//busy//EN")),
                ],
                components: [event])
            let hash = CanonicalForm.sha256Hex(ICalWriter.write([calendar]))
            return ViewObject(name: (event.uid ?? hash) + ".ics", etag: "\"\(hash.prefix(24))\"", calendar: calendar)
        }
    }

    /// A view's answer to any request, or nil when the path names no view (or is not granted).
    func view(_ name: String, object: String?, method: String, _ xml: XMLElement?, depth: String, grants: Grants)
        async throws -> Response
    {
        guard let view = config.views[name], grants.allows(Self.level(of: view), view: view) else {
            return Self.plain(.notFound, "no such view, or not granted\n")
        }
        if method == "REPORT", let xml, xml.namespace == Self.cal, xml.name == "free-busy-query" {
            return await freeBusy("/views/\(name)", xml, grants: grants)
        }
        let href = "/dav/@views/\(name)/"
        let endpoint = self
        // The view's own PROPFIND at Depth 0 (what apps poll) needs its state, not its objects.
        let needsObjects = !(method == "PROPFIND" && object == nil && depth == "0")
        let (state, objects): ((etag: String, token: String), [ViewObject]) = try await service.store.db.read { db in
            (try endpoint.state(of: view, db), needsObjects ? try endpoint.objects(of: view, db) : [])
        }
        let (etag, token) = state
        let byName = Dictionary(objects.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        switch method {
        case "PROPFIND":
            guard depth == "0" || depth == "1" else {
                return Self.error(.forbidden, [Self.element("propfind-finite-depth", Self.dav)])
            }
            let asked = Self.askedProperties(xml)
            if let object {
                guard let o = byName[object] else { return Self.plain(.notFound, "no such object\n") }
                return Self.multistatus([Self.response(href + object, asked, Self.objectProperties(o.etag))])
            }
            var out = [Self.response(href, asked, viewProperties(view, etag: etag, token: token))]
            if depth == "1" {
                out += objects.map { Self.response(href + $0.name, asked, Self.objectProperties($0.etag)) }
            }
            return Self.multistatus(out)
        case "GET", "HEAD":
            guard let object, let o = byName[object] else { return Self.plain(.notFound, "no such object\n") }
            return Response(
                status: .ok, headers: [.contentType: "text/calendar; charset=utf-8", .eTag: o.etag],
                body: method == "HEAD" ? .init() : .init(byteBuffer: ByteBuffer(bytes: ICalWriter.write([o.calendar]))))
        case "REPORT":
            guard let xml else { return Self.plain(.badRequest, "a REPORT needs a body\n") }
            switch (xml.namespace, xml.name) {
            case (Self.cal, "calendar-multiget"):
                return Self.multistatus(
                    xml.children("href", namespace: Self.dav).map(\.text).map { h in
                        let last = String((h.removingPercentEncoding ?? h).split(separator: "/").last ?? "")
                        guard let o = byName[last] else { return Self.missing(h) }
                        return Self.objectResponse(etag: o.etag, calendar: o.calendar, href: href + o.name)
                    })
            case (Self.cal, "calendar-query"):
                let range = Self.timeRange(xml)
                return Self.multistatus(
                    objects.filter { o in
                        guard let (start, end) = range else { return true }
                        return TimeRange.overlaps(o.calendar, start: start, end: end)
                    }.map { Self.objectResponse(etag: $0.etag, calendar: $0.calendar, href: href + $0.name) })
            case (Self.dav, "sync-collection") where view.detail == .full:
                return try await viewSync(view, xml, objects: objects)
            default:
                return Self.error(.forbidden, [Self.element("supported-report", Self.dav)])
            }
        default:
            return Self.error(.forbidden, [Self.element("need-privileges", Self.dav)])
        }
    }

    func viewProperties(_ view: View, etag: String, token: String) -> [XMLElement] {
        var reports = [("calendar-query", Self.cal), ("calendar-multiget", Self.cal), ("free-busy-query", Self.cal)]
        if view.detail == .full { reports.append(("sync-collection", Self.dav)) }
        var properties = [
            Self.element(
                "resourcetype", Self.dav, [Self.element("collection", Self.dav), Self.element("calendar", Self.cal)]),
            XMLElement("displayname", namespace: Self.dav, text: view.name),
            XMLElement("getetag", namespace: Self.dav, text: etag),
            XMLElement("getctag", namespace: Self.cs, text: etag),
            Self.element(
                "supported-calendar-component-set", Self.cal,
                [XMLElement("comp", namespace: Self.cal, attributes: [XMLAttribute("name", "VEVENT")])]),
            Self.element(
                "supported-report-set", Self.dav,
                reports.map {
                    Self.element(
                        "supported-report", Self.dav, [Self.element("report", Self.dav, [Self.element($0.0, $0.1)])])
                }),
            Self.privileges(Self.level(of: view)),
        ]
        if !token.isEmpty { properties.append(XMLElement("sync-token", namespace: Self.dav, text: token)) }
        return properties
    }

    static func objectProperties(_ etag: String) -> [XMLElement] {
        [
            element("resourcetype", dav),
            XMLElement("getetag", namespace: dav, text: etag),
            XMLElement("getcontenttype", namespace: dav, text: "text/calendar; charset=utf-8"),
        ]
    }

    /// sync-collection of a full view: its token holds each member's revision (`v3.7`); the
    /// objects written after them and the ones deleted after them (404). A token for other members
    /// is refused with `valid-sync-token`.
    func viewSync(_ view: View, _ xml: XMLElement, objects: [ViewObject]) async throws -> Response {
        let token = xml.child("sync-token", namespace: Self.dav)?.text.trimmingCharacters(in: .whitespaces) ?? ""
        let href = "/dav/@views/\(view.name)/"
        var since: [Int64]?
        if !token.isEmpty {
            let prefix = Self.tokenPrefix + "v"
            let parts =
                token.hasPrefix(prefix) ? token.dropFirst(prefix.count).split(separator: ".").map { Int64($0) } : []
            guard parts.count == view.collections.count, parts.allSatisfy({ $0 != nil }) else {
                return Self.error(.forbidden, [Self.element("valid-sync-token", Self.dav)])
            }
            since = parts.compactMap { $0 }
        }
        let floor = since
        let (revisions, deleted): ([Int64], [String]) = try await service.store.db.read { db in
            var revisions: [Int64] = []
            var deleted: [String] = []
            for (i, c) in view.collections.enumerated() {
                revisions.append(try StoreSQL.revision(db, c) ?? 0)
                if let floor {
                    deleted += try StoreSQL.deleted(db, collection: c, after: floor[i]).map {
                        Self.viewName(collection: c, name: $0)
                    }
                }
            }
            return (revisions, deleted)
        }
        if let since, zip(since, revisions).contains(where: { $0 > $1 }) {
            return Self.error(.forbidden, [Self.element("valid-sync-token", Self.dav)])
        }
        var responses: [XMLElement] = objects.filter { o in
            guard let since, let entity = o.entity, let i = view.collections.firstIndex(of: entity.collection) else {
                return true
            }
            return (Int64(o.etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"r"))) ?? Int64.max) > since[i]
        }.map { o in
            Self.element(
                "response", Self.dav,
                [
                    XMLElement("href", namespace: Self.dav, text: href + o.name),
                    Self.propstat([XMLElement("getetag", namespace: Self.dav, text: o.etag)], "HTTP/1.1 200 OK"),
                ])
        }
        responses += deleted.map { Self.missing(href + $0) }
        responses.append(
            XMLElement(
                "sync-token", namespace: Self.dav,
                text: Self.tokenPrefix + "v" + revisions.map(String.init).joined(separator: ".")))
        return Self.multistatus(responses)
    }
}
