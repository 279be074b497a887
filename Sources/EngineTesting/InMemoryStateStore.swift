import CalendarModel
import Engine
import Foundation
import SyncCore

/// An item-state store in memory, with the transactions `StatusStore` has: for fast tests and the
/// crash simulation. Its pass lock is held within this process only.
public final class InMemoryStateStore: ItemStateStore, @unchecked Sendable {
    // Unchecked: every field is read and written under `lock`.
    private let lock = NSLock()
    private var feedStates: [String: FeedState] = [:]
    private var itemStates: [String: [String: ItemState]] = [:]
    private var open: [String: [String: WriteIntent]] = [:]
    private var inDoubt: [String: [String: Date]] = [:]
    private var held: [String: PassHolder] = [:]
    private var traces: [String: (pass: Date, items: [String: ItemTrace])] = [:]

    public let writer = RandomToken.hex(bytes: 16)

    public init() {}

    public func feed(_ id: String) throws -> FeedState {
        lock.withLock { feedStates[id] ?? FeedState() }
    }

    public func feeds() throws -> [String: FeedState] {
        lock.withLock { feedStates }
    }

    public func save(_ id: String, _ state: FeedState) throws {
        lock.withLock { put(id, state) }
    }

    /// A pass's state, with the schedule's next due time kept (only `schedule` sets it).
    private func put(_ id: String, _ state: FeedState) {
        var s = state
        s.nextDue = feedStates[id]?.nextDue
        feedStates[id] = s
    }

    public func schedule(_ id: String, nextDue: Date) throws {
        lock.withLock { feedStates[id, default: FeedState()].nextDue = nextDue }
    }

    public func itemCounts() throws -> [String: Int] {
        lock.withLock { itemStates.mapValues(\.count).filter { $0.value > 0 } }
    }

    public func items(_ id: String) throws -> [String: ItemState] {
        lock.withLock { itemStates[id] ?? [:] }
    }

    public func commit(_ id: String, put: [ItemState], remove: [String], trace: [ItemTrace]) throws {
        lock.withLock {
            for t in trace { traces[id]?.items[t.key] = t }
            for s in put {
                itemStates[id, default: [:]][s.key] = s
                open[id]?[s.key] = nil
            }
            for key in remove {
                itemStates[id]?[key] = nil
                open[id]?[key] = nil
            }
        }
    }

    public func startTrace(_ id: String, pass: Date, items: [ItemTrace]) throws {
        lock.withLock { traces[id] = (pass, Dictionary(items.map { ($0.key, $0) }, uniquingKeysWith: { _, b in b })) }
    }

    public func trace(_ id: String, key: String) throws -> PassTrace? {
        lock.withLock { traces[id].map { PassTrace(pass: $0.pass, item: $0.items[key]) } }
    }

    public func intents(_ id: String) throws -> [WriteIntent] {
        lock.withLock { (open[id] ?? [:]).values.sorted { $0.key < $1.key } }
    }

    public func begin(_ id: String, _ state: FeedState, intents: [WriteIntent]) throws {
        lock.withLock {
            put(id, state)
            for i in intents { open[id, default: [:]][i.key] = i }
        }
    }

    public func doubts(_ id: String) throws -> [String: Date] {
        lock.withLock { inDoubt[id] ?? [:] }
    }

    public func recordDoubts(_ id: String, keys: [String], until: Date) throws {
        lock.withLock {
            for key in keys { inDoubt[id, default: [:]][key] = max(inDoubt[id]?[key] ?? until, until) }
        }
    }

    public func forgetDoubts(_ id: String, keys: [String]) throws {
        lock.withLock { for key in keys { inDoubt[id]?[key] = nil } }
    }

    public func lockPass(_ id: String, wait: Double) async throws(StateStoreError) -> any PassLease {
        let deadline = Date().addingTimeInterval(wait)
        while true {
            let holder: PassHolder? = lock.withLock {
                if let h = held[id] { return h }
                held[id] = PassHolder()
                return nil
            }
            guard let holder else { return Lease(store: self, id: id) }
            if Date() >= deadline { throw .passRunning(subscription: id, holder: holder) }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    final class Lease: PassLease, @unchecked Sendable {
        // Unchecked: `released` is read and written under the store's lock.
        let store: InMemoryStateStore
        let id: String
        var released = false

        init(store: InMemoryStateStore, id: String) {
            self.store = store
            self.id = id
        }

        func release() {
            store.lock.withLock {
                if !released { store.held[id] = nil }
                released = true
            }
        }
    }
}
