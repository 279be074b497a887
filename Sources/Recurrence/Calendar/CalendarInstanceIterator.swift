/// Merges many series' iterators into one stream in start order, with a binary heap keyed on
/// each series' next instance.
public struct CalendarInstanceIterator: IteratorProtocol, Sequence {
    /// A series with an instance waiting: the heap compares these keys without touching the
    /// instances themselves.
    private struct Entry {
        var start: Int64
        var series: Int

        /// Earlier start first; on a tie, the series that comes first in the calendar.
        static func < (a: Entry, b: Entry) -> Bool {
            a.start < b.start || (a.start == b.start && a.series < b.series)
        }
    }

    private var iterators: [SeriesIterator]
    /// Each series' next instance, taken from its iterator and not yet yielded.
    private var heads: [RecurrenceInstance?]
    /// The series that have a head, as a min-heap.
    private var heap: [Entry] = []

    init(_ iterators: [SeriesIterator]) {
        self.iterators = iterators
        heads = Array(repeating: nil, count: iterators.count)
        heap.reserveCapacity(iterators.count)
        for i in iterators.indices {
            if let head = self.iterators[i].next() {
                heads[i] = head
                heap.append(Entry(start: head.start, series: i))
            }
        }
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    /// Problems met so far by the series' iterators (rules that never match, instance caps).
    public var diagnostics: [RecurrenceDiagnostic] { iterators.flatMap(\.diagnostics) }

    public mutating func next() -> RecurrenceInstance? {
        guard let top = heap.first else { return nil }
        // Moved out, not copied: the slot is refilled or left empty just below.
        var instance: RecurrenceInstance?
        swap(&instance, &heads[top.series])
        if let following = iterators[top.series].next() {
            heads[top.series] = following
            heap[0].start = following.start
        } else {
            let last = heap.removeLast()
            guard !heap.isEmpty else { return instance }
            heap[0] = last
        }
        siftDown(0)
        return instance
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let n = heap.count
        let entry = heap[parent]
        while true {
            var child = 2 * parent + 1
            if child >= n { break }
            if child + 1 < n && heap[child + 1] < heap[child] { child += 1 }
            if !(heap[child] < entry) { break }
            heap[parent] = heap[child]
            parent = child
        }
        heap[parent] = entry
    }
}
