import CalendarModel

/// Collections written out as one subscribable iCalendar feed: in full, or busy-only.
enum Publisher {
    /// What every published feed says of itself.
    struct Header {
        /// X-WR-CALNAME: the collection's last segment, or the view's name.
        var name: String
        /// How often calendar apps should poll (REFRESH-INTERVAL, RFC 7986, and X-PUBLISHED-TTL,
        /// which Outlook and older apps read), in seconds.
        var refreshInterval: Int64
        /// X-WR-TIMEZONE: the zone of the collection (or of every collection of a view), where
        /// calendar apps place its floating times and all-day events; nil when there is none.
        var zone: String? = nil

        var properties: [ICalProperty] {
            let every = Self.duration(refreshInterval)
            return [
                ICalProperty("VERSION", .text("2.0")),
                ICalProperty("PRODID", .text("-//Outboard//Reference Target Server//EN")),
                ICalProperty("X-WR-CALNAME", .unknown(name)),
                ICalProperty("REFRESH-INTERVAL", .duration(every)),
                ICalProperty("X-PUBLISHED-TTL", .unknown(ValueFormatter.durationString(every))),
            ] + (zone.map { [ICalProperty("X-WR-TIMEZONE", .unknown($0))] } ?? [])
        }

        /// The one zone all `members` have (`zones`: by collection), or nil when one has none or
        /// they differ (a view over collections of several zones can name none of them).
        static func zone(of zones: [String: String], members: [String]) -> String? {
            let named = Set(members.map { zones[$0] })
            guard named.count == 1, let only = named.first ?? nil else { return nil }
            return only
        }

        /// Seconds as a duration of days, hours, minutes and seconds (`PT1H`, `P1DT12H`).
        static func duration(_ seconds: Int64) -> ICalDuration {
            let s = Int(seconds)
            return ICalDuration(days: s / 86_400, hours: s % 86_400 / 3600, minutes: s % 3600 / 60, seconds: s % 60)
        }
    }

    /// Every component of the entities as stored, in one VCALENDAR, each VTIMEZONE once.
    static func full(_ header: Header, entities: [StoredEntity], onUnreadable: (String, String) -> Void) -> [UInt8] {
        var zones: [ICalComponent] = []
        var seen = Set<String>()
        var components: [ICalComponent] = []
        let read = SharedZones()
        for e in entities {
            guard let cal = Entities.readable(e, zones: read, onUnreadable) else { continue }
            for c in cal.components {
                if c.name == "VTIMEZONE" {
                    if seen.insert(c.property("TZID")?.text ?? "").inserted { zones.append(c) }
                } else {
                    components.append(c)
                }
            }
        }
        return ICalWriter.write([
            ICalComponent(name: "VCALENDAR", properties: header.properties, components: zones + components)
        ])
    }

    /// The busy-only feed of the entities (see `BusyFeed`).
    static func busy(
        _ header: Header, _ feed: BusyFeed, entities: [StoredEntity], onUnreadable: (String, String) -> Void
    )
        -> [UInt8]
    {
        ICalWriter.write([
            ICalComponent(
                name: "VCALENDAR", properties: header.properties,
                components: feed.events(of: entities, onUnreadable: onUnreadable))
        ])
    }
}
