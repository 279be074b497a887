#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of a command's input. A regular file is mapped into memory and read in place: no
/// copy, and its pages come from the page cache many at a time (reading `ics expand`'s 2.8 MB
/// into an array cost about 2 ms of faults, zeroing and copying before the parse could start).
/// Anything else (a pipe, a device, an empty file, standard input) is read whole into an array.
/// A mapped file that another program truncates while it is read ends the process with SIGBUS,
/// as it does for other programs that map their input; nothing is written through the mapping.
package final class FileBytes: @unchecked Sendable {
    // Unchecked: the storage is set once and only read (several threads parse one file); the
    // mapping is unmapped when the last reference goes.
    private enum Storage {
        case mapped(UnsafeRawBufferPointer)
        case array([UInt8])
    }

    private let storage: Storage

    package init(_ bytes: [UInt8]) { storage = .array(bytes) }

    /// The file at `path`; nil when it cannot be read.
    package init?(path: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        if info.st_mode & S_IFMT == S_IFREG, info.st_size > 0,
            let base = mmap(nil, Int(info.st_size), PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED
        {
            storage = .mapped(UnsafeRawBufferPointer(start: base, count: Int(info.st_size)))
            return
        }
        guard let bytes = Self.read(fd, sizeHint: max(Int(info.st_size), 0)) else { return nil }
        storage = .array(bytes)
    }

    deinit {
        if case .mapped(let buffer) = storage {
            munmap(UnsafeMutableRawPointer(mutating: buffer.baseAddress), buffer.count)
        }
    }

    /// Calls `body` with the bytes.
    package func withBytes<R, E: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        switch storage {
        case .mapped(let buffer): return try body(buffer.assumingMemoryBound(to: UInt8.self))
        case .array(let array):
            return try array.withUnsafeBufferPointer { (buffer) throws(E) -> R in try body(buffer) }
        }
    }

    /// Everything left to read from `fd` (the size is a hint: 0 for a pipe); nil on an error.
    static func read(_ fd: Int32, sizeHint: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: sizeHint + 1)
        var count = 0
        while true {
            if count == bytes.count { bytes.append(contentsOf: repeatElement(0, count: max(count, 1 << 16))) }
            let n = bytes.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { break }
            count += n
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }
}

/// read(2) and write(2), named apart from the methods called `read` and `write`.
func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
