import CalendarModel
import CalWS
import SyncCore

/// Where a pass writes: a calendar system holding collections of entities (one UID each), each
/// with a change token that changes on every write and guards every update.
///
/// Implementations: `TargetClient` (CalWS-SOAP over libcurl, talking to `outboard-target` or
/// another CalWS server) and `InMemoryTarget` (in `EngineTesting`: tests and simulation). Every
/// implementation passes the contract suite in `Tests/EngineTests/Contracts/TargetContractTests.swift`. Errors are `TargetClientError`:
/// `.transport` and `.http` mean the answer is unknown (the write may or may not have been
/// applied); a `.calws` error means the target refused and applied nothing.
public protocol CalendarTarget: Sendable {
    /// Every entity of a collection: href, change token, and each component's UID and LAST-MODIFIED
    /// (whole entities with `allData`). A collection that does not exist is `targetDoesNotExist`.
    func list(collection: String, allData: Bool) async throws(TargetClientError) -> [EntityInfo]
    /// The entity with this UID, if the collection has one.
    func fetch(uid: String, in collection: String) async throws(TargetClientError) -> EntityInfo?
    /// One entity with its change token.
    func fetchItem(href: String) async throws(TargetClientError) -> EntityInfo
    /// Entities by href, whole or (without `allData`) as a listing; hrefs it does not have are left out.
    func multiget(collection: String, hrefs: [String], allData: Bool) async throws(TargetClientError) -> [EntityInfo]
    /// Adds an entity, creating the collection if needed; a UID already there is `uidConflict(href:)`.
    func addItem(collection: String, calendar: ICalComponent) async throws(TargetClientError) -> (
        href: String, changeToken: String
    )
    /// Applies a change set when `changeToken` is current; returns the new change token.
    func updateItem(href: String, changeToken: String, update: ComponentUpdate) async throws(TargetClientError)
        -> String
    func deleteItem(href: String) async throws(TargetClientError)
    /// Runs writes atomically: every one applied, or (thrown) none.
    func multiOp(_ operations: [CalWSRequest]) async throws(TargetClientError) -> [CalWSResponse]
    /// Tells the target how fresh the collection's mirror is (Outboard's extension of CalWS-SOAP,
    /// PROTOCOL.md); a target that does not know the extension answers with an error.
    func reportFreshness(_ freshness: CollectionFreshness) async throws(TargetClientError)
    /// A collection's properties (its zone among them); nil when the target says none.
    func properties(href: String) async throws(TargetClientError) -> CollectionProperties?
    /// The target as pass `pass` writes to it: once a later pass of the same writer (status
    /// store) has read or written a collection, a target that fences refuses this pass's writes to it as `staleWriter`, with
    /// nothing applied (a killed pass's writes arriving late). A target that cannot fence returns
    /// itself, and the doubts about unanswered writes (`WriteIntent.doubtWindow`) cover it alone.
    func fenced(by pass: PassStamp) -> Self
}

extension CalendarTarget {
    public func fenced(by pass: PassStamp) -> Self { self }
}

extension CalendarTarget {
    public func list(collection: String) async throws(TargetClientError) -> [EntityInfo] {
        try await list(collection: collection, allData: false)
    }

    public func multiget(collection: String, hrefs: [String]) async throws(TargetClientError) -> [EntityInfo] {
        try await multiget(collection: collection, hrefs: hrefs, allData: true)
    }
}

extension TargetClient: CalendarTarget {
    public func fenced(by pass: PassStamp) -> TargetClient {
        var fenced = self
        fenced.pass = pass
        return fenced
    }
}

extension TargetClientError {
    /// True when the target did not answer with a decision (unreachable, timed out, a gateway's
    /// error, an unreadable answer): a write may or may not have been applied, and the next
    /// request is unlikely to fare better.
    public var answerUnknown: Bool {
        switch self {
        case .transport, .http, .malformed: true
        case .unauthorized, .forbidden, .fault, .calws: false
        }
    }
}
