/// How far around the time of each write the instance index expands an entity: by default from
/// 42 days back to 400 days ahead. A query reaching outside what the index holds is answered by
/// expanding the entities on the fly, with the same rules, so the answer is the same.
public struct IndexHorizon: Sendable, Hashable {
    /// Seconds before the write time.
    public var past: Int64
    /// Seconds after the write time.
    public var future: Int64

    public init(past: Int64, future: Int64) {
        self.past = past
        self.future = future
    }

    /// Days back and days ahead.
    public init(daysBack: Int, daysAhead: Int) {
        self.init(past: Int64(daysBack) * 86_400, future: Int64(daysAhead) * 86_400)
    }

    /// 42 days back, 400 days ahead.
    public static let standard = IndexHorizon(daysBack: 42, daysAhead: 400)

    /// The window (UTC epoch seconds) indexed by a write at `now`.
    func window(at now: Int64) -> IndexWindow {
        IndexWindow(from: now - past, to: now + future)
    }
}

/// A half-open span of UTC epoch seconds the index holds every instance of.
struct IndexWindow: Sendable, Hashable {
    var from: Int64
    var to: Int64
}
