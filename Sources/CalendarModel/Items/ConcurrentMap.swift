import Dispatch
#if canImport(Glibc)
    #if canImport(Glibc)
        import Glibc
    #endif
#elseif canImport(Darwin)
    import Darwin
#endif

extension Array where Element: Sendable {
    /// `map` on every core: the array is cut into contiguous slices, a few per online processor,
    /// and each slice is mapped with its own `State` (a hasher and its buffers), so no state is
    /// shared between threads. The order of the results is the order of the elements. Below
    /// `minimumPerThread` elements a slice is not worth a thread, and the map runs on the caller's.
    public func concurrentMap<State, T: Sendable>(
        minimumPerThread: Int = 128,
        state makeState: @Sendable () -> State,
        _ transform: @Sendable (inout State, Element) -> T
    ) -> [T] {
        let threads = Swift.min(ConcurrencyWidth.processors, count / Swift.max(1, minimumPerThread))
        if threads <= 1 {
            var state = makeState()
            return map { transform(&state, $0) }
        }
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            let base = UncheckedSendable(out.baseAddress!)
            withUnsafeBufferPointer { elements in
                let input = UncheckedSendable(elements)
                // A few slices per thread, so that a thread that gets less of a core than the
                // others (a busy or shared machine) does not hold up the whole map; never an
                // empty slice (a few large elements, such as the parts of a feed, are one each:
                // empty slices let one thread take several large ones in turn).
                let slices = Swift.min(count, threads * 4)
                DispatchQueue.concurrentPerform(iterations: slices) { t in
                    let lower = input.value.count * t / slices
                    let upper = input.value.count * (t + 1) / slices
                    var state = makeState()
                    for i in lower..<upper {
                        (base.value + i).initialize(to: transform(&state, input.value[i]))
                    }
                }
            }
            initialized = count
        }
    }
}

/// How many threads a CPU-bound map uses: the online processors.
public enum ConcurrencyWidth {
    public static let processors: Int = Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}

/// A pointer or buffer handed to the threads of a concurrent map or read. Safe where it is used:
/// each thread reads shared input that outlives them, and writes only its own disjoint slice.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
