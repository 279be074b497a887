import Engine
import Foundation
import SafeXML

/// A CalDAV calendar collection as a source (`source.type: caldav`): what changed since the stored
/// token by `sync-collection` (RFC 6578), then the changed members by `calendar-multiget`
/// (RFC 4791 §7.9) in batches. Read from no position it answers every member (`complete`); a
/// member reported 404 is a deletion; a token the server no longer accepts (any 4xx naming
/// `valid-sync-token`: Radicale answers 403, Xandikos 412) is `tokenInvalid`, and the pass then
/// reads the whole collection and compares it. A listing the server truncates with 507 on the
/// collection is continued from the token it gives until complete.
public struct CalDAVSource: FeedSource {
    public var http: CurlHTTPClient
    /// Members per calendar-multiget.
    public var batchSize: Int

    public init(http: CurlHTTPClient = CurlHTTPClient(), batchSize: Int = 100) {
        self.http = http
        self.batchSize = batchSize
    }

    static let dav = "DAV:"
    static let caldav = "urn:ietf:params:xml:ns:caldav"

    public func fetch(
        _ s: Subscription, from position: FeedPosition?, onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedResult {
        let since: String? = if case .token(let t)? = position { t } else { nil }
        guard let listing = try await sync(s, since: since) else { return .tokenInvalid }
        if since != nil, listing.token == since, listing.changed.isEmpty, listing.deleted.isEmpty { return .notModified }
        var changed: [(href: String, body: [UInt8])] = []
        var deleted = listing.deleted
        for start in stride(from: 0, to: listing.changed.count, by: max(1, batchSize)) {
            let hrefs = Array(listing.changed[start..<min(start + max(1, batchSize), listing.changed.count)])
            let bodies = try await multiget(s, hrefs: hrefs)
            for href in hrefs {
                // A member gone between the listing and the multiget is a deletion.
                if let body = bodies[href] { changed.append((href, body)) } else { deleted.append(href) }
            }
        }
        return .changes(FeedChanges(changed: changed, deleted: deleted, token: listing.token, complete: since == nil))
    }

    /// What `sync-collection` listed: the members changed (or, from no token, all of them), the
    /// hrefs deleted, and the new token. Nil when the server refuses the token.
    struct Listing {
        var changed: [String] = []
        var deleted: [String] = []
        var token = ""
    }

    func sync(_ s: Subscription, since: String?) async throws(FetchError) -> Listing? {
        var listing = Listing()
        var token = since ?? ""
        // A server that truncates (507 on the collection) gives a token to go on from.
        for _ in 0..<1000 {
            let request = XMLElement(
                "sync-collection", namespace: Self.dav,
                children: [
                    .element(XMLElement("sync-token", namespace: Self.dav, text: token)),
                    .element(XMLElement("sync-level", namespace: Self.dav, text: "1")),
                    .element(Self.prop([XMLElement("getetag", namespace: Self.dav)])),
                ])
            let r = try await report(s, request, depth: "1")
            if (400..<500).contains(r.status), String(decoding: r.body, as: UTF8.self).contains("valid-sync-token") {
                return nil
            }
            let root = try multistatus(s, r)
            var truncated = false
            for response in root.children("response", namespace: Self.dav) {
                guard let href = response.child("href", namespace: Self.dav)?.text else { continue }
                let status = response.child("status", namespace: Self.dav)?.text ?? ""
                if Self.isCollection(href, of: s.sourceURL) {
                    truncated = truncated || status.contains(" 507")
                } else if status.contains(" 404") {
                    listing.deleted.append(href)
                } else {
                    listing.changed.append(href)
                }
            }
            guard let next = root.child("sync-token", namespace: Self.dav)?.text, !next.isEmpty else {
                throw .unreadable(subscription: s.id, host: s.sourceHost, "the sync-collection answer has no sync-token")
            }
            listing.token = next
            guard truncated, next != token else { return listing }
            token = next
        }
        return listing
    }

    /// The calendar data of `hrefs`, by href (members the server no longer has are left out).
    func multiget(_ s: Subscription, hrefs: [String]) async throws(FetchError) -> [String: [UInt8]] {
        let request = XMLElement(
            "calendar-multiget", namespace: Self.caldav,
            children: [
                .element(
                    Self.prop([XMLElement("getetag", namespace: Self.dav), XMLElement("calendar-data", namespace: Self.caldav)]))
            ] + hrefs.map { .element(XMLElement("href", namespace: Self.dav, text: $0)) })
        let root = try multistatus(s, try await report(s, request, depth: "1"))
        var bodies: [String: [UInt8]] = [:]
        for response in root.children("response", namespace: Self.dav) {
            guard let href = response.child("href", namespace: Self.dav)?.text else { continue }
            for propstat in response.children("propstat", namespace: Self.dav) {
                if let data = propstat.child("prop", namespace: Self.dav)?.child("calendar-data", namespace: Self.caldav) {
                    bodies[href] = Array(data.text.utf8)
                }
            }
        }
        return bodies
    }

    static func prop(_ names: [XMLElement]) -> XMLElement {
        XMLElement("prop", namespace: dav, children: names.map { .element($0) })
    }

    /// Sends a REPORT to the collection with the subscription's credentials, limits and TLS.
    func report(_ s: Subscription, _ body: XMLElement, depth: String) async throws(FetchError) -> HTTPResponse {
        var headers = [("Content-Type", "application/xml; charset=utf-8"), ("Depth", depth)]
        if let authorization = try FeedFetcher.authorization(s) { headers.append(("Authorization", authorization)) }
        var request = HTTPRequest(
            method: "REPORT", url: s.sourceURL, headers: headers,
            body: XMLSerializer.serialize(body, prefixes: [Self.dav: "d", Self.caldav: "c"]),
            connectTimeout: s.connectTimeout, timeout: s.totalTimeout, maxResponseBytes: s.maxFeedBytes, maxRedirects: 5)
        request.caFile = s.sourceCAFile
        request.userAgent = s.userAgent
        do { return try await http.send(request) } catch {
            if case .tooLarge(let limit) = error { throw .tooLarge(subscription: s.id, limit: limit) }
            throw .transport(subscription: s.id, host: s.sourceHost, "\(error)")
        }
    }

    /// A 207's multistatus element; any other answer is the server's error.
    func multistatus(_ s: Subscription, _ r: HTTPResponse) throws(FetchError) -> XMLElement {
        guard r.status == 207 else {
            throw .http(
                subscription: s.id, host: s.sourceHost, status: r.status,
                retryAfter: r.header("retry-after").flatMap { Int($0) })
        }
        let root: XMLElement
        do { root = try SafeXMLReader().parse(r.body) } catch {
            throw .unreadable(subscription: s.id, host: s.sourceHost, "\(error)")
        }
        guard root.name == "multistatus", root.namespace == Self.dav else {
            throw .unreadable(subscription: s.id, host: s.sourceHost, "a \(root.name) element, not a DAV:multistatus")
        }
        return root
    }

    /// Whether `href` (a path, or a URL) names the collection at `url` itself.
    static func isCollection(_ href: String, of url: String) -> Bool {
        func path(_ h: String) -> String {
            let p = URL(string: h)?.path ?? h
            return p.hasSuffix("/") ? String(p.dropLast()) : p
        }
        return path(href) == path(url)
    }
}
