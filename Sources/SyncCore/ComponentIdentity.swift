import CalendarModel

/// Which sibling component is which: the identity keys the diff pairs components by, and the
/// selectors the update names them with.
public enum ComponentIdentity {
    /// The properties that identify a component among its siblings (see `ComponentSelector`).
    public static func identifyingProperties(of c: ICalComponent) -> [ICalProperty] {
        guard let names = identityNames(c.name) else { return c.properties }
        return names.compactMap { c.property($0) }
    }

    /// The names of the identifying properties of a component type, or nil when the type has no
    /// identity of its own (then its whole content identifies it).
    static func identityNames(_ component: String) -> [String]? {
        switch component {
        case "VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VAVAILABILITY", "AVAILABLE": ["UID", "RECURRENCE-ID"]
        case "VALARM": ["ACTION", "TRIGGER"]
        case "VTIMEZONE": ["TZID"]
        case "STANDARD", "DAYLIGHT": ["DTSTART"]
        case "VCALENDAR": []
        default: nil
        }
    }

    /// The selector that picks `c`.
    public static func selector(of c: ICalComponent) -> ComponentSelector {
        ComponentSelector(name: c.name, properties: identifyingProperties(of: c))
    }

    /// A byte key equal for two components exactly when they are the same entity.
    static func key(of c: ICalComponent) -> [UInt8] {
        var k = Array(c.name.utf8)
        for p in identifyingProperties(of: c) {
            k.append(0)
            k += selectionKey(p)
        }
        return k
    }

    /// What selects a property: its name, its values by meaning, and a TZID that places them
    /// (`20260105T090000` in Berlin is not the same instance as in New York). Other parameters
    /// do not take part.
    static func selectionKey(_ p: ICalProperty) -> [UInt8] {
        var k = Array(p.name.utf8)
        k.append(ASCII0.colon)
        k += CanonicalForm.key(of: p.values)
        if let tz = p.parameter("TZID") {
            k.append(ASCII0.semicolon)
            k += Array(tz.utf8)
        }
        return k
    }

    /// True when `c` is the component `selector` names: every selector property is present with
    /// its value, and an identifying property the selector leaves out is absent (a selector
    /// without RECURRENCE-ID picks the master, never an override).
    static func matches(_ selector: ComponentSelector, _ c: ICalComponent) -> Bool {
        guard c.name == selector.name else { return false }
        for sp in selector.properties {
            let key = selectionKey(sp)
            if !c.properties.contains(where: { $0.name == sp.name && selectionKey($0) == key }) { return false }
        }
        if let names = identityNames(selector.name) {
            for n in names where c.property(n) != nil && !selector.properties.contains(where: { $0.name == n }) {
                return false
            }
            return true
        }
        // No identity of its own: the selector lists the whole content, and nothing more is there.
        return c.properties.count == selector.properties.count
    }
}

enum ASCII0 {
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
}
