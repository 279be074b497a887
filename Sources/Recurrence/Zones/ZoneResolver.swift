import CalendarModel

/// Finds the zone of each TZID a calendar uses, once: the system's zone database by IANA name
/// or alias, then by Windows zone name (CLDR), then by the IANA name at the end of a path-like
/// TZID (`/mozilla.org/20050126_1/Europe/Berlin`), then the calendar's own VTIMEZONE. A TZID
/// none of them knows, in a calendar that defines exactly one other zone, is read in that zone
/// (Outlook's exports name a zone `Customized Time Zone` and define it under another TZID);
/// either way it is reported. What is still unknown is read as floating.
public final class ZoneResolver {
    private let database: any ZoneDatabase
    private let embedded: [String: ICalComponent]
    private var cache: [String: ZoneRules?] = [:]
    /// Problems found so far (unknown or unreadable zones), each TZID reported once.
    public var diagnostics: [RecurrenceDiagnostic] { reports.map(\.diagnostic) }
    /// The problems, each with the TZID it is about.
    private(set) var reports: [Report] = []
    /// The zone floating and DATE values are placed in.
    public private(set) var floating: ZoneRules = .utc
    /// True when `floating` is the calendar's own X-WR-TIMEZONE (a zone some source knows).
    public private(set) var floatingFromCalendar = false

    /// A resolver for a calendar's VTIMEZONEs and its X-WR-TIMEZONE.
    /// - Parameters:
    ///   - timezones: the calendar's VTIMEZONE components.
    ///   - calendarZone: the calendar's X-WR-TIMEZONE value, if any.
    public init(timezones: [ICalComponent], calendarZone: String?, options: ExpansionOptions) {
        database = options.zoneDatabase
        var byID: [String: ICalComponent] = [:]
        for z in timezones where z.name == "VTIMEZONE" {
            if let id = z.property("TZID")?.text, byID[id] == nil { byID[id] = z }
        }
        embedded = byID
        if let name = calendarZone, let zone = zone(named: name) {
            floating = zone
            floatingFromCalendar = true
        } else if let zone = fromDatabase(options.floatingZone) {
            floating = zone
        }
    }

    /// The zone a TZID names, or nil (with a diagnostic, the first time) when no source knows it.
    /// - Parameter uid: the UID of the series asking, named in the diagnostic.
    public func zone(named tzid: String, uid: String? = nil) -> ZoneRules? {
        if let hit = cache[tzid] { return hit }
        let found = resolve(tzid, uid: uid)
        cache[tzid] = found
        return found
    }

    private func resolve(_ tzid: String, uid: String?) -> ZoneRules? {
        let trimmed = tzid.trimmingSpaces
        if let z = fromDatabase(trimmed) { return z }
        if let iana = WindowsZones.ianaName(for: trimmed), let z = fromDatabase(iana, as: tzid) { return z }
        if trimmed.hasPrefix("/") {
            let parts = trimmed.split(separator: "/")
            for i in parts.indices.dropLast() {
                if let z = fromDatabase(parts[i...].joined(separator: "/"), as: tzid) { return z }
            }
        }
        if let vtz = embedded[tzid] {
            let (history, problems) = VTimezoneCompiler.history(of: vtz, from: ZoneSpan.start, to: ZoneSpan.end)
            for p in problems {
                report(
                    RecurrenceDiagnostic(kind: .invalidZone, message: "VTIMEZONE \"\(tzid)\": \(p)", line: vtz.line),
                    about: tzid)
            }
            if let history { return ZoneRules(identifier: tzid, source: .vtimezone, history: history) }
        }
        if embedded.count == 1, let only = embedded.keys.first, only != tzid, let z = zone(named: only, uid: uid) {
            report(
                RecurrenceDiagnostic(
                    kind: .unknownZone,
                    message:
                        "TZID \"\(tzid)\" is not in the zone database, not a Windows zone name, and has no VTIMEZONE; "
                        + "its times were read in the calendar's only zone, \"\(only)\"", uid: uid),
                about: tzid)
            return z
        }
        report(
            RecurrenceDiagnostic(
                kind: .unknownZone,
                message:
                    "TZID \"\(tzid)\" is not in the zone database, not a Windows zone name, and has no usable VTIMEZONE; "
                    + "its times were read as floating (\(floating.identifier))", uid: uid),
            about: tzid)
        return nil
    }

    private func report(_ diagnostic: RecurrenceDiagnostic, about tzid: String) {
        reports.append(Report(tzid: tzid, diagnostic: diagnostic))
    }

    private func fromDatabase(_ name: String, as identifier: String? = nil) -> ZoneRules? {
        guard !name.isEmpty else { return nil }
        return database.rules(of: name, identifier: identifier ?? name)
    }
}

extension ZoneResolver {
    /// A problem with a zone, and the TZID it is about.
    struct Report: Sendable {
        var tzid: String
        var diagnostic: RecurrenceDiagnostic

        /// What one resolver would have reported had it looked up the TZIDs of `earlier` and
        /// then those of `later` (each list from a resolver of its own, in its order): a TZID
        /// resolves the same way in every resolver, so the later reports about a TZID the
        /// earlier ones name are the same problems again, and the first report (with the UID
        /// that asked first) is kept.
        static func merged(_ earlier: [Report], _ later: [Report]) -> [Report] {
            let known = Set(earlier.map(\.tzid))
            return earlier + later.filter { !known.contains($0.tzid) }
        }
    }
}

extension String {
    /// The string without leading and trailing spaces (Outlook pads some TZIDs).
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
