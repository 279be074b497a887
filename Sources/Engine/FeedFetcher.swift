import Foundation

/// Why a feed could not be fetched; each names the subscription and, for HTTP, the status.
public enum FetchError: Error, Sendable, Hashable, CustomStringConvertible {
    case transport(subscription: String, host: String, HTTPTransportError)
    case http(subscription: String, host: String, status: Int, retryAfter: Int?)
    case tooLarge(subscription: String, limit: Int)
    case secret(subscription: String, String)

    public var description: String {
        switch self {
        case .transport(let s, let host, let e): "\(s): cannot fetch the feed from \(host): \(e)"
        case .http(let s, let host, let status, let retry):
            "\(s): the feed at \(host) answered HTTP \(status)" + (retry.map { " (retry after \($0) s)" } ?? "")
                + (status == 401 || status == 403
                    ? "; check source.auth" : status == 404 || status == 410 ? "; check source.url" : "")
        case .tooLarge(let s, let limit):
            "\(s): the feed is larger than max-feed-bytes (\(limit) bytes); raise max-feed-bytes if it is genuine"
        case .secret(let s, let m): "\(s): \(m)"
        }
    }
}

/// Conditional GETs of a subscription's feed through libcurl.
public struct FeedFetcher: Sendable {
    public var http: CurlHTTPClient

    public init(http: CurlHTTPClient = CurlHTTPClient()) {
        self.http = http
    }

    /// Fetches the feed, sending the stored validators (copied verbatim, RFC 9110 §13.1);
    /// `onBody` sees the body while it downloads (see `HTTPRequest.onBody`). A feed has no
    /// token: a token position reads it whole.
    public func fetch(
        _ s: Subscription, from position: FeedPosition?, onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedResult {
        let (etag, lastModified) = position?.validators ?? (nil, nil)
        var headers: [(String, String)] = [("Accept", "text/calendar, */*;q=0.5")]
        if let etag { headers.append(("If-None-Match", etag)) }
        if let lastModified { headers.append(("If-Modified-Since", lastModified)) }
        switch s.sourceAuth {
        case .basic(let user, let password)?:
            switch password.read() {
            case .success(let p):
                headers.append(("Authorization", "Basic " + Data("\(user):\(p)".utf8).base64EncodedString()))
            case .failure(let e): throw .secret(subscription: s.id, "\(e)")
            }
        case .bearer(let token)?:
            switch token.read() {
            case .success(let t): headers.append(("Authorization", "Bearer \(t)"))
            case .failure(let e): throw .secret(subscription: s.id, "\(e)")
            }
        case nil:
            break
        }
        var request = HTTPRequest(
            url: s.sourceURL, headers: headers, connectTimeout: s.connectTimeout, timeout: s.totalTimeout,
            maxResponseBytes: s.maxFeedBytes, maxRedirects: 5)
        request.caFile = s.sourceCAFile
        request.userAgent = s.userAgent
        request.onBody = onBody
        request.reserveBytes = s.maxFeedBytes
        let r: HTTPResponse
        do { r = try await http.send(request) } catch {
            if case .tooLarge(let limit) = error { throw .tooLarge(subscription: s.id, limit: limit) }
            throw .transport(subscription: s.id, host: s.sourceHost, error)
        }
        // file:// answers 0: it has no status, and no validators.
        switch r.status {
        case 0, 200: return .body(r.body, etag: r.header("etag"), lastModified: r.header("last-modified"))
        case 304: return .notModified
        default:
            throw .http(
                subscription: s.id, host: s.sourceHost, status: r.status,
                retryAfter: r.header("retry-after").flatMap { Int($0) })
        }
    }
}
