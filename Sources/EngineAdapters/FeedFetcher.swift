import Engine
import Foundation

/// Conditional GETs of a subscription's feed through libcurl.
public struct FeedFetcher: FeedSource {
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
        if let authorization = try Self.authorization(s) { headers.append(("Authorization", authorization)) }
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
            throw .transport(subscription: s.id, host: s.sourceHost, "\(error)")
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

    /// The `Authorization` header of `source.auth` (nil for none), its secret read now.
    static func authorization(_ s: Subscription) throws(FetchError) -> String? {
        guard let auth = s.sourceAuth else { return nil }
        switch auth.header() {
        case .success(let header): return header
        case .failure(let e): throw .secret(subscription: s.id, "\(e)")
        }
    }
}
