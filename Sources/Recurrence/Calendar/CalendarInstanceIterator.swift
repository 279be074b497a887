/// Merges many series' iterators into one stream in start order, with a binary heap keyed on
/// each series' next instance.
public struct CalendarInstanceIterator: IteratorProtocol, Sequence {
    private var iterators: [SeriesIterator]
    private var heads: [RecurrenceInstance?]
    /// Indices of iterators that have a head, as a min-heap on (start, index).
    private var heap: [Int] = []

    init(_ iterators: [SeriesIterator]) {
        self.iterators = iterators
        heads = Array(repeating: nil, count: iterators.count)
        heap.reserveCapacity(iterators.count)
        for i in iterators.indices {
            heads[i] = self.iterators[i].next()
            if heads[i] != nil { push(i) }
        }
    }

    /// Problems met so far by the series' iterators (rules that never match, instance caps).
    public var diagnostics: [RecurrenceDiagnostic] { iterators.flatMap(\.diagnostics) }

    public mutating func next() -> RecurrenceInstance? {
        guard let top = heap.first, let instance = heads[top] else { return nil }
        heads[top] = iterators[top].next()
        if heads[top] != nil {
            siftDown(0)
        } else {
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                siftDown(0)
            }
        }
        return instance
    }

    @inline(__always)
    private func less(_ a: Int, _ b: Int) -> Bool {
        let sa = heads[a]?.start ?? .max
        let sb = heads[b]?.start ?? .max
        return sa < sb || (sa == sb && a < b)
    }

    private mutating func push(_ i: Int) {
        heap.append(i)
        var c = heap.count - 1
        while c > 0 {
            let p = (c - 1) >> 1
            if less(heap[c], heap[p]) {
                heap.swapAt(c, p)
                c = p
            } else {
                break
            }
        }
    }

    private mutating func siftDown(_ start: Int) {
        var p = start
        let n = heap.count
        while true {
            let l = 2 * p + 1
            let r = l + 1
            var m = p
            if l < n && less(heap[l], heap[m]) { m = l }
            if r < n && less(heap[r], heap[m]) { m = r }
            if m == p { return }
            heap.swapAt(p, m)
            p = m
        }
    }
}
