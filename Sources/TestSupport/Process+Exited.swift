import Foundation

extension Process {
    /// Waits for the process to end on a thread of its own, so that the waiting test does not
    /// hold one of the cooperative pool's threads (two on a two-core machine, shared by every
    /// async test) for as long as the process runs.
    public func exited() async {
        // Unsafe: Process is not Sendable, but waitUntilExit may be called from any thread.
        nonisolated(unsafe) let process = self
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                process.waitUntilExit()
                done.resume()
            }.start()
        }
    }
}
