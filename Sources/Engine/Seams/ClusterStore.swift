import Foundation

/// A store that several engines share (PostgreSQL): it holds one schedule for all of them and
/// leases each subscription to one engine at a time. An engine claims what is due, renews its
/// leases while its passes run, and gives each back with the subscription's next due time. Every
/// write a pass makes to the store carries the lease's fencing number, so an engine whose lease
/// expired (paused, cut off) and was taken over records nothing more: the store refuses it
/// (`StateStoreError.fenced`).
///
/// Configuration stays in each engine's files: an engine joins with a digest of each
/// subscription's configuration, and a subscription two live engines know by different digests
/// (a change rolled out to some of them) is claimed by none until their files agree.
public protocol ClusterStore: ItemStateStore {
    /// This engine's name in the cluster (host, process and a random part).
    var engine: String { get }
    /// How long a lease lasts without renewal: an engine that stops renewing (dead, paused) has
    /// its subscriptions taken over after it.
    var leaseSeconds: Double { get }
    /// Registers this engine with the digests of the subscriptions its files define (by id):
    /// new subscriptions are due at once, and those no live engine defines any more are retired.
    /// Returns the subscriptions whose digest differs from another live engine's, each with that
    /// engine's name.
    func join(_ digests: [String: String], now: Date) throws -> [String: String]
    /// Claims up to `limit` of this engine's subscriptions that are due at `now`, not leased by a
    /// live engine, and agreed on by every live engine: each comes with its lease.
    func claim(limit: Int, now: Date) throws -> [Claim]
    /// Gives a claimed subscription back with its next due time (or now, when a trigger came
    /// during the pass). False when the lease was lost meanwhile.
    @discardableResult
    func release(_ id: String, nextDue: Date) throws -> Bool
    /// Makes a subscription due now wherever it is leased: `.queued`, or, when a pass of it is
    /// running on any engine, `.afterRunningPass`; nil when no engine defines it.
    func trigger(_ id: String, now: Date) throws -> TriggerOutcome?
    /// The subscriptions this engine defines by a digest another live engine's differs from,
    /// each with that engine's name.
    func conflicts() throws -> [String: String]
    /// Tells `handler` what happens to this engine's leases: the store renews them by itself
    /// (a heartbeat, every third of the lease time) and finds some lost; it refuses writes.
    func observe(_ handler: @escaping @Sendable (ClusterEvent) -> Void)
    /// The cluster's view: every engine that is live and every lease held, by subscription.
    func cluster() throws -> ClusterView
    /// Leaves the cluster on shutdown: leases given back (due as scheduled), registration removed.
    func leave() throws
}

/// A subscription an engine claimed: its lease's fencing number, when it was due, and the
/// engine it was taken from (nil: it was free).
public struct Claim: Sendable, Hashable {
    public var id: String
    public var fence: Int64
    public var due: Date?
    public var takenFrom: String?

    public init(id: String, fence: Int64, due: Date?, takenFrom: String?) {
        self.id = id
        self.fence = fence
        self.due = due
        self.takenFrom = takenFrom
    }
}

/// What a trigger did in a shared store.
public enum TriggerOutcome: Sendable, Hashable {
    case queued
    case afterRunningPass
}

/// The engines of a cluster and their leases.
public struct ClusterView: Sendable, Hashable {
    public struct Engine: Sendable, Hashable {
        public var name: String
        public var started: Date
        public var seen: Date

        public init(name: String, started: Date, seen: Date) {
            self.name = name
            self.started = started
            self.seen = seen
        }
    }

    public struct Lease: Sendable, Hashable {
        public var engine: String
        public var expires: Date
        public var fence: Int64

        public init(engine: String, expires: Date, fence: Int64) {
            self.engine = engine
            self.expires = expires
            self.fence = fence
        }
    }

    public var engines: [Engine]
    public var leases: [String: Lease]
    /// Subscriptions no live engine defines (kept, not scheduled), with when they were retired.
    public var retired: [String: Date]
    /// Subscriptions live engines define by different digests: waiting for their files to agree.
    public var disagreeing: [String]

    public init(engines: [Engine], leases: [String: Lease], retired: [String: Date], disagreeing: [String]) {
        self.engines = engines
        self.leases = leases
        self.retired = retired
        self.disagreeing = disagreeing
    }
}

/// What happened to an engine's leases, for its log and metrics.
public enum ClusterEvent: Sendable, Hashable {
    /// A claim took the subscription from an engine whose lease had expired.
    case tookOver(subscription: String, from: String)
    /// The heartbeat found the lease taken over (this engine did not renew it in time).
    case lost(subscription: String)
    /// A write of a pass whose lease was taken over was refused.
    case fenced(subscription: String, fence: Int64, holder: String?)
}
