#if canImport(Glibc)
    import Glibc
#endif
import Engine
import Foundation

/// A subscription's pass lock as a file lock (flock(2)) on `locks/ID.lock` in the state directory:
/// the kernel gives it back when the holder closes it or dies, so a killed pass never leaves a
/// stale lock behind. The file holds the holder's pid, host and start, for the message a second
/// caller sees; its content is never what decides.
final class PassLockFile: PassLease, @unchecked Sendable {
    // Unchecked: `fd` is closed once, under `lock`.
    let fd: Int32
    private let lock = NSLock()
    private var open = true

    private init(fd: Int32) {
        self.fd = fd
    }

    /// The lock, or who holds it.
    static func take(_ path: String) -> Result<PassLockFile, StateStoreError> {
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            return .failure(.unavailable("cannot open the lock file \(path): \(String(cString: strerror(errno)))"))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = read(fd)
            close(fd)
            return .failure(.passRunning(subscription: "", holder: holder))
        }
        let me = PassHolder()
        let text = "\(me.pid) \(me.since.timeIntervalSince1970) \(me.host)\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        return .success(PassLockFile(fd: fd))
    }

    private static func read(_ fd: Int32) -> PassHolder? {
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 512, 0) }
        guard n > 0 else { return nil }
        let parts = String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: " ", maxSplits: 2)
        guard parts.count == 3, let pid = Int32(parts[0]), let since = Double(parts[1]) else { return nil }
        return PassHolder(pid: pid, host: String(parts[2]), since: Date(timeIntervalSince1970: since))
    }

    func release() {
        // Unlocked before it is closed: a process forked by this one at that moment (a test
        // starting a server) holds a copy of the descriptor until it runs its program, and a
        // close alone would leave the lock held by that copy. The file stays for the next pass.
        lock.withLock {
            if open {
                flock(fd, LOCK_UN)
                close(fd)
            }
            open = false
        }
    }

    deinit {
        release()
    }
}

/// An exclusive file lock (flock(2)) on `STATE/open.lock`, held while the status store is opened
/// and migrated; waited for, since it is held for milliseconds.
struct OpeningLock {
    private let fd: Int32

    init(directory: String) throws {
        let path = (directory as NSString).appendingPathComponent("open.lock")
        fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StateStoreError.unavailable("cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                close(fd)
                throw StateStoreError.unavailable("cannot lock \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    func release() {
        flock(fd, LOCK_UN)  // as `PassLockFile.release`: a forked copy of the descriptor keeps no lock
        close(fd)
    }
}
