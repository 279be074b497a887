/// What RFC 5545, RFC 7986 and RFC 6321 say about each property and parameter name: default value
/// type, whether a property holds a comma-separated list, and the xCal type of a parameter.
public enum PropertyTypes {
    /// The default value type of a property, or nil when the name is unknown (or, like RFC 7986's
    /// REFRESH-INTERVAL, has no default and needs `VALUE=`).
    public static func defaultType(of name: String) -> ValueType? {
        defaultTypes[name]
    }

    // A dictionary, not a switch: a switch over strings compares case by case, and this is
    // asked once per property line.
    private static let defaultTypes: [String: ValueType] = {
        var t: [String: ValueType] = [:]
        for n in ["CALSCALE", "METHOD", "PRODID", "VERSION", "CATEGORIES", "CLASS", "COMMENT", "DESCRIPTION",
                  "LOCATION", "RESOURCES", "STATUS", "SUMMARY", "TRANSP", "TZID", "TZNAME", "CONTACT",
                  "RELATED-TO", "UID", "ACTION", "NAME", "COLOR"] { t[n] = .text }
        for n in ["DTSTAMP", "DTSTART", "DTEND", "DUE", "COMPLETED", "CREATED", "LAST-MODIFIED",
                  "RECURRENCE-ID", "EXDATE", "RDATE"] { t[n] = .dateTime }
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
        switch name {
        case "CATEGORIES", "RESOURCES", "FREEBUSY", "EXDATE", "RDATE": true
        default: false
        }
    }

    /// Properties whose values form a set: order and line grouping carry no meaning, so the
    /// canonical form and the diff treat each value on its own.
    public static func isSetValued(_ name: String) -> Bool { isMultiValued(name) }

    /// The xCal value type of a parameter (RFC 6321 Appendix A): `uri`, `cal-address`,
    /// `boolean`, `text`, or `unknown` for names RFC 5545 does not define.
    public static func parameterType(of name: String) -> ValueType {
        switch name {
        case "ALTREP", "DIR": .uri
        case "SENT-BY", "DELEGATED-FROM", "DELEGATED-TO", "MEMBER": .calAddress
        case "RSVP": .boolean
        case "CN", "CUTYPE", "ENCODING", "FMTTYPE", "FBTYPE", "LANGUAGE", "PARTSTAT", "RANGE",
             "RELATED", "RELTYPE", "ROLE", "TZID", "VALUE", "DISPLAY", "EMAIL", "FEATURE", "LABEL",
             "SCHEDULE-AGENT", "SCHEDULE-STATUS", "SCHEDULE-FORCE-SEND":
            .text
        default: .unknown
        }
    }

    /// Parameters whose values are enumerations, hence case-insensitive (RFC 5545 §3.2).
    public static func isEnumeratedParameter(_ name: String) -> Bool {
        switch name {
        case "CUTYPE", "ENCODING", "FBTYPE", "PARTSTAT", "RANGE", "RELATED", "RELTYPE", "ROLE",
             "RSVP", "VALUE", "DISPLAY", "SCHEDULE-AGENT":
            true
        default: false
        }
    }

    /// Components whose instances are keyed by UID and grouped into items.
    public static func isItemComponent(_ name: String) -> Bool {
        name == "VEVENT" || name == "VTODO" || name == "VJOURNAL"
    }
}
