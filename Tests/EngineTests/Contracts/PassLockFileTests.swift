import Foundation
import Testing
import TestSupport

@testable import EngineAdapters

/// The pass lock is free once released, even while a copy of its descriptor lives on: a process
/// forked at that moment (a test starting a server) holds one until it runs its program. Seen
/// once as `onePassOfASubscriptionAtATime` failing with "already running" right after a release.
@Suite struct PassLockFileTests {
    @Test func aReleasedLockIsFreeWhileAForkedCopyOfItsDescriptorLivesOn() throws {
        let path = TargetProcess.temporaryDirectory().appendingPathComponent("a.lock").path
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let lease = try PassLockFile.take(path).get()
        let copy = dup(lease.fd)  // what a child forked now would hold until its exec
        defer { close(copy) }
        lease.release()
        let again = PassLockFile.take(path)
        #expect((try? again.get()) != nil, "the lock was still held: \(again)")
    }
}
