import Engine
internal import CCurl
import Foundation

/// One HTTP request for libcurl.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    /// Seconds to connect, and for the whole exchange.
    /// A PEM file of certificate authorities to trust instead of the system's.
    public var caFile: String?
    public var connectTimeout: Double
    public var timeout: Double
    /// The largest response body read (checked while reading, after decompression).
    public var maxResponseBytes: Int
    /// Follow redirects (at most this many; never from https to http). 0: do not follow.
    public var maxRedirects: Int
    /// Called on the transfer's thread with the body so far each time more of it arrives (to
    /// digest a large body while it downloads).
    public var onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    /// Room for a body this large is reserved before it arrives, so that a large body is never
    /// copied as it grows. It is address space only: the system gives a page memory when it is
    /// first written.
    public var reserveBytes = 0
    /// The User-Agent sent; nil for `CurlHTTPClient.userAgent`.
    public var userAgent: String?

    public init(
        method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        connectTimeout: Double = 10, timeout: Double = 60, maxResponseBytes: Int = 64 << 20, maxRedirects: Int = 0
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.maxRedirects = maxRedirects
    }
}

/// What came back.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lowercased, in order.
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// The URL finally fetched (after redirects).
    public var effectiveURL: String

    /// The first value of a header (name case-insensitive).
    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.0 == n }?.1
    }
}

/// Why an exchange failed before a status came back.
public enum HTTPTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// libcurl's error: its code and message (DNS, refused, TLS, timeout …).
    case curl(code: Int, message: String)
    /// The body exceeded the limit.
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .curl(let code, let message): "\(message) (libcurl error \(code))"
        case .tooLarge(let limit): "the response exceeds \(limit) bytes"
        }
    }

    /// True for failures that a retry may cure (timeouts, refused connections, resets).
    public var isTransient: Bool {
        if case .curl(let code, _) = self {
            return [
                Int(CURLE_COULDNT_CONNECT.rawValue), Int(CURLE_OPERATION_TIMEDOUT.rawValue),
                Int(CURLE_RECV_ERROR.rawValue),
                Int(CURLE_SEND_ERROR.rawValue), Int(CURLE_GOT_NOTHING.rawValue), Int(CURLE_PARTIAL_FILE.rawValue),
            ].contains(code)
        }
        return false
    }
}

/// Outbound HTTP through libcurl (TLS, compression, timeouts, redirects). Each request runs on a
/// thread of its own so the blocking easy interface never holds a Swift concurrency thread.
public struct CurlHTTPClient: Sendable {
    public static let userAgent = "Outboard/0.1 (+calendar sync; libcurl)"

    private static let initialized: Void = { _ = ccurl_global_init() }()

    /// Sees every exchange once it ends: the request, and the answer (nil when there was none).
    /// The benchmarks count requests and bytes with it.
    public var observer: (@Sendable (HTTPRequest, HTTPResponse?) -> Void)?

    public init(observer: (@Sendable (HTTPRequest, HTTPResponse?) -> Void)? = nil) {
        _ = Self.initialized
        self.observer = observer
    }

    public func send(_ request: HTTPRequest) async throws(HTTPTransportError) -> HTTPResponse {
        let result: Result<HTTPResponse, HTTPTransportError> = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: Self.perform(request))
            }
        }
        observer?(request, try? result.get())
        return try result.get()
    }

    /// State shared with libcurl's callbacks.
    final class Transfer {
        var body: [UInt8] = []
        var headers: [(String, String)] = []
        var limit: Int
        var exceeded = false
        let onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
        init(limit: Int, onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?) {
            self.limit = limit
            self.onBody = onBody
        }
    }

    static func perform(_ r: HTTPRequest) -> Result<HTTPResponse, HTTPTransportError> {
        guard let h = curl_easy_init() else {
            return .failure(.curl(code: -1, message: "libcurl could not start a transfer"))
        }
        defer { curl_easy_cleanup(h) }
        return perform(r, on: h)
    }

    /// One exchange on an easy handle whose options are all set here.
    static func perform(_ r: HTTPRequest, on h: UnsafeMutableRawPointer) -> Result<HTTPResponse, HTTPTransportError> {
        let transfer = Transfer(limit: r.maxResponseBytes, onBody: r.onBody)
        transfer.body.reserveCapacity(min(r.reserveBytes, r.maxResponseBytes))
        let box = Unmanaged.passUnretained(transfer).toOpaque()

        setOptions(r, on: h)
        var bodyCopy = r.body
        if bodyCopy != nil {
            ccurl_setopt_long(h, CURLOPT_POSTFIELDSIZE, bodyCopy!.count)
        }
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in r.headers { list = curl_slist_append(list, "\(name): \(value)") }
        list = curl_slist_append(list, "Expect:")  // no 100-continue round trip for large bodies
        defer { curl_slist_free_all(list) }
        ccurl_setopt_slist(h, CURLOPT_HTTPHEADER, list)

        receive(on: h, into: box)

        let code: CURLcode =
            bodyCopy == nil
            ? curl_easy_perform(h)
            : bodyCopy!.withUnsafeMutableBytes { raw in
                ccurl_setopt_ptr(h, CURLOPT_POSTFIELDS, raw.baseAddress)
                return curl_easy_perform(h)
            }
        bodyCopy = nil
        if transfer.exceeded { return .failure(.tooLarge(limit: r.maxResponseBytes)) }
        guard code == CURLE_OK else {
            return .failure(.curl(code: Int(code.rawValue), message: String(cString: curl_easy_strerror(code))))
        }
        return .success(answer(r, on: h, transfer))
    }

    /// The request's options: URL, agent, encodings, timeouts, protocols, CA file, redirects
    /// (https never follows to http), and the method.
    static func setOptions(_ r: HTTPRequest, on h: UnsafeMutableRawPointer) {
        ccurl_setopt_string(h, CURLOPT_URL, r.url)
        ccurl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        ccurl_setopt_string(h, CURLOPT_USERAGENT, r.userAgent ?? userAgent)
        ccurl_setopt_string(h, CURLOPT_ACCEPT_ENCODING, "")  // every encoding libcurl decodes
        ccurl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(r.connectTimeout * 1000))
        ccurl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(r.timeout * 1000))
        ccurl_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https,file")
        if let ca = r.caFile { ccurl_setopt_string(h, CURLOPT_CAINFO, ca) }
        if r.maxRedirects > 0 {
            ccurl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 1)
            ccurl_setopt_long(h, CURLOPT_MAXREDIRS, r.maxRedirects)
            // Only https may follow from https: a redirect to plain http is refused.
            ccurl_setopt_string(
                h, CURLOPT_REDIR_PROTOCOLS_STR, r.url.lowercased().hasPrefix("https:") ? "https" : "http,https")
        }
        if r.method != "GET" { ccurl_setopt_string(h, CURLOPT_CUSTOMREQUEST, r.method) }
    }

    /// The callbacks that collect the response's headers and body (up to its limit) into the
    /// `Transfer` at `box`.
    static func receive(on h: UnsafeMutableRawPointer, into box: UnsafeMutableRawPointer) {
        ccurl_setopt_ptr(h, CURLOPT_WRITEDATA, box)
        ccurl_setopt_cb(h, CURLOPT_WRITEFUNCTION) { ptr, size, nmemb, ud in
            let t = Unmanaged<Transfer>.fromOpaque(ud!).takeUnretainedValue()
            let n = size * nmemb
            if t.body.count + n > t.limit {
                t.exceeded = true
                return 0
            }
            ptr!.withMemoryRebound(to: UInt8.self, capacity: n) {
                t.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n))
            }
            if let onBody = t.onBody { t.body.withUnsafeBufferPointer(onBody) }
            return n
        }
        ccurl_setopt_ptr(h, CURLOPT_HEADERDATA, box)
        ccurl_setopt_cb(h, CURLOPT_HEADERFUNCTION) { ptr, size, nmemb, ud in
            let t = Unmanaged<Transfer>.fromOpaque(ud!).takeUnretainedValue()
            let n = size * nmemb
            let line = ptr!.withMemoryRebound(to: UInt8.self, capacity: n) {
                String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
            }
            if line.hasPrefix("HTTP/") { t.headers.removeAll() }  // a new response (after a redirect or 100)
            if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                t.headers.append((name, value))
                // The body's size, when announced and within the limit, is reserved at once (an
                // encoded body may decode larger; the array then grows as usual).
                if name == "content-length", let n = Int(value), n > t.body.capacity, n <= t.limit {
                    t.body.reserveCapacity(n)
                }
            }
            return n
        }
    }

    /// The response of a completed exchange: its status, headers, body and the URL it ended at.
    static func answer(_ r: HTTPRequest, on h: UnsafeMutableRawPointer, _ transfer: Transfer) -> HTTPResponse {
        var status = 0
        ccurl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        var effective: UnsafeMutablePointer<CChar>?
        _ = withUnsafeMutablePointer(to: &effective) {
            ccurl_getinfo_ptr(h, CURLINFO_EFFECTIVE_URL, UnsafeMutableRawPointer($0))
        }
        return HTTPResponse(
            status: status, headers: transfer.headers, body: transfer.body,
            effectiveURL: effective.map { String(cString: $0) } ?? r.url)
    }
}

/// One connection kept open across requests (HTTP keep-alive): an easy handle reused by one
/// thread at a time, its options set anew for each request while libcurl keeps the connection.
/// For clients that ask many small questions in a row of one server (`outboard-bench availability`).
public final class CurlConnection: @unchecked Sendable {
    // Unchecked: `handle` is used under `lock`, one exchange at a time.
    private let handle: UnsafeMutableRawPointer
    private let lock = NSLock()

    public init() throws(HTTPTransportError) {
        _ = CurlHTTPClient()
        guard let h = curl_easy_init() else { throw .curl(code: -1, message: "libcurl could not start a transfer") }
        handle = h
    }

    deinit { curl_easy_cleanup(handle) }

    /// One exchange, on the calling thread (it blocks).
    public func send(_ request: HTTPRequest) throws(HTTPTransportError) -> HTTPResponse {
        lock.lock()
        defer { lock.unlock() }
        curl_easy_reset(handle)
        return try CurlHTTPClient.perform(request, on: handle).get()
    }
}
