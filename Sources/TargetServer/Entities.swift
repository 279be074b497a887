import CalendarModel
import CalWS
import Foundation

/// Collection and entity paths: a collection is `/segment/segment…`, an entity `COLLECTION/NAME.ics`.
enum Paths {
    static func isSegment(_ s: Substring) -> Bool {
        !s.isEmpty && s != "." && s != ".."
            && s.utf8.allSatisfy { b in
                (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D
                    || b == 0x5F || b == 0x2E || b == 0x7E
            }
    }

    /// `/public/holidays`: a slash, then segments of letters, digits, `-`, `_`, `.`, `~`.
    static func isCollection(_ path: String) -> Bool {
        guard path.hasPrefix("/"), !path.hasSuffix("/"), !path.hasSuffix(".ics") else { return false }
        let parts = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        return !parts.isEmpty && parts.allSatisfy(isSegment)
    }

    /// The collection and name of an entity href (`/public/holidays/new-year.ics`).
    static func entity(_ href: String) -> (String, String)? {
        guard href.hasSuffix(".ics"), let slash = href.lastIndex(of: "/") else { return nil }
        let collection = String(href[..<slash])
        let name = String(href[href.index(after: slash)...])
        guard isCollection(collection), name.count > 4, !name.contains("/") else { return nil }
        return (collection, name)
    }

    /// An entity name for a UID: safe characters kept, every other byte percent-encoded.
    static func name(forUID uid: String) -> String {
        var out = ""
        for b in uid.utf8 {
            if (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D
                || b == 0x5F || b == 0x2E || b == 0x40
            {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "%" + String(b, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out + ".ics"
    }
}

extension String {
    /// The string with zeros in front up to `n` characters.
    public func leftPadded(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}

/// What an entity may hold, and the forms it is returned in.
enum Entities {
    struct Failure: Error {
        var kind: CalWSErrorKind
        var message: String
    }

    /// The entity's one UID, or why the calendar is not one entity: a VCALENDAR holding
    /// components of one type (VEVENT, VTODO or VJOURNAL) that share one UID, and no METHOD.
    static func validate(_ calendar: ICalComponent) -> Result<String, Failure> {
        guard calendar.name == "VCALENDAR" else {
            return .failure(Failure(kind: .notCalendarData, message: "expected a VCALENDAR, found \(calendar.name)"))
        }
        if calendar.property("METHOD") != nil {
            return .failure(
                Failure(
                    kind: .invalidCalendarObjectResource,
                    message: "a stored entity carries no METHOD (that is for scheduling messages)"))
        }
        let items = calendar.components.filter { PropertyTypes.isItemComponent($0.name) }
        guard let first = items.first else {
            return .failure(
                Failure(
                    kind: .invalidCalendarObjectResource, message: "the calendar holds no VEVENT, VTODO or VJOURNAL"))
        }
        if let other = items.first(where: { $0.name != first.name }) {
            return .failure(
                Failure(
                    kind: .invalidCalendarObjectResource,
                    message: "one entity holds one component type, not both \(first.name) and \(other.name)"))
        }
        let uids = Set(items.map { $0.uid ?? "" })
        guard uids.count == 1, let uid = uids.first, !uid.isEmpty else {
            return .failure(
                Failure(
                    kind: .invalidCalendarObjectResource,
                    message: uids.contains("")
                        ? "every component needs a UID"
                        : "one entity holds one UID, not \(uids.sorted().joined(separator: ", "))"))
        }
        for unsupported in calendar.components
        where !PropertyTypes.isItemComponent(unsupported.name) && unsupported.name != "VTIMEZONE" {
            return .failure(Failure(kind: .unsupportedCalendarComponent, message: "\(unsupported.name) is not stored"))
        }
        return .success(uid)
    }

    /// The largest entity stored, written out as iCalendar: a quarter of the iCalendar reader's
    /// 4 MiB line limit (`ICalParser.Limits.maxLineBytes`), so that no line of what is accepted
    /// can be too long to read back (a 3 MiB SUMMARY of commas doubles when escaped).
    static let maxEntityBytes = 1 << 20

    /// Refuses an entity's text that is too large to serve back, naming the limit.
    static func checkSize(_ data: String, uid: String) -> Failure? {
        let n = data.utf8.count
        guard n > maxEntityBytes else { return nil }
        return Failure(
            kind: .exceedsMaxResourceSize,
            message:
                "the entity \(uid) is \(n) bytes as iCalendar, over the target's limit of \(maxEntityBytes) bytes per entity; it was not stored"
        )
    }

    /// The stored entity read back, or nil (reported through `onUnreadable` with its href and the
    /// reason) when it cannot be: one bad entity is left out of an answer, never fails it.
    static func readable(_ e: StoredEntity, zones: SharedZones, _ onUnreadable: (String, String) -> Void)
        -> ICalComponent?
    {
        do { return try calendar(e, zones: zones) } catch {
            onUnreadable(e.href, "\(error)")
            return nil
        }
    }

    /// The stored text read back as its VCALENDAR. A zone that `zones` holds (read for another
    /// entity of the same request) is not read again, and is then written out once.
    static func calendar(_ e: StoredEntity, zones: SharedZones) throws -> ICalComponent {
        try ICalParser().parse(Array(e.data.utf8), zones: zones).calendars.first ?? ICalComponent(name: "VCALENDAR")
    }

    /// A listing: each item component reduced to UID, RECURRENCE-ID and LAST-MODIFIED, the time
    /// the entity was last written in this store (not the feed's own LAST-MODIFIED, which an
    /// edit here does not change).
    static func listing(_ calendar: ICalComponent, lastModified: String) -> ICalComponent {
        let stamp = ICalValue.parse(lastModified, as: .dateTime)
        let comps = calendar.components.filter { PropertyTypes.isItemComponent($0.name) }.map { c -> ICalComponent in
            var props = ["UID", "RECURRENCE-ID"].compactMap { c.property($0) }
            if let stamp { props.append(ICalProperty("LAST-MODIFIED", stamp)) }
            return ICalComponent(name: c.name, properties: props)
        }
        return ICalComponent(name: "VCALENDAR", components: comps)
    }
}

/// The VEVENT time-range test of RFC 4791 §9.9, without expanding recurrences: a recurring
/// master matches when it starts before the range ends (it may recur into the range).
enum TimeRange {
    static func overlaps(_ calendar: ICalComponent, start: ICalDateTime?, end: ICalDateTime?) -> Bool {
        calendar.components.contains { c in
            guard c.name == "VEVENT", let dtstart = c.property("DTSTART"), let sv = sortable(dtstart) else {
                return false
            }
            let recurring = c.property("RRULE") != nil || c.property("RDATE") != nil
            var e = sv
            if let dtend = c.property("DTEND").flatMap(sortable) {
                e = dtend
            } else if case .date = dtstart.value {
                e = sv + "~"
            }
            if let end, let rangeEnd = sortable(.dateTime(end)), sv >= rangeEnd { return false }
            if recurring { return true }
            if let start, let rangeStart = sortable(.dateTime(start)), e <= rangeStart, !(e == sv && sv == rangeStart) {
                return false
            }
            return true
        }
    }

    /// A string that sorts like the property's time as UTC. A local time whose TZID the
    /// system's time zone database knows (an IANA name, `tzdata`) is converted with it; a date,
    /// a floating time, or a local time of another TZID (such as Outlook's Windows names) is
    /// read as if it were UTC.
    static func sortable(_ p: ICalProperty) -> String? {
        p.value.flatMap { sortable($0, tzid: p.parameter("TZID")) }
    }

    static func sortable(_ v: ICalValue, tzid: String? = nil) -> String? {
        switch v {
        case .date(let d):
            return ValueFormatter.icalString(.date(d)) + "T000000"
        case .dateTime(var dt):
            if !dt.time.isUTC, let tzid, let utc = utc(dt, in: tzid) { dt = utc }
            dt.time.isUTC = false
            return ValueFormatter.icalString(.dateTime(dt))
        default:
            return nil
        }
    }

    /// The UTC time of a local time in the zone `tzid` names, or nil for a zone the system does
    /// not know. A time that does not exist (skipped by a change to summer time) or exists
    /// twice (repeated by the change back) is placed as the system's calendar places it.
    static func utc(_ local: ICalDateTime, in tzid: String) -> ICalDateTime? {
        let name = tzid.hasPrefix("/") ? String(tzid.dropFirst()) : tzid
        guard let zone = TimeZone(identifier: name) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = DateComponents(
            year: Int(local.date.year), month: Int(local.date.month), day: Int(local.date.day),
            hour: Int(local.time.hour), minute: Int(local.time.minute), second: Int(local.time.second))
        guard let instant = calendar.date(from: parts) else { return nil }
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let u = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: instant)
        return ICalDateTime(
            year: u.year!, month: u.month!, day: u.day!, hour: u.hour!, minute: u.minute!, second: u.second!,
            isUTC: true)
    }
}
