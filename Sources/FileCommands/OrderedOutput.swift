import Synchronization

/// Output made in numbered pieces on several threads and written in their order, each as soon
/// as every piece before it is written. No thread waits for another: the thread that hands in
/// the next piece to write writes it (and the ones ready after it) outside the lock, while the
/// others go on making theirs. Buffers written out are used again, so memory stays at a few
/// pieces however long the output.
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
    private let capacity: Int
    private let write: @Sendable (UnsafeBufferPointer<UInt8>) -> Void

    /// Pieces of about `capacity` bytes, written with `write`.
    init(capacity: Int, write: @escaping @Sendable (UnsafeBufferPointer<UInt8>) -> Void) {
        self.capacity = capacity
        self.write = write
    }

    /// An empty buffer for a piece.
    func piece() -> Piece {
        state.withLock { $0.spare.popLast() } ?? Piece(capacity: capacity)
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
            guard let next else { return }
            next.bytes.withBytes(write)
            next.bytes.removeAll()
            written = next
        }
    }
}
