/// A few values (EXDATE instants or days, overridden instants), sorted and looked up by binary
/// search: a series has a handful of them, and hashing each generated instance to look it up
/// cost more than the rest of filing it.
struct SortedValues<Value: Comparable & Sendable>: Sendable {
    private let values: [Value]

    init(_ values: some Sequence<Value>) {
        self.values = values.sorted()
    }

    var isEmpty: Bool { values.isEmpty }

    func contains(_ value: Value) -> Bool {
        var lo = 0
        var hi = values.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if values[mid] < value { lo = mid + 1 } else { hi = mid }
        }
        return lo < values.count && values[lo] == value
    }
}
