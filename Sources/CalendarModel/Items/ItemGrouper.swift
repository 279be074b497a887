/// Groups a stream's VEVENT, VTODO and VJOURNAL components into items keyed by UID.
///
/// - A component without UID gets the key `derived-` + the first 24 hex digits of its canonical
///   hash (DTSTAMP and the other default-skipped properties left out), so the same component gets
///   the same key in every pass; a diagnostic names it.
/// - Two masters (or two overrides with the same RECURRENCE-ID) for one UID: the one with the
///   highest SEQUENCE wins, then the latest LAST-MODIFIED, then DTSTAMP, then the greater canonical
///   form, so the choice does not depend on the order of the feed; a diagnostic names the UID,
///   and `ItemSet.duplicates` counts the copies dropped per item.
public enum ItemGrouper {
    /// The items of a document.
    /// - Parameter collectingZones: whether each item gets the VTIMEZONEs its components use
    ///   (`ICalItem.timezones`); a caller that reads the document's zones itself (the recurrence
    ///   expander) saves the walk over every property.
    public static func items(from document: ICalDocument, collectingZones: Bool = true) -> ItemSet {
        var diagnostics = document.diagnostics
        // The items in the order they first appear, and where each key's item is.
        var builders: [Builder] = []
        var byKey: [String: Int] = [:]
        byKey.reserveCapacity(document.calendars.reduce(0) { $0 + $1.components.count })
        var allZones: [ICalComponent] = []
        var tzids: Set<String> = []

        for cal in document.calendars {
            var zones: [String: ICalComponent] = [:]
            for c in cal.components where c.name == "VTIMEZONE" {
                if let tzid = c.property("TZID")?.text {
                    zones[tzid] = c
                    if tzids.insert(tzid).inserted { allZones.append(c) }
                }
            }
            for c in cal.components where PropertyTypes.isItemComponent(c.name) {
                let key: String
                let uid = c.uid.flatMap { $0.isEmpty ? nil : $0 }
                if let uid {
                    key = uid
                } else {
                    key = "derived-" + CanonicalForm.hash(of: c, skipping: .defaults).prefix(24)
                    let summary = c.property("SUMMARY")?.text.map { " \"\($0.prefix(40))\"" } ?? ""
                    diagnostics.append(
                        ICalDiagnostic(
                            line: c.line, message: "\(c.name)\(summary) has no UID; keyed as \(key)", component: c.name)
                    )
                }
                let index: Int
                if let known = byKey[key] {
                    index = known
                } else {
                    index = builders.count
                    byKey[key] = index
                    builders.append(Builder(key: key, uid: uid))
                }
                builders[index].add(c, diagnostics: &diagnostics)
                guard collectingZones else { continue }
                for tzid in referencedZones(c) {
                    if let z = zones[tzid] {
                        builders[index].zones[tzid] = z
                    } else if zones.count == 1, let (only, z) = zones.first {
                        // A TZID the calendar does not define, beside its one zone (Outlook's
                        // `Customized Time Zone`): the zone goes with the item, so whoever
                        // reads the item alone resolves the TZID as the calendar's reader does.
                        builders[index].zones[only] = z
                    }
                }
            }
        }

        let items = builders.map { b -> ICalItem in
            var comps: [ICalComponent] = []
            if let m = b.master { comps.append(m) }
            comps += b.overrides.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map(\.value)
            let zones = b.zones.sorted { $0.key < $1.key }.map(\.value)
            return ICalItem(key: b.key, uid: b.uid, components: comps, timezones: zones)
        }
        var duplicates: [String: Int] = [:]
        for b in builders where b.dropped > 0 { duplicates[b.key] = b.dropped }
        return ItemSet(
            items: items, calendarProperties: document.calendars.first?.properties ?? [], diagnostics: diagnostics,
            duplicates: duplicates,
            timezones: allZones)
    }

    /// Every TZID parameter value used in a component and its sub-components.
    static func referencedZones(_ c: ICalComponent) -> Set<String> {
        var out = Set<String>()
        func walk(_ c: ICalComponent) {
            for p in c.properties {
                for param in p.parameters where param.name == "TZID" { out.insert(param.value) }
            }
            c.components.forEach(walk)
        }
        walk(c)
        return out
    }

    private struct Builder {
        let key: String
        var uid: String?
        var master: ICalComponent?
        var overrides: [[UInt8]: ICalComponent] = [:]
        var zones: [String: ICalComponent] = [:]
        /// Copies left out: a second master, or a second override with one RECURRENCE-ID.
        var dropped = 0

        /// How a diagnostic names the item.
        var who: String { uid.map { "uid=\($0)" } ?? "no UID" }

        mutating func add(_ c: ICalComponent, diagnostics: inout [ICalDiagnostic]) {
            if let rid = c.recurrenceID {
                var key = [UInt8]()
                for v in rid.values { CanonicalForm.appendCanonical(v, to: &key) }
                if let tz = rid.parameter("TZID") { key.append(contentsOf: ";\(tz)".utf8) }
                if let existing = overrides[key] {
                    let ridText = rid.value.map(ValueFormatter.icalString) ?? ""
                    diagnostics.append(
                        ICalDiagnostic(
                            line: c.line,
                            message:
                                "two \(c.name) overrides with RECURRENCE-ID \(ridText) for \(who)\(Self.otherAt(existing)); kept the later revision",
                            component: c.name, uid: uid, recurrenceID: ridText))
                    overrides[key] = ItemGrouper.laterRevision(existing, c)
                    dropped += 1
                } else {
                    overrides[key] = c
                }
            } else if let existing = master {
                diagnostics.append(
                    ICalDiagnostic(
                        line: c.line,
                        message: "two \(c.name) masters for \(who)\(Self.otherAt(existing)); kept the later revision",
                        component: c.name, uid: uid))
                master = ItemGrouper.laterRevision(existing, c)
                dropped += 1
            } else {
                master = c
            }
        }

        /// ` (the other at line N)`, when the other copy's line is known.
        static func otherAt(_ c: ICalComponent) -> String {
            c.line > 0 ? " (the other at line \(c.line))" : ""
        }
    }

    /// The later revision of two versions of one component, independent of their order: the
    /// higher SEQUENCE, then the later LAST-MODIFIED, then DTSTAMP, then the greater canonical form.
    public static func laterRevision(_ a: ICalComponent, _ b: ICalComponent) -> ICalComponent {
        func seq(_ c: ICalComponent) -> Int {
            if case .integer(let n)? = c.property("SEQUENCE")?.value { return n }
            return 0
        }
        func stamp(_ c: ICalComponent, _ name: String) -> String {
            c.property(name)?.value.map(ValueFormatter.icalString) ?? ""
        }
        if seq(a) != seq(b) { return seq(a) > seq(b) ? a : b }
        for name in ["LAST-MODIFIED", "DTSTAMP"] where stamp(a, name) != stamp(b, name) {
            return stamp(a, name) > stamp(b, name) ? a : b
        }
        return CanonicalForm.bytes(of: a).lexicographicallyPrecedes(CanonicalForm.bytes(of: b)) ? b : a
    }
}
