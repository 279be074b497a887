@testable import TargetServer
import Testing

/// The pure parts of availability: span arithmetic and the solver, in hours of one day.
struct AvailabilitySolverTests {
    static func spans(_ pairs: [(Int64, Int64)]) -> [TimeSpan] {
        pairs.map { TimeSpan(start: $0.0 * 3600, end: $0.1 * 3600) }
    }

    static func hours(_ spans: [TimeSpan]) -> [String] {
        spans.map { "\($0.start / 3600)-\($0.end / 3600)" }
    }

    @Test func spansMergeSubtractAndIntersect() {
        #expect(Self.hours(TimeSpan.merged(Self.spans([(5, 6), (1, 3), (2, 4), (4, 5), (8, 8)]))) == ["1-6"])
        // One hole reaching across two spans cuts both.
        let spans = Self.spans([(0, 4), (6, 10)])
        #expect(Self.hours(TimeSpan.subtracting(Self.spans([(3, 7), (9, 12)]), from: spans)) == ["0-3", "7-9"])
        #expect(Self.hours(TimeSpan.subtracting([], from: spans)) == ["0-4", "6-10"])
        #expect(
            Self.hours(TimeSpan.intersecting(Self.spans([(1, 2), (3, 7), (9, 12)]), with: spans)) == [
                "1-2", "3-4", "6-7", "9-10",
            ])
    }

    static func solver(required: Int, busy: [String: [(Int64, Int64)]], duration: Int64 = 1) -> AvailabilitySolver {
        let query = AvailabilityQuery(
            groups: [.init(members: ["a", "b", "c"], required: required)], periods: spans([(8, 18)]),
            requiredDuration: duration * 3600, bufferBefore: 0, bufferAfter: 0, startInterval: 3600,
            zone: "UTC", format: .periods)
        return AvailabilitySolver(
            query: query,
            busy: busy.mapValues { $0.map { BusyPeriod(start: $0.0 * 3600, end: $0.1 * 3600, status: .busy) } })
    }

    @Test func twoOfThreeGivesEveryMaximalPeriodWithTheMembersFreeThroughout() {
        let s = Self.solver(required: 2, busy: ["a": [(9, 11)], "b": [(10, 13)], "c": [(15, 16)]])
        // a free 8-9, 11-18; b 8-10, 13-18; c 8-15, 16-18.
        // 8-9 (all three) lies inside 8-10 and 16-18 inside 13-18: not maximal, not listed.
        #expect(
            s.periods().map { "\(Self.hours([$0.span])[0]) \($0.members.joined())" } == [
                "8-10 bc", "11-15 ac", "13-18 ab",
            ])
    }

    @Test func aPeriodShorterThanTheDurationIsLeftOutButStillHidesWhatItContains() {
        let s = Self.solver(required: 3, busy: ["a": [(9, 11)], "b": [(12, 13)]], duration: 2)
        // All free 8-9, 11-12, 13-18.
        #expect(s.periods().map { Self.hours([$0.span])[0] } == ["13-18"])
        #expect(Self.solver(required: 1, busy: ["a": [(8, 18)], "b": [(8, 18)], "c": [(8, 18)]]).periods().isEmpty)
    }
}
