import Foundation

/// Work run at most once, in a task of its own, started by the first `start` or `value`: here,
/// the status store's read, started by the first bytes of a feed's body.
final class StartedOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<T, Error>?
    private let work: @Sendable () throws -> T

    init(_ work: @escaping @Sendable () throws -> T) {
        self.work = work
    }

    func start() {
        lock.withLock {
            if task == nil { task = Task.detached { [work] in try work() } }
        }
    }

    func value() async throws -> T {
        start()
        return try await lock.withLock { task! }.value
    }
}
