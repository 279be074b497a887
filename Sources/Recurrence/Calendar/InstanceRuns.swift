import CalendarModel

/// A calendar's instances in a window, expanded on two threads (one on a one-core machine):
/// each thread merges the instances of one half of the series into a run in start order. Read
/// back through `pieces`, the two runs are one sequence in exactly the order
/// `CalendarExpander.instances` yields.
///
/// The order of that iterator is by start, then by the series' position, then by the order
/// a series yields its instances. Every series of the first run comes before every series of
/// the second, so on equal starts the first run's instance comes first.
public struct InstanceRuns: Sendable {
    /// The instances of the first half of the series, in start order.
    let first: [RecurrenceInstance]
    /// The instances of the second half of the series, in start order.
    let second: [RecurrenceInstance]
    /// Problems met by the series' iterators, in the order of the series.
    public let diagnostics: [RecurrenceDiagnostic]

    /// How many instances there are.
    public var count: Int { first.count + second.count }

    /// One half's instances and its iterator's problems.
    struct Run: Sendable {
        var instances: [RecurrenceInstance]
        var diagnostics: [RecurrenceDiagnostic]
    }

    init(series: [RecurrenceSeries], from start: Int64, to end: Int64) {
        let middle = series.count / 2
        let runs = [0..<middle, middle..<series.count].concurrentMap(minimumPerThread: 1, state: {}) { _, range in
            var iterator = CalendarInstanceIterator(series[range].map { $0.instances(from: start, to: end) })
            var instances: [RecurrenceInstance] = []
            while let instance = iterator.next() { instances.append(instance) }
            return Run(instances: instances, diagnostics: iterator.diagnostics)
        }
        first = runs[0].instances
        second = runs[1].instances
        diagnostics = runs[0].diagnostics + runs[1].diagnostics
    }

    /// The instances in start order cut into consecutive pieces of `size` instances (the last
    /// may have fewer; no pieces when there are no instances): threads can take one each.
    public func pieces(of size: Int) -> [MergedInstances] {
        precondition(size > 0, "a piece holds at least one instance")
        var pieces: [MergedInstances] = []
        pieces.reserveCapacity((count + size - 1) / size)
        var rest = MergedInstances(first: first, second: second, i: 0, j: 0, remaining: count)
        while rest.remaining > 0 {
            var piece = rest
            piece.remaining = min(size, rest.remaining)
            pieces.append(piece)
            rest.skip(piece.remaining)
        }
        return pieces
    }
}

/// Consecutive instances of two runs merged in start order (see `InstanceRuns`).
public struct MergedInstances: IteratorProtocol, Sequence, Sendable {
    let first: [RecurrenceInstance]
    let second: [RecurrenceInstance]
    /// The next instance of each run not yet taken.
    var i: Int
    var j: Int
    /// How many instances are left to take.
    var remaining: Int

    public mutating func next() -> RecurrenceInstance? {
        guard remaining > 0 else { return nil }
        remaining -= 1
        if takesFirst {
            i += 1
            return first[i - 1]
        }
        j += 1
        return second[j - 1]
    }

    /// Whether the next instance is the first run's (on equal starts it is).
    private var takesFirst: Bool { j == second.count || (i < first.count && first[i].start <= second[j].start) }

    /// Passes over the next `n` instances without copying them.
    mutating func skip(_ n: Int) {
        for _ in 0..<Swift.min(n, remaining) {
            if takesFirst { i += 1 } else { j += 1 }
        }
        remaining = Swift.max(remaining - n, 0)
    }
}

extension CalendarExpander {
    /// The instances of every series that overlap `[start, end)` (UTC epoch seconds), expanded
    /// on two threads, each half of the series on one; read in the same order as `instances`.
    public func instanceRuns(from start: Int64, to end: Int64) -> InstanceRuns {
        InstanceRuns(series: series, from: start, to: end)
    }
}
