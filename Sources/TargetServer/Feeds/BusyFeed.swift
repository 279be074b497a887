import CalendarModel
import Recurrence

/// A busy-only feed: per busy or tentative instance (as `BusyRules` decide) one VEVENT with a
/// UID derived from the server's key, the collection, the original UID and the instance, DTSTART and DTEND in UTC,
/// `SUMMARY:Busy` or `SUMMARY:Tentative`, and DTSTAMP; nothing else leaves (no title, place,
/// attendee, organizer, description, categories, alarms or extension properties).
///
/// Recurring series are expanded over `window` (the index horizon around the current day):
/// an RRULE would tell the series' pattern and its EXDATEs, and an override's RECURRENCE-ID would
/// tell where it was moved from. Floating and DATE times are placed in the calendar's
/// X-WR-TIMEZONE when it has one, else in its collection's zone, else in `zone`, as availability
/// does.
struct BusyFeed {
    /// The server's secret hashed into each UID (`TargetStore.busyKey`).
    var key: String
    /// UTC epoch seconds; instances overlapping it are listed.
    var from: Int64
    var to: Int64
    var zone: ZoneRules
    /// The zones of the collections that have one, by collection.
    var zones: [String: ZoneRules] = [:]
    /// The DTSTAMP of every event: the start of the day the window is anchored at, so that one
    /// ETag always names the same bytes.
    var stamp: Int64

    /// The window and stamp of a feed served at `now`: the horizon around the start of its UTC day.
    init(key: String, horizon: IndexHorizon, now: Int64, zone: ZoneRules) {
        let day = now - ((now % 86_400) + 86_400) % 86_400
        let window = horizon.window(at: day)
        (self.key, from, to, self.zone, stamp) = (key, window.from, window.to, zone, day)
    }

    /// The busy events of the entities, by start (then UID).
    func events(of entities: [StoredEntity], onUnreadable: (String, String) -> Void) -> [ICalComponent] {
        let read = SharedZones()
        var found: [(start: Int64, uid: String, event: ICalComponent)] = []
        let dtstamp = Self.utc(stamp)
        for e in entities {
            guard let calendar = Entities.readable(e, zones: read, onUnreadable) else { continue }
            let zone = self.zones[e.collection] ?? zone
            BusyRules.forEach(
                of: calendar, from: from - BusyRules.floatingSlack, to: to + BusyRules.floatingSlack
            ) { instance, busy in
                guard let placed = busy.placed(in: zone), placed.start < to, placed.end > from else { return }
                let uid = Self.uid(key: key, collection: e.collection, uid: e.uid, recurrenceID: instance.recurrenceID)
                let event = ICalComponent(
                    name: "VEVENT",
                    properties: [
                        ICalProperty("UID", .text(uid)),
                        ICalProperty("DTSTAMP", dtstamp),
                        ICalProperty("DTSTART", Self.utc(placed.start)),
                        ICalProperty("DTEND", Self.utc(placed.end)),
                        ICalProperty("SUMMARY", .text(placed.status == .busy ? "Busy" : "Tentative")),
                    ])
                found.append((placed.start, uid, event))
            }
        }
        return found.sorted { ($0.start, $0.uid) < ($1.start, $1.uid) }.map(\.event)
    }

    /// A UID that stays the same for the same instance and tells nothing of the original: a
    /// SHA-256 of the server's key, the collection, the UID and the instance's RECURRENCE-ID
    /// instant (without the key, whoever guessed a UID, `match-12@club`, could confirm it).
    static func uid(key: String, collection: String, uid: String, recurrenceID: Int64) -> String {
        let hex = CanonicalForm.sha256Hex(Array("\(key)\n\(collection)\n\(uid)\n\(recurrenceID)".utf8))
        return String(hex.prefix(32)) + "@busy.outboard"
    }

    /// Epoch seconds as a UTC DATE-TIME value.
    static func utc(_ seconds: Int64) -> ICalValue {
        let compact = RFC3339.utc(seconds).filter { $0 != "-" && $0 != ":" }
        return ICalValue.parse(compact, as: .dateTime) ?? .unknown(compact)
    }
}
