import Engine
import CalendarModel
import Foundation
import Synchronization

/// One conditional fetch for many subscribers: passes of subscriptions with the same feed (URL,
/// credentials, User-Agent, CA file and size cap) share one request per refresh, so the feed's
/// host sees one client, not many (ten thousand people subscribed to one holidays feed).
///
/// Fetches of one feed that overlap are made once; the answer (body, validators, time) is kept
/// for `window` seconds, and each subscription's conditional fetch is answered from it once: its
/// own stored ETag equal to the shared one gets a 304, others the shared body (which the pass
/// compares by its bytes); the subscription that fetched gets what the server answered it. A
/// subscription the answer served already (a trigger right after its pass) or whose validators
/// it cannot settle (a 304 to other validators, with no body) fetches anew. Credentials take
/// part in the key as a digest: compared, never kept or logged.
public actor SharedFeedSource: FeedSource {
    let inner: any FeedSource
    /// Seconds an answer serves the subscriptions that ask after it.
    public let window: TimeInterval
    let clock: @Sendable () -> Date
    private var answers: [Key: Answer] = [:]
    private var inFlight: [Key: Task<Result<Answer, FetchError>, Never>] = [:]
    /// The subscriptions that asked for each feed: a body is kept only for a feed with two or more.
    private var subscribers: [Key: Set<String>] = [:]

    /// `window`: how long an answer is reused (the daemon aligns the due times of subscriptions
    /// of one URL, so their passes start within it). `subscriptions`: those known to come (the
    /// configuration), so a body is kept from the first refresh on for a feed several read;
    /// others are learned as they ask. `clock` is injected for tests.
    public init(
        _ inner: any FeedSource = FeedFetcher(), window: TimeInterval = 15, subscriptions: [Subscription] = [],
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.inner = inner
        self.window = window
        self.clock = clock
        for s in subscriptions where s.enabled {
            if let key = Key(s) { self.subscribers[key, default: []].insert(s.id) }
        }
    }

    /// What makes two subscriptions' requests the same request.
    struct Key: Hashable {
        var url: String
        /// The SHA-256 of the credentials (nil: none), so they are compared and never kept.
        var credentials: String?
        var userAgent: String?
        var caFile: String?
        var maxFeedBytes: Int

        /// Nil when a secret cannot be read: the fetch is made alone, and fails naming it.
        init?(_ s: Subscription) {
            url = s.sourceURL
            userAgent = s.userAgent
            caFile = s.sourceCAFile
            maxFeedBytes = s.maxFeedBytes
            switch s.sourceAuth {
            case .basic(let user, let password)?:
                guard case .success(let p) = password.read() else { return nil }
                credentials = CanonicalForm.sha256Hex(Array("basic\u{0}\(user)\u{0}\(p)".utf8))
            case .bearer(let token)?:
                guard case .success(let t) = token.read() else { return nil }
                credentials = CanonicalForm.sha256Hex(Array("bearer\u{0}\(t)".utf8))
            case nil:
                credentials = nil
            }
        }
    }

    /// The feed as one fetch found it: its validators, and its body unless it answered 304.
    struct Answer: Sendable {
        var time: Date
        /// The subscriptions it answered: each once.
        var served: Set<String>
        var etag: String?
        var lastModified: String?
        var body: [UInt8]?

        /// The answer to a conditional fetch with these validators: a 304 only for the same
        /// ETag (a strong validator); else the body, whose bytes the pass compares itself. A
        /// Last-Modified alone never makes a 304 here: it counts whole seconds, and a feed changed
        /// twice in one second would look unchanged. Nil when it cannot tell (no body kept).
        func answer(etag: String?, lastModified: String?) -> FeedResult? {
            if let mine = self.etag, etag == mine { return .notModified }
            return body.map { .body($0, etag: self.etag, lastModified: self.lastModified) }
        }
    }

    public func fetch(
        _ s: Subscription, from position: FeedPosition?, onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedResult {
        try await answer(s, from: position, onBody: onBody).result
    }

    /// Only whole bodies are shared: changes since a token are each reader's own.
    public func answer(
        _ s: Subscription, from position: FeedPosition?, onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedAnswer {
        let (etag, lastModified) = position?.validators ?? (nil, nil)
        guard let key = Key(s), position?.isCollection != true else {
            return FeedAnswer(result: try await inner.fetch(s, from: position, onBody: onBody))
        }
        subscribers[key, default: []].insert(s.id)
        // A fetch of this feed in flight, or an answer of this refresh that has not served this
        // subscription yet (a second pass of it, say a trigger, is a refresh of its own): told to
        // this subscription, a failure too (as this subscription's).
        if let task = inFlight[key], case .failure(let error) = await task.value { throw error.naming(s.id) }
        if var kept = answers[key], clock().timeIntervalSince(kept.time) < window, !kept.served.contains(s.id),
            let result = kept.answer(etag: etag, lastModified: lastModified)
        {
            kept.served.insert(s.id)
            answers[key] = kept
            if case .body(let body, _, _) = result { body.withUnsafeBufferPointer { onBody?($0) } }
            return FeedAnswer(result: result, shared: true)
        }
        // The subscription that fetches gets what the server answered it.
        let own = Mutex<FeedResult?>(nil)
        let task = Task { [inner, clock] () -> Result<Answer, FetchError> in
            let outcome: Result<Answer, FetchError>
            do throws(FetchError) {
                let result = try await inner.fetch(s, from: position, onBody: onBody)
                own.withLock { $0 = result }
                switch result {
                case .notModified:
                    outcome = .success(Answer(time: clock(), served: [s.id], etag: etag, lastModified: lastModified))
                case .body(let body, let etag, let lastModified):
                    outcome = .success(
                        Answer(time: clock(), served: [s.id], etag: etag, lastModified: lastModified, body: body))
                case .changes, .tokenInvalid:
                    outcome = .success(Answer(time: clock(), served: [s.id]))
                }
            } catch {
                outcome = .failure(error)
            }
            return self.settle(key, outcome)
        }
        inFlight[key] = task
        switch await task.value {
        case .failure(let error): throw error
        case .success: return FeedAnswer(result: own.withLock { $0 } ?? .notModified)
        }
    }

    /// Records a fetch's outcome: no longer in flight, and an answer kept for the window (its body
    /// only when another subscription reads the feed too). A 304 to the validators of the body
    /// kept confirms that body.
    private func settle(_ key: Key, _ outcome: Result<Answer, FetchError>) -> Result<Answer, FetchError> {
        inFlight[key] = nil
        guard case .success(var fresh) = outcome else { return outcome }
        if fresh.body == nil, let kept = answers[key], kept.etag == fresh.etag, kept.lastModified == fresh.lastModified
        {
            fresh.body = kept.body
        }
        var kept = fresh
        if subscribers[key, default: []].count < 2 { kept.body = nil }
        keep(kept, for: key)
        return .success(fresh)
    }

    /// Keeps an answer for the window, and lets it go after (a large body is not held for
    /// longer than the subscribers of one refresh need it).
    private func keep(_ answer: Answer, for key: Key) {
        answers[key] = answer
        let window = self.window
        Task {
            try? await Task.sleep(nanoseconds: UInt64(max(0, window) * 1e9) + 1_000_000)
            self.forget(key, olderThan: window)
        }
    }

    private func forget(_ key: Key, olderThan window: TimeInterval) {
        if let kept = answers[key], clock().timeIntervalSince(kept.time) >= window { answers[key] = nil }
    }
}

extension FetchError {
    /// The same failure, told as subscription `id`'s (a shared fetch failed for every subscriber).
    func naming(_ id: String) -> FetchError {
        switch self {
        case .transport(_, let host, let e): .transport(subscription: id, host: host, e)
        case .http(_, let host, let status, let retry):
            .http(subscription: id, host: host, status: status, retryAfter: retry)
        case .tooLarge(_, let limit): .tooLarge(subscription: id, limit: limit)
        case .unreadable(_, let host, let m): .unreadable(subscription: id, host: host, m)
        case .secret(_, let m): .secret(subscription: id, m)
        }
    }
}
