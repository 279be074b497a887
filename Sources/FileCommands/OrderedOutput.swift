import Dispatch
import Synchronization

/// Output made in numbered pieces on several threads and written in their order, each as soon
/// as every piece before it is written: the thread that hands in the next piece to write writes
/// it (and the ones ready after it) outside the lock, while the others go on making theirs.
/// At most `window` pieces are out at once (being made, or made and waiting for their turn), so
/// memory stays at a few pieces however long the output and however slow its reader: a thread
/// that asks for a piece beyond that waits until one is written.
final class OrderedOutput: Sendable {
    /// A piece's bytes.
    final class Piece: @unchecked Sendable {
        // Unsafe: a piece belongs to one thread at a time (the one making it, then the one
        // writing it); the lock hands it over.
        var bytes: OutputBytes

        init(capacity: Int) { bytes = OutputBytes(capacity: capacity) }
    }

    private struct State: ~Copyable {
        var ready: [Int: Piece] = [:]
        var next = 0
        var writing = false
        var spare: [Piece] = []
    }

    private let state = Mutex(State())
    /// One count per piece that may be out.
    private let slots: DispatchSemaphore
    private let capacity: Int
    private let write: @Sendable (UnsafeBufferPointer<UInt8>) -> Void

    /// Pieces of about `capacity` bytes, at most `window` out at once, written with `write`.
    init(capacity: Int, window: Int, write: @escaping @Sendable (UnsafeBufferPointer<UInt8>) -> Void) {
        precondition(window > 0, "at least one piece must be allowed out")
        self.capacity = capacity
        slots = DispatchSemaphore(value: window)
        self.write = write
    }

    /// An empty buffer for the next piece, once fewer than `window` are out. Ask before taking
    /// the piece's number: the pieces out are then the lowest numbers not yet written, and the
    /// thread that has the next one to write never waits here.
    func piece() -> Piece {
        slots.wait()
        return state.withLock { $0.spare.popLast() } ?? Piece(capacity: capacity)
    }

    /// Gives back a buffer that turned out not to be needed (there was no piece left to make).
    func giveBack(_ piece: Piece) {
        state.withLock { $0.spare.append(piece) }
        slots.signal()
    }

    /// Hands in piece number `index` (numbered from 0, each once); writes it and the pieces
    /// after it that are ready when it is the next.
    func deliver(_ piece: Piece, as index: Int) {
        let writes = state.withLock { s -> Bool in
            s.ready[index] = piece
            if s.writing { return false }
            s.writing = true
            return true
        }
        guard writes else { return }
        var written: Piece?
        while true {
            let next = state.withLock { s -> Piece? in
                if let done = written { s.spare.append(done) }
                guard let p = s.ready.removeValue(forKey: s.next) else {
                    s.writing = false
                    return nil
                }
                s.next += 1
                return p
            }
            if written != nil { slots.signal() }
            guard let next else { return }
            next.bytes.withBytes(write)
            next.bytes.removeAll()
            written = next
        }
    }
}
