import Foundation

extension Process {
    /// Waits for the process to end, looking every millisecond. Foundation's `waitUntilExit`
    /// spins a core on Linux for as long as the process runs (its run loop has nothing to wait
    /// on), which on a two-core machine takes half of it from the other tests.
    public func waitForExit() {
        while isRunning { usleep(1000) }
    }

    /// Waits for the process to end on a thread of its own, so that the waiting test does not
    /// hold one of the cooperative pool's threads (two on a two-core machine, shared by every
    /// async test) for as long as the process runs.
    public func exited() async {
        // Unsafe: Process is not Sendable, but its state may be read from any thread.
        nonisolated(unsafe) let process = self
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                process.waitForExit()
                done.resume()
            }.start()
        }
    }
}
