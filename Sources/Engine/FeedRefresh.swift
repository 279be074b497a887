import CalendarModel

/// The refresh interval a feed asks for: REFRESH-INTERVAL (RFC 7986 §5.7, a DURATION), or
/// X-PUBLISHED-TTL (Microsoft's, also a duration) when it has none that reads. Pure: a pass
/// asks it of the feed's calendar properties; `refresh: feed` subscriptions schedule by it.
public enum FeedRefresh {
    /// What the feed says: the interval in seconds (nil when it gives none that reads), and a
    /// message for each such property that is not a positive duration (`P1H` is common).
    public struct Reading: Sendable, Hashable {
        public var seconds: Int?
        public var problems: [String]
    }

    /// The properties read, in order of preference.
    public static let properties = ["REFRESH-INTERVAL", "X-PUBLISHED-TTL"]

    public static func read(_ calendarProperties: [ICalProperty]) -> Reading {
        var reading = Reading(seconds: nil, problems: [])
        for name in properties {
            guard let p = calendarProperties.first(where: { $0.name == name }) else { continue }
            let written = p.value.map(ValueFormatter.icalString) ?? ""
            let parsed: ICalDuration?
            if case .duration(let d)? = p.value {
                parsed = d
            } else {
                parsed = p.text.flatMap { text in
                    if case .duration(let d)? = ICalValue.parse(text, as: .duration) { d } else { nil }
                }
            }
            guard let d = parsed, !d.isNegative, seconds(d) > 0 else {
                reading.problems.append(
                    "the feed's \(name) \"\(written)\" is not a positive duration such as PT1H (RFC 5545 §3.3.6)")
                continue
            }
            if reading.seconds == nil { reading.seconds = seconds(d) }
        }
        return reading
    }

    static func seconds(_ d: ICalDuration) -> Int {
        Int(d.weeks) * 604_800 + Int(d.days) * 86_400 + Int(d.hours) * 3600 + Int(d.minutes) * 60 + Int(d.seconds)
    }
}
