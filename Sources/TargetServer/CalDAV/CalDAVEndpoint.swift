import CalWS
import CalendarModel
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import NIOCore
import SafeXML

/// The reference target's CalDAV face (RFC 4791, with WebDAV sync, RFC 6578), beside CalWS and
/// over the same store, tokens and instance index, so that calendar apps can add it as an account.
///
/// - `/.well-known/caldav` (and a PROPFIND of `/`) redirects to `/dav/`, which is the principal and its calendar home; a
///   collection `/public/holidays` is the calendar `/dav/public/holidays/`, its entities
///   `/dav/public/holidays/NAME.ics`.
/// - Credentials: Basic, a token as the password (the user name is a label), or a bearer token.
///   A grant at write or read reads everything of a collection; one at freebusy sees the
///   collection in listings and may send `free-busy-query`, and nothing else (`need-privileges`).
/// - PROPFIND (Depth 0 or 1), GET, and REPORT `calendar-multiget`, `calendar-query` (with
///   `time-range` and `expand`), `free-busy-query` and `sync-collection` go through the same
///   operations as CalWS's reads (`TargetService`), so entities, ETags and revisions are one truth.
struct CalDAVEndpoint: Sendable {
    var config: TargetConfiguration
    var service: TargetService

    static let dav = "DAV:"
    static let cal = "urn:ietf:params:xml:ns:caldav"
    static let cs = "http://calendarserver.org/ns/"
    static let root = "/dav/"
    /// A sync token is this and the collection's revision.
    static let tokenPrefix = "urn:x-outboard:sync:"
    /// The largest XML body read.
    static let maxRequestBytes = 1 << 20

    /// What a path under `/dav/` names.
    enum Resource: Equatable {
        /// `/dav/`: the principal and its calendar home.
        case home
        case collection(String)
        case entity(collection: String, name: String)

        init?(davPath path: String) {
            guard path.hasPrefix("/dav") else { return nil }
            let rest = String(path.dropFirst(4))
            if rest.isEmpty || rest == "/" {
                self = .home
            } else if let (collection, name) = Paths.entity(rest) {
                self = .entity(collection: collection, name: name)
            } else {
                let trimmed = rest.hasSuffix("/") ? String(rest.dropLast()) : rest
                guard Paths.isCollection(trimmed) else { return nil }
                self = .collection(trimmed)
            }
        }

        /// Its href: a collection's ends with a slash.
        var href: String {
            switch self {
            case .home: CalDAVEndpoint.root
            case .collection(let path): "/dav\(path)/"
            case .entity(let collection, let name): "/dav\(collection)/\(name)"
            }
        }
    }

    func register<Context: RequestContext>(on router: Router<Context>) {
        // Discovery: the well-known URL (RFC 6764), and a PROPFIND of the bare server URL.
        for name in ["GET", "PROPFIND"] {
            guard let method = HTTPRequest.Method(name) else { continue }
            router.on(".well-known/caldav", method: method) { _, _ -> Response in
                Response(status: .movedPermanently, headers: [.location: Self.root])
            }
        }
        if let propfind = HTTPRequest.Method("PROPFIND") {
            router.on("/", method: propfind) { _, _ -> Response in
                Response(status: .movedPermanently, headers: [.location: Self.root])
            }
        }
        for name in ["OPTIONS", "PROPFIND", "REPORT", "GET", "HEAD", "PUT", "DELETE", "MKCALENDAR"] {
            guard let method = HTTPRequest.Method(name) else { continue }
            for path in ["dav", "dav/**"] {
                router.on(RouterPath(path), method: method) { request, _ -> Response in
                    var request = request
                    return try await handle(name, &request)
                }
            }
        }
    }

    func handle(_ method: String, _ request: inout Request) async throws -> Response {
        if method == "OPTIONS" {
            return Response(
                status: .ok,
                headers: [
                    HTTPField.Name("DAV")!: "1, 3, calendar-access",
                    .allow: "OPTIONS, GET, HEAD, PROPFIND, REPORT, PUT, DELETE, MKCALENDAR",
                ])
        }
        guard let grants = grants(request.headers[.authorization]) else {
            return Response(
                status: .unauthorized,
                headers: [
                    .wwwAuthenticate: "Basic realm=\"outboard-target\", charset=\"UTF-8\"", .contentType: "text/plain",
                ],
                body: .init(byteBuffer: ByteBuffer(string: "credentials are required: a token as the password\n")))
        }
        let path = request.uri.path.removingPercentEncoding ?? request.uri.path
        let viewPath = path.hasPrefix("/dav/@views/") ? path.dropFirst("/dav/@views/".count).split(separator: "/") : []
        guard viewPath.count <= 2, let resource = viewPath.isEmpty ? Resource(davPath: path) : .home else {
            return Self.plain(.notFound, "no such resource\n")
        }
        let body: [UInt8]
        let limit = method == "PUT" ? config.maxBodyBytes : Self.maxRequestBytes
        do {
            body = Array(buffer: try await request.collectBody(upTo: limit))
        } catch {
            return Self.plain(.contentTooLarge, "the body exceeds \(limit) bytes\n")
        }
        var xml: XMLElement?
        if !body.isEmpty, method == "PROPFIND" || method == "REPORT" {
            do { xml = try SafeXMLReader().parse(body) } catch {
                return Self.plain(.badRequest, "the body cannot be read: \(error)\n")
            }
        }
        let depth = request.headers[HTTPField.Name("Depth")!] ?? (method == "PROPFIND" ? "1" : "0")
        if let name = viewPath.first {
            return try await view(
                String(name), object: viewPath.count == 2 ? String(viewPath[1]) : nil, method: method, xml,
                depth: depth,
                grants: grants)
        }
        switch method {
        case "PROPFIND":
            guard depth == "0" || depth == "1" else {
                return Self.error(.forbidden, [Self.element("propfind-finite-depth", Self.dav)])
            }
            return try await propfind(resource, xml, depth: depth, grants: grants)
        case "REPORT":
            guard let xml else { return Self.plain(.badRequest, "a REPORT needs a body\n") }
            return try await report(resource, xml, grants: grants)
        case "PUT":
            return await put(resource, body, headers: request.headers, grants: grants)
        case "DELETE":
            guard case .entity(let c, let name) = resource else {
                return Self.plain(.forbidden, "only calendar objects are deleted here\n")
            }
            let r = await service.delete(
                href: "\(c)/\(name)", ifMatch: Self.version(request.headers[.ifMatch]), grants: grants)
            return r.result.status == .ok ? Response(status: .noContent) : Self.failure(r)
        case "MKCALENDAR":
            guard case .collection(let path) = resource else {
                return Self.plain(.forbidden, "a calendar is made at a collection path such as /dav/team/holidays/\n")
            }
            switch await service.makeCollection(path, grants: grants) {
            case nil: return Response(status: .created)
            case .exists?: return Self.error(.methodNotAllowed, [Self.element("resource-must-be-null", Self.dav)])
            case .forbidden?: return Self.error(.forbidden, [Self.element("need-privileges", Self.dav)])
            case .notACollectionPath?: return Self.plain(.forbidden, "not a collection path\n")
            case .store(let m)?: return Self.plain(.internalServerError, m + "\n")
            }
        default:
            return try await get(resource, grants: grants, head: method == "HEAD")
        }
    }

    /// The grants of a Basic (token as the password) or bearer `Authorization`.
    func grants(_ header: String?) -> Grants? {
        guard let header else { return nil }
        if header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let pair = String(data: decoded, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        {
            return config.tokens.entries[String(pair[pair.index(after: colon)...])]
        }
        return config.tokens.grants(forAuthorization: header)
    }

    // MARK: GET

    func get(_ resource: Resource, grants: Grants, head: Bool) async throws -> Response {
        guard case .entity(let collection, let name) = resource else {
            return Self.plain(.methodNotAllowed, "only calendar objects can be fetched with GET\n")
        }
        if let refused = Self.needsRead(grants, collection) { return refused }
        let r = await service.handle(CalWSRequest(.fetchItem(href: "\(collection)/\(name)")), grants: grants)
        guard case .fetchItem(let info?) = r.body, let calendar = info.calendar else {
            return Self.failure(r)
        }
        let bytes = ICalWriter.write([calendar])
        return Response(
            status: .ok,
            headers: [.contentType: "text/calendar; charset=utf-8", .eTag: Self.etag(info.changeToken)],
            body: head ? .init() : .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: PUT

    /// A calendar object made (201) or replaced (204) through the store's CalWS operations.
    /// `If-None-Match: *` and `If-Match` are honoured; `If-Match: *` means "one exists".
    func put(_ resource: Resource, _ body: [UInt8], headers: HTTPFields, grants: Grants) async -> Response {
        guard case .entity(let collection, let name) = resource else {
            return Self.plain(.methodNotAllowed, "a calendar object is PUT at NAME.ics in a calendar\n")
        }
        let calendars: [ICalComponent]
        do { calendars = try ICalParser().parse(body).calendars } catch {
            return Self.error(.badRequest, [Self.element("valid-calendar-data", Self.cal)])
        }
        guard calendars.count == 1 else {
            return Self.error(.badRequest, [Self.element("valid-calendar-data", Self.cal)])
        }
        var precondition = TargetService.Precondition.none
        if headers[.ifNoneMatch]?.trimmingCharacters(in: .whitespaces) == "*" { precondition = .absent }
        if let v = Self.version(headers[.ifMatch]) { precondition = .version(v) }
        let r = await service.put(
            collection: collection, name: name, calendar: calendars[0], precondition: precondition, grants: grants)
        switch (r.result.status, r.body) {
        case (.ok, .addItem(_, let token?)):
            return Response(status: .created, headers: [.eTag: Self.etag(token)])
        case (.ok, .updateItem(let token?)):
            return Response(status: .noContent, headers: [.eTag: Self.etag(token)])
        default:
            return Self.failure(r)
        }
    }

    /// The change token an `If-Match` names (its quotes removed); nil for none.
    static func version(_ header: String?) -> String? {
        guard var v = header?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        if v.hasPrefix("W/") { v.removeFirst(2) }
        return v.count >= 2 && v.hasPrefix("\"") && v.hasSuffix("\"") ? String(v.dropFirst().dropLast()) : v
    }

    // MARK: PROPFIND

    func propfind(_ resource: Resource, _ xml: XMLElement?, depth: String, grants: Grants) async throws -> Response {
        let asked = Self.askedProperties(xml)
        let store = service.store
        let endpoint = self
        let responses: [XMLElement]? = try await store.db.read { db in
            switch resource {
            case .home:
                var out = [Self.response(Resource.home.href, asked, Self.homeProperties())]
                if depth != "0" {
                    for c in try StoreSQL.collections(db) where grants.level(of: c) != nil {
                        out.append(
                            Self.response(
                                Resource.collection(c).href, asked,
                                try Self.collectionProperties(db, c, level: grants.level(of: c))))
                    }
                    for view in endpoint.config.views.views.values.sorted(by: { $0.name < $1.name })
                    where grants.allows(Self.level(of: view), view: view) {
                        let (etag, token) = try endpoint.state(of: view, db)
                        out.append(
                            Self.response(
                                "/dav/@views/\(view.name)/", asked,
                                endpoint.viewProperties(view, etag: etag, token: token)))
                    }
                }
                return out
            case .collection(let c):
                guard let level = grants.level(of: c), try StoreSQL.collectionExists(db, c) else { return nil }
                var properties = try Self.collectionProperties(db, c, level: level)
                // Asked for by name only: finding it reads the collection's calendar data.
                if asked?.contains(where: { $0 == (Self.cal, "calendar-timezone") }) == true,
                    let zone = try Self.calendarTimezone(db, c)
                {
                    properties.append(XMLElement("calendar-timezone", namespace: Self.cal, text: zone))
                }
                var out = [Self.response(resource.href, asked, properties)]
                if depth != "0", level >= .read {
                    for e in try StoreSQL.entities(db, collection: c) {
                        out.append(
                            Self.response(
                                Resource.entity(collection: c, name: e.name).href, asked, Self.entityProperties(e)))
                    }
                }
                return out
            case .entity(let c, let name):
                guard grants.allows(.read, c), let e = try StoreSQL.entity(db, collection: c, name: name) else {
                    return nil
                }
                return [Self.response(resource.href, asked, Self.entityProperties(e))]
            }
        }
        guard let responses else { return Self.plain(.notFound, "no such resource, or not granted\n") }
        return Self.multistatus(responses)
    }

    /// The names a PROPFIND asks for (namespace, name); nil for every property (`allprop`, or no body).
    static func askedProperties(_ xml: XMLElement?) -> [(String, String)]? {
        guard let prop = xml?.child("prop", namespace: dav) else { return nil }
        return prop.elements.map { ($0.namespace, $0.name) }
    }

    static func homeProperties() -> [XMLElement] {
        [
            element("resourcetype", dav, [element("collection", dav), element("principal", dav)]),
            XMLElement("displayname", namespace: dav, text: "outboard-target"),
            element("current-user-principal", dav, [XMLElement("href", namespace: dav, text: root)]),
            element("principal-URL", dav, [XMLElement("href", namespace: dav, text: root)]),
            element("calendar-home-set", cal, [XMLElement("href", namespace: dav, text: root)]),
            privileges(.read),
        ]
    }

    static func collectionProperties(_ db: Database, _ path: String, level: AccessLevel?) throws -> [XMLElement] {
        let revision = try StoreSQL.revision(db, path) ?? 0
        return [
            element("resourcetype", dav, [element("collection", dav), element("calendar", cal)]),
            XMLElement("displayname", namespace: dav, text: String(path.split(separator: "/").last ?? "")),
            XMLElement("getetag", namespace: dav, text: "\"c\(revision)\""),
            XMLElement("getctag", namespace: cs, text: "\"c\(revision)\""),
            XMLElement("sync-token", namespace: dav, text: tokenPrefix + "\(revision)"),
            element(
                "supported-calendar-component-set", cal,
                ["VEVENT", "VTODO", "VJOURNAL"].map {
                    XMLElement("comp", namespace: cal, attributes: [XMLAttribute("name", $0)])
                }),
            element(
                "supported-report-set", dav,
                [
                    ("calendar-query", cal), ("calendar-multiget", cal), ("free-busy-query", cal),
                    ("sync-collection", dav),
                ]
                .map { element("supported-report", dav, [element("report", dav, [element($0.0, $0.1)])]) }),
            privileges(level ?? .freebusy),
        ]
    }

    /// The collection's zone (its subscription's, as the engine reports it) as a VCALENDAR holding
    /// its VTIMEZONE, when one of the collection's entities carries that VTIMEZONE; nil otherwise.
    static func calendarTimezone(_ db: Database, _ path: String) throws -> String? {
        guard let zone = try Freshness.zoneName(db, collection: path) else { return nil }
        for e in try StoreSQL.entities(db, collection: path) where e.data.contains("TZID:\(zone)\r\n") {
            guard let calendar = try? ICalParser().parse(e.data).calendars.first,
                let vtimezone = calendar.components.first(where: {
                    $0.name == "VTIMEZONE" && $0.property("TZID")?.text == zone
                })
            else { continue }
            let wrapped = ICalComponent(
                name: "VCALENDAR",
                properties: [
                    ICalProperty("VERSION", .text("2.0")), ICalProperty("PRODID", .text("-//Outboard//target//EN")),
                ],
                components: [vtimezone])
            return String(decoding: ICalWriter.write([wrapped]), as: UTF8.self)
        }
        return nil
    }

    static func entityProperties(_ e: StoredEntity) -> [XMLElement] {
        [
            element("resourcetype", dav),
            XMLElement("getetag", namespace: dav, text: etag(e.changeToken)),
            XMLElement("getcontenttype", namespace: dav, text: "text/calendar; charset=utf-8"),
        ]
    }

    /// `current-user-privilege-set` of an access level (RFC 3744; `read-free-busy`, RFC 4791 §6.1.1).
    static func privileges(_ level: AccessLevel) -> XMLElement {
        var names: [(String, String)] = [("read-free-busy", cal)]
        if level >= .read { names.append(("read", dav)) }
        if level >= .write { names += [("write", dav), ("write-content", dav), ("bind", dav), ("unbind", dav)] }
        return element(
            "current-user-privilege-set", dav, names.map { element("privilege", dav, [element($0.0, $0.1)]) })
    }

    /// One `DAV:response`: the asked properties it has (200), and those it has not (404).
    static func response(_ href: String, _ asked: [(String, String)]?, _ properties: [XMLElement]) -> XMLElement {
        var found = properties
        var missing: [XMLElement] = []
        if let asked {
            found = asked.compactMap { name in properties.first { $0.namespace == name.0 && $0.name == name.1 } }
            missing = asked.filter { name in !properties.contains { $0.namespace == name.0 && $0.name == name.1 } }
                .map { element($0.1, $0.0) }
        }
        var children = [XMLElement("href", namespace: dav, text: href)]
        if !found.isEmpty || missing.isEmpty { children.append(propstat(found, "HTTP/1.1 200 OK")) }
        if !missing.isEmpty { children.append(propstat(missing, "HTTP/1.1 404 Not Found")) }
        return element("response", dav, children)
    }

    static func propstat(_ properties: [XMLElement], _ status: String) -> XMLElement {
        element(
            "propstat", dav, [element("prop", dav, properties), XMLElement("status", namespace: dav, text: status)])
    }

    // MARK: REPORT

    func report(_ resource: Resource, _ xml: XMLElement, grants: Grants) async throws -> Response {
        let collection: String
        switch resource {
        case .collection(let c): collection = c
        case .entity(let c, _): collection = c
        case .home: return Self.plain(.forbidden, "reports are answered on a calendar collection\n")
        }
        switch (xml.namespace, xml.name) {
        case (Self.cal, "free-busy-query"):
            return await freeBusy(collection, xml, grants: grants)
        case (Self.cal, "calendar-multiget"):
            if let refused = Self.needsRead(grants, collection) { return refused }
            let hrefs = xml.children("href", namespace: Self.dav).map(\.text)
            return await multiget(collection, hrefs, grants: grants)
        case (Self.cal, "calendar-query"):
            if let refused = Self.needsRead(grants, collection) { return refused }
            return await query(collection, xml, grants: grants)
        case (Self.dav, "sync-collection"):
            if let refused = Self.needsRead(grants, collection) { return refused }
            return try await sync(collection, xml, grants: grants)
        default:
            return Self.error(.forbidden, [Self.element("supported-report", Self.dav)])
        }
    }

    func multiget(_ collection: String, _ hrefs: [String], grants: Grants) async -> Response {
        var storeHrefs: [String: String] = [:]
        for h in hrefs {
            let path = URL(string: h)?.path ?? h
            if case .entity(let c, let name)? = Resource(davPath: path.removingPercentEncoding ?? path) {
                storeHrefs[h] = "\(c)/\(name)"
            }
        }
        let r = await service.handle(
            CalWSRequest(.calendarMultiget(href: collection, hrefs: Array(storeHrefs.values), allData: true)),
            grants: grants)
        guard case .calendarQuery(let found) = r.body, r.result.status == .ok else { return Self.failure(r) }
        let byHref = Dictionary(found.map { ($0.href, $0) }, uniquingKeysWith: { a, _ in a })
        return Self.multistatus(
            hrefs.map { h in
                guard let stored = storeHrefs[h], let info = byHref[stored] else { return Self.missing(h) }
                return Self.objectResponse(info, href: h)
            })
    }

    func query(_ collection: String, _ xml: XMLElement, grants: Grants) async -> Response {
        // <filter><comp-filter name="VCALENDAR"><comp-filter name="VEVENT"><time-range/>…
        let outer = xml.child("filter", namespace: Self.cal)?.child("comp-filter", namespace: Self.cal)
        let inner = outer?.child("comp-filter", namespace: Self.cal)
        let component = inner?.attribute("name")?.uppercased()
        var filter = QueryFilter.all
        if let (start, end) = Self.timeRange(xml) { filter = .timeRange(start: start, end: end) }
        let expandElement = xml.child("prop", namespace: Self.dav)?.child("calendar-data", namespace: Self.cal)?
            .child("expand", namespace: Self.cal)
        var expand: UTCRange?
        if let e = expandElement {
            guard let start = e.attribute("start").flatMap(Self.utc), let end = e.attribute("end").flatMap(Self.utc),
                start < end
            else { return Self.plain(.badRequest, "expand needs a start before its end (20260105T000000Z)\n") }
            expand = UTCRange(start: start, end: end)
        }
        let r = await service.handle(
            CalWSRequest(
                .calendarQuery(CalendarQuery(href: collection, filter: filter, allData: true, expand: expand))),
            grants: grants)
        guard case .calendarQuery(let found) = r.body, r.result.status == .ok else { return Self.failure(r) }
        // A UID's text-match (`i;octet`: a substring, as RFC 4791 §9.7.5 says).
        let uidMatch = inner?.children("prop-filter", namespace: Self.cal).first {
            $0.attribute("name")?.uppercased() == "UID"
        }?
        .child("text-match", namespace: Self.cal)?.text
        let matching = found.filter { info in
            let components = info.calendar?.components ?? []
            if let component, !components.contains(where: { $0.name == component }) { return false }
            guard let uidMatch else { return true }
            return components.contains { $0.uid?.contains(uidMatch) ?? false }
        }
        return Self.multistatus(matching.map { Self.objectResponse($0, href: "/dav\($0.href)") })
    }

    func freeBusy(_ collection: String, _ xml: XMLElement, grants: Grants) async -> Response {
        guard let range = xml.child("time-range", namespace: Self.cal),
            let start = range.attribute("start").flatMap(Self.utc), let end = range.attribute("end").flatMap(Self.utc),
            start < end
        else { return Self.plain(.badRequest, "free-busy-query needs a time-range with a start before its end\n") }
        let r = await service.handle(
            CalWSRequest(.freebusyReport(href: collection, range: UTCRange(start: start, end: end))), grants: grants)
        guard case .freebusyReport(let calendar?) = r.body, r.result.status == .ok else { return Self.failure(r) }
        return Response(
            status: .ok, headers: [.contentType: "text/calendar; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: ICalWriter.write([calendar]))))
    }

    /// `sync-collection` (RFC 6578): from no token every entity; from a token, the entities
    /// written after its revision and the names deleted after it (404). A token this server did
    /// not give, or from ahead of the collection, is refused with `valid-sync-token`.
    func sync(_ collection: String, _ xml: XMLElement, grants: Grants) async throws -> Response {
        let token = xml.child("sync-token", namespace: Self.dav)?.text.trimmingCharacters(in: .whitespaces) ?? ""
        var from: Int64 = -1
        if !token.isEmpty {
            guard token.hasPrefix(Self.tokenPrefix), let n = Int64(token.dropFirst(Self.tokenPrefix.count)), n >= 0
            else { return Self.error(.forbidden, [Self.element("valid-sync-token", Self.dav)]) }
            from = n
        }
        let since = from
        let store = service.store
        let answer: (revision: Int64, entities: [StoredEntity], deleted: [String])? = try await store.db.read { db in
            guard let revision = try StoreSQL.revision(db, collection) else { return nil }
            guard since <= revision else { return (revision, [], []) }
            let entities = try StoreSQL.entities(db, collection: collection).filter {
                since < 0 || (Int64($0.changeToken.dropFirst()) ?? Int64.max) > since
            }
            let deleted = since < 0 ? [] : try StoreSQL.deleted(db, collection: collection, after: since)
            return (revision, entities, deleted)
        }
        guard let answer else { return Self.plain(.notFound, "no collection \(collection)\n") }
        guard since <= answer.revision else {
            return Self.error(.forbidden, [Self.element("valid-sync-token", Self.dav)])
        }
        var responses = answer.entities.map { e in
            Self.element(
                "response", Self.dav,
                [
                    XMLElement(
                        "href", namespace: Self.dav, text: Resource.entity(collection: collection, name: e.name).href),
                    Self.propstat(
                        [XMLElement("getetag", namespace: Self.dav, text: Self.etag(e.changeToken))], "HTTP/1.1 200 OK"),
                ])
        }
        responses += answer.deleted.map { name in
            Self.element(
                "response", Self.dav,
                [
                    XMLElement(
                        "href", namespace: Self.dav, text: Resource.entity(collection: collection, name: name).href),
                    XMLElement("status", namespace: Self.dav, text: "HTTP/1.1 404 Not Found"),
                ])
        }
        responses.append(XMLElement("sync-token", namespace: Self.dav, text: Self.tokenPrefix + "\(answer.revision)"))
        return Self.multistatus(responses)
    }

    /// A calendar object's response: its ETag and its calendar data.
    static func objectResponse(_ info: EntityInfo, href: String) -> XMLElement {
        objectResponse(etag: etag(info.changeToken), calendar: info.calendar, href: href)
    }

    static func objectResponse(etag: String, calendar: ICalComponent?, href: String) -> XMLElement {
        let data = calendar.map { String(decoding: ICalWriter.write([$0]), as: UTF8.self) } ?? ""
        return element(
            "response", dav,
            [
                XMLElement("href", namespace: dav, text: href),
                propstat(
                    [
                        XMLElement("getetag", namespace: dav, text: etag),
                        XMLElement("calendar-data", namespace: cal, text: data),
                    ], "HTTP/1.1 200 OK"),
            ])
    }

    /// The response of an href there is nothing at (a deletion, in sync-collection).
    static func missing(_ href: String) -> XMLElement {
        element(
            "response", dav,
            [
                XMLElement("href", namespace: dav, text: href),
                XMLElement("status", namespace: dav, text: "HTTP/1.1 404 Not Found"),
            ])
    }

    /// The `time-range` of a calendar-query's component filter (either end may be open).
    static func timeRange(_ xml: XMLElement) -> (ICalDateTime?, ICalDateTime?)? {
        guard
            let range = xml.child("filter", namespace: cal)?.child("comp-filter", namespace: cal)?
                .child("comp-filter", namespace: cal)?.child("time-range", namespace: cal)
        else { return nil }
        return (range.attribute("start").flatMap(utc), range.attribute("end").flatMap(utc))
    }

    // MARK: Answers

    static func etag(_ changeToken: String) -> String { "\"\(changeToken)\"" }

    /// 403 with `need-privileges` unless the grants read `collection`.
    static func needsRead(_ grants: Grants, _ collection: String) -> Response? {
        guard !grants.allows(.read, collection) else { return nil }
        return error(.forbidden, [element("need-privileges", dav)])
    }

    /// A CalWS answer that is not OK, as HTTP (RFC 4791 §5.3.2's preconditions where they apply).
    static func failure(_ r: CalWSResponse) -> Response {
        let message = (r.result.message ?? "the request failed") + "\n"
        switch r.result.error {
        case .mismatchedChangeToken?: return plain(.preconditionFailed, message)
        case .uidConflict(let href)?:
            return error(
                .conflict, [element("no-uid-conflict", cal, [XMLElement("href", namespace: dav, text: "/dav\(href)")])])
        case .exceedsMaxResourceSize?: return plain(.contentTooLarge, message)
        case .invalidCalendarData?, .notCalendarData?, .invalidCalendarObjectResource?, .unsupportedCalendarComponent?:
            return error(.badRequest, [element("valid-calendar-data", cal)])
        case .targetDoesNotExist? where r.result.status != .notFound: return plain(.conflict, message)
        default: break
        }
        switch r.result.status {
        case .notFound: return plain(.notFound, message)
        case .noAccess: return error(.forbidden, [element("need-privileges", dav)])
        default: return plain(.internalServerError, message)
        }
    }

    static func multistatus(_ children: [XMLElement]) -> Response {
        xml(.init(code: 207, reasonPhrase: "Multi-Status"), element("multistatus", dav, children))
    }

    /// A `DAV:error` (RFC 4918 §16) holding its precondition.
    static func error(_ status: HTTPResponse.Status, _ conditions: [XMLElement]) -> Response {
        xml(status, element("error", dav, conditions))
    }

    static func xml(_ status: HTTPResponse.Status, _ root: XMLElement) -> Response {
        Response(
            status: status, headers: [.contentType: "application/xml; charset=utf-8"],
            body: .init(
                byteBuffer: ByteBuffer(bytes: XMLSerializer.serialize(root, prefixes: [dav: "d", cal: "c", cs: "cs"]))))
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func element(_ name: String, _ namespace: String, _ children: [XMLElement] = []) -> XMLElement {
        XMLElement(name, namespace: namespace, children: children.map { .element($0) })
    }

    /// A UTC date-time in CalDAV's form, `20260105T000000Z`.
    static func utc(_ text: String) -> ICalDateTime? {
        let d = Array(text.utf8)
        guard d.count == 16, d[8] == UInt8(ascii: "T"), d[15] == UInt8(ascii: "Z") else { return nil }
        func n(_ range: Range<Int>) -> Int? { Int(String(decoding: d[range], as: UTF8.self)) }
        guard let y = n(0..<4), let mo = n(4..<6), let da = n(6..<8), let h = n(9..<11), let mi = n(11..<13),
            let s = n(13..<15), (1...12).contains(mo), (1...31).contains(da), h < 24, mi < 60, s < 61
        else { return nil }
        return ICalDateTime(year: y, month: mo, day: da, hour: h, minute: mi, second: s, isUTC: true)
    }
}
