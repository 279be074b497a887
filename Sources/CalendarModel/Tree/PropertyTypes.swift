/// What RFC 5545, RFC 7986 and RFC 6321 say about each property and parameter name: default value
/// type, whether a property holds a comma-separated list, and the xCal type of a parameter.
public enum PropertyTypes {
    /// The default value type of a property, or nil when the name is unknown (or, like RFC 7986's
    /// REFRESH-INTERVAL, has no default and needs `VALUE=`).
    public static func defaultType(of name: String) -> ValueType? {
        info(of: name).type
    }

    /// The default type and whether the property is multi-valued, in one lookup (the parser asks
    /// both for every line).
    static func info(of name: String) -> (type: ValueType?, multiValued: Bool) {
        var name = name
        return name.withUTF8 { bytes in
            guard let key = NameKey(bytes) else { return (nil, false) }
            // A table searched by length and then by the name's two words: the parser asks for
            // every line, and hashing the name for a dictionary took 6% of its time.
            let table = NameKey.table
            for k in table.starts[bytes.count]..<table.starts[bytes.count + 1] where table.keys[k] == key {
                return table.info[k]
            }
            return (nil, false)
        }
    }

    /// Every property name RFC 5545, RFC 7986 and RFC 6321 give a default type, with that type.
    private static let defaultTypes: [(name: String, type: ValueType)] = {
        var t: [(String, ValueType)] = []
        for n in [
            "CALSCALE", "METHOD", "PRODID", "VERSION", "CATEGORIES", "CLASS", "COMMENT", "DESCRIPTION",
            "LOCATION", "RESOURCES", "STATUS", "SUMMARY", "TRANSP", "TZID", "TZNAME", "CONTACT",
            "RELATED-TO", "UID", "ACTION", "NAME", "COLOR",
        ] { t.append((n, .text)) }
        for n in [
            "DTSTAMP", "DTSTART", "DTEND", "DUE", "COMPLETED", "CREATED", "LAST-MODIFIED",
            "RECURRENCE-ID", "EXDATE", "RDATE",
        ] { t.append((n, .dateTime)) }
        for n in ["DURATION", "TRIGGER"] { t.append((n, .duration)) }
        t.append(("FREEBUSY", .period))
        for n in ["TZOFFSETFROM", "TZOFFSETTO"] { t.append((n, .utcOffset)) }
        for n in ["ATTACH", "TZURL", "URL", "SOURCE", "CONFERENCE", "IMAGE"] { t.append((n, .uri)) }
        for n in ["ATTENDEE", "ORGANIZER"] { t.append((n, .calAddress)) }
        for n in ["RRULE", "EXRULE"] { t.append((n, .recur)) }
        for n in ["PERCENT-COMPLETE", "PRIORITY", "SEQUENCE", "REPEAT"] { t.append((n, .integer)) }
        t.append(("GEO", .geo))
        t.append(("REQUEST-STATUS", .requestStatus))
        return t
    }()

    /// A name of at most 16 bytes as two words (little-endian, zero-padded); every name in the
    /// table fits.
    private struct NameKey: Equatable {
        let low: UInt64
        let high: UInt64

        init?(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard bytes.count <= 16 else { return nil }
            var words: (UInt64, UInt64) = (0, 0)
            for (i, b) in bytes.enumerated() {
                if i < 8 { words.0 |= UInt64(b) << (8 * i) } else { words.1 |= UInt64(b) << (8 * (i - 8)) }
            }
            (low, high) = words
        }

        /// The default types' names ordered by length: those of length n are at
        /// `starts[n]..<starts[n + 1]`.
        static let table: (starts: [Int], keys: [NameKey], info: [(type: ValueType?, multiValued: Bool)]) = {
            let entries = defaultTypes.sorted { $0.name.utf8.count < $1.name.utf8.count }
            var starts = [Int](repeating: entries.count, count: 18)
            for (k, e) in entries.enumerated().reversed() { starts[e.name.utf8.count] = k }
            for n in stride(from: 16, through: 0, by: -1) { starts[n] = min(starts[n], starts[n + 1]) }
            let keys = entries.map { e in
                var name = e.name
                return name.withUTF8 { NameKey($0)! }
            }
            let info = entries.map { e -> (type: ValueType?, multiValued: Bool) in
                (e.type, (e.type == .text || e.type == .dateTime || e.type == .period) && isMultiValued(e.name))
            }
            return (starts, keys, info)
        }()
    }

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
    public static var knownPropertyNames: [String] { defaultTypes.map(\.name).sorted() + ["REFRESH-INTERVAL"] }

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
