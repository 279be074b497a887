import Engine
import Filters

/// The composition root: the one place that picks the implementation of each seam, by the
/// subscription's `source.type` and `target.type` and by the store's URL. Commands and the daemon
/// build passes through it; a new source, target or store kind is added here (and to the loader's
/// type keys), nowhere else.
public enum Composition {
    /// Where the subscription's items come from (`source.type`; `ics`: a feed over libcurl;
    /// `caldav`: a CalDAV collection read by sync-collection).
    public static func source(for s: Subscription) -> any FeedSource {
        switch s.sourceType {
        case .ics: FeedFetcher()
        case .caldav: CalDAVSource()
        }
    }

    /// Where the subscription writes (`target.type`; `calws`: CalWS-SOAP; `caldav`: a CalDAV
    /// collection), with its credentials
    /// read; the error says which secret cannot be read.
    public static func target(for s: Subscription) throws(SecretError) -> any CalendarTarget {
        switch s.targetType {
        case .calws:
            guard case .success(let token) = s.targetToken.read() else {
                throw SecretError(message: "\(s.id): the target token (\(s.targetToken)) cannot be read")
            }
            return CalWSTarget(endpoint: s.targetURL, token: token, timeout: s.totalTimeout)
        case .caldav:
            var authorization: String?
            if let auth = s.targetAuth {
                switch auth.header() {
                case .success(let header): authorization = header
                case .failure(let e): throw SecretError(message: "\(s.id): target.auth cannot be read: \(e)")
                }
            }
            guard let target = CalDAVTarget(url: s.targetURL, authorization: authorization, timeout: s.totalTimeout)
            else { throw SecretError(message: "\(s.id): target.url \(s.targetURL) is not a URL") }
            return target
        }
    }

    /// The status store at `url`: `sqlite:PATH` (a state directory holding `status.sqlite`), a
    /// bare path, which means the same, or `postgres://…` (`PostgresStoreURL`): a database that
    /// several engines share.
    public static func store(url: String) throws -> any ItemStateStore {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            switch PostgresStoreURL.parse(url) {
            case .success(let u): return try PostgresStore(u)
            case .failure(let e): throw e
            }
        }
        let path = url.hasPrefix("sqlite:") ? String(url.dropFirst("sqlite:".count)) : url
        guard !path.isEmpty, !path.contains("://") else { throw StoreURLError(url: url) }
        return try StatusStore(directory: path)
    }

    /// A pass of `s` over the implementations its configuration names; it gives the heap's free
    /// memory back to the system once it is done.
    public static func pass(
        _ s: Subscription, filters: FilterPipeline, store: any ItemStateStore, source: (any FeedSource)? = nil
    ) throws(SecretError) -> SyncPass {
        var pass = SyncPass(
            subscription: s, filters: filters, store: store, target: try target(for: s),
            source: source ?? self.source(for: s))
        pass.releaseMemory = releaseFreeMemory
        pass.writesInFlight = s.writesInFlight
        return pass
    }
}

/// A secret (a token, a password) that cannot be read, named by the subscription.
public struct SecretError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// A store URL that names no store Outboard knows, or a PostgreSQL URL with a problem.
public struct StoreURLError: Error, Sendable, CustomStringConvertible {
    public var url: String
    public var why: String =
        "give sqlite:PATH (a state directory), a directory path, or postgres://USER@HOST:PORT/DATABASE"

    public init(url: String, why: String? = nil) {
        self.url = url
        if let why { self.why = why }
    }

    public var description: String { "the store \(url) is not one Outboard can use: \(why)" }
}
