import Engine
import CalendarModel
import CalWS
import SyncCore

/// CalWS-SOAP as a `CalendarTarget`: the engine's writes as `addItem`, `updateItem` and
/// `deleteItem` in one atomic `multiOp` per batch, listings from `calendarQuery` and
/// `calendarMultiget`, CalWS errors mapped onto `TargetError` reasons.
public struct CalWSTarget: CalendarTarget {
    public var client: TargetClient

    public init(client: TargetClient) {
        self.client = client
    }

    public init(endpoint: String, token: String, timeout: Double = 30) {
        self.init(client: TargetClient(endpoint: endpoint, token: token, timeout: timeout))
    }

    /// Batches as large as a pass makes them; freshness reports and fences are Outboard's
    /// extensions (PROTOCOL.md): a server without them answers the report with an error (which
    /// the pass ignores) and ignores the pass numbers.
    public var capabilities: TargetCapabilities {
        TargetCapabilities(batchLimit: 1000, freshnessReports: true, fencing: true)
    }

    public func fenced(by pass: PassStamp) -> CalWSTarget {
        var fenced = self
        fenced.client.pass = pass
        return fenced
    }

    public func list(collection: String, withData: Bool) async throws(TargetError) -> [TargetEntry] {
        try await mapped { () async throws(TargetClientError) in
            try await client.list(collection: collection, allData: withData).map { Self.entry($0, whole: withData) }
        }
    }

    public func find(uid: String, in collection: String) async throws(TargetError) -> TargetEntry? {
        try await mapped { () async throws(TargetClientError) in
            try await client.fetch(uid: uid, in: collection).map { Self.entry($0, whole: true) }
        }
    }

    public func entry(href: String) async throws(TargetError) -> TargetEntry {
        try await mapped { () async throws(TargetClientError) in
            Self.entry(try await client.fetchItem(href: href), whole: true)
        }
    }

    public func entries(collection: String, hrefs: [String], withData: Bool) async throws(TargetError) -> [TargetEntry]
    {
        try await mapped { () async throws(TargetClientError) in
            try await client.multiget(collection: collection, hrefs: hrefs, allData: withData).map {
                Self.entry($0, whole: withData)
            }
        }
    }

    /// One `multiOp` (a single write goes on its own). A multiOp refused as a whole applied
    /// nothing: its writes are then sent one at a time, so that one bad item never stops the
    /// others; once one of them goes unanswered, the rest are not sent.
    public func write(_ writes: [TargetWrite]) async -> [WriteOutcome] {
        guard writes.count > 1 else { return writes.isEmpty ? [] : [await single(writes[0])] }
        do throws(TargetClientError) {
            let responses = try await client.multiOp(writes.map(Self.request))
            guard responses.count == writes.count else {
                return writes.map { _ in
                    .unknown("the target gave \(responses.count) answers to \(writes.count) writes")
                }
            }
            return zip(writes, responses).map(Self.outcome)
        } catch  where error.answerUnknown {
            return writes.map { _ in .unknown("\(error)") }
        } catch {
            var outcomes: [WriteOutcome] = []
            for w in writes {
                if case .unknown(let why)? = outcomes.last {
                    outcomes.append(.unknown("not sent: \(why)"))
                } else {
                    outcomes.append(await single(w))
                }
            }
            return outcomes
        }
    }

    public func reportFreshness(_ freshness: CollectionFreshness) async throws(TargetError) {
        try await mapped { () async throws(TargetClientError) in try await client.reportFreshness(freshness) }
    }

    public func describe(collection: String) async throws(TargetError) -> CollectionDescription? {
        try await mapped { () async throws(TargetClientError) in
            try await client.properties(href: collection).map {
                CollectionDescription(href: $0.href, displayName: $0.displayName, timezone: $0.timezone)
            }
        }
    }

    // MARK: Mapping

    func single(_ w: TargetWrite) async -> WriteOutcome {
        do throws(TargetClientError) {
            switch w {
            case .add(let collection, let calendar):
                let (href, token) = try await client.addItem(collection: collection, calendar: calendar)
                return .applied(href: href, version: token)
            case .update(let href, let version, let changes):
                return .applied(
                    href: href, version: try await client.updateItem(href: href, changeToken: version, update: changes))
            case .delete(let href, _):
                try await client.deleteItem(href: href)
                return .applied(href: href, version: nil)
            }
        } catch  where error.answerUnknown {
            return .unknown("\(error)")
        } catch {
            return .refused(Self.error(error))
        }
    }

    static func request(_ w: TargetWrite) -> CalWSRequest {
        switch w {
        case .add(let collection, let calendar): CalWSRequest(.addItem(href: collection, calendar: calendar))
        case .update(let href, let version, let changes):
            CalWSRequest(.updateItem(href: href, changeToken: version, update: changes))
        case .delete(let href, _): CalWSRequest(.deleteItem(href: href))
        }
    }

    /// A write's outcome from its answer in a multiOp.
    static func outcome(_ w: TargetWrite, _ r: CalWSResponse) -> WriteOutcome {
        switch (w, r.body) {
        case (.add, .addItem(let href?, let token?)): .applied(href: href, version: token)
        case (.update(let href, _, _), .updateItem(let token?)): .applied(href: href, version: token)
        case (.delete(let href, _), .deleteItem): .applied(href: href, version: nil)
        default: .refused(TargetError(.invalid, r.result.message ?? r.result.status.rawValue))
        }
    }

    static func entry(_ e: EntityInfo, whole: Bool) -> TargetEntry {
        guard let calendar = e.calendar else { return TargetEntry(href: e.href, version: e.changeToken) }
        guard !whole else { return TargetEntry(href: e.href, version: e.changeToken, whole: calendar) }
        return TargetEntry(
            href: e.href, version: e.changeToken, uid: calendar.components.first?.uid,
            lastModified: TargetEntry.lastModified(of: calendar.components))
    }

    /// A call's CalWS failure in the engine's words.
    func mapped<T>(_ call: () async throws(TargetClientError) -> T) async throws(TargetError) -> T {
        do throws(TargetClientError) { return try await call() } catch { throw Self.error(error) }
    }

    static func error(_ e: TargetClientError) -> TargetError {
        let reason: TargetError.Reason
        switch e {
        case .transport, .http, .malformed: reason = .unknown
        case .unauthorized: reason = .unauthorized
        case .forbidden: reason = .forbidden
        case .fault: reason = .invalid
        case .calws(let kind, _, _, _):
            switch kind {
            case .targetDoesNotExist?: reason = .notFound
            case .mismatchedChangeToken?: reason = .versionStale
            case .uidConflict(let href)?: reason = .uidExists(href: href)
            case .exceedsMaxResourceSize?: reason = .tooLarge
            case .staleWriter?: reason = .fenced
            case .forbidden?: reason = .forbidden
            default: reason = .invalid
            }
        }
        return TargetError(reason, "\(e)")
    }
}
