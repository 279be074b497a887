import Engine
import CalendarModel
import CalWS
import Foundation
import SyncCore

/// Why a call to a target failed, with what a person needs to act.
public enum TargetClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The target could not be reached or did not answer in time.
    case transport(endpoint: String, HTTPTransportError)
    /// 401: no token, or a token the target does not know.
    case unauthorized(endpoint: String)
    /// 403, or `forbidden`: the token is not granted this collection.
    case forbidden(href: String, message: String)
    /// The target answered with another HTTP status and no CalWS answer.
    case http(endpoint: String, status: Int)
    /// A SOAP fault: the target could not read the request.
    case fault(endpoint: String, message: String)
    /// The answer could not be read.
    case malformed(endpoint: String, message: String)
    /// A CalWS error element, for the href or UID the call was about.
    case calws(CalWSErrorKind?, status: CalWSStatus, message: String, about: String)

    public var description: String {
        switch self {
        case .transport(let e, let err): "cannot reach the target \(Redact.url(e)): \(err)"
        case .unauthorized(let e):
            "the target \(Redact.url(e)) refused the token (401): check target.token-env or target.token-file"
        case .forbidden(let href, let m): "the token is not granted \(href): \(m)"
        case .http(let e, let s): "the target \(Redact.url(e)) answered HTTP \(s)"
        case .fault(let e, let m): "the target \(Redact.url(e)) could not read the request: \(m)"
        case .malformed(let e, let m): "the target \(Redact.url(e)) sent an unreadable answer: \(m)"
        case .calws(let kind, let status, let m, let about):
            "\(about): \(kind.map { "\($0)" } ?? status.rawValue): \(m)"
        }
    }

    /// The CalWS error element, when there is one.
    public var kind: CalWSErrorKind? {
        if case .calws(let k, _, _, _) = self { return k }
        return nil
    }
}

/// A typed CalWS-SOAP client on libcurl: one call per operation, timeouts, retries for reads only
/// (a write that may have been applied is never repeated blindly).
public struct TargetClient: Sendable {
    public var endpoint: String
    var token: String
    public var http: CurlHTTPClient
    public var timeout: Double
    public var readRetries: Int
    /// The pass number every request carries (`O:pass`), so that a target that fences refuses
    /// this pass's writes once a later pass has touched the collection; nil for none.
    public var pass: PassStamp?

    public init(
        endpoint: String, token: String, http: CurlHTTPClient = CurlHTTPClient(), timeout: Double = 30,
        readRetries: Int = 2
    ) {
        self.endpoint = endpoint
        self.token = token
        self.http = http
        self.timeout = timeout
        self.readRetries = readRetries
    }

    /// Sends a request and returns the response, whatever its CalWS status.
    public func send(_ request: CalWSRequest) async throws(TargetClientError) -> CalWSResponse {
        var request = request
        request.pass = request.pass ?? pass
        let isRead: Bool
        switch request.body {
        case .getProperties, .calendarQuery, .calendarMultiget, .fetchItem: isRead = true
        default: isRead = false
        }
        let body = MessageCodec.encode(request)
        var attempt = 0
        while true {
            attempt += 1
            let r = HTTPRequest(
                method: "POST", url: endpoint,
                headers: [
                    ("Content-Type", "text/xml; charset=utf-8"),
                    ("SOAPAction", "\"\(CalWSNamespace.uri)/\(request.operation)\""),
                    ("Authorization", "Bearer \(token)"),
                ], body: body, timeout: timeout)
            let response: HTTPResponse
            do {
                response = try await http.send(r)
            } catch {
                if isRead, error.isTransient, attempt <= readRetries {
                    try? await Task.sleep(nanoseconds: UInt64(200_000_000 * attempt))
                    continue
                }
                throw .transport(endpoint: endpoint, error)
            }
            if isRead, [502, 503, 504].contains(response.status), attempt <= readRetries {
                try? await Task.sleep(nanoseconds: UInt64(200_000_000 * attempt))
                continue
            }
            return try decode(response, request)
        }
    }

    func decode(_ response: HTTPResponse, _ request: CalWSRequest) throws(TargetClientError) -> CalWSResponse {
        if response.status == 401 { throw .unauthorized(endpoint: endpoint) }
        let isXML = response.header("content-type")?.contains("xml") ?? false
        guard isXML else { throw .http(endpoint: endpoint, status: response.status) }
        let decoded: CalWSResponse
        do {
            decoded = try MessageCodec.decodeResponse(response.body)
        } catch {
            if error.message.hasPrefix("SOAP fault") { throw .fault(endpoint: endpoint, message: error.message) }
            throw .malformed(endpoint: endpoint, message: error.description)
        }
        if response.status == 403 || decoded.result.error == .forbidden {
            throw .forbidden(href: Self.about(request), message: decoded.result.message ?? "forbidden")
        }
        return decoded
    }

    /// The href (or UID) a request is about, for messages.
    static func about(_ r: CalWSRequest) -> String {
        switch r.body {
        case .getProperties(let h), .fetchItem(let h), .deleteItem(let h), .addItem(let h, _), .updateItem(let h, _, _),
            .calendarMultiget(let h, _, _), .freebusyReport(let h, _):
            h
        case .reportFreshness(let f): f.href
        case .calendarQuery(let q):
            if case .uid(let uid) = q.filter { "\(q.href) uid=\(uid)" } else { q.href }
        case .multiOp: "multiOp"
        }
    }

    /// The response when its status is OK; otherwise its CalWS error as a thrown error.
    func ok(_ request: CalWSRequest) async throws(TargetClientError) -> CalWSResponse {
        let r = try await send(request)
        guard r.result.status == .ok else {
            throw .calws(
                r.result.error, status: r.result.status, message: r.result.message ?? "", about: Self.about(request))
        }
        return r
    }

    // MARK: Typed calls

    /// Adds an entity (a VCALENDAR with one UID) to a collection, creating the collection if needed.
    public func addItem(collection: String, calendar: ICalComponent) async throws(TargetClientError) -> (
        href: String, changeToken: String
    ) {
        let req = CalWSRequest(.addItem(href: collection, calendar: calendar))
        let r = try await ok(req)
        guard case .addItem(let href?, let token?) = r.body else {
            throw .malformed(endpoint: endpoint, message: "addItemResponse without href and changeToken")
        }
        return (href, token)
    }

    /// One entity with its change token.
    public func fetchItem(href: String) async throws(TargetClientError) -> EntityInfo {
        let r = try await ok(CalWSRequest(.fetchItem(href: href)))
        guard case .fetchItem(let e?) = r.body else {
            throw .malformed(endpoint: endpoint, message: "fetchItemResponse without an entity")
        }
        return e
    }

    /// Applies a change set; returns the new change token.
    public func updateItem(href: String, changeToken: String, update: ComponentUpdate) async throws(TargetClientError)
        -> String
    {
        let r = try await ok(CalWSRequest(.updateItem(href: href, changeToken: changeToken, update: update)))
        guard case .updateItem(let token?) = r.body else {
            throw .malformed(endpoint: endpoint, message: "updateItemResponse without a changeToken")
        }
        return token
    }

    public func deleteItem(href: String) async throws(TargetClientError) {
        _ = try await ok(CalWSRequest(.deleteItem(href: href)))
    }

    /// Every entity of a collection: href, change token, and each component's UID and LAST-MODIFIED
    /// (whole entities with `allData`).
    public func list(collection: String, allData: Bool) async throws(TargetClientError) -> [EntityInfo] {
        try await query(CalendarQuery(href: collection, filter: .all, allData: allData))
    }

    /// Every entity of a collection as a listing.
    public func list(collection: String) async throws(TargetClientError) -> [EntityInfo] {
        try await list(collection: collection, allData: false)
    }

    /// The entity with this UID, if the collection has one.
    public func fetch(uid: String, in collection: String) async throws(TargetClientError) -> EntityInfo? {
        try await query(CalendarQuery(href: collection, filter: .uid(uid), allData: true)).first
    }

    public func query(_ q: CalendarQuery) async throws(TargetClientError) -> [EntityInfo] {
        let r = try await ok(CalWSRequest(.calendarQuery(q)))
        guard case .calendarQuery(let entities) = r.body else {
            throw .malformed(endpoint: endpoint, message: "not a calendarQueryResponse")
        }
        return entities
    }

    /// Entities by href, in one round trip: whole, or (without `allData`) reduced to UID,
    /// RECURRENCE-ID and LAST-MODIFIED.
    public func multiget(collection: String, hrefs: [String], allData: Bool) async throws(TargetClientError)
        -> [EntityInfo]
    {
        let r = try await ok(CalWSRequest(.calendarMultiget(href: collection, hrefs: hrefs, allData: allData)))
        guard case .calendarQuery(let entities) = r.body else {
            throw .malformed(endpoint: endpoint, message: "not a calendarQueryResponse")
        }
        return entities
    }

    /// Whole entities by href.
    public func multiget(collection: String, hrefs: [String]) async throws(TargetClientError) -> [EntityInfo] {
        try await multiget(collection: collection, hrefs: hrefs, allData: true)
    }

    /// Runs operations atomically; returns each one's response (in order). A failure of any
    /// operation is thrown: then none was applied.
    public func multiOp(_ operations: [CalWSRequest]) async throws(TargetClientError) -> [CalWSResponse] {
        let numbered = operations.enumerated().map { CalWSRequest(id: $0.offset + 1, $0.element.body) }
        let r = try await ok(CalWSRequest(.multiOp(numbered)))
        guard case .multiOp(let responses) = r.body else {
            throw .malformed(endpoint: endpoint, message: "not a multiOpResponse")
        }
        return responses
    }

    public func reportFreshness(_ freshness: CollectionFreshness) async throws(TargetClientError) {
        _ = try await ok(CalWSRequest(.reportFreshness(freshness)))
    }

    public func properties(href: String) async throws(TargetClientError) -> CollectionProperties? {
        let r = try await ok(CalWSRequest(.getProperties(href: href)))
        guard case .getProperties(let p) = r.body else {
            throw .malformed(endpoint: endpoint, message: "not a getPropertiesResponse")
        }
        return p
    }
}

extension TargetClientError {
    /// True when the target did not answer with a decision (unreachable, timed out, a gateway's
    /// error, an unreadable answer): a write may or may not have been applied.
    public var answerUnknown: Bool {
        switch self {
        case .transport, .http, .malformed: true
        case .unauthorized, .forbidden, .fault, .calws: false
        }
    }
}
