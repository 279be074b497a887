/// One typed value of a property, as RFC 6321 types it.
///
/// Equality is structural: two values are equal when they have the same type and the same parsed
/// content, whatever their spelling in the source. TEXT holds the unescaped string.
public enum ICalValue: Hashable, Sendable {
    /// BINARY: base64 text, whitespace removed.
    case binary(String)
    case boolean(Bool)
    case calAddress(String)
    case date(ICalDate)
    case dateTime(ICalDateTime)
    // Indirect: ICalDuration is 24 bytes, and inline it would widen every value.
    indirect case duration(ICalDuration)
    case float(Double)
    case integer(Int)
    indirect case period(ICalPeriod)
    indirect case recur(ICalRecur)
    /// TEXT, unescaped.
    case text(String)
    case time(ICalTime)
    case uri(String)
    case utcOffset(ICalUTCOffset)
    case geo(ICalGeo)
    indirect case requestStatus(ICalRequestStatus)
    /// The raw text of a value whose type is unknown, or that did not parse as its type.
    case unknown(String)

    /// The value's type.
    public var type: ValueType {
        switch self {
        case .binary: .binary
        case .boolean: .boolean
        case .calAddress: .calAddress
        case .date: .date
        case .dateTime: .dateTime
        case .duration: .duration
        case .float: .float
        case .integer: .integer
        case .period: .period
        case .recur: .recur
        case .text: .text
        case .time: .time
        case .uri: .uri
        case .utcOffset: .utcOffset
        case .geo: .geo
        case .requestStatus: .requestStatus
        case .unknown: .unknown
        }
    }

    /// The string payload of TEXT, URI, CAL-ADDRESS, BINARY and unknown values.
    public var stringValue: String? {
        switch self {
        case .text(let s), .uri(let s), .calAddress(let s), .binary(let s), .unknown(let s): s
        default: nil
        }
    }
}

extension ICalValue {
    /// Parses iCalendar value text (`20260105T090000Z`, `P1D`, `FREQ=DAILY`) as `type`, or nil
    /// when it is not valid. TEXT is taken as escaped iCalendar text.
    public static func parse(_ text: String, as type: ValueType) -> ICalValue? {
        var bytes = Array(text.utf8)
        var invalidEscape = false
        return bytes.withUnsafeMutableBufferPointer { b in
            ValueParser.parse(UnsafeBufferPointer(b), as: type, invalidEscape: &invalidEscape)
        }
    }
}
