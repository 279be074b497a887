import Foundation

/// Runs async work on a thread of its own, outside Swift's cooperative pool. Long CPU-bound
/// tests (the crash simulation's thousands of schedules) run on these, so that they do not hold
/// the pool's threads (two on a two-core machine) that every other async test needs to make
/// progress; the system shares the cores between them and the rest.
///
///     let executor = BackgroundExecutor()
///     defer { executor.shutdown() }
///     let value = await withTaskExecutorPreference(executor) { await work() }
@available(macOS 15.0, *)
public final class BackgroundExecutor: TaskExecutor, @unchecked Sendable {
    // Unchecked: `jobs` and `stopping` are read and written under `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    public init() {
        Thread { [self] in loop() }.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.withLock {
            jobs.append(job)
            condition.signal()
        }
    }

    /// Ends the thread once the jobs enqueued so far have run.
    public func shutdown() {
        condition.withLock {
            stopping = true
            condition.signal()
        }
    }

    private func loop() {
        while true {
            let job: UnownedJob? = condition.withLock {
                while jobs.isEmpty, !stopping { condition.wait() }
                return jobs.isEmpty ? nil : jobs.removeFirst()
            }
            guard let job else { return }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
