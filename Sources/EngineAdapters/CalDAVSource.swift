import Engine
import Foundation
import SafeXML

/// A CalDAV calendar collection as a source (`source.type: caldav`).
///
/// - From a token: what changed since, by `sync-collection` (RFC 6578); the changed members by
///   `calendar-multiget` (RFC 4791 §7.9) in batches; a member reported 404 is a deletion. A token
///   the server no longer accepts (any 4xx naming `valid-sync-token`: Radicale answers 403,
///   Xandikos 412), or a server that no longer answers sync-collection, is `tokenInvalid`.
/// - From no position: every member (`complete`).
/// - From members (`FeedPosition.members`): the listing compared by ETag; only the members whose
///   ETag differs (or that have none) are fetched, and the members the listing lacks are deleted.
///
/// The listing is sync-collection from no token; a server without sync-collection is listed by
/// PROPFIND (getetag) and gives no token (the pass then reads it from members each time). A listing
/// truncated with 507 on the collection is continued from the token it gives until complete; as a
/// server may give a token that skips what it left out, a whole listing cut short is checked
/// against PROPFIND's, and changes cut short are not trusted (`tokenInvalid`: the pass lists the
/// members and compares them by ETag). The
/// answers of one fetch together stay under the subscription's `max-feed-bytes`.
public struct CalDAVSource: FeedSource {
    public var http: CurlHTTPClient
    /// Members per calendar-multiget.
    public var batchSize: Int

    public init(http: CurlHTTPClient = CurlHTTPClient(), batchSize: Int = 100) {
        self.http = http
        self.batchSize = batchSize
    }

    public func fetch(
        _ s: Subscription, from position: FeedPosition?, onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedResult {
        var read = try Reading(s, http: http)
        switch position {
        case .token(let since)? where !since.isEmpty:
            // A listing the server cut short (507) is not trusted to hold every change: the pass
            // then lists the members and compares them by ETag, as for a token refused.
            guard let listing = try await read.sync(from: since), !listing.truncated else { return .tokenInvalid }
            if listing.members.isEmpty, listing.deleted.isEmpty { return .notModified }
            let fetched = try await read.bodies(listing.members.map(\.href), batchSize: batchSize)
            return .changes(
                FeedChanges(
                    changed: fetched.resources, deleted: listing.deleted + fetched.missing, token: listing.token,
                    complete: false))
        case .members(let known)?:
            let listing = try await read.everything()
            let listed = Set(listing.members.map(\.href))
            let differing = listing.members.filter { m in m.etag == nil || known[m.href] != m.etag }.map(\.href)
            let fetched = try await read.bodies(differing, batchSize: batchSize)
            let gone = known.keys.filter { !listed.contains($0) }.sorted()
            // A collection without tokens that has not changed; one with a token gives it to store.
            if listing.token.isEmpty, fetched.resources.isEmpty, gone.isEmpty, fetched.missing.isEmpty {
                return .notModified
            }
            return .changes(
                FeedChanges(
                    changed: fetched.resources, deleted: gone + fetched.missing, token: listing.token, complete: false))
        default:
            let listing = try await read.everything()
            let fetched = try await read.bodies(listing.members.map(\.href), batchSize: batchSize)
            return .changes(
                FeedChanges(changed: fetched.resources, deleted: [], token: listing.token, complete: true))
        }
    }

    /// A collection's members (with the ETags listed), the hrefs deleted, and the token the
    /// listing gave ("" for none).
    struct Listing {
        var members: [(href: String, etag: String?)] = []
        var deleted: [String] = []
        var token = ""
        /// Whether the server cut an answer short (507) on the way.
        var truncated = false
    }

    /// One fetch's requests: the subscription's credentials, limits and TLS, and the bytes left of
    /// its `max-feed-bytes`.
    struct Reading {
        var s: Subscription
        var dav: WebDAV
        var budget: Int

        init(_ s: Subscription, http: CurlHTTPClient) throws(FetchError) {
            self.s = s
            dav = WebDAV(
                http: http, authorization: try FeedFetcher.authorization(s), connectTimeout: s.connectTimeout,
                timeout: s.totalTimeout, caFile: s.sourceCAFile, userAgent: s.userAgent)
            budget = s.maxFeedBytes
        }

        /// Sends a REPORT or PROPFIND to the collection, counting its answer against the budget.
        mutating func send(_ method: String, _ body: XMLElement, depth: String) async throws(FetchError)
            -> HTTPResponse
        {
            let r: HTTPResponse
            do { r = try await dav.xml(method, s.sourceURL, body, depth: depth, maxBytes: budget) } catch {
                if case .tooLarge = error { throw .tooLarge(subscription: s.id, limit: s.maxFeedBytes) }
                throw .transport(subscription: s.id, host: s.sourceHost, "\(error)")
            }
            budget -= r.body.count
            guard budget >= 0 else { throw .tooLarge(subscription: s.id, limit: s.maxFeedBytes) }
            return r
        }

        /// A 207's multistatus; any other answer is the server's error.
        func multistatus(_ r: HTTPResponse) throws(FetchError) -> WebDAV.Multistatus {
            guard r.status == 207 else {
                throw .http(
                    subscription: s.id, host: s.sourceHost, status: r.status,
                    retryAfter: r.header("retry-after").flatMap { Int($0) })
            }
            do { return try WebDAV.multistatus(r.body) } catch {
                throw .unreadable(subscription: s.id, host: s.sourceHost, error.description)
            }
        }

        /// Every member: by sync-collection from no token, or by PROPFIND where the server has no
        /// sync-collection. A sync-collection listing the server cut short on the way is checked
        /// against PROPFIND's: when they differ, PROPFIND's members are taken (with the token).
        mutating func everything() async throws(FetchError) -> Listing {
            guard var listing = try await sync(from: "") else { return try await propfind() }
            if listing.truncated {
                let all = try await propfind()
                if Set(all.members.map(\.href)) != Set(listing.members.map(\.href)) { listing.members = all.members }
            }
            return listing
        }

        /// The members as PROPFIND lists them, with their ETags; no token.
        mutating func propfind() async throws(FetchError) -> Listing {
            let r = try await send(
                "PROPFIND", WebDAV.propfind([WebDAV.getetag, WebDAV.element("resourcetype")]), depth: "1")
            var listing = Listing()
            for m in try multistatus(r).responses
            where !m.isCollection && !CalDAVSource.isCollection(m.href, of: s.sourceURL) {
                listing.members.append((m.href, m.etag))
            }
            return listing
        }

        /// The members changed since `token` ("" for all of them) and the hrefs deleted. Nil when the
        /// server refuses the token, or (from a token) does not answer sync-collection.
        mutating func sync(from token: String) async throws(FetchError) -> Listing? {
            var listing = Listing()
            var from = token
            // A server that truncates (507 on the collection) gives a token to go on from.
            for _ in 0..<1000 {
                let r = try await send("REPORT", WebDAV.syncCollection(from: from), depth: "1")
                if (400..<500).contains(r.status), String(decoding: r.body, as: UTF8.self).contains("valid-sync-token")
                {
                    return nil
                }
                if r.status != 207, ![401, 407].contains(r.status) {
                    // No sync-collection here: listed otherwise from no token, a refused token from one.
                    return nil
                }
                let answer = try multistatus(r)
                var truncated = false
                for m in answer.responses {
                    if CalDAVSource.isCollection(m.href, of: s.sourceURL) {
                        truncated = truncated || m.status == 507
                    } else if m.status == 404 {
                        listing.deleted.append(m.href)
                    } else if !m.isCollection {
                        listing.members.append((m.href, m.etag))
                    }
                }
                guard let next = answer.syncToken, !next.isEmpty else {
                    throw .unreadable(
                        subscription: s.id, host: s.sourceHost, "the sync-collection answer has no sync-token")
                }
                listing.token = next
                guard truncated else { return listing }
                listing.truncated = true
                // A listing cut short without a token to go on from cannot be completed: taken as
                // it is, the members left out would look deleted.
                guard next != from else {
                    throw .unreadable(
                        subscription: s.id, host: s.sourceHost,
                        "the server cut its sync-collection answer short (507) without a new token to go on from")
                }
                from = next
            }
            throw .unreadable(
                subscription: s.id, host: s.sourceHost, "the server cut its sync-collection answer short 1,000 times")
        }

        /// The members at `hrefs`, by calendar-multiget in batches; the hrefs answered 404 (gone
        /// between the listing and the multiget) are `missing`. A member the answer says nothing
        /// of is an error, never a deletion.
        mutating func bodies(_ hrefs: [String], batchSize: Int) async throws(FetchError) -> (
            resources: [FeedChanges.Resource], missing: [String]
        ) {
            var resources: [FeedChanges.Resource] = []
            var missing: [String] = []
            for batch in hrefs.chunks(of: max(1, batchSize)) {
                let answer = try multistatus(try await send("REPORT", WebDAV.multiget(batch), depth: "1"))
                var found: [String: FeedChanges.Resource] = [:]
                var gone: Set<String> = []
                for m in answer.responses {
                    if m.status == 404 { gone.insert(m.href) }
                    guard let data = m.prop("calendar-data", WebDAV.caldav) else { continue }
                    found[m.href] = FeedChanges.Resource(
                        href: m.href, etag: m.etag, body: Array(data.text.utf8))
                }
                for href in batch {
                    if var resource = found[WebDAV.path(href)] {
                        resource.href = href
                        resources.append(resource)
                    } else if gone.contains(WebDAV.path(href)) {
                        missing.append(href)
                    } else {
                        throw .unreadable(
                            subscription: s.id, host: s.sourceHost,
                            "the calendar-multiget answer says nothing of \(href)")
                    }
                }
            }
            return (resources, missing)
        }
    }

    /// Whether `href` (a path, or a URL) names the collection at `url` itself.
    static func isCollection(_ href: String, of url: String) -> Bool { WebDAV.path(href) == WebDAV.path(url) }
}
