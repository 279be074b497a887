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

    static func body(_ text: String) -> ResponseBody { .init(byteBuffer: ByteBuffer(string: text)) }

    static func quoted(_ s: String) -> String {
        String(decoding: (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}

/// Refuses every request but `/health` without `Authorization: Bearer TOKEN` (401), compared in
/// constant time.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if request.uri.path == "/health" { return try await next(request, context) }
        guard let given = BearerToken.parse(request.headers[.authorization]), BearerToken.equal(given, token) else {
            return Response(
                status: .unauthorized, headers: [.wwwAuthenticate: "Bearer", .contentType: "application/json"],
                body: ControlEndpoint.body(
                    "{\"error\":\"a bearer token is required (see the control-token file in the state directory)\"}\n"))
        }
        return try await next(request, context)
    }
}
