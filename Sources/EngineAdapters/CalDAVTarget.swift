import CalendarModel
import Engine
import Foundation
import SafeXML
import SyncCore

/// A CalDAV calendar collection as a target (`target.type: caldav`).
///
/// - A new item is PUT with `If-None-Match: *` under an href made from its UID (`name(for:)`); a
///   UID the collection already has (the server's `no-uid-conflict`, or the href taken) is found
///   by a calendar-query on UID and answered `uidExists`, which the pass adopts.
/// - A changed item is PUT whole with `If-Match` of the version the planner diffed against: the
///   field-level changes are applied to the copy this target read in the same pass (or, when it
///   has none at that version, to the copy it fetches now). 412 is `versionStale`.
/// - A deletion is a DELETE with `If-Match` of the version last written.
/// - `If-Match: *` is never sent. A write answered without an ETag is followed by a GET for it.
///
/// An entity's version is its ETag, and so is its `lastModified`: the ETag moves with every write,
/// more exactly than a clock of one-second steps. CalDAV has no batch write: the pass sends
/// `writesInFlight` single writes at a time (`batchLimit` 1). No freshness reports, no fences.
public struct CalDAVTarget: CalendarTarget {
    var dav: WebDAV
    /// `scheme://host[:port]` of the server; collections and hrefs are paths on it.
    var origin: String
    /// The largest entity it sends (the server may refuse smaller ones with 413).
    public var maxEntityBytes: Int
    /// The copies read in this pass, by href, for updates to be applied to.
    let copies = CopyCache()

    public static let userAgent = CurlHTTPClient.userAgent

    /// A target on the server of `url` (any URL on it: its path is not used), with an
    /// `Authorization` header value when it has credentials.
    public init?(
        url: String, authorization: String?, timeout: Double = 30, caFile: String? = nil,
        maxEntityBytes: Int = 10 << 20, http: CurlHTTPClient = CurlHTTPClient()
    ) {
        guard let u = URL(string: url), let scheme = u.scheme, let host = u.host() else { return nil }
        origin = "\(scheme)://\(host)" + (u.port.map { ":\($0)" } ?? "")
        dav = WebDAV(
            http: http, authorization: authorization, connectTimeout: min(10, timeout), timeout: timeout,
            caFile: caFile,
            userAgent: Self.userAgent)
        self.maxEntityBytes = maxEntityBytes
    }

    public var capabilities: TargetCapabilities {
        TargetCapabilities(batchLimit: 1, freshnessReports: false, fencing: false)
    }

    /// The largest answer it reads (a listing of a large collection holds every entity).
    static let maxAnswerBytes = 1 << 30

    // MARK: Reads

    public func list(collection: String, withData: Bool) async throws(TargetError) -> [TargetEntry] {
        let query = WebDAV.element(
            "calendar-query", WebDAV.caldav,
            [
                WebDAV.prop([WebDAV.getetag, WebDAV.calendarData]),
                WebDAV.element(
                    "filter", WebDAV.caldav,
                    [
                        XMLElement(
                            "comp-filter", namespace: WebDAV.caldav, attributes: [XMLAttribute("name", "VCALENDAR")])
                    ]),
            ])
        return try await entries(report: query, at: Self.slashed(collection), withData: withData)
    }

    public func find(uid: String, in collection: String) async throws(TargetError) -> TargetEntry? {
        let match = XMLElement(
            "text-match", namespace: WebDAV.caldav, attributes: [XMLAttribute("collation", "i;octet")],
            children: [.text(uid)])
        var found: [TargetEntry] = []
        for component in ["VEVENT", "VTODO", "VJOURNAL"] {
            let filter = Self.compFilter(
                "VCALENDAR", [Self.compFilter(component, [Self.propFilter("UID", [match])])])
            let query = WebDAV.element(
                "calendar-query", WebDAV.caldav,
                [
                    WebDAV.prop([WebDAV.getetag, WebDAV.calendarData]),
                    WebDAV.element("filter", WebDAV.caldav, [filter]),
                ])
            do {
                found += try await entries(report: query, at: Self.slashed(collection), withData: true)
            } catch  where error.reason == .notFound {
                return nil
            }
            // text-match is a substring match: the UID is compared exactly here.
            if let exact = found.first(where: { $0.uid == uid }) { return exact }
        }
        return nil
    }

    public func entry(href: String) async throws(TargetError) -> TargetEntry {
        let r = try await send("GET", href)
        guard r.status == 200 else { throw Self.error(r, href) }
        guard let etag = r.header("etag") else {
            throw TargetError(.unknown, "\(href): the server's answer to GET carried no ETag")
        }
        return try remember(href: href, etag: etag, data: r.body, withData: true)
    }

    public func entries(collection: String, hrefs: [String], withData: Bool) async throws(TargetError) -> [TargetEntry]
    {
        guard !hrefs.isEmpty else { return [] }
        let found = try await entries(report: WebDAV.multiget(hrefs), at: Self.slashed(collection), withData: withData)
        let byPath = Dictionary(found.map { (WebDAV.path($0.href), $0) }, uniquingKeysWith: { a, _ in a })
        return hrefs.compactMap { byPath[WebDAV.path($0)] }
    }

    public func describe(collection: String) async throws(TargetError) -> CollectionDescription? {
        let body = WebDAV.propfind([WebDAV.element("displayname"), WebDAV.element("calendar-timezone", WebDAV.caldav)])
        let r = try await xml("PROPFIND", Self.slashed(collection), body, depth: "0")
        guard r.status == 207 else { throw Self.error(r, collection) }
        guard let own = try Self.multistatus(r, collection).responses.first else { return nil }
        // Xandikos answers a missing collection with a 207 whose response is 404.
        guard own.status != 404 else { throw TargetError(.notFound, "\(collection): no such collection") }
        let zone = own.prop("calendar-timezone", WebDAV.caldav).flatMap { Self.zoneID($0.text) }
        return CollectionDescription(
            href: collection, displayName: own.prop("displayname")?.text.nonEmpty, timezone: zone)
    }

    public func reportFreshness(_ freshness: CollectionFreshness) async throws(TargetError) {}

    // MARK: Writes

    public func write(_ writes: [TargetWrite]) async -> [WriteOutcome] {
        var outcomes: [WriteOutcome] = []
        for w in writes {
            if case .unknown(let why)? = outcomes.last {
                outcomes.append(.unknown("not sent: \(why)"))
                continue
            }
            do throws(TargetError) {
                outcomes.append(try await single(w))
            } catch {
                outcomes.append(error.answerUnknown ? .unknown(error.message) : .refused(error))
            }
        }
        return outcomes
    }

    func single(_ w: TargetWrite) async throws(TargetError) -> WriteOutcome {
        switch w {
        case .add(let collection, let calendar):
            return try await add(calendar, to: collection)
        case .update(let href, let version, let changes):
            let base = try await copy(href: href, at: version)
            let updated: ICalComponent
            do { updated = try Applier.apply(changes, to: base) } catch {
                throw TargetError(.invalid, "\(href): \(error)")
            }
            let r = try await put(href, updated, condition: ("If-Match", version))
            guard r.status == 200 || r.status == 201 || r.status == 204 else { throw Self.error(r, href) }
            return .applied(href: href, version: try await etag(of: r, at: href))
        case .delete(let href, let version):
            let r = try await send("DELETE", href, headers: version.map { [("If-Match", $0)] } ?? [])
            guard (200..<300).contains(r.status) else { throw Self.error(r, href) }
            copies.forget(href)
            return .applied(href: href, version: nil)
        }
    }

    /// PUT under the href made from the UID, only if nothing is there; a UID the collection holds
    /// is `uidExists` naming where; a collection that does not exist is made (MKCALENDAR) once.
    func add(_ calendar: ICalComponent, to collection: String) async throws(TargetError) -> WriteOutcome {
        guard let uid = calendar.components.first(where: { PropertyTypes.isItemComponent($0.name) })?.uid else {
            throw TargetError(.invalid, "an entity without a UID cannot be added to \(collection)")
        }
        let href = WebDAV.path(Self.slashed(collection) + Self.name(for: uid))
        var r = try await put(href, calendar, condition: ("If-None-Match", "*"))
        if [404, 409].contains(r.status), !Self.namesUIDConflict(r) {
            // No collection: made once (a write beside this one may have made it meanwhile, which
            // servers answer 405, 409 or 403), then the PUT again.
            let made = try await send("MKCALENDAR", Self.slashed(collection))
            r = try await put(href, calendar, condition: ("If-None-Match", "*"))
            if [404, 409].contains(r.status), !Self.namesUIDConflict(r) {
                throw TargetError(
                    .notFound,
                    "the collection \(collection) does not exist and cannot be made (MKCALENDAR: HTTP \(made.status))")
            }
        }
        if r.status == 412 || Self.namesUIDConflict(r) {
            guard let existing = try await find(uid: uid, in: collection) else {
                throw TargetError(.invalid, "\(href) is taken by an entity that is not \(uid)")
            }
            throw TargetError(.uidExists(href: existing.href), "\(uid) is already in \(collection) at \(existing.href)")
        }
        guard r.status == 200 || r.status == 201 || r.status == 204 else { throw Self.error(r, href) }
        return .applied(href: href, version: try await etag(of: r, at: href))
    }

    /// The copy at `href` at `version`: the one read this pass, else fetched now; another version
    /// is `versionStale`.
    func copy(href: String, at version: String) async throws(TargetError) -> ICalComponent {
        if let copy = copies.copy(href, at: version) { return copy }
        let current = try await entry(href: href)
        guard current.version == version else {
            throw TargetError(.versionStale, "\(href) has changed: its ETag is no longer \(version)")
        }
        guard let calendar = current.calendar else { throw TargetError(.invalid, "\(href) cannot be read") }
        return calendar
    }

    func put(_ href: String, _ calendar: ICalComponent, condition: (String, String)) async throws(TargetError)
        -> HTTPResponse
    {
        let body = ICalWriter.write([calendar])
        guard body.count <= maxEntityBytes else {
            throw TargetError(
                .tooLarge, "\(href) is \(body.count) bytes, over the \(maxEntityBytes) the target takes")
        }
        return try await send(
            "PUT", href, headers: [("Content-Type", "text/calendar; charset=utf-8"), condition], body: body)
    }

    /// The ETag a write answered, or (a server such as Google's answers none) the one a GET reads.
    func etag(of r: HTTPResponse, at href: String) async throws(TargetError) -> String {
        if let etag = r.header("etag"), !etag.hasPrefix("W/") { return etag }
        return try await entry(href: href).version
    }

    // MARK: Requests

    /// Sends a request; one answered 423 (Locked: Xandikos takes one write per collection at a
    /// time, and refuses the others without applying them) is sent again after a short wait, a
    /// few times.
    func send(_ method: String, _ href: String, headers: [(String, String)] = [], body: [UInt8]? = nil)
        async throws(TargetError) -> HTTPResponse
    {
        var wait: UInt64 = 20_000_000
        for attempt in 0... {
            let r: HTTPResponse
            do {
                r = try await dav.send(
                    method, WebDAV.url(href, on: origin), headers: headers, body: body, maxBytes: Self.maxAnswerBytes)
            } catch {
                throw TargetError(.unknown, "\(method) \(href): \(error)")
            }
            guard r.status == 423, attempt < 8 else { return r }
            try? await Task.sleep(nanoseconds: wait + UInt64.random(in: 0...wait))
            wait *= 2
        }
        preconditionFailure("unreachable")
    }

    func xml(_ method: String, _ href: String, _ body: XMLElement, depth: String) async throws(TargetError)
        -> HTTPResponse
    {
        do {
            return try await dav.xml(
                method, WebDAV.url(href, on: origin), body, depth: depth, maxBytes: Self.maxAnswerBytes)
        } catch {
            throw TargetError(.unknown, "\(method) \(href): \(error)")
        }
    }

    /// The entities a REPORT answers (each remembered for updates in this pass).
    func entries(report: XMLElement, at collection: String, withData: Bool) async throws(TargetError)
        -> [TargetEntry]
    {
        let r = try await xml("REPORT", collection, report, depth: "1")
        guard r.status == 207 else { throw Self.error(r, collection) }
        var found: [TargetEntry] = []
        for m in try Self.multistatus(r, collection).responses where m.status != 404 {
            guard let etag = m.etag, let data = m.prop("calendar-data", WebDAV.caldav) else { continue }
            found.append(try remember(href: m.href, etag: etag, data: Array(data.text.utf8), withData: withData))
        }
        return found
    }

    /// The entry of one entity's calendar data, its copy kept for an update in this pass.
    func remember(href: String, etag: String, data: [UInt8], withData: Bool) throws(TargetError) -> TargetEntry {
        let parsed: ICalDocument
        do { parsed = try ICalParser().parse(data) } catch {
            throw TargetError(.invalid, "\(href) cannot be read: \(error)")
        }
        guard let calendar = parsed.calendars.first else { throw TargetError(.invalid, "\(href) holds no VCALENDAR") }
        copies.keep(href, etag, calendar)
        let whole = TargetEntry(href: href, version: etag, whole: calendar)
        return TargetEntry(
            href: href, version: etag, uid: whole.uid, lastModified: etag, calendar: withData ? calendar : nil)
    }

    static func multistatus(_ r: HTTPResponse, _ href: String) throws(TargetError) -> WebDAV.Multistatus {
        do { return try WebDAV.multistatus(r.body) } catch {
            throw TargetError(.unknown, "\(href): the server's multistatus cannot be read: \(error)")
        }
    }

    /// A refusal in the engine's words, naming the href and the server's status.
    static func error(_ r: HTTPResponse, _ href: String) -> TargetError {
        let reason: TargetError.Reason =
            switch r.status {
            case 401: .unauthorized
            case 403: .forbidden
            case 404, 410: .notFound
            case 412: .versionStale
            case 413: .tooLarge
            case 400, 405, 409, 415, 422: .invalid
            default: .unknown
            }
        let words = String(decoding: r.body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return TargetError(reason, "\(href): HTTP \(r.status)" + (words.isEmpty ? "" : ": \(words)"))
    }

    static func namesUIDConflict(_ r: HTTPResponse) -> Bool {
        (r.status == 409 || r.status == 412 || r.status == 403)
            && String(decoding: r.body, as: UTF8.self).contains("no-uid-conflict")
    }

    // MARK: Names

    /// The member name of a UID: the UID itself when it is short and made of characters safe in
    /// a path on every server (letters, digits, `-._~@`), else the SHA-256 of the UID in hex.
    public static func name(for uid: String) -> String {
        let safe =
            uid.utf8.count <= 100 && !uid.isEmpty && !uid.hasPrefix(".")
            && uid.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-._~@".unicodeScalars.contains($0))
            }
        return (safe ? uid : CanonicalForm.sha256Hex(Array(uid.utf8))) + ".ics"
    }

    /// The collection's path with a trailing slash, spelled as `WebDAV.path` spells hrefs.
    static func slashed(_ collection: String) -> String { WebDAV.path(collection) + "/" }

    static func compFilter(_ name: String, _ children: [XMLElement]) -> XMLElement {
        XMLElement(
            "comp-filter", namespace: WebDAV.caldav, attributes: [XMLAttribute("name", name)],
            children: children.map { .element($0) })
    }

    static func propFilter(_ name: String, _ children: [XMLElement]) -> XMLElement {
        XMLElement(
            "prop-filter", namespace: WebDAV.caldav, attributes: [XMLAttribute("name", name)],
            children: children.map { .element($0) })
    }

    /// The TZID of a `calendar-timezone` (a VCALENDAR holding one VTIMEZONE).
    static func zoneID(_ text: String) -> String? {
        (try? ICalParser().parse(Array(text.utf8)))?.calendars.first?.components.first { $0.name == "VTIMEZONE" }?
            .property("TZID")?.text
    }
}

/// The copies a target read in one pass, by href with their ETag.
final class CopyCache: @unchecked Sendable {
    // Unchecked: `copies` is read and written under `lock`.
    private let lock = NSLock()
    private var copies: [String: (etag: String, calendar: ICalComponent)] = [:]

    func keep(_ href: String, _ etag: String, _ calendar: ICalComponent) {
        lock.withLock { copies[WebDAV.path(href)] = (etag, calendar) }
    }

    func copy(_ href: String, at etag: String) -> ICalComponent? {
        lock.withLock { copies[WebDAV.path(href)].flatMap { $0.etag == etag ? $0.calendar : nil } }
    }

    func forget(_ href: String) {
        _ = lock.withLock { copies.removeValue(forKey: WebDAV.path(href)) }
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
