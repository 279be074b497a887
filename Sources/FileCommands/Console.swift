#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Synchronization

/// Where a command reads standard input and writes its output. The executable uses the process's
/// streams; tests run the same commands in-process with a `Console` that records.
public final class Console: @unchecked Sendable {
    private let lock = Mutex(())
    private var outBytes: [UInt8] = []
    private var errBytes: [UInt8] = []
    private let stdinBytes: [UInt8]?
    private let recording: Bool
    /// What `keepUntilExit` was given.
    private var kept: [Any] = []
    /// The error of the first write to standard output that failed, if one did.
    private var outputErrno: Int32?
    /// True when standard output is a terminal (a recording console says what it was told).
    public let isTerminal: Bool

    /// The process's own streams.
    public static let process = Console(recording: false, stdin: nil, terminal: isatty(STDOUT_FILENO) == 1)

    /// A console that records output; `stdin` is what `-` reads; `terminal` is whether it
    /// stands for a terminal.
    public static func recording(stdin: [UInt8] = [], terminal: Bool = false) -> Console {
        Console(recording: true, stdin: stdin, terminal: terminal)
    }

    private init(recording: Bool, stdin: [UInt8]?, terminal: Bool) {
        self.recording = recording
        self.stdinBytes = stdin
        isTerminal = terminal
    }

    /// The console commands of this task write to.
    @TaskLocal public static var current: Console = .process

    /// Writes bytes to standard output.
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { write($0) }
    }

    /// Writes bytes to standard output (the process's: with write(2), no copy).
    public func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        if recording {
            lock.withLock { _ in outBytes.append(contentsOf: bytes) }
            return
        }
        if let failure = Self.write(bytes, to: STDOUT_FILENO) {
            lock.withLock { _ in outputErrno = outputErrno ?? failure }
        }
    }

    /// Why writing to standard output failed (the first failure: a full disk, a closed stream,
    /// a reader gone while SIGPIPE is ignored), or nil while every write succeeded. The command
    /// line then ends with exit status 1 whatever the command said.
    public var outputFailure: String? {
        lock.withLock { _ in outputErrno.map { String(cString: strerror($0)) } }
    }

    /// Writes all of `bytes` to `fd` with write(2), no copy; the errno of a write that failed.
    private static func write(_ bytes: UnsafeBufferPointer<UInt8>, to fd: Int32) -> Int32? {
        var rest = UnsafeRawBufferPointer(bytes)
        while !rest.isEmpty {
            let n = systemWrite(fd, rest.baseAddress, rest.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return n < 0 ? errno : EIO }
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
        }
        return nil
    }

    /// When standard output is a pipe, asks for a pipe of 1 MiB (the default is 64 KiB; 1 MiB is
    /// the most an unprivileged process gets unless the system says otherwise): a command that
    /// writes megabytes then hands its reader a mebibyte at a time instead of waiting for it
    /// every 64 KiB (`ics expand` on the benchmark's 8 MB: about 2 ms less). Nothing changes
    /// when it is not a pipe or the system refuses.
    public func widenPipe() {
        guard !recording else { return }
        var info = stat()
        guard fstat(STDOUT_FILENO, &info) == 0, info.st_mode & S_IFMT == S_IFIFO else { return }
        #if os(Linux)
            let setPipeSize: Int32 = 1031  // F_SETPIPE_SZ (fcntl.h, Linux), not in Swift's Glibc module
            _ = fcntl(STDOUT_FILENO, setPipeSize, Int32(1 << 20))
        #endif
    }

    /// Writes a line to standard output.
    public func print(_ line: String) { write(Array((line + "\n").utf8)) }

    /// Writes a line to standard error.
    public func error(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        if recording {
            lock.withLock { _ in errBytes += bytes }
        } else {
            // A failure to write standard error has no one left to tell.
            _ = bytes.withUnsafeBufferPointer { Self.write($0, to: STDERR_FILENO) }
        }
    }

    /// Keeps `value` alive until the process exits. A command that has written its output
    /// hands over its large trees here so that the process ends without freeing them piece by
    /// piece (`ics expand`: about 8 ms of 100): the system takes a process's memory back at once.
    /// A recording console (tests run many commands in one process) lets them go as usual.
    public func keepUntilExit(_ value: Any) {
        guard !recording else { return }
        lock.withLock { _ in kept.append(value) }
    }

    /// All of standard input.
    public func readStandardInput() -> [UInt8] {
        if let stdinBytes { return stdinBytes }
        return FileBytes.read(STDIN_FILENO, sizeHint: 0) ?? []
    }

    /// What was written to standard output (recording consoles only).
    public var output: String { lock.withLock { _ in String(decoding: outBytes, as: UTF8.self) } }
    /// What was written to standard error (recording consoles only).
    public var errorOutput: String { lock.withLock { _ in String(decoding: errBytes, as: UTF8.self) } }
}
