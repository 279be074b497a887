/// What RFC 5545, RFC 7986 and RFC 6321 say about each property and parameter name: default value
/// type, whether a property holds a comma-separated list, and the xCal type of a parameter.
public enum PropertyTypes {
    /// The default value type of a property, or nil when the name is unknown (or, like RFC 7986's
    /// REFRESH-INTERVAL, has no default and needs `VALUE=`).
    public static func defaultType(of name: String) -> ValueType? {
        defaultTypes[name]
    }

    /// The default type and whether the property is multi-valued, in one lookup (the parser asks
    /// both for every line).
    static func info(of name: String) -> (type: ValueType?, multiValued: Bool) {
        guard let t = defaultTypes[name] else { return (nil, false) }
        return (t, (t == .text || t == .dateTime || t == .period) && isMultiValued(name))
    }

    // A dictionary, not a switch: a switch over strings compares case by case, and this is
    // asked once per property line.
    private static let defaultTypes: [String: ValueType] = {
        var t: [String: ValueType] = [:]
        for n in [
            "CALSCALE", "METHOD", "PRODID", "VERSION", "CATEGORIES", "CLASS", "COMMENT", "DESCRIPTION",
            "LOCATION", "RESOURCES", "STATUS", "SUMMARY", "TRANSP", "TZID", "TZNAME", "CONTACT",
            "RELATED-TO", "UID", "ACTION", "NAME", "COLOR",
        ] { t[n] = .text }
        for n in [
            "DTSTAMP", "DTSTART", "DTEND", "DUE", "COMPLETED", "CREATED", "LAST-MODIFIED",
            "RECURRENCE-ID", "EXDATE", "RDATE",
        ] { t[n] = .dateTime }
        for n in ["DURATION", "TRIGGER"] { t[n] = .duration }
        t["FREEBUSY"] = .period
        for n in ["TZOFFSETFROM", "TZOFFSETTO"] { t[n] = .utcOffset }
        for n in ["ATTACH", "TZURL", "URL", "SOURCE", "CONFERENCE", "IMAGE"] { t[n] = .uri }
        for n in ["ATTENDEE", "ORGANIZER"] { t[n] = .calAddress }
        for n in ["RRULE", "EXRULE"] { t[n] = .recur }
        for n in ["PERCENT-COMPLETE", "PRIORITY", "SEQUENCE", "REPEAT"] { t[n] = .integer }
        t["GEO"] = .geo
        t["REQUEST-STATUS"] = .requestStatus
        return t
    }()

    /// Properties whose one line may hold several comma-separated values (RFC 6321 §3.4.1.1).
    public static func isMultiValued(_ name: String) -> Bool {
        // Every such name starts with C, R, F or E: most names are ruled out without hashing.
        switch name.utf8.first {
        case 0x43: return name == "CATEGORIES"
        case 0x52: return name == "RDATE" || name == "RESOURCES"
        case 0x46: return name == "FREEBUSY"
        case 0x45: return name == "EXDATE"
        default: return false
        }
    }

    /// Properties whose values form a set: order and line grouping carry no meaning, so the
    /// canonical form and the diff treat each value on its own.
    public static func isSetValued(_ name: String) -> Bool { isMultiValued(name) }

    /// The xCal value type of a parameter (RFC 6321 Appendix A): `uri`, `cal-address`,
    /// `boolean`, `text`, or `unknown` for names RFC 5545 does not define.
    public static func parameterType(of name: String) -> ValueType {
        parameterInfo(of: name).type
    }

    /// A parameter's xCal type and whether its values are an enumeration, in one lookup.
    static func parameterInfo(of name: String) -> (type: ValueType, enumerated: Bool) {
        // A switch compares literals in place; a dictionary would hash `name` and retain its
        // shared storage, which threads hashing items side by side would contend on.
        // The most frequent names (attendees' CN, ROLE, PARTSTAT, RSVP; TZID) come first.
        switch name {
        case "CN", "TZID": (.text, false)
        case "ROLE", "PARTSTAT": (.text, true)
        case "RSVP": (.boolean, true)
        case "LANGUAGE", "FMTTYPE", "EMAIL", "FEATURE", "LABEL", "SCHEDULE-STATUS", "SCHEDULE-FORCE-SEND":
            (.text, false)
        case "CUTYPE", "RELATED", "RELTYPE", "VALUE", "ENCODING", "FBTYPE", "RANGE", "DISPLAY", "SCHEDULE-AGENT":
            (.text, true)
        case "SENT-BY", "DELEGATED-FROM", "DELEGATED-TO", "MEMBER": (.calAddress, false)
        case "ALTREP", "DIR": (.uri, false)
        default: (.unknown, false)
        }
    }

    /// Components whose instances are keyed by UID and grouped into items.
    public static func isItemComponent(_ name: String) -> Bool {
        name == "VEVENT" || name == "VTODO" || name == "VJOURNAL"
    }

    /// Every property name RFC 5545 and RFC 7986 define.
    public static var knownPropertyNames: [String] { defaultTypes.keys.sorted() + ["REFRESH-INTERVAL"] }

    /// Every parameter name RFC 5545, RFC 6638 and RFC 7986 define.
    public static let knownParameterNames = [
        "ALTREP", "CN", "CUTYPE", "DELEGATED-FROM", "DELEGATED-TO", "DIR", "DISPLAY", "EMAIL",
        "ENCODING", "FBTYPE", "FEATURE", "FMTTYPE", "LABEL", "LANGUAGE", "MEMBER", "PARTSTAT",
        "RANGE", "RELATED", "RELTYPE", "ROLE", "RSVP", "SCHEDULE-AGENT", "SCHEDULE-FORCE-SEND",
        "SCHEDULE-STATUS", "SENT-BY", "TZID", "VALUE",
    ]

    /// Every component name RFC 5545 and RFC 7953 define.
    public static let knownComponentNames = [
        "VCALENDAR", "VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE",
        "STANDARD", "DAYLIGHT", "VALARM", "VAVAILABILITY", "AVAILABLE",
    ]
}
