import Engine
import CalendarModel
import Foundation
import Hummingbird
import ServerSupport
import Logging
import NIOCore

/// The daemon's HTTP endpoint (Hummingbird), on 127.0.0.1 by default. Everything but `/health`
/// needs the bearer token:
///
/// - `POST /subscriptions/ID/sync`: a pass now (what a feed's push notification or a webhook
///   calls): 202 with `queued` or `queued-after-running-pass`, 404 for an unknown id.
/// - `GET /status`: every subscription's schedule and state as JSON (`DaemonStatus`).
/// - `GET /metrics`: Prometheus text (`EngineMetrics`).
/// - `GET /health`: `{"status":"ok"}`, for liveness probes.
/// - `GET /`: the status page (`StatusPage`), with `/page.css` and `/page.js`.
///
/// A browser gets in by the page's secret link, `/?key=TOKEN` (`pageLink`): it sets a cookie
/// (HttpOnly, SameSite=Strict) that stands for the token and redirects to `/`, so the key leaves
/// the address bar. The cookie authorizes reads; a write (the page's sync button) with the cookie
/// must also carry the `X-Outboard-Page` header, which no cross-site form or link can send.
public struct ControlEndpoint: Sendable {
    public var host: String
    public var port: Int
    public var token: String

    public init(host: String = "127.0.0.1", port: Int = 8766, token: String) {
        self.host = host
        self.port = port
        self.token = token
    }

    /// The application; `status` builds the status document, `onRunning` learns the bound port.
    public func application(
        daemon: SyncDaemon, status: @escaping @Sendable () async throws -> DaemonStatus, logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: RequestLogMiddleware(.debug))
        router.add(middleware: BearerTokenMiddleware(token: token))
        router.get("/") { _, _ in Self.page(StatusPage.html, "text/html; charset=utf-8") }
        router.get("page.css") { _, _ in Self.page(StatusPage.css, "text/css; charset=utf-8") }
        router.get("page.js") { _, _ in Self.page(StatusPage.script, "text/javascript; charset=utf-8") }
        router.get("health") { _, _ in
            Response(status: .ok, headers: Self.jsonHeaders, body: Self.body("{\"status\":\"ok\"}\n"))
        }
        router.get("status") { _, _ in
            Response(
                status: .ok, headers: Self.jsonHeaders,
                body: .init(byteBuffer: ByteBuffer(bytes: try await status().json())))
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: daemon.metrics.exposition())))
        }
        router.post("subscriptions/:id/sync") { _, context in
            let id = context.parameters.get("id") ?? ""
            let result = await daemon.trigger(id)
            if result == .unknown {
                return Response(
                    status: .notFound, headers: Self.jsonHeaders,
                    body: Self.body("{\"error\":\(Self.quoted("no enabled subscription \"\(id)\""))}\n"))
            }
            return Response(
                status: .accepted, headers: Self.jsonHeaders,
                body: Self.body("{\"subscription\":\(Self.quoted(id)),\"result\":\"\(result.rawValue)\"}\n"))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "outboard"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }

    static let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    /// The status page's link for a browser: the endpoint's base URL with the token as its key.
    public static func pageLink(base: String, token: String) -> String {
        base + "/?key=" + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token)
    }

    /// What the page's documents are served with: nothing external may load (the script, the
    /// style sheet and `/status` come from this endpoint), no framing, no referrer, no caching.
    static let pageHeaders: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
        .xContentTypeOptions: "nosniff", HTTPFields.Element.Name("Referrer-Policy")!: "no-referrer",
        .cacheControl: "no-store",
    ]

    static func page(_ text: String, _ type: String, refused: Bool = false) -> Response {
        var headers = pageHeaders
        headers[.contentType] = type
        return Response(status: refused ? .unauthorized : .ok, headers: headers, body: body(text))
    }

    static func body(_ text: String) -> ResponseBody { .init(byteBuffer: ByteBuffer(string: text)) }

    static func quoted(_ s: String) -> String {
        String(decoding: (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}

/// Refuses every request but `/health` without the token (401), compared in constant time: as
/// `Authorization: Bearer TOKEN`, or as the page's cookie, which `/?key=TOKEN` sets. A write
/// authorized by the cookie must carry `X-Outboard-Page` and, when the browser names its origin,
/// come from this endpoint's (403 otherwise): SameSite=Strict already keeps the cookie off
/// cross-site requests, and no cross-site form can set that header.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String
    static var cookieName: String { "outboard-control" }
    static var pageHeader: HTTPFields.Element.Name { HTTPFields.Element.Name("X-Outboard-Page")! }

    /// The cookie's value: a digest of the token, so the cookie cannot be replayed as a bearer token.
    var cookieValue: String { CanonicalForm.sha256Hex(Array("outboard status page\n\(token)".utf8)) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path
        if path == "/health" { return try await next(request, context) }
        if let given = BearerToken.parse(request.headers[.authorization]) {
            guard BearerToken.equal(given, token) else { return refused(path) }
            return try await next(request, context)
        }
        if path == "/", let key = request.uri.queryParameters.get("key") {
            guard BearerToken.equal(key, token) else { return refused(path) }
            return signedIn(request)
        }
        guard let cookie = request.cookies[Self.cookieName]?.value, BearerToken.equal(cookie, cookieValue) else {
            return refused(path)
        }
        if request.method != .get, request.method != .head, !sameOrigin(request) {
            return Response(
                status: .forbidden, headers: ControlEndpoint.jsonHeaders,
                body: ControlEndpoint.body(
                    "{\"error\":\"a write with the page's cookie must come from the page (X-Outboard-Page, same origin)\"}\n"
                ))
        }
        return try await next(request, context)
    }

    /// The secret link's answer: the cookie, and a redirect to the page without the key (its
    /// `press` kept).
    func signedIn(_ request: Request) -> Response {
        let press = request.uri.queryParameters.get("press")?.addingPercentEncoding(
            withAllowedCharacters: .alphanumerics)
        let location = "/" + (press.map { "?press=" + $0 } ?? "")
        var response = Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
        response.setCookie(
            Cookie(name: Self.cookieName, value: cookieValue, path: "/", httpOnly: true, sameSite: .strict))
        return response
    }

    /// True for a request from the page: it carries `X-Outboard-Page`, and its `Origin`, when
    /// given, is this endpoint.
    func sameOrigin(_ request: Request) -> Bool {
        guard request.headers[Self.pageHeader] != nil else { return false }
        guard let origin = request.headers[.origin] else { return true }
        let host = request.head.authority ?? ""
        return origin == "http://" + host
    }

    func refused(_ path: String) -> Response {
        if path == "/" {
            return ControlEndpoint.page(StatusPage.signIn, "text/html; charset=utf-8", refused: true)
        }
        return Response(
            status: .unauthorized, headers: [.wwwAuthenticate: "Bearer", .contentType: "application/json"],
            body: ControlEndpoint.body(
                "{\"error\":\"a bearer token is required (see the control-token file in the state directory)\"}\n"))
    }
}
