import Foundation
import TestSupport

/// A feed that changes between passes the way real ones do: titles and places edited, events
/// added and removed, series gaining and losing overrides. Deterministic from its generator.
struct SimulatedFeed {
    struct Event: Hashable {
        var day: Int
        var version = 0
        var location: String?
        var weekly = false
        /// Overridden instances (week numbers 1…4) with their own title versions.
        var overrides: [Int: Int] = [:]
    }

    var events: [Int: Event] = [:]
    var nextID = 0

    init(count: Int, rng: inout SplitMix64) {
        for _ in 0..<count { add(&rng) }
    }

    mutating func add(_ rng: inout SplitMix64) {
        var e = Event(day: Int.random(in: 1...28, using: &rng))
        e.weekly = Int.random(in: 0..<4, using: &rng) == 0
        if Bool.random(using: &rng) { e.location = "Hall \(Int.random(in: 1...3, using: &rng))" }
        events[nextID] = e
        nextID += 1
    }

    /// One export later: each event may change, vanish or gain overrides; new events arrive.
    mutating func evolve(_ rng: inout SplitMix64) {
        for id in events.keys.sorted() {
            switch Int.random(in: 0..<20, using: &rng) {
            case 0, 1: events[id] = nil
            case 2, 3, 4: events[id]?.version += 1
            case 5:
                let had = events[id]?.location != nil
                events[id]?.location = had ? nil : "Annex"
            case 6: events[id]?.day = Int.random(in: 1...28, using: &rng)
            case 7 where events[id]?.weekly == true:
                events[id]?.overrides[Int.random(in: 1...4, using: &rng)] = Int.random(in: 1...9, using: &rng)
            case 8 where events[id]?.weekly == true: events[id]?.overrides = [:]
            default: break
            }
        }
        for _ in 0..<Int.random(in: 0...3, using: &rng) { add(&rng) }
    }

    var bytes: [UInt8] {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Outboard//Simulation//EN"]
        for id in events.keys.sorted() {
            let e = events[id]!
            lines += [
                "BEGIN:VEVENT", "UID:e\(id)@sim", "DTSTAMP:20270101T000000Z", "DTSTART:202703\(two(e.day))T100000Z",
                "DTEND:202703\(two(e.day))T110000Z", "SUMMARY:Event \(id) v\(e.version)",
            ]
            if let l = e.location { lines.append("LOCATION:\(l)") }
            if e.weekly { lines.append("RRULE:FREQ=WEEKLY;COUNT=5") }
            lines.append("END:VEVENT")
            for week in e.overrides.keys.sorted() {
                // The instance `week` weeks after the first, in March 2027 (31 days) or April.
                let day = e.day + 7 * week
                let stamp = day <= 31 ? "202703\(two(day))" : "202704\(two(day - 31))"
                lines += [
                    "BEGIN:VEVENT", "UID:e\(id)@sim", "DTSTAMP:20270101T000000Z", "RECURRENCE-ID:\(stamp)T100000Z",
                    "DTSTART:\(stamp)T120000Z",
                    "DTEND:\(stamp)T130000Z", "SUMMARY:Event \(id) moved v\(e.overrides[week]!)", "END:VEVENT",
                ]
            }
        }
        lines.append("END:VCALENDAR")
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }
}
