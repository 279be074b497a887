import CalendarModel
import SyncCore

/// Where a pass writes: a calendar system holding collections of entities (one UID each), each
/// with a version (CalWS's change token, CalDAV's ETag) that changes on every write and guards
/// every update.
///
/// The seam speaks the engine's words: the pass sends the planner's writes and hears an outcome
/// for each; listings carry UID, version and LAST-MODIFIED as values; every failure is a
/// `TargetError` whose reason the pass can act on. An adapter maps its protocol onto this
/// (`CalWSTarget` for CalWS-SOAP); what a target can and cannot do, it declares
/// (`TargetCapabilities`).
///
/// Implementations: `CalWSTarget` (CalWS-SOAP over libcurl, talking to `outboard-target` or
/// another CalWS server) and `InMemoryTarget` (in `EngineTesting`). Each passes the target
/// contract suite in `EngineTesting` (`TargetContract`), which a new target's tests run too.
public protocol CalendarTarget: Sendable {
    /// What this target can do.
    var capabilities: TargetCapabilities { get }
    /// Every entity of a collection: href, version, UID and LAST-MODIFIED, and the whole entity
    /// with `withData`. A collection that does not exist is `.notFound`.
    func list(collection: String, withData: Bool) async throws(TargetError) -> [TargetEntry]
    /// The entity with this UID (whole), if the collection has one.
    func find(uid: String, in collection: String) async throws(TargetError) -> TargetEntry?
    /// One entity, whole; `.notFound` when there is none at `href`.
    func entry(href: String) async throws(TargetError) -> TargetEntry
    /// Entities by href, whole or (without `withData`) as a listing; hrefs it does not have are
    /// left out.
    func entries(collection: String, hrefs: [String], withData: Bool) async throws(TargetError) -> [TargetEntry]
    /// Sends writes (at most `capabilities.batchLimit`) and answers each, in order. An add
    /// creates its collection if needed. A target that applies a batch atomically and refuses it
    /// redoes its writes one at a time, so every write has an outcome of its own.
    func write(_ writes: [TargetWrite]) async -> [WriteOutcome]
    /// Tells the target how fresh the collection's mirror is (`capabilities.freshnessReports`).
    func reportFreshness(_ freshness: CollectionFreshness) async throws(TargetError)
    /// A collection's description (its zone among them); nil when the target says none.
    func describe(collection: String) async throws(TargetError) -> CollectionDescription?
    /// The target as pass `pass` writes to it (`capabilities.fencing`): once a later pass of the
    /// same writer (status store) has read or written a collection, its writes to it are refused
    /// as `.fenced`, with nothing applied (a killed pass's writes arriving late). A target that
    /// cannot fence returns itself.
    func fenced(by pass: PassStamp) -> Self
}

extension CalendarTarget {
    public func fenced(by pass: PassStamp) -> Self { self }

    public func list(collection: String) async throws(TargetError) -> [TargetEntry] {
        try await list(collection: collection, withData: false)
    }

    public func entries(collection: String, hrefs: [String]) async throws(TargetError) -> [TargetEntry] {
        try await entries(collection: collection, hrefs: hrefs, withData: true)
    }

    /// One write on its own: its new href and version, or its refusal (or the lack of an answer)
    /// thrown.
    @discardableResult
    public func apply(_ write: TargetWrite) async throws(TargetError) -> (href: String, version: String?) {
        switch await self.write([write]).first {
        case .applied(let href, let version)?: return (href, version)
        case .refused(let error)?: throw error
        case .unknown(let message)?: throw TargetError(.unknown, message)
        case nil: throw TargetError(.unknown, "the target answered no write")
        }
    }
}

/// What a target can do, declared by each implementation; the pass adapts to it.
public struct TargetCapabilities: Sendable, Hashable {
    /// Writes one request may carry; 1 means no batches (CalDAV): the pass then sends
    /// `SyncPass.writesInFlight` single writes at a time.
    public var batchLimit: Int
    /// Whether the target takes freshness reports (`reportFreshness`) and so can tell how fresh
    /// its mirror is.
    public var freshnessReports: Bool
    /// Whether the target fences out the writes of older passes (`fenced(by:)`): then a write
    /// that lost its answer cannot land after the next pass has looked, and that pass need not
    /// keep its key in doubt (`WriteIntent.doubtWindow`).
    public var fencing: Bool

    public init(batchLimit: Int, freshnessReports: Bool, fencing: Bool) {
        self.batchLimit = batchLimit
        self.freshnessReports = freshnessReports
        self.fencing = fencing
    }
}

/// A write as the planner means it.
public enum TargetWrite: Sendable, Hashable {
    /// A new entity (a VCALENDAR with one UID) in `collection`.
    case add(collection: String, calendar: ICalComponent)
    /// The field-level changes to the entity at `href`, planned against its `version`.
    case update(href: String, version: String, changes: ComponentUpdate)
    /// The entity at `href` removed, if it is still at `version` (nil: whatever it is now).
    case delete(href: String, version: String?)
}

/// What became of one write.
public enum WriteOutcome: Sendable, Hashable {
    /// Applied: the entity's href and new version (none for a delete).
    case applied(href: String, version: String?)
    /// Refused, nothing applied; the reason says what the pass can do about it.
    case refused(TargetError)
    /// No answer: the write may or may not have been applied.
    case unknown(String)
}

/// An entity as a target lists it.
public struct TargetEntry: Sendable, Hashable {
    public var href: String
    /// Changes whenever the entity does (CalWS's change token, CalDAV's ETag).
    public var version: String
    /// The entity's UID (nil only when a listing could not say).
    public var uid: String?
    /// The LAST-MODIFIED values of its components, in order (a master and its overrides), so a
    /// change to any of them shows; nil when it has none.
    public var lastModified: String?
    /// The whole entity as a VCALENDAR, when asked for.
    public var calendar: ICalComponent?

    public init(
        href: String, version: String, uid: String? = nil, lastModified: String? = nil, calendar: ICalComponent? = nil
    ) {
        self.href = href
        self.version = version
        self.uid = uid
        self.lastModified = lastModified
        self.calendar = calendar
    }

    /// The entry of a whole entity: its UID and LAST-MODIFIED read from it.
    public init(href: String, version: String, whole calendar: ICalComponent) {
        let components = calendar.components.filter { PropertyTypes.isItemComponent($0.name) }
        self.init(
            href: href, version: version, uid: components.first?.uid,
            lastModified: Self.lastModified(of: components), calendar: calendar)
    }

    /// The LAST-MODIFIED values of `components` joined, nil when none has one.
    public static func lastModified(of components: [ICalComponent]) -> String? {
        let stamps = components.compactMap { $0.property("LAST-MODIFIED")?.value.map(ValueFormatter.icalString) }
        return stamps.isEmpty ? nil : stamps.joined(separator: ",")
    }
}

/// What a target says of a collection.
public struct CollectionDescription: Sendable, Hashable {
    public var href: String
    public var displayName: String?
    /// The zone its floating times and DATE values are placed in; nil for none.
    public var timezone: String?

    public init(href: String, displayName: String? = nil, timezone: String? = nil) {
        self.href = href
        self.displayName = displayName
        self.timezone = timezone
    }
}

/// Why a target call failed, in the engine's words: the reason decides what the pass does, the
/// message (naming the href or UID, and the target's own words) is for people.
public struct TargetError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// No answer: unreachable, timed out, a gateway's error, an unreadable answer. A write
        /// may or may not have been applied, and the next request is unlikely to fare better.
        case unknown
        /// The target does not know the credentials.
        case unauthorized
        /// The credentials are not granted this collection or entity.
        case forbidden
        /// No such entity or collection.
        case notFound
        /// The entity changed since the version the write was planned against.
        case versionStale
        /// An add whose UID the collection already has, at `href`.
        case uidExists(href: String)
        /// The entity is larger than the target takes.
        case tooLarge
        /// A later pass of the same writer has touched the collection (`CalendarTarget.fenced`).
        case fenced
        /// The target cannot take the request or its calendar data.
        case invalid
    }

    public var reason: Reason
    public var message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { message }

    /// True when the target did not answer with a decision (see `Reason.unknown`).
    public var answerUnknown: Bool { reason == .unknown }
}
