import Hummingbird
import Logging

/// Logs each request's method, path and status at one level, never its query string (a secret
/// link's `key`) nor its headers (a bearer token): the servers' replacement for Hummingbird's
/// `LogRequestsMiddleware`, which logs the whole URI.
public struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let level: Logger.Level

    public init(_ level: Logger.Level) {
        self.level = level
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let response = try await next(request, context)
        context.logger.log(
            level: level, "request",
            metadata: [
                "http.method": "\(request.method)", "http.path": "\(request.uri.path)",
                "http.status": "\(response.status.code)",
            ])
        return response
    }
}
