/// The value types of RFC 5545 §3.3, named as RFC 6321 names their xCal elements, plus the two
/// structured values (GEO, REQUEST-STATUS) that RFC 6321 gives elements of their own.
public enum ValueType: String, Sendable, Hashable, CaseIterable {
    case binary
    case boolean
    case calAddress = "cal-address"
    case date
    case dateTime = "date-time"
    case duration
    case float
    case integer
    case period
    case recur
    case text
    case time
    case uri
    case utcOffset = "utc-offset"
    /// GEO's two floats (RFC 6321 §3.4.1.2).
    case geo
    /// REQUEST-STATUS's code, description and data (RFC 6321 §3.4.1.3).
    case requestStatus = "request-status"
    /// A value whose type is not known: kept as its raw, unprocessed text (RFC 6321 §5).
    case unknown

    /// The name used in iCalendar's `VALUE=` parameter, or nil for types that have none.
    public var icalName: String? {
        switch self {
        case .binary: "BINARY"
        case .boolean: "BOOLEAN"
        case .calAddress: "CAL-ADDRESS"
        case .date: "DATE"
        case .dateTime: "DATE-TIME"
        case .duration: "DURATION"
        case .float: "FLOAT"
        case .integer: "INTEGER"
        case .period: "PERIOD"
        case .recur: "RECUR"
        case .text: "TEXT"
        case .time: "TIME"
        case .uri: "URI"
        case .utcOffset: "UTC-OFFSET"
        case .geo, .requestStatus, .unknown: nil
        }
    }

    /// The type named by an iCalendar `VALUE=` parameter (case-insensitive), or nil when unknown.
    public init?(icalName: String) {
        switch icalName.uppercased() {
        case "BINARY": self = .binary
        case "BOOLEAN": self = .boolean
        case "CAL-ADDRESS": self = .calAddress
        case "DATE": self = .date
        case "DATE-TIME": self = .dateTime
        case "DURATION": self = .duration
        case "FLOAT": self = .float
        case "INTEGER": self = .integer
        case "PERIOD": self = .period
        case "RECUR": self = .recur
        case "TEXT": self = .text
        case "TIME": self = .time
        case "URI": self = .uri
        case "UTC-OFFSET": self = .utcOffset
        default: return nil
        }
    }
}
