import Foundation
import SyncCore

/// A write the pass is about to send, recorded before it is sent and forgotten in the same
/// transaction that records its outcome. An intent still present when a pass begins names an item
/// whose state on the target is unknown (the engine died, or the answer was lost): that item is
/// looked up on the target before anything else is decided about it.
///
/// A write without an answer may also land later than that look-up (a proxy that answered 504
/// still holds it, or the target reads it from its socket after the engine died). So a looked-up
/// intent leaves a doubt on its key: every pass within `doubtWindow` looks the key up again, takes
/// no shortcut, and corrects what it finds (an entity that appeared, vanished or changed).
public struct WriteIntent: Sendable, Hashable {
    public enum Operation: String, Sendable, Hashable {
        case add, update, delete
    }

    /// The item's key (its UID).
    public var key: String
    public var operation: Operation
    /// The entity the write addresses (nil for an add, whose href the target chooses).
    public var href: String?

    /// How long after a pass ended without its answers its writes may still land (held by a
    /// proxy, or queued at the target after the engine died): every pass within it looks them up
    /// again.
    public static let doubtWindow: TimeInterval = 600

    public init(key: String, operation: Operation, href: String?) {
        self.key = key
        self.operation = operation
        self.href = href
    }
}

/// Who holds a subscription's pass lock, for the message the second caller sees.
public struct PassHolder: Sendable, Hashable, CustomStringConvertible {
    public var pid: Int32
    public var host: String
    public var since: Date

    public init(
        pid: Int32 = ProcessInfo.processInfo.processIdentifier, host: String = ProcessInfo.processInfo.hostName,
        since: Date = Date()
    ) {
        self.pid = pid
        self.host = host
        self.since = since
    }

    public var description: String {
        "since \(since.formatted(.iso8601)) by process \(pid) on \(host)"
    }
}

/// Why a store call failed; the raw database error is kept for the logs, the words say what to do.
public enum StateStoreError: Error, Sendable, CustomStringConvertible {
    /// Another pass of the subscription holds its lock (another process, or this one).
    case passRunning(subscription: String, holder: PassHolder?)
    /// The store could not be read or written.
    case unavailable(String)
    /// Another engine took the subscription's lease over (this one's expired while it was paused
    /// or cut off): what this one was about to record is refused.
    case fenced(subscription: String, fence: Int64, holder: String?)

    public var description: String {
        switch self {
        case .passRunning(let s, let holder):
            "a pass of \(s) is already running" + (holder.map { " (\($0))" } ?? "")
                + "; this one was not started: try again when it ends"
        case .unavailable(let m): m
        case .fenced(let s, let fence, let holder):
            "\(s): this engine's lease (fencing number \(fence)) was taken over"
                + (holder.map { " by \($0)" } ?? "") + "; what its pass was about to record is refused"
        }
    }
}

/// A held pass lock; `release` gives it back (a process that dies gives it back too).
public protocol PassLease: Sendable {
    func release()
}

/// Where the engine keeps what it knows between passes: per subscription, the feed's validators
/// and pass record (`FeedState`), each mirrored item's state, the intents of writes in flight, and
/// the lock that lets one pass of a subscription run at a time across processes.
///
/// Implementations: `StatusStore` (SQLite, the default) and `InMemoryStateStore` (`EngineTesting`:
/// tests). Both pass the contract suite in `Tests/EngineTests/Contracts/StateStoreContractTests.swift`.
public protocol ItemStateStore: Sendable {
    /// The name this store's passes carry with their numbers (made once with the store): a
    /// fencing target compares numbers of one writer only, so a new store (a lost one replaced)
    /// is never fenced out by the numbers of the store it replaced.
    var writer: String { get }
    /// The subscription's feed state (an empty one when it has none).
    func feed(_ id: String) throws -> FeedState
    /// Every stored feed state, by subscription id.
    func feeds() throws -> [String: FeedState]
    func save(_ id: String, _ state: FeedState) throws
    /// Records when the daemon's schedule next runs the subscription (its `FeedState.nextDue`).
    func schedule(_ id: String, nextDue: Date) throws
    /// How many items each subscription has mirrored.
    func itemCounts() throws -> [String: Int]
    /// Every item state of a subscription, by key.
    func items(_ id: String) throws -> [String: ItemState]
    /// Records item states and forgets others in one transaction, and forgets the intents of every
    /// key it touches: a batch's outcome, with the trace rows of its writes (`startTrace`).
    func commit(_ id: String, put: [ItemState], remove: [String], trace: [ItemTrace]) throws
    /// The intents not yet resolved.
    func intents(_ id: String) throws -> [WriteIntent]
    /// Records intents and the feed state (which marks the pass open) in one transaction, before
    /// the first write of a pass is sent.
    func begin(_ id: String, _ state: FeedState, intents: [WriteIntent]) throws
    /// The keys whose writes may still land (see `WriteIntent.doubtWindow`), each with the time
    /// until which passes look them up again.
    func doubts(_ id: String) throws -> [String: Date]
    /// Records `keys` as in doubt until `until` (a later time replaces an earlier one).
    func recordDoubts(_ id: String, keys: [String], until: Date) throws
    /// Forgets the doubts of `keys`.
    func forgetDoubts(_ id: String, keys: [String]) throws
    /// Forgets the trace of the subscription's last pass and starts this pass's (`pass`: when it
    /// began) with `items`: what it dropped and settled before any write.
    func startTrace(_ id: String, pass: Date, items: [ItemTrace]) throws
    /// The last traced pass of the subscription and its row for `key`; nil when no pass was traced.
    func trace(_ id: String, key: String) throws -> PassTrace?
    /// Takes the subscription's pass lock, waiting up to `wait` seconds for another pass to end.
    func lockPass(_ id: String, wait: Double) async throws(StateStoreError) -> any PassLease
}

extension ItemStateStore {
    public func commit(_ id: String, put: [ItemState]) throws {
        try commit(id, put: put, remove: [], trace: [])
    }

    public func commit(_ id: String, put: [ItemState], remove: [String]) throws {
        try commit(id, put: put, remove: remove, trace: [])
    }
}
